package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/authtest"
)

// tkClock is the injected clock of the token tests.
type tkClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *tkClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *tkClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// tkLogs collects the log.
type tkLogs struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *tkLogs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *tkLogs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// tkEnv is an app with Signet and a fake IdP that serves refresh and
// introspection, on httptest.
type tkEnv struct {
	t     *testing.T
	cfg   Config
	clock *tkClock
	idp   *authtest.IdP
	auth  *Auth
	app   *httptest.Server
	logs  *tkLogs

	mu       sync.Mutex
	jwtCalls []JWTParams
	events   []RefreshEvent
}

// newTokenEnv starts a fake IdP and an app. The app's pages: /token shows
// AccessToken's result (the token only as a hash), /profile needs a
// session, /reports needs read:reports, /admin needs admin and
// read:reports.
func newTokenEnv(t *testing.T, edit ...func(*Config)) *tkEnv {
	t.Helper()
	e := &tkEnv{t: t, clock: &tkClock{t: time.Now().Truncate(time.Second)}, logs: &tkLogs{}}
	// 5-minute opaque access tokens, rotated refresh tokens, introspection
	// advertised and answering scope "openid profile email read:reports",
	// the token response's scope "openid profile email".
	e.idp = authtest.New(t, authtest.Options{Now: e.clock.Now, Tokens: authtest.Tokens{
		AccessTokenTTL:      5 * time.Minute,
		RotateRefreshTokens: true,
		Scope:               "openid profile email read:reports",
		ResponseScope:       "openid profile email",
		Introspection:       true,
	}})
	cfg := Config{
		Providers:  []*Provider{OIDC(e.idp.Issuer, e.idp.ClientID, e.idp.ClientSecret)},
		Secrets:    []string{"token-test-secret-0123456789abcdefghijkl"},
		Logger:     slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		HTTPClient: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}},
		Now:        e.clock.Now,
		Callbacks: Callbacks{
			JWT: func(_ context.Context, p JWTParams) (Token, error) {
				e.mu.Lock()
				e.jwtCalls = append(e.jwtCalls, p)
				e.mu.Unlock()
				if p.Trigger == TriggerRefresh {
					p.Token["refreshed"] = p.Account.ExpiresAt.Unix()
				}
				return p.Token, nil
			},
		},
		Events: Events{Refresh: func(_ context.Context, ev RefreshEvent) {
			e.mu.Lock()
			e.events = append(e.events, ev)
			e.mu.Unlock()
		}},
	}
	for _, f := range edit {
		f(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.auth = a
	e.cfg = cfg
	t.Cleanup(cfg.HTTPClient.CloseIdleConnections)
	e.app = e.serve(a)
	return e
}

// serve starts an app on a: another instance when a shares e's Store.
func (e *tkEnv) serve(a *Auth) *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle(a.BasePath()+"/", a.Handler())
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "home")
	})
	mux.HandleFunc("GET /token", func(w http.ResponseWriter, r *http.Request) {
		info, ok := a.AccessToken(r)
		var exp int64
		if !info.Expires.IsZero() {
			exp = info.Expires.Unix()
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"ok": ok, "hash": tokenHashOf(info.Token.Reveal()), "expires": exp,
			"scopes": strings.Join(info.Scopes, " "), "provider": info.Provider,
		})
	})
	ok := func(body string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) })
	}
	mux.Handle("GET /profile", a.Require(ok("profile page")))
	mux.Handle("GET /reports", a.RequireScopes("read:reports")(ok("reports page")))
	mux.Handle("GET /admin", a.RequireScopes("admin", "read:reports", "write:reports")(ok("admin page")))
	srv := httptest.NewServer(a.Middleware(mux))
	e.t.Cleanup(srv.Close)
	return srv
}

func (e *tkEnv) refreshJWTCalls() []JWTParams {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []JWTParams
	for _, p := range e.jwtCalls {
		if p.Trigger == TriggerRefresh {
			out = append(out, p)
		}
	}
	return out
}

