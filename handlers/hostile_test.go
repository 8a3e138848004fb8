package handlers

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/static"
)

// lazyBody yields n bytes of a form field without holding them, and
// counts what was read.
type lazyBody struct{ n, read int }

func (b *lazyBody) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, io.EOF
	}
	k := min(len(p), b.n)
	for i := range p[:k] {
		p[i] = 'a'
	}
	b.n -= k
	b.read += k
	return k, nil
}

// hostileInput is one kind of oversized input, sent to every route.
type hostileInput struct {
	name string
	// build makes the request for the route's method and path.
	build func(method, path string) (*http.Request, *lazyBody)
	// status: "4xx" when the input must be refused, "any" when the route
	// may ignore it and answer normally (never a 5xx either way).
	status string
}

func hostileInputs(issuer string) []hostileInput {
	huge := 10 << 20
	manyCookies := make([]string, 0, 500)
	for i := range 500 {
		manyCookies = append(manyCookies, fmt.Sprintf("c%d=%s", i, strings.Repeat("v", 100)))
	}
	bogusChunks := make([]string, 0, 1000)
	for i := range 1000 {
		bogusChunks = append(bogusChunks, fmt.Sprintf("signet.session-token.%d=x", i))
	}
	return []hostileInput{
		{"huge declared body", func(method, path string) (*http.Request, *lazyBody) {
			b := &lazyBody{n: huge}
			r := httptest.NewRequest(method, path, io.NopCloser(b))
			r.ContentLength = int64(huge)
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r, b
		}, "4xx"},
		{"huge chunked body", func(method, path string) (*http.Request, *lazyBody) {
			b := &lazyBody{n: huge}
			r := httptest.NewRequest(method, path, io.NopCloser(b))
			r.ContentLength = -1
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r, b
		}, "any"},
		{"huge query", func(method, path string) (*http.Request, *lazyBody) {
			return httptest.NewRequest(method, path+"?q="+strings.Repeat("a", 100<<10), nil), nil
		}, "4xx"},
		{"huge parameters", func(method, path string) (*http.Request, *lazyBody) {
			q := url.Values{
				"callbackUrl": {"/" + strings.Repeat("a", 2500)},
				"iss":         {issuer},
				"sid":         {strings.Repeat("s", 1000)},
				"state":       {strings.Repeat("s", 1500)},
				"error":       {strings.Repeat("e", 1000)},
			}
			return httptest.NewRequest(method, path+"?"+q.Encode(), nil), nil
		}, "any"},
		{"many large cookies", func(method, path string) (*http.Request, *lazyBody) {
			r := httptest.NewRequest(method, path, nil)
			r.Header.Set("Cookie", strings.Join(manyCookies, "; "))
			return r, nil
		}, "any"},
		{"bogus session chunks", func(method, path string) (*http.Request, *lazyBody) {
			r := httptest.NewRequest(method, path, nil)
			r.Header.Set("Cookie", strings.Join(bogusChunks, "; "))
			return r, nil
		}, "any"},
	}
}

// concreteRoutes maps every pattern of the app's route table and of the
// auth handler to a path to request. A route added without an entry here
// fails TestHostileInputsEveryRoute.
var concreteRoutes = map[string]string{
	"GET /{$}":                             "/",
	"GET /profile":                         "/profile",
	"GET /fragments/nav":                   "/fragments/nav",
	"GET /fragments/home":                  "/fragments/home",
	"GET /fragments/profile":               "/fragments/profile",
	"GET /fragments/sessions":              "/fragments/sessions",
	"GET /fragments/signed-out":            "/fragments/signed-out",
	"GET /account":                         "/account",
	"GET /fragments/token":                 "/fragments/token",
	"GET /reports":                         "/reports",
	"GET /fragments/reports":               "/fragments/reports",
	"/api/auth/":                           "/api/auth/nope",
	"GET /auth/sign-out":                   "/auth/sign-out",
	"GET /static/":                         "/static/css/app.css",
	"/dev-idp/":                            "/dev-idp/authorize",
	"GET /healthz":                         "/healthz",
	"GET /favicon.ico":                     "/favicon.ico",
	"GET /api/auth/signin":                 "/api/auth/signin",
	"GET /api/auth/signin/{provider}":      "/api/auth/signin/test",
	"POST /api/auth/signin/{provider}":     "/api/auth/signin/test",
	"GET /api/auth/callback/{provider}":    "/api/auth/callback/test",
	"POST /api/auth/callback/{provider}":   "/api/auth/callback/test",
	"GET /api/auth/session":                "/api/auth/session",
	"GET /api/auth/csrf":                   "/api/auth/csrf",
	"GET /api/auth/providers":              "/api/auth/providers",
	"GET /api/auth/signout":                "/api/auth/signout",
	"POST /api/auth/signout":               "/api/auth/signout",
	"GET /api/auth/error":                  "/api/auth/error",
	"POST /api/auth/backchannel-logout":    "/api/auth/backchannel-logout",
	"GET /api/auth/frontchannel-logout":    "/api/auth/frontchannel-logout",
	"GET /api/auth/session/stream":         "/api/auth/session/stream",
	"GET /api/auth/list-sessions":          "/api/auth/list-sessions",
	"POST /api/auth/revoke-session":        "/api/auth/revoke-session",
	"POST /api/auth/revoke-other-sessions": "/api/auth/revoke-other-sessions",
	"POST /api/auth/revoke-sessions":       "/api/auth/revoke-sessions",
}

