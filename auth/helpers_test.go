package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/authtest"
	"github.com/signet-auth/signet/auth/store"
)

// testSecret is a 32-byte AUTH_SECRET for tests.
const (
	testSecret  = "test-secret-A-0123456789abcdefghijklmnop"
	testSecretB = "test-secret-B-0123456789abcdefghijklmnop"
)

var errTest = errors.New("test failure")

// flipChar changes the character at i (from the end when negative) of s to
// another character of the base64url alphabet.
func flipChar(s string, i int) string {
	if s == "" {
		return s
	}
	if i < 0 {
		i += len(s)
	}
	i = min(max(i, 0), len(s)-1)
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

// testClock is an injected clock that moves only when told to. It starts at
// the current second so that cookie jars, which use the real clock, keep the
// cookies it dates.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Now().Truncate(time.Second)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// logBuffer collects slog output; it is safe for concurrent writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// env is one app using Signet against one fake IdP, served on httptest.
type env struct {
	t     testing.TB
	idp   *authtest.IdP
	auth  *Auth
	cfg   Config
	app   *httptest.Server
	logs  *logBuffer
	clock *testClock
	// handler is the app's whole handler (Middleware around the mux), for
	// tests that call it without the network. It serves current.
	handler http.Handler
	current atomic.Pointer[http.Handler]
	// jwtCalls and sessionCalls record the callbacks' inputs.
	mu         sync.Mutex
	jwtCalls   []JWTParams
	signInArgs []SignInParams
}

type setup struct {
	idp      authtest.Options
	preset   func(issuer, clientID, clientSecret string) *Provider
	provider func(*Provider)
	config   []func(*Config)
	noServer bool
	tls      bool
}

type option func(*setup)

// withIdP sets the fake IdP's options.
func withIdP(o authtest.Options) option { return func(s *setup) { s.idp = o } }

// withPreset builds the provider with a preset (default OIDC).
func withPreset(p func(issuer, clientID, clientSecret string) *Provider) option {
	return func(s *setup) { s.preset = p }
}

// withProvider edits the provider before New.
func withProvider(f func(*Provider)) option { return func(s *setup) { s.provider = f } }

// withTLS serves the app over https (httptest's TLS server), so that
// Signet picks Secure cookies with the __Secure-/__Host- prefixes.
func withTLS() option { return func(s *setup) { s.tls = true } }

// withConfig edits the Config before New; several apply in order.
func withConfig(f func(*Config)) option { return func(s *setup) { s.config = append(s.config, f) } }

// newEnv starts a fake IdP and an app that mounts Signet the way doc.go
// shows, with the seeds' JWT and Session callbacks, an injected clock and
// the log captured.
func newEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	var s setup
	for _, o := range opts {
		o(&s)
	}
	e := &env{t: t, logs: &logBuffer{}, clock: newTestClock()}
	if s.idp.Now == nil {
		s.idp.Now = e.clock.Now
	}
	e.idp = authtest.New(t, s.idp)
	preset := s.preset
	if preset == nil {
		preset = OIDC
	}
	p := preset(e.idp.Issuer, e.idp.ClientID, e.idp.ClientSecret)
	if s.provider != nil {
		s.provider(p)
	}
	e.cfg = Config{
		Providers:  []*Provider{p},
		Secrets:    []string{testSecret},
		Logger:     slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		HTTPClient: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}},
		Now:        e.clock.Now,
		Callbacks:  e.seedCallbacks(),
	}
	for _, f := range s.config {
		f(&e.cfg)
	}
	a, err := New(e.cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.auth = a
	t.Cleanup(func() {
		if tr, ok := e.cfg.HTTPClient.Transport.(*http.Transport); ok && e.cfg.HTTPClient != nil {
			tr.CloseIdleConnections()
		}
	})
	h := appHandler(a)
	e.current.Store(&h)
	e.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*e.current.Load()).ServeHTTP(w, r)
	})
	switch {
	case s.noServer:
	case s.tls:
		e.app = httptest.NewTLSServer(e.handler)
		t.Cleanup(e.app.Close)
	default:
		e.app = httptest.NewServer(e.handler)
		t.Cleanup(e.app.Close)
	}
	return e
}