func (e *tkEnv) refreshEvents() []RefreshEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]RefreshEvent(nil), e.events...)
}

// tkBrowser keeps cookies and does not follow redirects.
type tkBrowser struct {
	e   *tkEnv
	jar *cookiejar.Jar
	c   *http.Client
}

func (e *tkEnv) browser() *tkBrowser {
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{}
	e.t.Cleanup(tr.CloseIdleConnections)
	return &tkBrowser{e: e, jar: jar, c: &http.Client{
		Jar: jar, Transport: tr, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type tkResponse struct {
	status int
	header http.Header
	body   string
}

// sessionSet reports whether the response set the session cookie.
func (r tkResponse) sessionSet() bool {
	for _, v := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(v, "signet.session-token") {
			return true
		}
	}
	return false
}

func (b *tkBrowser) get(path string, header ...string) tkResponse {
	b.e.t.Helper()
	u := path
	if strings.HasPrefix(path, "/") {
		u = b.e.app.URL + path
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return tkResponse{status: res.StatusCode, header: res.Header, body: string(body)}
}

// signIn runs the authorization code flow with the fake IdP.
func (b *tkBrowser) signIn() {
	b.e.t.Helper()
	r := b.get("/api/auth/signin/oidc")
	for i := 0; i < 5 && (r.status == http.StatusFound || r.status == http.StatusSeeOther); i++ {
		loc := r.header.Get("Location")
		if strings.Contains(loc, "/api/auth/error") {
			b.e.t.Fatalf("sign-in failed: %s; log:\n%s", loc, b.e.logs.String())
		}
		r = b.get(loc)
	}
	if r.body != "home" {
		b.e.t.Fatalf("sign-in ended on %d %q; log:\n%s", r.status, r.body, b.e.logs.String())
	}
}

// session reads GET /api/auth/session.
func (b *tkBrowser) session() (map[string]any, tkResponse) {
	b.e.t.Helper()
	r := b.get("/api/auth/session")
	var s map[string]any
	if err := json.Unmarshal([]byte(r.body), &s); err != nil {
		b.e.t.Fatalf("session %q: %v", r.body, err)
	}
	return s, r
}

type tkToken struct {
	OK       bool   `json:"ok"`
	Hash     string `json:"hash"`
	Expires  int64  `json:"expires"`
	Scopes   string `json:"scopes"`
	Provider string `json:"provider"`
}

// token reads the app's /token page.
func (b *tkBrowser) token() (tkToken, tkResponse) {
	b.e.t.Helper()
	r := b.get("/token")
	var tok tkToken
	if err := json.Unmarshal([]byte(r.body), &tok); err != nil {
		b.e.t.Fatalf("/token %q: %v", r.body, err)
	}
	return tok, r
}

// sessionCookies are the browser's session cookies, as a Cookie header.
func (b *tkBrowser) sessionCookies() string {
	u, _ := url.Parse(b.e.app.URL)
	var parts []string
	for _, c := range b.jar.Cookies(u) {
		if strings.HasPrefix(c.Name, "signet.session-token") {
			parts = append(parts, c.Name+"="+c.Value)
		}
	}
	if len(parts) == 0 {
		b.e.t.Fatal("no session cookie")
	}
	return strings.Join(parts, "; ")
}

// getWithCookie GETs path with exactly the Cookie header cookie.
func (e *tkEnv) getWithCookie(path, cookie string) (tkResponse, error) {
	return getWithCookie(e.app.URL+path, cookie)
}

func getWithCookie(url, cookie string) (tkResponse, error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Cookie", cookie)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return tkResponse{}, err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return tkResponse{status: res.StatusCode, header: res.Header, body: string(body)}, nil
}

func TestRefreshWhenDue(t *testing.T) {
	e := newTokenEnv(t)
	b := e.browser()
	b.signIn()
	first, _ := b.token()
	if !first.OK || first.Hash != tokenHashOf(e.idp.LastAccessToken()) {
		t.Fatalf("after sign-in AccessToken = %+v, want the issued token", first)
	}
	if got, want := first.Expires, e.clock.Now().Add(5*time.Minute).Unix(); got != want {
		t.Errorf("expires = %d, want %d (5 minutes on the app's clock)", got, want)
	}

	// Not due: 5-minute tokens, 60 s skew.
	e.clock.Advance(4*time.Minute - time.Second)
	if tok, r := b.token(); tok.Hash != first.Hash || r.sessionSet() {
		t.Errorf("refreshed or re-issued before the skew window (set-cookie %v)", r.sessionSet())
	}
	if n := e.idp.Refreshes(); n != 0 {
		t.Fatalf("refresh calls before due = %d, want 0", n)
	}

	// Due: within 60 s of expiry.
	e.clock.Advance(time.Second)
	s, r := b.session()
	if n := e.idp.Refreshes(); n != 1 {
		t.Fatalf("refresh calls = %d, want 1", n)
	}
	if !r.sessionSet() {
		t.Error("refreshed session not re-saved (no Set-Cookie)")
	}
	if s["error"] != nil {
		t.Errorf("session error = %v after a good refresh", s["error"])
	}
	second, _ := b.token()
	if second.Hash == first.Hash || second.Hash != tokenHashOf(e.idp.LastAccessToken()) {
		t.Errorf("access token after refresh = %s, want the new one", second.Hash)
	}
	if got, want := second.Expires, e.clock.Now().Add(5*time.Minute).Unix(); got != want {
		t.Errorf("expires after refresh = %d, want %d", got, want)
	}
	if n := e.idp.Refreshes(); n != 1 {
		t.Errorf("refresh calls after reading the refreshed session = %d, want 1", n)
	}

	calls := e.refreshJWTCalls()
	if len(calls) != 1 {
		t.Fatalf("JWT callback ran %d times with trigger refresh, want 1", len(calls))
	}
	acc := calls[0].Account
	if acc == nil || acc.Provider != "oidc" || acc.ProviderAccountID != "user-ada" ||
		tokenHashOf(acc.AccessToken.Reveal()) != second.Hash || acc.RefreshToken == "" || acc.IDToken == "" {
		t.Errorf("JWT callback Account = %+v", acc)
	}
	if calls[0].Profile.String("sub") != "user-ada" {
		t.Errorf("JWT callback Profile = %v, want the refreshed ID token's claims", calls[0].Profile)
	}
	if calls[0].Token.String("sub") != "user-ada" {
		t.Errorf("JWT callback Token = %v, want the stored token", calls[0].Token)
	}
	if ev := e.refreshEvents(); len(ev) != 1 || ev[0].Err != nil || !ev[0].Rotated || ev[0].Subject != "user-ada" {
		t.Errorf("refresh events = %+v", ev)
	}

	// Rotation stored: the next refresh uses the new refresh token (the old
	// one is dead at the IdP) and succeeds.
	e.clock.Advance(4*time.Minute + time.Second)
	third, _ := b.token()
	if n := e.idp.Refreshes(); n != 2 {
		t.Fatalf("refresh calls = %d, want 2", n)
	}
	if !third.OK || third.Hash == second.Hash {
		t.Errorf("second refresh: %+v (log:\n%s)", third, e.logs.String())
	}
	if s, _ := b.session(); s["error"] != nil {
		t.Errorf("session error = %v after the second refresh", s["error"])
	}
	if strings.Contains(e.logs.String(), e.idp.LastAccessToken()) {
		t.Error("the access token is in the log")
	}
}

func TestRefreshWithoutRotationKeepsRefreshToken(t *testing.T) {
	e := newTokenEnv(t)
	e.idp.SetTokens(func(tk *authtest.Tokens) { tk.RotateRefreshTokens = false })
	b := e.browser()
	b.signIn()
	for i := 1; i <= 3; i++ {
		e.clock.Advance(5 * time.Minute)
		tok, _ := b.token()
		if !tok.OK || e.idp.Refreshes() != i {
			t.Fatalf("refresh %d: token %+v, calls %d; log:\n%s", i, tok, e.idp.Refreshes(), e.logs.String())
		}
	}
	if ev := e.refreshEvents(); len(ev) != 3 || ev[0].Rotated {
		t.Errorf("events = %+v, want 3 without rotation", ev)
	}
}

func TestRefreshSkew(t *testing.T) {
	tests := []struct {
		name      string
		ttl, skew time.Duration
		// notDue is the latest moment after sign-in with no refresh; a
		// second later the token is due.
		notDue time.Duration
	}{
		{"default 60s", 10 * time.Minute, 0, 9*time.Minute - time.Second},
		{"capped at a quarter of a 20s lifetime", 20 * time.Second, 0, 14 * time.Second},
		{"configured 10s", 10 * time.Minute, 10 * time.Second, 9*time.Minute + 49*time.Second},
		{"configured, capped", 40 * time.Second, 30 * time.Second, 29 * time.Second},
		{"negative: at expiry only", time.Minute, -1, time.Minute - time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTokenEnv(t, func(c *Config) { c.RefreshSkew = tt.skew })
			e.idp.SetTokens(func(tk *authtest.Tokens) { tk.AccessTokenTTL = tt.ttl })
			b := e.browser()
			b.signIn()
			b.token()
			e.clock.Advance(tt.notDue)
			b.token()
			if n := e.idp.Refreshes(); n != 0 {
				t.Fatalf("refreshed %v after sign-in (%d calls), want not yet", tt.notDue, n)
			}
			e.clock.Advance(time.Second)
			b.token()
			if n := e.idp.Refreshes(); n != 1 {
				t.Fatalf("refresh calls %v after sign-in = %d, want 1", tt.notDue+time.Second, n)
			}
			// Right after a refresh the new token is not due again.
			b.token()
			b.token()
			if n := e.idp.Refreshes(); n != 1 {
				t.Errorf("refresh calls right after the refresh = %d, want 1", n)
			}
		})
	}
}

// wantRefreshTokenError checks the state of a session whose refresh failed
// for good: the error in the session, no access token, no scopes, Require
// and RequireScopes treat it as signed out.
func wantRefreshTokenError(t *testing.T, b *tkBrowser) {
	t.Helper()
	s, _ := b.session()
	if s == nil || s["error"] != RefreshTokenError {
		t.Fatalf("session = %v, want error %q; log:\n%s", s, RefreshTokenError, b.e.logs.String())
	}
	if s["scopes"] != nil {
		t.Errorf("session scopes = %v after a failed refresh, want none", s["scopes"])
	}
	if tok, _ := b.token(); tok.OK {
		t.Errorf("AccessToken ok after a failed refresh: %+v", tok)
	}
	for _, path := range []string{"/profile", "/reports"} {
		r := b.get(path)
		if r.status != http.StatusFound || !strings.HasPrefix(r.header.Get("Location"), "/api/auth/signin?callbackUrl=") {
			t.Errorf("GET %s: %d %s, want a redirect to sign in", path, r.status, r.header.Get("Location"))
		}
		r = b.get(path, "HX-Request", "true")
		if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("HX-Redirect"), "/api/auth/signin") {
			t.Errorf("htmx GET %s: %d HX-Redirect %q, want 200 and HX-Redirect to sign in", path, r.status, r.header.Get("HX-Redirect"))
		}
	}
}

func TestRefreshFailsForGood(t *testing.T) {
	tests := []struct {
		name  string
		setup func(idp *authtest.IdP)
		log   string
	}{
		{"invalid_grant", func(idp *authtest.IdP) {
			idp.SetTokens(func(tk *authtest.Tokens) { tk.RefreshFailure = authtest.InvalidGrant })
		}, `invalid_grant`},
		{"refresh token unknown", (*authtest.IdP).ForgetRefreshTokens, `invalid_grant`},
		{"id token of another sub", func(idp *authtest.IdP) {
			idp.SetClaims(func(c map[string]any) { c["sub"] = "user-mallory" })
		}, "another subject"},
		{"id token of another issuer", func(idp *authtest.IdP) {
			idp.SetClaims(func(c map[string]any) { c["iss"] = "https://evil.example" })
		}, "verify refreshed id token"},
		{"id token for another client", func(idp *authtest.IdP) {
			idp.SetClaims(func(c map[string]any) { c["aud"] = "someone-else" })
		}, "verify refreshed id token"},
		{"id token expired", func(idp *authtest.IdP) {
			idp.SetClaims(func(c map[string]any) { c["exp"] = idp.Now().Add(-time.Hour).Unix() })
		}, "verify refreshed id token"},
		{"id token with another nonce", func(idp *authtest.IdP) {
			idp.SetClaims(func(c map[string]any) { c["nonce"] = "not-the-original" })
		}, "nonce"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTokenEnv(t)
			b := e.browser()
			b.signIn()
			tt.setup(e.idp)
			e.clock.Advance(5 * time.Minute)
			_, r := b.session()
			if !r.sessionSet() {
				t.Error("failed session not saved")
			}
			if n := e.idp.Refreshes(); n != 1 {
				t.Fatalf("refresh calls = %d, want 1", n)
			}
			wantRefreshTokenError(t, b)
			if logs := e.logs.String(); !strings.Contains(logs, "refresh failed") || !strings.Contains(logs, tt.log) {
				t.Errorf("log lacks the failure %q:\n%s", tt.log, logs)
			}
			if ev := e.refreshEvents(); len(ev) != 1 || ev[0].Err == nil || !ev[0].Permanent {
				t.Errorf("events = %+v, want one permanent failure", ev)
			}

			// No loop: later requests do not call the IdP again.
			for i := 0; i < 3; i++ {
				e.clock.Advance(10 * time.Minute)
				b.session()
				b.get("/profile")
			}
			if n := e.idp.Refreshes(); n != 1 {
				t.Errorf("refresh calls after the failure = %d, want still 1", n)
			}

			// Signing in again replaces the session.
			e.idp.SetTokens(func(tk *authtest.Tokens) { tk.RefreshFailure = authtest.OK })
			e.idp.SetClaims(nil)
			b.signIn()
			s, _ := b.session()
			if s["error"] != nil {
				t.Errorf("session after signing in again has error %v", s["error"])
			}
			if r := b.get("/profile"); r.status != http.StatusOK {
				t.Errorf("GET /profile after signing in again: %d", r.status)
			}
		})
	}
}

