package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/authtest"
)

func TestSignInFlow(t *testing.T) {
	e := newEnv(t)
	b := e.browser()

	if got := b.get("/api/auth/session").body; got != "null" {
		t.Fatalf("session before sign-in = %q, want null", got)
	}

	start := b.startSignIn("oidc", "/profile")
	if got, want := start.status, http.StatusSeeOther; got != want {
		t.Fatalf("POST signin: status %d, want %d", got, want)
	}
	authz := start.location(t)
	if got, want := authz.Scheme+"://"+authz.Host+authz.Path, e.idp.Endpoint(authtest.Authorize); got != want {
		t.Errorf("sign-in goes to %s, want %s", got, want)
	}
	q := authz.Query()
	for k, want := range map[string]string{
		"response_type":         "code",
		"client_id":             e.idp.ClientID,
		"redirect_uri":          e.app.URL + "/api/auth/callback/oidc",
		"scope":                 "openid profile email",
		"code_challenge_method": "S256",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("authorize %s = %q, want %q", k, got, want)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(k)) < 43 {
			t.Errorf("authorize %s = %q, want 32+ random bytes", k, q.Get(k))
		}
	}
	for _, name := range []string{"signet.state", "signet.nonce", "signet.pkce.code_verifier", "signet.callback-url"} {
		v := b.cookie(name)
		if v == "" {
			t.Errorf("no %s cookie after sign-in start", name)
		}
		for _, secret := range []string{q.Get("state"), q.Get("nonce"), "/profile"} {
			if strings.Contains(v, secret) {
				t.Errorf("%s cookie holds %q in clear", name, secret)
			}
		}
	}

	cb := b.callback(b.toIdP(start))
	if got, want := cb.status, http.StatusFound; got != want {
		t.Fatalf("callback: status %d, want %d; log:\n%s", got, want, e.logs.String())
	}
	if got, want := cb.header.Get("Location"), e.app.URL+"/profile"; got != want {
		t.Errorf("callback redirects to %q, want %q", got, want)
	}
	for _, name := range []string{"signet.state", "signet.nonce", "signet.pkce.code_verifier", "signet.callback-url"} {
		if v := b.cookie(name); v != "" {
			t.Errorf("flow cookie %s survived the callback", name)
		}
	}

	s := b.session()
	user, _ := s["user"].(map[string]any)
	for k, want := range map[string]string{
		"name":        "Ada Lovelace",
		"email":       "ada@example.com",
		"given_name":  "Ada",
		"family_name": "Lovelace",
	} {
		if got, _ := user[k].(string); got != want {
			t.Errorf("session user.%s = %q, want %q", k, got, want)
		}
	}
	exp, _ := s["expires"].(string)
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(exp) {
		t.Errorf("expires = %q, want Auth.js's ISO 8601 form", exp)
	}
	if got, want := exp, e.clock.Now().Add(DefaultMaxAge).UTC().Format("2006-01-02T15:04:05.000Z"); got != want {
		t.Errorf("expires = %q, want %q (now + 30 days)", got, want)
	}
	for k := range s {
		if k != "user" && k != "expires" && k != "scopes" {
			t.Errorf("session has unexpected field %q", k)
		}
	}
	raw := b.get("/api/auth/session")
	if got := raw.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("session Cache-Control = %q, want no-store", got)
	}
	login, _ := e.idp.LastLogin()
	for _, secret := range []string{login.IDToken, login.AccessToken, login.RefreshToken} {
		if strings.Contains(raw.body, secret) {
			t.Errorf("session JSON carries a token: %s", raw.body)
		}
	}

	if got, want := b.get("/").body, "Welcome, Ada Lovelace"; got != want {
		t.Errorf("home = %q, want %q", got, want)
	}
	if got, want := b.get("/profile").body, "profile of Ada Lovelace <ada@example.com>"; got != want {
		t.Errorf("profile = %q, want %q", got, want)
	}
}