// restart replaces the app's Auth with one built from the env's Config as
// edit changes it, as a redeploy with new settings would; the IdP, clock,
// log and browsers stay.
func (e *env) restart(edit func(*Config)) *Auth {
	e.t.Helper()
	cfg := e.cfg
	cfg.Providers = nil
	for _, p := range e.cfg.Providers {
		cfg.Providers = append(cfg.Providers, &Provider{
			ID: p.ID, Name: p.Name, Issuer: p.Issuer, DiscoveryURL: p.DiscoveryURL,
			ClientID: p.ClientID, ClientSecret: p.ClientSecret, Scopes: p.Scopes,
			AuthParams: p.AuthParams, Profile: p.Profile, LogoutURL: p.LogoutURL,
			Userinfo: p.Userinfo, SkipIssuerCheck: p.SkipIssuerCheck,
		})
	}
	if edit != nil {
		edit(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		e.t.Fatalf("New: %v", err)
	}
	e.auth = a
	h := appHandler(a)
	e.current.Store(&h)
	return a
}

// appHandler mounts a the way doc.go's setup does, with a home page, a
// protected page and a protected htmx fragment.
func appHandler(a *Auth) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(a.BasePath()+"/", a.Handler())
	mux.Handle("GET "+a.SignOutPath(), a.PostLogoutHandler())
	mux.Handle("GET /profile", a.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := SessionFromContext(r.Context())
		fmt.Fprintf(w, "profile of %s <%s>", s.User.DisplayName(), s.User.Email)
	})))
	mux.Handle("GET /fragment", a.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<div>fragment</div>")
	})))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if s := SessionFromContext(r.Context()); s != nil {
			fmt.Fprintf(w, "Welcome, %s", s.User.DisplayName())
			return
		}
		fmt.Fprint(w, "Sign in")
	})
	return a.Middleware(mux)
}

// seedCallbacks are the seed guides' jwt and session callbacks (as
// cmd/signet has them), recording what they receive.
func (e *env) seedCallbacks() Callbacks {
	return Callbacks{
		SignIn: func(_ context.Context, p SignInParams) (bool, error) {
			e.mu.Lock()
			e.signInArgs = append(e.signInArgs, p)
			e.mu.Unlock()
			return true, nil
		},
		JWT: func(_ context.Context, p JWTParams) (Token, error) {
			e.mu.Lock()
			e.jwtCalls = append(e.jwtCalls, p)
			e.mu.Unlock()
			if p.Profile != nil {
				for _, k := range []string{"given_name", "family_name", "username"} {
					if v := p.Profile.String(k); v != "" {
						p.Token[k] = v
					}
				}
			}
			return p.Token, nil
		},
		Session: func(_ context.Context, p SessionParams) (*Session, error) {
			s := p.Session
			s.User.GivenName = p.Token.String("given_name")
			s.User.FamilyName = p.Token.String("family_name")
			s.User.Username = p.Token.String("username")
			if s.User.Email == "" {
				s.User.Email = s.User.Username
			}
			return s, nil
		},
	}
}

// url makes an absolute URL on the app.
func (e *env) url(path string) string {
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return path
	}
	return e.app.URL + path
}

// wantLog fails the test unless the log holds every one of subs.
func (e *env) wantLog(t testing.TB, subs ...string) {
	t.Helper()
	logs := e.logs.String()
	for _, s := range subs {
		if !strings.Contains(logs, s) {
			t.Errorf("log does not contain %q; log:\n%s", s, logs)
		}
	}
}

// response is a read and closed HTTP response.
type response struct {
	status int
	header http.Header
	body   string
	// cookies are the Set-Cookie lines, parsed.
	cookies []*http.Cookie
}