func TestRefreshIdPDown(t *testing.T) {
	for _, failure := range []authtest.Failure{authtest.Status500, authtest.Down} {
		t.Run(map[authtest.Failure]string{authtest.Status500: "500", authtest.Down: "down"}[failure], func(t *testing.T) {
			e := newTokenEnv(t)
			b := e.browser()
			b.signIn()
			before, _ := b.token()
			e.idp.SetTokens(func(tk *authtest.Tokens) { tk.RefreshFailure = failure })

			// Due, but the access token still works: keep the session.
			e.clock.Advance(4*time.Minute + 30*time.Second)
			s, r := b.session()
			if s["error"] != nil || r.sessionSet() {
				t.Fatalf("IdP down, token valid: session %v, set-cookie %v; want it kept as it was", s, r.sessionSet())
			}
			if tok, _ := b.token(); !tok.OK || tok.Hash != before.Hash {
				t.Errorf("AccessToken = %+v, want the old, still valid token", tok)
			}
			if r := b.get("/profile"); r.status != http.StatusOK {
				t.Errorf("GET /profile: %d, want 200", r.status)
			}
			calls := e.idp.Refreshes()
			if calls != 1 {
				t.Errorf("refresh calls = %d, want 1 (then a pause before the next try)", calls)
			}
			if ev := e.refreshEvents(); len(ev) != 1 || ev[0].Permanent {
				t.Errorf("events = %+v, want one passing failure", ev)
			}

			// Back up: a later request refreshes.
			e.idp.SetTokens(func(tk *authtest.Tokens) { tk.RefreshFailure = authtest.OK })
			e.clock.Advance(refreshRetryAfter)
			after, r := b.token()
			if !after.OK || after.Hash == before.Hash || !r.sessionSet() {
				t.Errorf("after the IdP came back: %+v set-cookie %v, want a new token", after, r.sessionSet())
			}
			if n := e.idp.Refreshes(); n != calls+1 {
				t.Errorf("refresh calls = %d, want %d", n, calls+1)
			}

			// Down again, and now the token expires: the session can no
			// longer be kept fresh.
			e.idp.SetTokens(func(tk *authtest.Tokens) { tk.RefreshFailure = failure })
			e.clock.Advance(5 * time.Minute)
			wantRefreshTokenError(t, b)
		})
	}
}