func TestSignInCallbacksReceiveAccountAndProfile(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	login, _ := e.idp.LastLogin()

	e.mu.Lock()
	defer e.mu.Unlock()
	if got, want := len(e.jwtCalls), 1; got != want {
		t.Fatalf("JWT callback called %d times, want %d", got, want)
	}
	p := e.jwtCalls[0]
	if got, want := p.Trigger, TriggerSignIn; got != want {
		t.Errorf("Trigger = %q, want %q", got, want)
	}
	if p.Account == nil {
		t.Fatal("Account is nil on sign-in")
	}
	if got, want := p.Account.Provider, "oidc"; got != want {
		t.Errorf("Account.Provider = %q, want %q", got, want)
	}
	if got, want := p.Account.ProviderAccountID, "user-ada"; got != want {
		t.Errorf("Account.ProviderAccountID = %q, want %q", got, want)
	}
	if got, want := p.Account.IDToken.Reveal(), login.IDToken; got != want {
		t.Errorf("Account.IDToken is not the ID token the IdP issued")
	}
	if got, want := p.Account.AccessToken.Reveal(), login.AccessToken; got != want {
		t.Errorf("Account.AccessToken = %q, want %q", got, want)
	}
	if got, want := p.Account.RefreshToken.Reveal(), login.RefreshToken; got != want {
		t.Errorf("Account.RefreshToken = %q, want %q", got, want)
	}
	if got, want := p.Account.Scope, "openid profile email"; got != want {
		t.Errorf("Account.Scope = %q, want %q", got, want)
	}
	if p.Account.ExpiresAt.IsZero() {
		t.Error("Account.ExpiresAt is zero")
	}
	for k, want := range map[string]string{"given_name": "Ada", "family_name": "Lovelace", "sub": "user-ada", "sid": login.SID} {
		if got := p.Profile.String(k); got != want {
			t.Errorf("Profile[%q] = %q, want %q", k, got, want)
		}
	}
	for k, want := range map[string]string{"sub": "user-ada", "name": "Ada Lovelace", "email": "ada@example.com"} {
		if got := p.Token.String(k); got != want {
			t.Errorf("initial Token[%q] = %q, want %q", k, got, want)
		}
	}
	if got, want := len(e.signInArgs), 1; got != want {
		t.Fatalf("SignIn callback called %d times, want %d", got, want)
	}
}

func TestSignInAsgardeoUsernameBecomesEmail(t *testing.T) {
	e := newEnv(t,
		withPreset(Asgardeo),
		withIdP(authtest.Options{IssuerPath: "/t/acme/oauth2/token", User: map[string]any{
			"sub":         "8d2f1c",
			"username":    "ada@acme.example",
			"given_name":  "Ada",
			"family_name": "Lovelace",
		}}))
	b := e.browser()
	b.signInWith("asgardeo", "/")

	user, _ := b.session()["user"].(map[string]any)
	for k, want := range map[string]string{
		"email":       "ada@acme.example",
		"username":    "ada@acme.example",
		"given_name":  "Ada",
		"family_name": "Lovelace",
	} {
		if got, _ := user[k].(string); got != want {
			t.Errorf("session user.%s = %q, want %q", k, got, want)
		}
	}
	if got, want := b.get("/").body, "Welcome, Ada Lovelace"; got != want {
		t.Errorf("home = %q, want %q", got, want)
	}
}

func TestSessionNullWhenSignedOut(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	r := b.get("/api/auth/session")
	if got, want := r.body, "null"; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
	if got, want := r.header.Get("Content-Type"), "application/json; charset=utf-8"; got != want {
		t.Errorf("Content-Type = %q, want %q", got, want)
	}
	if got, want := b.get("/").body, "Sign in"; got != want {
		t.Errorf("home = %q, want %q", got, want)
	}
}

func TestSignInReturnRedirectJSON(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	form := url.Values{"csrfToken": {b.csrf()}, "callbackUrl": {"/profile"}}
	r := b.post("/api/auth/signin/oidc", form, "X-Auth-Return-Redirect", "1")
	if got, want := r.status, http.StatusOK; got != want {
		t.Fatalf("status %d, want %d", got, want)
	}
	var v struct {
		URL string `json:"url"`
	}
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	if !strings.HasPrefix(v.URL, e.idp.Endpoint(authtest.Authorize)+"?") {
		t.Errorf("url = %q, want the authorize endpoint", v.URL)
	}
}

