//go:build unix

package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/components"
	"github.com/signet-auth/signet/devidp"
)

// The benchmarks here measure the app as cmd/signet wires it with the
// embedded development IdP, served in memory: no sockets, so the figures
// are the app's own cost per request. The request log is formatted (slog's
// text handler) and discarded. `go run ./bench` reports them.

const benchOrigin = "http://app.bench"

// benchApp is the whole app handler with the dev IdP mounted, and a
// transport that serves requests with it, for the app's own calls to the
// IdP and for in-memory browsers.
type benchApp struct {
	h    http.Handler
	auth *auth.Auth
}

// RoundTrip serves r with the app handler, as a server would receive it.
func (app *benchApp) RoundTrip(r *http.Request) (*http.Response, error) {
	in := r.Clone(r.Context())
	in.RequestURI = r.URL.RequestURI()
	in.Host = r.URL.Host
	in.RemoteAddr = "127.0.0.1:40000"
	if in.Body == nil {
		in.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	app.h.ServeHTTP(rec, in)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

func newBenchApp(tb testing.TB) *benchApp { return newBenchAppLog(tb, RequestLogAll) }

// newBenchAppLog is newBenchApp with the request log mode given.
func newBenchAppLog(tb testing.TB, requestLog RequestLog) *benchApp {
	tb.Helper()
	app := &benchApp{}
	client := &http.Client{Transport: app}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	issuer := benchOrigin + "/dev-idp"
	idp, err := devidp.New(devidp.Config{
		Issuer: issuer,
		Clients: []devidp.Client{{
			ID:                     "signet-dev",
			Secret:                 "bench-client-secret",
			RedirectURIs:           []string{benchOrigin + auth.DefaultBasePath + "/callback/dev"},
			PostLogoutRedirectURIs: []string{benchOrigin + auth.DefaultSignOutPath},
		}},
		Logger:     log,
		HTTPClient: client,
	})
	if err != nil {
		tb.Fatal(err)
	}
	a, err := auth.New(auth.Config{
		Providers:  []*auth.Provider{auth.NewProvider("dev", "Development IdP", issuer, "signet-dev", "bench-client-secret")},
		Secrets:    []string{"bench-secret-bench-secret-bench-secret-0123"},
		URL:        benchOrigin,
		Callbacks:  AuthCallbacks(),
		Pages:      AuthPages(),
		Logger:     log,
		HTTPClient: client,
	})
	if err != nil {
		tb.Fatal(err)
	}
	var users []DevUser
	for _, u := range devidp.DefaultUsers() {
		users = append(users, DevUser{Username: u.Username, Password: u.Password, Name: u.Name()})
	}
	app.auth = a
	app.h = New(Deps{Auth: a, Logger: log, DevIdP: idp, DevUsers: users, RequestLog: requestLog})
	return app
}

// signIn signs ada in through the app and the dev IdP's login form, as a
// browser does, and returns the Cookie header the browser then sends.
func (app *benchApp) signIn(tb testing.TB) string {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	c := &http.Client{Transport: app, Jar: jar}
	read := func(resp *http.Response, err error) (*http.Response, string) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			tb.Fatalf("%s: status %d\n%s", resp.Request.URL, resp.StatusCode, b)
		}
		return resp, string(b)
	}
	_, body := read(c.Get(benchOrigin + "/api/auth/csrf"))
	var csrf struct{ CSRFToken string }
	if err := json.Unmarshal([]byte(body), &csrf); err != nil {
		tb.Fatal(err)
	}
	resp, body := read(c.PostForm(benchOrigin+"/api/auth/signin/dev", url.Values{"csrfToken": {csrf.CSRFToken}, "callbackUrl": {"/"}}))
	form := url.Values{"username": {"ada"}, "password": {"lovelace"}}
	for _, name := range []string{"authRequestID", "csrf_token"} {
		form.Set(name, hiddenField(tb, body, name))
	}
	action, err := resp.Request.URL.Parse(benchOrigin + "/dev-idp/login")
	if err != nil {
		tb.Fatal(err)
	}
	resp, body = read(c.PostForm(action.String(), form))
	if resp.Request.URL.Path != "/" || !strings.Contains(body, `id="welcome"`) {
		tb.Fatalf("sign-in ended at %s:\n%s", resp.Request.URL, body)
	}
	u, _ := url.Parse(benchOrigin + "/")
	var parts []string
	for _, ck := range jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return strings.Join(parts, "; ")
}

// hiddenField is the value of the input named name in page.
func hiddenField(tb testing.TB, page, name string) string {
	tb.Helper()
	marker := `name="` + name + `" value="`
	i := strings.Index(page, marker)
	if i < 0 {
		tb.Fatalf("no %s field in:\n%s", name, page)
	}
	rest := page[i+len(marker):]
	return rest[:strings.IndexByte(rest, '"')]
}

// discardWriter is a ResponseWriter that keeps only the status and the
// body's size, reset between iterations.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
}
func (w *discardWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(b)
	return len(b), nil
}
func (w *discardWriter) reset() { clear(w.h); w.status, w.n = 0, 0 }

// benchServe measures one GET of path through the whole app handler
// (logging, security headers, session middleware, the page).
func benchServe(b *testing.B, path string, headers map[string]string, signedIn bool, want string) {
	benchServeLog(b, RequestLogAll, path, headers, signedIn, want)
}