// TestRefreshSingleFlight: 50 concurrent requests of one session make one
// refresh call; a request that comes later with the old cookie, inside the
// grace period, gets the new tokens without a call; one after the grace
// period replays the rotated refresh token and fails.
func TestRefreshSingleFlight(t *testing.T) {
	for _, strategy := range []string{"cookie", "server"} {
		t.Run(strategy, func(t *testing.T) {
			e := newTokenEnv(t, func(c *Config) {
				if strategy == "server" {
					c.Session.Strategy, c.Store = StrategyServer, newMemoryStore(c.Now)
				}
			})
			b := e.browser()
			b.signIn()
			oldCookie := b.sessionCookies()
			e.idp.SetTokens(func(tk *authtest.Tokens) { tk.RefreshDelay = 150 * time.Millisecond })
			e.clock.Advance(5 * time.Minute)

			const n = 50
			var wg sync.WaitGroup
			results := make([]tkToken, n)
			errs := make([]error, n)
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					r, err := e.getWithCookie("/token", oldCookie)
					if err == nil {
						err = json.Unmarshal([]byte(r.body), &results[i])
					}
					errs[i] = err
				}()
			}
			close(start)
			wg.Wait()
			calls := e.idp.Refreshes()
			t.Logf("%d concurrent requests of one session: %d refresh call(s) to the IdP", n, calls)
			if calls != 1 {
				t.Fatalf("refresh calls = %d, want 1", calls)
			}
			want := tokenHashOf(e.idp.LastAccessToken())
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("request %d: %v", i, errs[i])
				}
				if !results[i].OK || results[i].Hash != want {
					t.Errorf("request %d got %+v, want the new token %s", i, results[i], want)
				}
			}

			// A late request with the old cookie, inside the grace period.
			e.clock.Advance(refreshGrace - time.Second)
			r, err := e.getWithCookie("/token", oldCookie)
			if err != nil {
				t.Fatal(err)
			}
			var late tkToken
			_ = json.Unmarshal([]byte(r.body), &late)
			if !late.OK || late.Hash != want {
				t.Errorf("late request: %+v, want the new token", late)
			}
			if calls := e.idp.Refreshes(); calls != 1 {
				t.Errorf("refresh calls after the late request = %d, want still 1", calls)
			}
			if ev := e.refreshEvents(); len(ev) != 1 {
				t.Errorf("refresh events = %d, want 1", len(ev))
			}

			if strategy == "cookie" {
				// After the grace period the old cookie replays a rotated
				// refresh token: the IdP refuses it.
				e.clock.Advance(2 * time.Second)
				r, err = e.getWithCookie("/api/auth/session", oldCookie)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(r.body, RefreshTokenError) || e.idp.Refreshes() != 2 {
					t.Errorf("old cookie after the grace period: %s (calls %d)", r.body, e.idp.Refreshes())
				}
			}
		})
	}
}