func TestSignInGETAndAuthorizeParams(t *testing.T) {
	e := newEnv(t, withProvider(func(p *Provider) {
		p.AuthParams = url.Values{"audience": {"api"}}
	}))
	b := e.browser()
	r := b.get("/api/auth/signin/oidc?callbackUrl=%2Fprofile&prompt=login&login_hint=ada&evil=1&redirect_uri=https://evil.example")
	if got, want := r.status, http.StatusFound; got != want {
		t.Fatalf("status %d, want %d", got, want)
	}
	q := r.location(t).Query()
	for k, want := range map[string]string{
		"prompt":       "login",
		"login_hint":   "ada",
		"audience":     "api",
		"evil":         "",
		"redirect_uri": e.app.URL + "/api/auth/callback/oidc",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("authorize %s = %q, want %q", k, got, want)
		}
	}
	cb := b.callback(b.toIdP(r))
	if got, want := cb.header.Get("Location"), e.app.URL+"/profile"; got != want {
		t.Errorf("lands on %q, want %q", got, want)
	}
}

// TestCallbackHostileBrowser covers the OWASP/login-CSRF cases: every one
// ends on the error page with its code, logs why, and signs nobody in.
func TestCallbackHostileBrowser(t *testing.T) {
	tests := []struct {
		name string
		// run returns the callback response to check.
		run    func(t *testing.T, e *env, b *browser) response
		code   ErrorCode
		logWhy string
	}{
		{
			name: "state altered",
			run: func(t *testing.T, e *env, b *browser) response {
				back := b.toIdP(b.startSignIn("oidc", ""))
				return b.callbackEdited(back, func(q url.Values) { q.Set("state", q.Get("state")+"x") })
			},
			code: CodeVerification, logWhy: "state parameter does not match",
		},
		{
			name: "state missing",
			run: func(t *testing.T, e *env, b *browser) response {
				back := b.toIdP(b.startSignIn("oidc", ""))
				return b.callbackEdited(back, func(q url.Values) { q.Del("state") })
			},
			code: CodeVerification, logWhy: "state parameter missing",
		},
		{
			name: "state cookie missing",
			run: func(t *testing.T, e *env, b *browser) response {
				back := b.toIdP(b.startSignIn("oidc", ""))
				b.setCookie("signet.state", "")
				return b.callback(back)
			},
			code: CodeVerification, logWhy: "state cookie missing",
		},
		{
			name: "state reused: the same callback replayed",
			run: func(t *testing.T, e *env, b *browser) response {
				back := b.toIdP(b.startSignIn("oidc", ""))
				if r := b.callback(back); r.status != http.StatusFound || strings.Contains(r.header.Get("Location"), "error") {
					t.Fatalf("first callback did not sign in: %d %s", r.status, r.header.Get("Location"))
				}
				// Sign out locally so that a success would show.
				b.setCookie("signet.session-token", "")
				return b.callback(back)
			},
			code: CodeVerification, logWhy: "state cookie missing",
		},
		{
			name: "code replayed with a fresh state",
			run: func(t *testing.T, e *env, b *browser) response {
				b.signIn()
				first, _ := e.idp.LastLogin()
				b.setCookie("signet.session-token", "")
				back := b.toIdP(b.startSignIn("oidc", ""))
				return b.callbackEdited(back, func(q url.Values) { q.Set("code", first.Code) })
			},
			code: CodeOAuthCallback, logWhy: "code already used",
		},
		{
			name: "callback carried into another browser",
			run: func(t *testing.T, e *env, b *browser) response {
				attacker := e.browser()
				back := attacker.toIdP(attacker.startSignIn("oidc", ""))
				return b.callback(back) // the victim follows the attacker's link
			},
			code: CodeVerification, logWhy: "state cookie missing",
		},
		{
			name: "PKCE verifier cookie absent",
			run: func(t *testing.T, e *env, b *browser) response {
				back := b.toIdP(b.startSignIn("oidc", ""))
				b.setCookie("signet.pkce.code_verifier", "")
				return b.callback(back)
			},
			code: CodeVerification, logWhy: "pkce cookie missing",
		},
		{
			name: "nonce cookie absent",
			run: func(t *testing.T, e *env, b *browser) response {
				back := b.toIdP(b.startSignIn("oidc", ""))
				b.setCookie("signet.nonce", "")
				return b.callback(back)
			},
			code: CodeVerification, logWhy: "nonce cookie missing",
		},
		{
			name: "state cookie swapped for the nonce cookie",
			run: func(t *testing.T, e *env, b *browser) response {
				back := b.toIdP(b.startSignIn("oidc", ""))
				b.setCookie("signet.state", b.cookie("signet.nonce"))
				return b.callback(back)
			},
			code: CodeVerification, logWhy: "state cookie invalid",
		},
		{
			name: "state cookie tampered",
			run: func(t *testing.T, e *env, b *browser) response {
				back := b.toIdP(b.startSignIn("oidc", ""))
				b.setCookie("signet.state", flipChar(b.cookie("signet.state"), 20))
				return b.callback(back)
			},
			code: CodeVerification, logWhy: "state cookie invalid",
		},
		{
			name: "no code",
			run: func(t *testing.T, e *env, b *browser) response {
				back := b.toIdP(b.startSignIn("oidc", ""))
				return b.callbackEdited(back, func(q url.Values) { q.Del("code") })
			},
			code: CodeOAuthCallback, logWhy: "callback without code",
		},
		{
			name: "code from another sign-in of the same browser",
			run: func(t *testing.T, e *env, b *browser) response {
				first := b.toIdP(b.startSignIn("oidc", ""))
				second := b.toIdP(b.startSignIn("oidc", ""))
				u := second.location(t)
				q := u.Query()
				q.Set("code", first.location(t).Query().Get("code"))
				u.RawQuery = q.Encode()
				return b.get(u.String())
			},
			code: CodeOAuthCallback, logWhy: "PKCE verification failed",
		},
		{
			name: "IdP says access_denied",
			run: func(t *testing.T, e *env, b *browser) response {
				e.idp.SetAuthorizeError("access_denied")
				return b.callback(b.toIdP(b.startSignIn("oidc", "")))
			},
			code: CodeAccessDenied, logWhy: "access_denied",
		},
		{
			name: "IdP says server_error",
			run: func(t *testing.T, e *env, b *browser) response {
				e.idp.SetAuthorizeError("server_error")
				return b.callback(b.toIdP(b.startSignIn("oidc", "")))
			},
			code: CodeOAuthCallback, logWhy: "server_error",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			b := e.browser()
			r := tt.run(t, e, b)
			b.wantErrorPage(t, r, tt.code)
			if tt.logWhy != "" {
				e.wantLog(t, "auth flow failed", "code="+string(tt.code), tt.logWhy)
			}
			if s := b.session(); s != nil {
				t.Errorf("signed in after %s: %v", tt.name, s)
			}
		})
	}
}