func benchServeLog(b *testing.B, requestLog RequestLog, path string, headers map[string]string, signedIn bool, want string) {
	app := newBenchAppLog(b, requestLog)
	cookie := ""
	if signedIn {
		cookie = app.signIn(b)
	}
	base := httptest.NewRequest(http.MethodGet, benchOrigin+path, nil)
	if cookie != "" {
		base.Header.Set("Cookie", cookie)
	}
	for k, v := range headers {
		base.Header.Set(k, v)
	}
	// A copy per request: handlers may add to a request's headers.
	newReq := func() *http.Request { return base.Clone(context.Background()) }
	// Check the answer once, in full.
	rec := httptest.NewRecorder()
	app.h.ServeHTTP(rec, newReq())
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) {
		b.Fatalf("GET %s: status %d, want 200 with %q:\n%s", path, rec.Code, want, rec.Body)
	}
	if signedIn && len(rec.Result().Header.Values("Set-Cookie")) > 0 {
		b.Fatalf("GET %s signed in: Set-Cookie %q", path, rec.Result().Header.Values("Set-Cookie"))
	}
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	done := benchCPU(b)
	for b.Loop() {
		w.reset()
		app.h.ServeHTTP(w, newReq())
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
	done()
}

// BenchmarkServeHome is the signed-in home page through the whole app:
// session decode, the Session callback, the templ render.
func BenchmarkServeHome(b *testing.B) {
	benchServe(b, "/", nil, true, `id="welcome"`)
}

// BenchmarkServeSession is GET /api/auth/session signed in.
func BenchmarkServeSession(b *testing.B) {
	benchServe(b, "/api/auth/session", nil, true, `"given_name":"Ada"`)
}

// BenchmarkServeSessionNoRequestLog is BenchmarkServeSession with
// LOG_REQUESTS=off: the difference is what the request log line costs.
func BenchmarkServeSessionNoRequestLog(b *testing.B) {
	benchServeLog(b, RequestLogOff, "/api/auth/session", nil, true, `"given_name":"Ada"`)
}

// BenchmarkServeNavFragment is the htmx nav fragment signed in.
func BenchmarkServeNavFragment(b *testing.B) {
	benchServe(b, pathNavFragment, map[string]string{"HX-Request": "true"}, true, `id="nav-sign-out"`)
}

// BenchmarkServeHomeSignedOut is the home page for a first visit: no
// cookie, so a CSRF token is made and set.
func BenchmarkServeHomeSignedOut(b *testing.B) {
	benchServe(b, "/", nil, false, `id="sign-in"`)
}

// BenchmarkRenderHome is the templ render of the signed-in home page
// alone, from its data.
func BenchmarkRenderHome(b *testing.B) {
	app := newBenchApp(b)
	r := httptest.NewRequest(http.MethodGet, benchOrigin+"/", nil)
	r.Header.Set("Cookie", app.signIn(b))
	w := httptest.NewRecorder()
	s := app.auth.Session(w, r)
	if s == nil {
		b.Fatal("no session")
	}
	panel, err := homePanel(app.auth, w, r, s, nil)
	if err != nil {
		b.Fatal(err)
	}
	page := components.Home(components.HomeData{
		Shell: components.Shell{Title: "Signet", Assets: components.Assets{CSS: "/static/css/app.0123456789.css", Logo: "/static/img/logo.0123456789.svg", HTMX: "/static/vendor/htmx.0123456789.js"}, Nav: navData(app.auth, w, r, s, pathHome)},
		Panel: panel,
	})
	var buf bytes.Buffer
	if err := page.Render(r.Context(), &buf); err != nil || !strings.Contains(buf.String(), "Ada Lovelace") {
		b.Fatalf("render: %v\n%s", err, buf.String())
	}
	b.ReportAllocs()
	b.ResetTimer()
	done := benchCPU(b)
	for b.Loop() {
		buf.Reset()
		if err := page.Render(r.Context(), &buf); err != nil {
			b.Fatal(err)
		}
	}
	done()
}

// benchCPU starts counting the process's CPU time (user and system, every
// thread: the garbage collector's too); the func it returns reports it per
// op as cpu-ns/op. On a shared machine it moves less than ns/op, which
// also counts the time spent waiting for a CPU.
func benchCPU(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() { b.ReportMetric(float64(cpu()-start)/float64(b.N), "cpu-ns/op") }
}

// TestProfileUnderLoad serves the app on 127.0.0.1 and drives wrk against
// it, so that `go test -cpuprofile` sees the server side of the load test:
//
//	SIGNET_PROFILE_LOAD=/fragments/nav go test -run TestProfileUnderLoad -cpuprofile cpu.prof ./handlers
//
// It is skipped unless SIGNET_PROFILE_LOAD names a path (signed in; add
// "?anon" to send no cookie).
func TestProfileUnderLoad(t *testing.T) {
	path := os.Getenv("SIGNET_PROFILE_LOAD")
	if path == "" {
		t.Skip("set SIGNET_PROFILE_LOAD to a path to profile it under load")
	}
	app := newBenchApp(t)
	srv := httptest.NewServer(app.h)
	defer srv.Close()
	args := []string{"-t2", "-c32", "-d10s", "--latency"}
	if p, anon := strings.CutSuffix(path, "?anon"); anon {
		path = p
	} else {
		args = append(args, "-H", "Cookie: "+app.signIn(t))
	}
	if strings.HasPrefix(path, pathNavFragment) {
		args = append(args, "-H", "HX-Request: true")
	}
	out, err := exec.Command("wrk", append(args, srv.URL+path)...).CombinedOutput()
	if err != nil {
		t.Fatalf("wrk: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
