package auth

// Signet behind a TLS-terminating reverse proxy, as nginx runs it: the
// browser talks https to the proxy's public host, the app gets plain http
// with Host, X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-For. And
// the overflow store, which keeps every response's headers under nginx's
// default 4 KB proxy buffer whatever the size of the IdP's tokens.

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/authtest"
)

// publicOrigin is where the proxy serves the app in these tests.
const publicOrigin = "https://app.example.com"

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// proxiedBrowser is a browser whose requests to app.example.com go to the
// app the way nginx forwards them (proxy_set_header Host $host,
// X-Forwarded-Proto $scheme, X-Forwarded-Host $host, X-Forwarded-For);
// requests to the IdP go straight to it.
func (e *env) proxiedBrowser() *browser {
	b := e.browser()
	app, err := url.Parse(e.app.URL)
	if err != nil {
		e.t.Fatal(err)
	}
	direct := &http.Transport{}
	e.t.Cleanup(direct.CloseIdleConnections)
	b.c.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host != "app.example.com" {
			return direct.RoundTrip(r)
		}
		out := r.Clone(r.Context())
		out.URL.Scheme, out.URL.Host = app.Scheme, app.Host
		out.Host = r.URL.Hostname()
		out.Header.Set("X-Forwarded-Proto", r.URL.Scheme)
		out.Header.Set("X-Forwarded-Host", r.URL.Host)
		out.Header.Set("X-Forwarded-For", "203.0.113.7")
		return direct.RoundTrip(out)
	})
	return b
}

// TestBehindTLSProxy signs in and out through the proxy. With TrustHost
// (AUTH_TRUST_HOST) the app's origin is the proxy's https one: redirect_uri,
// post_logout_redirect_uri and redirects use it, and every cookie is Secure
// with the __Secure-/__Host- prefix. Without it the forwarded headers are
// ignored: the origin is the Host header's, on http, and no cookie is
// Secure.
func TestBehindTLSProxy(t *testing.T) {
	for _, tt := range []struct {
		name      string
		trustHost bool
		origin    string // the app's origin as Signet sees it
		secure    bool
	}{
		{"AUTH_TRUST_HOST", true, publicOrigin, true},
		{"forwarded headers not trusted", false, "http://app.example.com", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, withConfig(func(c *Config) { c.TrustHost = tt.trustHost }))
			b := e.proxiedBrowser()
			p := ""
			if tt.secure {
				p = "__Secure-"
			}
			seen := map[string]bool{}
			checkCookies := func(r response) {
				t.Helper()
				for _, c := range r.cookies {
					checkAttributes(t, c, tt.secure)
					seen[c.Name] = true
				}
			}
			csrf := func() string {
				t.Helper()
				r := b.get(publicOrigin + "/api/auth/csrf")
				checkCookies(r)
				var v struct {
					CSRFToken string `json:"csrfToken"`
				}
				if err := json.Unmarshal([]byte(r.body), &v); err != nil || v.CSRFToken == "" {
					t.Fatalf("csrf: %d %q", r.status, r.body)
				}
				return v.CSRFToken
			}

			start := b.post(publicOrigin+"/api/auth/signin/oidc", url.Values{"csrfToken": {csrf()}, "callbackUrl": {"/profile"}})
			checkCookies(start)
			if got, want := start.location(t).Query().Get("redirect_uri"), tt.origin+"/api/auth/callback/oidc"; got != want {
				t.Errorf("redirect_uri = %q, want %q", got, want)
			}
			fromIdP := b.toIdP(start)
			cb := fromIdP.location(t)
			if tt.origin != publicOrigin {
				// The IdP sends the browser where the app said: the app's own
				// idea of its origin. The proxy serves it on https anyway.
				cb.Scheme = "https"
			}
			back := b.get(cb.String())
			if back.status != http.StatusFound {
				t.Fatalf("callback: %d %.300s; log:\n%s", back.status, back.body, e.logs.String())
			}
			checkCookies(back)
			if got, want := back.location(t).String(), tt.origin+"/profile"; got != want {
				t.Errorf("after sign-in the browser goes to %q, want %q", got, want)
			}
			if back.setCookie(p+"signet.session-token") == nil {
				t.Fatalf("no %ssignet.session-token; cookies %v", p, back.cookies)
			}
			if r := b.get(publicOrigin + "/profile"); r.status != http.StatusOK || !strings.Contains(r.body, "Ada") {
				t.Errorf("GET /profile through the proxy: %d %.200q", r.status, r.body)
			}
			var info map[string]ProviderInfo
			if err := json.Unmarshal([]byte(b.get(publicOrigin+"/api/auth/providers").body), &info); err != nil {
				t.Fatal(err)
			}
			if got, want := info["oidc"].CallbackURL, tt.origin+"/api/auth/callback/oidc"; got != want {
				t.Errorf("providers callbackUrl = %q, want %q", got, want)
			}

			out := b.post(publicOrigin+"/api/auth/signout", url.Values{"csrfToken": {csrf()}})
			checkCookies(out)
			if got, want := out.location(t).Query().Get("post_logout_redirect_uri"), tt.origin+"/auth/sign-out"; got != want {
				t.Errorf("post_logout_redirect_uri = %q, want %q", got, want)
			}
			if s := b.get(publicOrigin + "/api/auth/session"); s.body != "null" {
				t.Errorf("session after sign-out = %s", s.body)
			}
			csrfName := "signet.csrf-token"
			if tt.secure {
				csrfName = "__Host-" + csrfName
			}
			for _, name := range []string{csrfName, p + "signet.state", p + "signet.pkce.code_verifier", p + "signet.session-token", p + "signet.logout-state"} {
				if !seen[name] {
					t.Errorf("never saw a Set-Cookie for %s (saw %v)", name, seen)
				}
			}
		})
	}
}