// TestCallbackProviderMixup: a callback for provider A carrying the state
// cookie made for provider B is refused.
func TestCallbackProviderMixup(t *testing.T) {
	e := newEnv(t, withConfig(func(c *Config) {
		other := authtest.New(t, authtest.Options{ClientID: "client-b"})
		c.Providers = append(c.Providers, NewProvider("other", "Other", other.Issuer, other.ClientID, other.ClientSecret))
	}))
	b := e.browser()
	// Start at provider "other", then deliver the IdP's answer to "oidc".
	start := b.startSignIn("other", "")
	authz := start.location(t)
	cb := e.app.URL + "/api/auth/callback/oidc?" + url.Values{
		"code":  {"whatever"},
		"state": {authz.Query().Get("state")},
	}.Encode()
	r := b.get(cb)
	b.wantErrorPage(t, r, CodeVerification)
	e.wantLog(t, `was made for provider \"other\", not \"oidc\"`)
}

func TestSignInCallbackRefusals(t *testing.T) {
	tests := []struct {
		name   string
		cb     func(c *Callbacks)
		code   ErrorCode
		logWhy string
	}{
		{"SignIn returns false", func(c *Callbacks) {
			c.SignIn = func(_ context.Context, p SignInParams) (bool, error) { return false, nil }
		}, CodeAccessDenied, "SignIn callback returned false"},
		{"SignIn fails", func(c *Callbacks) {
			c.SignIn = func(_ context.Context, p SignInParams) (bool, error) { return true, errTest }
		}, CodeAccessDenied, "test failure"},
		{"JWT returns nil", func(c *Callbacks) {
			c.JWT = func(_ context.Context, p JWTParams) (Token, error) { return nil, nil }
		}, CodeAccessDenied, "JWT callback returned no token"},
		{"JWT fails", func(c *Callbacks) {
			c.JWT = func(_ context.Context, p JWTParams) (Token, error) { return nil, errTest }
		}, CodeCallback, "JWT callback: test failure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, withConfig(func(c *Config) { tt.cb(&c.Callbacks) }))
			b := e.browser()
			r := b.callback(b.toIdP(b.startSignIn("oidc", "")))
			b.wantErrorPage(t, r, tt.code)
			e.wantLog(t, tt.logWhy)
			if s := b.session(); s != nil {
				t.Errorf("signed in: %v", s)
			}
		})
	}
}