func (r response) location(t testing.TB) *url.URL {
	t.Helper()
	l := r.header.Get("Location")
	if l == "" {
		t.Fatalf("no Location header (status %d, body %.300q)", r.status, r.body)
	}
	u, err := url.Parse(l)
	if err != nil {
		t.Fatalf("Location %q: %v", l, err)
	}
	return u
}

// setCookie returns the Set-Cookie for name, or nil.
func (r response) setCookie(name string) *http.Cookie {
	var found *http.Cookie
	for _, c := range r.cookies {
		if c.Name == name {
			found = c // the last one wins, as in a browser
		}
	}
	return found
}

// browser is a user agent with its own cookie jar that does not follow
// redirects, so each step can be checked and tampered with.
type browser struct {
	t   testing.TB
	e   *env
	jar *cookiejar.Jar
	c   *http.Client
	// visited are the URLs requested and seen are every value of every
	// Set-Cookie received, for leak checks.
	mu      sync.Mutex
	visited []string
	seen    []string
}

func (e *env) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	tr := &http.Transport{}
	if e.app != nil && e.app.TLS != nil {
		tr = e.app.Client().Transport.(*http.Transport).Clone()
	}
	e.t.Cleanup(tr.CloseIdleConnections)
	return &browser{t: e.t, e: e, jar: jar, c: &http.Client{
		Jar:       jar,
		Transport: tr,
		Timeout:   20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatalf("read %s: %v", req.URL, err)
	}
	b.mu.Lock()
	b.visited = append(b.visited, req.URL.String())
	for _, c := range res.Cookies() {
		if c.Value != "" {
			b.seen = append(b.seen, c.Value)
		}
	}
	b.mu.Unlock()
	return response{status: res.StatusCode, header: res.Header, body: string(body), cookies: res.Cookies()}
}