// TestRefreshAcrossInstances: two instances sharing one store, 30
// concurrent requests of one session split over both, past the access
// token's expiry, against an IdP that rotates refresh tokens: exactly one
// refresh grant, and every request gets the new token. A lock whose holder
// died is taken over once it expires.
func TestRefreshAcrossInstances(t *testing.T) {
	for _, strategy := range []Strategy{StrategyCookie, StrategyServer} {
		t.Run(string(strategy), func(t *testing.T) {
			e := newTokenEnv(t, func(c *Config) {
				c.Session.Strategy, c.Store = strategy, newMemoryStore(c.Now)
			})
			other, err := New(e.cfg)
			if err != nil {
				t.Fatal(err)
			}
			apps := []*httptest.Server{e.app, e.serve(other)}
			b := e.browser()
			b.signIn()
			cookie := b.sessionCookies()
			e.idp.SetTokens(func(tk *authtest.Tokens) { tk.RefreshDelay = 100 * time.Millisecond })
			e.clock.Advance(5 * time.Minute)

			const n = 30
			var wg sync.WaitGroup
			results := make([]tkToken, n)
			errs := make([]error, n)
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					r, err := getWithCookie(apps[i%2].URL+"/token", cookie)
					if err == nil {
						err = json.Unmarshal([]byte(r.body), &results[i])
					}
					errs[i] = err
				})
			}
			close(start)
			wg.Wait()
			if calls := e.idp.Refreshes(); calls != 1 {
				t.Fatalf("refresh grants = %d over two instances, want 1", calls)
			}
			want := tokenHashOf(e.idp.LastAccessToken())
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("request %d: %v", i, errs[i])
				}
				if !results[i].OK || results[i].Hash != want {
					t.Errorf("request %d (instance %d) got %+v, want the new token", i, i%2, results[i])
				}
			}
		})
	}
	t.Run("a dead holder's lock is taken over", func(t *testing.T) {
		var shared *memoryStore
		e := newTokenEnv(t, func(c *Config) {
			shared = newMemoryStore(c.Now)
			c.Store = shared
		})
		b := e.browser()
		b.signIn()
		e.clock.Advance(5 * time.Minute)
		// An instance took the lock and died.
		rec, _, err := e.auth.sessions.load(requestWithCookie(b.sessionCookies()), e.auth.jars[0])
		if err != nil {
			t.Fatal(err)
		}
		key := tokenKey("refresh", rec.Provider, rec.RefreshToken)
		if ok, err := shared.Add(t.Context(), keyLock+key, []byte("dead"), e.clock.Now().Add(refreshLockTTL)); err != nil || !ok {
			t.Fatalf("placing the lock: %v, %v", ok, err)
		}
		done := make(chan tkToken, 1)
		go func() {
			tok, _ := b.token()
			done <- tok
		}()
		// The waiter polls the lock; once it expires, it takes it over.
		for e.idp.Refreshes() == 0 {
			e.clock.Advance(time.Second)
			time.Sleep(5 * time.Millisecond)
		}
		tok := <-done
		if !tok.OK || tok.Hash != tokenHashOf(e.idp.LastAccessToken()) || e.idp.Refreshes() != 1 {
			t.Errorf("after the takeover: %+v, refresh grants %d", tok, e.idp.Refreshes())
		}
	})
}