// TestSlidingExpiry: a session in use is re-issued at most once per
// UpdateAge and ends MaxAge after its last re-issue.
func TestSlidingExpiry(t *testing.T) {
	for _, strategy := range []string{"cookie", "server"} {
		t.Run(strategy, func(t *testing.T) {
			const maxAge, updateAge = 30 * 24 * time.Hour, 24 * time.Hour
			// Access tokens without expiry: no refresh re-issues the
			// session, so only sliding expiry does.
			e := newEnv(t, withIdP(authtest.Options{Tokens: authtest.Tokens{AccessTokenTTL: -1}}), withConfig(func(c *Config) {
				if strategy == "server" {
					c.Session.Strategy, c.Store = StrategyServer, newMemoryStore(c.Now)
				}
			}))
			b := e.browser()
			b.signIn()
			signedIn := e.clock.Now()

			reissued := func() bool {
				t.Helper()
				r := b.get("/api/auth/session")
				if r.body == "null" {
					t.Fatalf("signed out at %v", e.clock.Now().Sub(signedIn))
				}
				return r.setCookie("signet.session-token") != nil
			}
			expires := func() string {
				t.Helper()
				s, _ := b.session()["expires"].(string)
				return s
			}
			if reissued() {
				t.Error("re-issued right after sign-in")
			}
			e.clock.Advance(updateAge - time.Minute)
			if reissued() {
				t.Error("re-issued before UpdateAge")
			}
			e.clock.Advance(2 * time.Minute)
			if !reissued() {
				t.Error("not re-issued after UpdateAge")
			}
			if got, want := expires(), e.clock.Now().Add(maxAge).UTC().Format("2006-01-02T15:04:05.000Z"); got != want {
				t.Errorf("expires = %s, want %s", got, want)
			}
			if reissued() {
				t.Error("re-issued twice within UpdateAge")
			}
			e.clock.Advance(time.Hour)
			if reissued() {
				t.Error("re-issued again within UpdateAge")
			}

			// Idle for longer than MaxAge: the session is over.
			e.clock.Advance(maxAge)
			r := b.get("/api/auth/session")
			if got, want := r.body, "null"; got != want {
				t.Fatalf("session after MaxAge idle = %q, want %q", got, want)
			}
			if c := r.setCookie("signet.session-token"); c == nil || c.MaxAge >= 0 {
				t.Errorf("expired session cookie not cleared: %v", c)
			}
			if strategy == "cookie" {
				e.wantLog(t, "session expired")
			} else {
				e.wantLog(t, "session not found") // the store dropped it first
			}
		})
	}
}

// TestSessionExpiresExactlyAtMaxAge: without use a session ends MaxAge
// after sign-in.
func TestSessionExpiresExactlyAtMaxAge(t *testing.T) {
	e := newEnv(t, withConfig(func(c *Config) {
		c.Session.MaxAge = time.Hour
		c.Session.UpdateAge = 2 * time.Hour
	}))
	b := e.browser()
	b.signIn()
	e.clock.Advance(time.Hour - time.Second)
	if b.session() == nil {
		t.Fatal("session ended before MaxAge")
	}
	e.clock.Advance(time.Second)
	if s := b.session(); s != nil {
		t.Fatalf("session alive at MaxAge: %v", s)
	}
}