// headerBytes is the size of a response's status line and header block as
// it went over the wire (HTTP/1.1).
func headerBytes(r response) int {
	n := len("HTTP/1.1 302 Found\r\n") + len("\r\n")
	for k, vs := range r.header {
		for _, v := range vs {
			n += len(k) + len(": ") + len(v) + len("\r\n")
		}
	}
	return n
}

// TestOverflowStore: with an Overflow store, a session too large for one
// small cookie (here a 6000-byte token, as an ID token with a hundred
// claims makes) is kept on the server and its cookie holds only an id, so
// the callback's headers stay under nginx's 4 KB proxy_buffer_size; the
// same session without it is chunked and overflows that buffer. Small
// sessions stay in their cookie; sign-out deletes the stored one; a
// re-issue keeps its id.
func TestOverflowStore(t *testing.T) {
	var size atomic.Int64
	size.Store(6000)

	t.Run("without overflow the session is chunked", func(t *testing.T) {
		e := newEnv(t, bigTokens(&size), withConfig(func(c *Config) { c.Session.Chunked = true }))
		b := e.browser()
		cb := b.signIn()
		wantChunks(t, b.sessionCookies(), 2)
		if n := headerBytes(cb); n <= 4096 {
			t.Errorf("the callback's headers are %d bytes; the test needs a session that overflows 4 KB", n)
		}
	})

	var store *memoryStore
	e := newEnv(t, bigTokens(&size), withConfig(func(c *Config) {
		store = newMemoryStore(c.Now)
		c.Store = store
	}))
	b := e.browser()
	cb := b.signIn()
	if n := headerBytes(cb); n > 2048 {
		t.Errorf("the callback's headers are %d bytes, want a small cookie", n)
	}
	cookies := b.sessionCookies()
	if len(cookies) != 1 || cookies[0].Name != "signet.session-token" || len(cookies[0].Value) > 300 {
		t.Fatalf("session cookies %v, want one signet.session-token holding an id", chunkNamesOf(cookies))
	}
	if got := storedSessions(store); got != 1 {
		t.Fatalf("overflow store holds %d sessions, want 1", got)
	}
	if s := b.session(); s == nil {
		t.Fatalf("an overflowed session does not read back; log:\n%s", e.logs.String())
	}
	login, _ := e.idp.LastLogin()
	if strings.Contains(cookies[0].Value, login.IDToken) {
		t.Error("the cookie holds the ID token")
	}

	// A re-issue (sliding expiry) keeps the session in the store, same id.
	e.clock.Advance(DefaultUpdateAge + time.Minute)
	r := b.get("/api/auth/session")
	if c := r.setCookie("signet.session-token"); c == nil || len(c.Value) > 300 {
		t.Errorf("re-issued session cookie: %v", c)
	}
	if got := storedSessions(store); got != 1 {
		t.Errorf("after a re-issue the store holds %d sessions, want 1", got)
	}

	// A cookie sealed for the overflow store is not a session record, and a
	// record is not an id: without the store configured it is no session.
	copied := e.browser()
	copied.setCookie("signet.session-token", b.sessionCookies()[0].Value)
	e.restart(func(c *Config) { c.Store = newMemoryStore(c.Now) })
	if s := copied.get("/api/auth/session"); s.body != "null" {
		t.Errorf("an overflow cookie with another store = %s, want null", s.body)
	}
	e.restart(func(c *Config) { c.Store, c.Session.Chunked = store, false })

	// A new sign-in replaces the stored session; a small one stays in the cookie.
	size.Store(0)
	b.signIn()
	if got := storedSessions(store); got != 0 {
		t.Errorf("after a small sign-in the store holds %d sessions, want 0", got)
	}
	if c := b.sessionCookies(); len(c) != 1 || len(c[0].Value) < 500 {
		t.Errorf("a small session's cookie %v should hold the session", chunkNamesOf(c))
	}
	if s := b.session(); s == nil {
		t.Fatal("not signed in")
	}

	// Sign-out deletes a stored session.
	size.Store(6000)
	b.signIn()
	if got := storedSessions(store); got != 1 {
		t.Fatalf("store holds %d sessions, want 1", got)
	}
	out := b.post("/api/auth/signout", url.Values{"csrfToken": {b.csrf()}})
	if out.status != http.StatusSeeOther {
		t.Fatalf("signout: %d", out.status)
	}
	if got := storedSessions(store); got != 0 {
		t.Errorf("after sign-out the store holds %d sessions, want 0", got)
	}
	if s := b.session(); s != nil {
		t.Errorf("signed in after sign-out: %v", s)
	}
}