func requestWithCookie(cookie string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Cookie", cookie)
	return r
}

// TestRefreshWaiterGivesUp: a request that stops waiting for a refresh in
// flight leaves the session alone and the refresh finishes for the others.
func TestRefreshWaiterGivesUp(t *testing.T) {
	e := newTokenEnv(t)
	b := e.browser()
	b.signIn()
	cookie := b.sessionCookies()
	e.idp.SetTokens(func(tk *authtest.Tokens) { tk.RefreshDelay = 300 * time.Millisecond })
	e.clock.Advance(5 * time.Minute)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/token", nil)
	req.Header.Set("Cookie", cookie)
	w := httptest.NewRecorder()
	e.app.Config.Handler.ServeHTTP(w, req)
	if strings.Contains(w.Header().Get("Set-Cookie"), "signet.session-token") {
		t.Error("a request that gave up waiting re-saved the session")
	}
	// The refresh went on; its result serves the next request.
	time.Sleep(400 * time.Millisecond)
	tok, _ := b.token()
	if !tok.OK || tok.Hash != tokenHashOf(e.idp.LastAccessToken()) || e.idp.Refreshes() != 1 {
		t.Errorf("after the flight: %+v, calls %d", tok, e.idp.Refreshes())
	}
}

func TestRefreshWithoutIDTokenOrExpiresIn(t *testing.T) {
	e := newTokenEnv(t)
	b := e.browser()
	b.signIn()
	e.idp.SetTokens(func(tk *authtest.Tokens) { tk.NoRefreshIDToken = true })
	e.clock.Advance(5 * time.Minute)
	if tok, _ := b.token(); !tok.OK || e.idp.Refreshes() != 1 {
		t.Fatalf("refresh without id_token: %+v; log:\n%s", tok, e.logs.String())
	}
	if calls := e.refreshJWTCalls(); len(calls) != 1 || calls[0].Profile != nil || calls[0].Account.IDToken == "" {
		t.Errorf("JWT callback without a new ID token: %+v, want no Profile and the old ID token kept", calls)
	}

	// No expires_in: the expiry comes from introspection's exp.
	e.idp.SetTokens(func(tk *authtest.Tokens) { tk.OmitExpiresIn = true })
	e.clock.Advance(5 * time.Minute)
	tok, _ := b.token()
	if got, want := tok.Expires, e.clock.Now().Add(5*time.Minute).Unix(); !tok.OK || got != want {
		t.Errorf("expiry without expires_in = %d, want %d from introspection", got, want)
	}
}