// maxResponseHeaderBytes bounds a response's header block: nginx's default
// proxy_buffer_size is 4 KB, and no hostile input may push it far past.
const maxResponseHeaderBytes = 8 << 10

// maxAllocPerRequest bounds what one hostile request may allocate while
// it is served (the inputs themselves are up to 100 KB).
const maxAllocPerRequest = 2 << 20

// TestHostileInputsEveryRoute is the rule "every unauthenticated input is
// bounded", route by route: it reads the route table of the real handler
// (New) and the auth handler's routes, and sends each oversized input to
// each: a huge body (declared or chunked), a huge query, huge parameters,
// many large cookies, a thousand made-up session chunk names. Each
// answer is a 4xx (or, where the input is ignored, the route's normal
// answer), never a 5xx, with a bounded header block, and the heap stays
// flat over many rounds.
func TestHostileInputsEveryRoute(t *testing.T) {
	idp := newFakeIdP(t, map[string]any{"name": "Ada Lovelace"}, false)
	log := slog.New(slog.DiscardHandler)
	a, err := auth.New(auth.Config{
		Providers: []*auth.Provider{auth.NewProvider("test", "Test IdP", idp.Issuer, idp.ClientID, idp.ClientSecret)},
		Secrets:   []string{"test-secret-test-secret-test-secret-0123456789"},
		Callbacks: AuthCallbacks(),
		Pages:     AuthPages(),
		Logger:    log,
	})
	if err != nil {
		t.Fatal(err)
	}
	dev := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("dev idp")) })
	deps := Deps{Auth: a, Logger: log, DevIdP: dev}
	h := New(deps)
	files := static.New()
	var patterns []string
	for _, rt := range routeTable(deps, files, assetURLs(files), log) {
		patterns = append(patterns, rt.pattern)
	}
	patterns = append(patterns, a.Routes()...)

	type target struct{ pattern, method, path string }
	var targets []target
	for _, p := range patterns {
		path, ok := concreteRoutes[p]
		if !ok {
			t.Errorf("route %q has no entry in concreteRoutes: add one so the hostile inputs reach it", p)
			continue
		}
		method, _, found := strings.Cut(p, " ")
		if !found {
			method = http.MethodGet
		}
		targets = append(targets, target{p, method, path})
		if method == http.MethodGet {
			// Also the method a form would use, which such a route
			// refuses (405) or ignores.
			targets = append(targets, target{p, http.MethodPost, path})
		}
	}
	inputs := hostileInputs(idp.Issuer)

	round := func(check bool) {
		for _, tg := range targets {
			for _, in := range inputs {
				req, body := in.build(tg.method, tg.path)
				w := httptest.NewRecorder()
				if !check {
					h.ServeHTTP(w, req)
					continue
				}
				var m0, m1 runtime.MemStats
				runtime.ReadMemStats(&m0)
				h.ServeHTTP(w, req)
				runtime.ReadMemStats(&m1)
				name := tg.method + " " + tg.path + " (" + tg.pattern + "), " + in.name
				if w.Code >= 500 {
					t.Errorf("%s: status %d", name, w.Code)
				}
				if in.status == "4xx" && (w.Code < 400 || w.Code >= 500) {
					t.Errorf("%s: status %d, want a 4xx", name, w.Code)
				}
				size := 0
				for k, vs := range w.Header() {
					for _, v := range vs {
						size += len(k) + len(v) + 4
					}
				}
				if size > maxResponseHeaderBytes {
					t.Errorf("%s: response headers of %d bytes, want at most %d", name, size, maxResponseHeaderBytes)
				}
				// The work a request may cause is bounded too: no
				// allocation grows with the square of its cookies.
				if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > maxAllocPerRequest {
					t.Errorf("%s: allocated %d KB, want at most %d KB", name, alloc>>10, maxAllocPerRequest>>10)
				}
				if body != nil && body.read > auth.MaxBodyBytes+1 {
					t.Errorf("%s: read %d bytes of the body, want at most %d", name, body.read, auth.MaxBodyBytes+1)
				}
			}
		}
	}
	round(true)
	if t.Failed() {
		return
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const rounds = 8
	for range rounds {
		round(false)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d requests: live heap %d KB before, %d KB after", rounds*len(targets)*len(inputs), before.HeapAlloc>>10, after.HeapAlloc>>10)
	// Anything kept per request would show: 8 rounds of ~300 requests
	// keeping 2 KB each (a sid, a return path) is 4.8 MB. 4 MB leaves
	// room for the runtime's own caches, which stay well under 1 MB.
	if grew > 4<<20 {
		t.Errorf("live heap grew by %d KB over %d rounds, want under 4 MB", grew>>10, rounds)
	}
}