// TestServerStore: the server strategy signs in and out like the cookie
// strategy; the cookie holds only a sealed id; sign-out deletes the stored
// session so a copied cookie is dead too.
func TestServerStore(t *testing.T) {
	var store *memoryStore
	e := newEnv(t, withConfig(func(c *Config) {
		store = newMemoryStore(c.Now)
		c.Session.Strategy, c.Store = StrategyServer, store
	}))
	b := e.browser()
	b.signIn()
	if got, want := storedSessions(store), 1; got != want {
		t.Fatalf("store holds %d sessions, want %d", got, want)
	}
	user, _ := b.session()["user"].(map[string]any)
	if got, want := user["given_name"], "Ada"; got != want {
		t.Errorf("given_name = %v, want %v", got, want)
	}
	cookie := b.cookie("signet.session-token")
	if cookie == "" {
		t.Fatal("no session cookie")
	}
	if len(cookie) > 200 {
		t.Errorf("server-strategy cookie is %d bytes; it should hold only an id", len(cookie))
	}
	login, _ := e.idp.LastLogin()
	if strings.Contains(cookie, login.IDToken) {
		t.Error("cookie holds the ID token")
	}

	copied := e.browser()
	copied.setCookie("signet.session-token", cookie)
	if copied.session() == nil {
		t.Fatal("a copy of the cookie does not work before sign-out")
	}

	form := url.Values{"csrfToken": {b.csrf()}}
	if r := b.post("/api/auth/signout", form); r.status != http.StatusSeeOther {
		t.Fatalf("signout: status %d", r.status)
	}
	if got, want := storedSessions(store), 0; got != want {
		t.Errorf("store holds %d sessions after sign-out, want %d", got, want)
	}
	if s := copied.session(); s != nil {
		t.Errorf("a copy of the cookie still works after sign-out: %v", s)
	}
}

func TestServerStoreUnknownIDClears(t *testing.T) {
	var store *memoryStore
	e := newEnv(t, withConfig(func(c *Config) {
		store = newMemoryStore(c.Now)
		c.Session.Strategy, c.Store = StrategyServer, store
	}))
	b := e.browser()
	b.signIn()
	// The store loses the session (an empty store, as after a restart of
	// an in-memory one).
	e.restart(func(c *Config) { c.Store = newMemoryStore(c.Now) })
	r := b.get("/api/auth/session")
	if r.body != "null" {
		t.Fatalf("session = %s, want null", r.body)
	}
	if c := r.setCookie("signet.session-token"); c == nil || c.MaxAge >= 0 {
		t.Errorf("cookie of a lost session not cleared: %v", c)
	}
}

func TestProvidersJSON(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	r := b.get("/api/auth/providers")
	var got map[string]ProviderInfo
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatalf("%q: %v", r.body, err)
	}
	want := ProviderInfo{
		ID: "oidc", Name: "OpenID Connect", Type: "oidc",
		SignInURL:   e.app.URL + "/api/auth/signin/oidc",
		CallbackURL: e.app.URL + "/api/auth/callback/oidc",
	}
	if got["oidc"] != want {
		t.Errorf("providers = %+v, want oidc: %+v", got, want)
	}
	for _, k := range []string{`"signinUrl"`, `"callbackUrl"`} {
		if !strings.Contains(r.body, k) {
			t.Errorf("providers JSON lacks %s: %s", k, r.body)
		}
	}
}

func TestSignInPage(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	r := b.get("/api/auth/signin?callbackUrl=%2Fprofile&error=OAuthCallbackError")
	if got, want := r.status, http.StatusOK; got != want {
		t.Fatalf("status %d, want %d", got, want)
	}
	token := b.cookie("signet.csrf-token")
	tok, _, _ := strings.Cut(token, "|")
	for _, want := range []string{
		`action="` + e.app.URL + `/api/auth/signin/oidc"`,
		`name="csrfToken" value="` + tok + `"`,
		`name="callbackUrl" value="/profile"`,
		`data-code="OAuthCallbackError"`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("sign-in page lacks %s:\n%s", want, r.body)
		}
	}
	// Authorization parameters of the page go on to the provider, others not.
	r = b.get("/api/auth/signin?callbackUrl=%2Freports&prompt=login&scope=admin")
	if want := `action="` + e.app.URL + `/api/auth/signin/oidc?prompt=login"`; !strings.Contains(r.body, want) {
		t.Errorf("sign-in page with prompt=login lacks %s:\n%s", want, r.body)
	}
	// An unknown error code is not echoed.
	r = b.get("/api/auth/signin?error=%3Cscript%3E")
	if strings.Contains(r.body, "<script>") || strings.Contains(r.body, "&lt;script") {
		t.Errorf("sign-in page echoes the error parameter:\n%s", r.body)
	}
}