// TestLargeIDTokenFitsProxyBuffers signs in and out through the proxy with
// an ID token of 80 extra claims (about 7 KB), as the e2e nginx journey
// does: with an Overflow store no response's header block reaches 4 KB
// (nginx's default proxy_buffer_size), the session cookie holds an id, and
// the logout URL leaves the ID token out (client_id stands in for it).
func TestLargeIDTokenFitsProxyBuffers(t *testing.T) {
	user := authtest.DefaultUser()
	for i := 1; i <= 80; i++ {
		name := fmt.Sprintf("ext_attr_%02d_id", i)
		h := sha256.Sum256([]byte(name))
		user[name] = fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
	}
	store := newMemoryStore(nil)
	e := newEnv(t, withIdP(authtest.Options{User: user}), withConfig(func(c *Config) {
		c.TrustHost = true
		c.Store = store
	}))
	b := e.proxiedBrowser()
	fits := func(what string, r response) {
		t.Helper()
		if n := headerBytes(r); n >= 4096 {
			t.Errorf("%s: the header block is %d bytes, want under 4096", what, n)
		}
	}
	csrf := func() string {
		t.Helper()
		var v struct {
			CSRFToken string `json:"csrfToken"`
		}
		r := b.get(publicOrigin + "/api/auth/csrf")
		if err := json.Unmarshal([]byte(r.body), &v); err != nil {
			t.Fatal(err)
		}
		return v.CSRFToken
	}
	start := b.post(publicOrigin+"/api/auth/signin/oidc", url.Values{"csrfToken": {csrf()}})
	fits("sign-in", start)
	back := b.get(b.toIdP(start).location(t).String())
	fits("callback", back)
	login, _ := e.idp.LastLogin()
	if len(login.IDToken) < 6000 {
		t.Fatalf("the ID token is %d bytes; the test needs a large one", len(login.IDToken))
	}
	if storedSessions(store) != 1 {
		t.Errorf("overflow store holds %d sessions, want 1", storedSessions(store))
	}
	if s := b.get(publicOrigin + "/api/auth/session"); !strings.Contains(s.body, "Ada") {
		t.Fatalf("not signed in: %s", s.body)
	}

	out := b.post(publicOrigin+"/api/auth/signout", url.Values{"csrfToken": {csrf()}})
	fits("sign-out", out)
	q := out.location(t).Query()
	if q.Has("id_token_hint") {
		t.Errorf("the logout URL carries the %d-byte ID token", len(login.IDToken))
	}
	for k, want := range map[string]string{"client_id": e.idp.ClientID, "post_logout_redirect_uri": publicOrigin + "/auth/sign-out"} {
		if got := q.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	e.wantLog(t, "sign-out without id_token_hint")
	page := b.get(b.get(out.location(t).String()).location(t).String())
	if page.status != http.StatusOK || !strings.Contains(page.body, `id="signing-out"`) {
		t.Errorf("post-logout page: %d %.200q", page.status, page.body)
	}
	if storedSessions(store) != 0 {
		t.Errorf("overflow store holds %d sessions after sign-out, want 0", storedSessions(store))
	}
}