func TestRefreshJWTCallbackSignsOut(t *testing.T) {
	e := newTokenEnv(t, func(c *Config) {
		c.Callbacks.JWT = func(_ context.Context, p JWTParams) (Token, error) {
			if p.Trigger == TriggerRefresh {
				return nil, nil
			}
			return p.Token, nil
		}
	})
	b := e.browser()
	b.signIn()
	e.clock.Advance(5 * time.Minute)
	if s, _ := b.session(); s != nil {
		t.Errorf("session = %v, want null after the JWT callback returned no token", s)
	}
}

// TestRefreshDue: only a session with a refresh token, a known expiry and
// no failed refresh is refreshed; one without a refresh token keeps going
// after its access token expired (AccessToken then says no).
func TestRefreshDue(t *testing.T) {
	a := &Auth{}
	now := time.Unix(1_700_000_000, 0)
	expired := now.Add(-time.Second)
	tests := []struct {
		name string
		rec  Record
		want bool
	}{
		{"expired", Record{RefreshToken: "rt", AccessTokenExpires: expired}, true},
		{"no refresh token", Record{AccessTokenExpires: expired}, false},
		{"failed before", Record{RefreshToken: "rt", AccessTokenExpires: expired, Error: RefreshTokenError}, false},
		{"expiry unknown", Record{RefreshToken: "rt"}, false},
		{"fresh", Record{RefreshToken: "rt", AccessTokenExpires: now.Add(time.Hour)}, false},
		{"within 60s", Record{RefreshToken: "rt", AccessTokenExpires: now.Add(time.Minute)}, true},
		{"lifetime unknown: 60s", Record{RefreshToken: "rt", AccessTokenExpires: now.Add(61 * time.Second)}, false},
		{"4s lifetime: 1s skew", Record{RefreshToken: "rt", AccessTokenIssued: now.Add(-2 * time.Second), AccessTokenExpires: now.Add(2 * time.Second)}, false},
		{"4s lifetime, 1s left", Record{RefreshToken: "rt", AccessTokenIssued: now.Add(-3 * time.Second), AccessTokenExpires: now.Add(time.Second)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := a.refreshDue(&tt.rec, now); got != tt.want {
				t.Errorf("refreshDue = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRecordKeepsAccessTokenIssued(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	in := &Record{Provider: "oidc", Expires: now.Add(time.Hour), AccessTokenIssued: now, AccessTokenExpires: now.Add(time.Minute)}
	b, err := encodeRecord(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := decodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if !out.AccessTokenIssued.Equal(now) || !out.AccessTokenExpires.Equal(now.Add(time.Minute)) {
		t.Errorf("round trip: issued %v expires %v", out.AccessTokenIssued, out.AccessTokenExpires)
	}
}

// tokenHashOf is how the test app shows an access token without showing it.
func tokenHashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}