// get GETs path (on the app unless absolute) with header pairs.
func (b *browser) get(path string, header ...string) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.url(path), nil)
	if err != nil {
		b.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

// post POSTs a form to path with header pairs.
func (b *browser) post(path string, form url.Values, header ...string) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.url(path), strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

// csrf fetches a CSRF token the way Auth.js's client does.
func (b *browser) csrf() string {
	b.t.Helper()
	return b.csrfAt("/api/auth/csrf")
}

// csrfAt fetches a CSRF token from path (for another base path).
func (b *browser) csrfAt(path string) string {
	b.t.Helper()
	r := b.get(path)
	var v struct {
		CSRFToken string `json:"csrfToken"`
	}
	if err := json.Unmarshal([]byte(r.body), &v); err != nil || v.CSRFToken == "" {
		b.t.Fatalf("GET /api/auth/csrf: status %d body %q", r.status, r.body)
	}
	return v.CSRFToken
}

// startSignIn POSTs to /api/auth/signin/{provider} with a fresh CSRF token
// and returns the redirect to the IdP's authorize endpoint.
func (b *browser) startSignIn(provider, callbackURL string) response {
	b.t.Helper()
	form := url.Values{"csrfToken": {b.csrf()}}
	if callbackURL != "" {
		form.Set("callbackUrl", callbackURL)
	}
	return b.post("/api/auth/signin/"+provider, form)
}

// toIdP follows a sign-in redirect to the IdP's authorize endpoint and
// returns the IdP's redirect back to the app's callback.
func (b *browser) toIdP(start response) response {
	b.t.Helper()
	if start.status != http.StatusSeeOther && start.status != http.StatusFound {
		b.t.Fatalf("sign-in start: status %d, want a redirect; body %.300q", start.status, start.body)
	}
	r := b.get(start.location(b.t).String())
	if r.status != http.StatusFound {
		b.t.Fatalf("authorize: status %d body %.300q", r.status, r.body)
	}
	return r
}

// callback follows the IdP's redirect to the app's callback.
func (b *browser) callback(fromIdP response) response {
	b.t.Helper()
	return b.get(fromIdP.location(b.t).String())
}

// callbackEdited follows the IdP's redirect back to the app after edit
// has changed its query: a tampered, missing or swapped parameter.
func (b *browser) callbackEdited(fromIdP response, edit func(q url.Values)) response {
	b.t.Helper()
	u := fromIdP.location(b.t)
	q := u.Query()
	edit(q)
	u.RawQuery = q.Encode()
	return b.get(u.String())
}

// signIn runs the whole sign-in with provider "oidc" and returns the
// callback's response, failing unless it signed in.
func (b *browser) signIn() response {
	b.t.Helper()
	return b.signInWith("oidc", "")
}

func (b *browser) signInWith(provider, callbackURL string) response {
	b.t.Helper()
	r := b.callback(b.toIdP(b.startSignIn(provider, callbackURL)))
	if r.status != http.StatusFound {
		b.t.Fatalf("callback: status %d, want 302; body %.300q", r.status, r.body)
	}
	if l := r.location(b.t); strings.Contains(l.Path, "/api/auth/error") {
		b.t.Fatalf("callback ended on the error page %s; log:\n%s", l, b.e.logs.String())
	}
	return r
}

// session GETs /api/auth/session and decodes it (nil for null).
func (b *browser) session() map[string]any {
	b.t.Helper()
	r := b.get("/api/auth/session")
	if r.status != http.StatusOK {
		b.t.Fatalf("GET /api/auth/session: status %d body %q", r.status, r.body)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		b.t.Fatalf("session JSON %q: %v", r.body, err)
	}
	return v
}

// cookies returns the jar's cookies for the app.
func (b *browser) cookies() []*http.Cookie {
	u, _ := url.Parse(b.e.app.URL)
	return b.jar.Cookies(u)
}

// cookie returns the value of the jar's cookie name for the app, or "".
func (b *browser) cookie(name string) string {
	for _, c := range b.cookies() {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// cookieNames lists the jar's cookie names for the app.
func (b *browser) cookieNames() []string {
	var out []string
	for _, c := range b.cookies() {
		out = append(out, c.Name)
	}
	return out
}

// setCookie puts name=value in the jar for the app ("" deletes it).
func (b *browser) setCookie(name, value string) {
	u, _ := url.Parse(b.e.app.URL)
	c := &http.Cookie{Name: name, Value: value, Path: "/"}
	if value == "" {
		c.MaxAge = -1
	}
	b.jar.SetCookies(u, []*http.Cookie{c})
}

// wantErrorPage checks that r sends the browser to the error page with
// code, and that the page answers with the code's status and shows it.
func (b *browser) wantErrorPage(t testing.TB, r response, code ErrorCode) {
	t.Helper()
	if r.status != http.StatusFound && r.status != http.StatusSeeOther {
		t.Fatalf("status %d, want a redirect to the error page; body %.300q", r.status, r.body)
	}
	l := r.location(t)
	if got, want := l.Path, "/api/auth/error"; got != want {
		t.Fatalf("redirect to %s, want %s?error=%s", l, want, code)
	}
	if got := l.Query().Get("error"); got != string(code) {
		t.Fatalf("error code %q, want %q; log:\n%s", got, code, b.e.logs.String())
	}
	page := b.get(l.String())
	if got, want := page.status, code.Status(); got != want {
		t.Errorf("error page status %d, want %d", got, want)
	}
	if !strings.Contains(page.body, string(code)) {
		t.Errorf("error page does not show %q: %.500s", code, page.body)
	}
}

// serve runs req through the app's handler without the network.
func (e *env) serve(req *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, req)
	return w
}

// sessionCookies returns the browser's session cookies (whole or chunks),
// in jar order.
func (b *browser) sessionCookies() []*http.Cookie {
	var out []*http.Cookie
	for _, c := range b.cookies() {
		if strings.HasPrefix(strings.TrimPrefix(c.Name, "__Secure-"), "signet.session-token") {
			out = append(out, c)
		}
	}
	return out
}

// memoryStore is the in-memory Store the tests look into.
type memoryStore = store.Memory

func newMemoryStore(now func() time.Time) *memoryStore { return store.NewMemory(now) }

// storedSessions counts the session records in st (not the index and the
// other state kept beside them).
func storedSessions(st *memoryStore) int { return len(st.Keys(keySession)) }