func TestRoutes(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	tests := []struct {
		method, path string
		status       int
		allow        string // the Allow header of a 405
	}{
		{"GET", "/api/auth/nope", http.StatusNotFound, ""},
		{"GET", "/api/auth/signin/nope", http.StatusNotFound, ""},
		{"GET", "/api/auth/error?error=Verification", http.StatusForbidden, ""},
		{"GET", "/api/auth/error?error=AccessDenied", http.StatusForbidden, ""},
		{"GET", "/api/auth/error?error=Configuration", http.StatusInternalServerError, ""},
		{"GET", "/api/auth/error?error=whatever", http.StatusBadRequest, ""},
		{"GET", "/api/auth/signout", http.StatusOK, ""},
		{"GET", "/api/auth/csrf", http.StatusOK, ""},
		// A known route with another method: 405 and what is allowed.
		{"DELETE", "/api/auth/session", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"POST", "/api/auth/signin", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"PUT", "/api/auth/signout", http.StatusMethodNotAllowed, "GET, HEAD, POST"},
		{"GET", "/api/auth/backchannel-logout", http.StatusMethodNotAllowed, "POST"},
		{"POST", "/api/auth/frontchannel-logout", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"DELETE", "/api/auth/callback/oidc", http.StatusMethodNotAllowed, "GET, HEAD, POST"},
		{"DELETE", "/api/auth/nope", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, e.url(tt.path), nil)
			r := b.do(req)
			if got := r.status; got != tt.status {
				t.Errorf("status %d, want %d", got, tt.status)
			}
			if got := r.header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
			if strings.Contains(r.body, "goroutine ") || strings.Contains(r.body, ".go:") {
				t.Errorf("body shows internals: %s", r.body)
			}
		})
	}
}

// TestFlowCookiesExpire: the state, nonce and PKCE cookies last 15
// minutes on the configured clock: a callback after that is refused.
func TestFlowCookiesExpire(t *testing.T) {
	for _, tt := range []struct {
		wait time.Duration
		ok   bool
	}{
		{14 * time.Minute, true},
		{15*time.Minute + time.Second, false},
	} {
		t.Run(tt.wait.String(), func(t *testing.T) {
			e := newEnv(t)
			b := e.browser()
			back := b.toIdP(b.startSignIn("oidc", ""))
			e.clock.Advance(tt.wait)
			r := b.callback(back)
			if tt.ok {
				if l := r.header.Get("Location"); r.status != http.StatusFound || strings.Contains(l, "/api/auth/error") {
					t.Fatalf("callback after %v: %d %s; log:\n%s", tt.wait, r.status, l, e.logs.String())
				}
				return
			}
			b.wantErrorPage(t, r, CodeVerification)
			e.wantLog(t, "state cookie")
		})
	}
}

// TestServerStoreSignInReplacesOldSession: signing in over an existing
// session deletes the old stored session, so a copy of the old cookie no
// longer works (OWASP: invalidate the previous session id on login).
func TestServerStoreSignInReplacesOldSession(t *testing.T) {
	var store *memoryStore
	e := newEnv(t, withConfig(func(c *Config) {
		store = newMemoryStore(c.Now)
		c.Session.Strategy, c.Store = StrategyServer, store
	}))
	b := e.browser()
	b.signIn()
	old := b.cookie("signet.session-token")
	b.signIn()
	if got, want := storedSessions(store), 1; got != want {
		t.Errorf("store holds %d sessions after signing in twice, want %d", got, want)
	}
	stale := e.browser()
	stale.setCookie("signet.session-token", old)
	if s := stale.session(); s != nil {
		t.Errorf("a copy of the replaced session's cookie still works: %v", s)
	}
	if b.session() == nil {
		t.Error("the new session does not work")
	}
}
