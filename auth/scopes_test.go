package auth

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/authtest"
)

// sessionScopes returns session.scopes as one string.
func sessionScopes(t *testing.T, b *tkBrowser) string {
	t.Helper()
	s, _ := b.session()
	raw, _ := s["scopes"].([]any)
	var out []string
	for _, v := range raw {
		out = append(out, fmt.Sprint(v))
	}
	return strings.Join(out, " ")
}

func TestScopesFromIntrospection(t *testing.T) {
	e := newTokenEnv(t)
	b := e.browser()
	b.signIn()
	// The token response says less than introspection: introspection wins.
	if got, want := sessionScopes(t, b), "openid profile email read:reports"; got != want {
		t.Errorf("session.scopes = %q, want %q (from introspection)", got, want)
	}
	if n := e.idp.Hits(authtest.Introspection); n != 1 {
		t.Fatalf("introspection calls after sign-in = %d, want 1", n)
	}
	tok, _ := b.token()
	if tok.Scopes != "openid profile email read:reports" {
		t.Errorf("AccessToken scopes = %q", tok.Scopes)
	}
	// Reading the session costs nothing: the scopes are in the session.
	b.session()
	b.get("/reports")
	if n := e.idp.Hits(authtest.Introspection); n != 1 {
		t.Errorf("introspection calls after reads = %d, want 1", n)
	}

	// Introspect caches until exp: asking twice about the token calls the
	// IdP once (here: not at all, sign-in asked already).
	at := Secret(e.idp.LastAccessToken())
	for range 2 {
		in, err := e.auth.Introspect(context.Background(), "oidc", at)
		if err != nil {
			t.Fatal(err)
		}
		if !in.Active || in.Scope != "openid profile email read:reports" || in.Subject != "user-ada" ||
			in.ClientID != e.idp.ClientID || !in.Expires.Equal(e.clock.Now().Add(5*time.Minute)) {
			t.Errorf("Introspect = %+v", in)
		}
		if got := in.Scopes(); len(got) != 4 {
			t.Errorf("Scopes() = %v", got)
		}
	}
	if n := e.idp.Hits(authtest.Introspection); n != 1 {
		t.Errorf("introspection calls after two Introspect = %d, want 1", n)
	}

	// Another token: one call, then cached.
	other := Secret("opaque-unknown")
	for range 2 {
		in, err := e.auth.Introspect(context.Background(), "oidc", other)
		if err != nil || in.Active {
			t.Errorf("Introspect(unknown) = %+v, %v; want inactive", in, err)
		}
	}
	if n := e.idp.Hits(authtest.Introspection); n != 2 {
		t.Errorf("introspection calls = %d, want 2", n)
	}

	// After exp the cached answer is gone; the IdP now says inactive.
	e.clock.Advance(5 * time.Minute)
	in, err := e.auth.Introspect(context.Background(), "oidc", at)
	if err != nil || in.Active {
		t.Errorf("Introspect after exp = %+v, %v; want a new call answering inactive", in, err)
	}
	if n := e.idp.Hits(authtest.Introspection); n != 3 {
		t.Errorf("introspection calls = %d, want 3", n)
	}

	// A refresh learns the new token's scopes.
	e.idp.SetTokens(func(tk *authtest.Tokens) { tk.Scope = "openid profile" })
	b.session()
	if got, want := sessionScopes(t, b), "openid profile"; got != want {
		t.Errorf("session.scopes after refresh = %q, want %q", got, want)
	}
	if strings.Contains(e.logs.String(), string(at)) {
		t.Error("the access token is in the log")
	}
}

func TestIntrospectionClientAuth(t *testing.T) {
	tests := []struct {
		methods []string
		want    string
	}{
		{nil, "basic"},
		{[]string{"client_secret_basic", "client_secret_post"}, "basic"},
		{[]string{"client_secret_post"}, "post"},
		{[]string{"private_key_jwt", "client_secret_post"}, "post"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.methods), func(t *testing.T) {
			e := newTokenEnv(t)
			e.idp.SetTokens(func(tk *authtest.Tokens) { tk.IntrospectionAuthMethods = tt.methods })
			b := e.browser()
			b.signIn()
			got := e.idp.IntrospectionAuth()
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("introspection client authentication = %v, want [%s]", got, tt.want)
			}
			if s := sessionScopes(t, b); !strings.Contains(s, "read:reports") {
				t.Errorf("session.scopes = %q: introspection refused the client", s)
			}
		})
	}
}

func TestIntrospectionInactiveMeansNoScopes(t *testing.T) {
	e := newTokenEnv(t)
	e.idp.SetTokens(func(tk *authtest.Tokens) { tk.IntrospectionInactive = true })
	b := e.browser()
	b.signIn()
	if s := sessionScopes(t, b); s != "" {
		t.Errorf("session.scopes = %q, want none", s)
	}
	if !strings.Contains(e.logs.String(), "not active") {
		t.Errorf("inactive token not logged:\n%s", e.logs.String())
	}
	if r := b.get("/reports"); r.status != http.StatusForbidden {
		t.Errorf("GET /reports: %d, want 403", r.status)
	}
}

func TestScopesWithoutIntrospection(t *testing.T) {
	tests := []struct {
		name, respScope, want string
	}{
		{"token response", "openid email read:reports", "openid email read:reports"},
		{"no scope in the response: the requested ones", "", "openid profile email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTokenEnv(t)
			e.idp.SetTokens(func(tk *authtest.Tokens) {
				tk.Introspection, tk.ResponseScope, tk.OmitResponseScope = false, tt.respScope, tt.respScope == ""
			})
			b := e.browser()
			b.signIn()
			if got := sessionScopes(t, b); got != tt.want {
				t.Errorf("session.scopes = %q, want %q", got, tt.want)
			}
			if n := e.idp.Hits(authtest.Introspection); n != 0 {
				t.Errorf("introspection calls = %d, want 0", n)
			}
		})
	}
}

func TestScopesFromJWTAccessToken(t *testing.T) {
	const full = "openid profile email read:reports"
	tests := []struct {
		name   string
		format authtest.AccessTokenFormat
		typ    string
		badSig bool
		// want are the session's scopes; introspected says whether
		// introspection was needed.
		want         string
		introspected bool
	}{
		{"scope claim", authtest.JWTScope, "at+jwt", false, full, false},
		{"scp array", authtest.JWTScpArray, "at+jwt", false, full, false},
		{"scp string", authtest.JWTScpString, "at+jwt", false, full, false},
		{"typ application/at+jwt", authtest.JWTScope, "application/at+jwt", false, full, false},
		{"typ JWT (Keycloak, Entra ID)", authtest.JWTScope, "JWT", false, full, false},
		{"no scope claim: introspection", authtest.JWTNoScope, "at+jwt", false, full, true},
		{"bad signature: introspection", authtest.JWTScope, "at+jwt", true, full, true},
		{"typ logout+jwt: not an access token", authtest.JWTScope, "logout+jwt", false, full, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTokenEnv(t)
			e.idp.SetTokens(func(tk *authtest.Tokens) {
				tk.Format, tk.JWTType = tt.format, tt.typ
				if tt.badSig {
					tk.JWTSign = authtest.BadSignature
				}
				tk.OmitExpiresIn = true // the expiry comes from the token's exp
			})
			b := e.browser()
			b.signIn()
			if got := sessionScopes(t, b); got != tt.want {
				t.Errorf("session.scopes = %q, want %q", got, tt.want)
			}
			if got := e.idp.Hits(authtest.Introspection) > 0; got != tt.introspected {
				t.Errorf("introspected = %v, want %v", got, tt.introspected)
			}
			tok, _ := b.token()
			if got, want := tok.Expires, e.clock.Now().Add(5*time.Minute).Unix(); got != want {
				t.Errorf("expiry = %d, want %d (the token's exp)", got, want)
			}
		})
	}
}

func TestScopeClaim(t *testing.T) {
	tests := []struct {
		claims Profile
		want   string
		found  bool
	}{
		{Profile{"scope": " a  b "}, "a b", true},
		{Profile{"scp": []any{"a", "b", 3, "", "c d"}}, "a b", true},
		{Profile{"scp": "a b"}, "a b", true},
		{Profile{"scope": "a", "scp": []any{"b"}}, "a", true},
		{Profile{"scp": 7}, "", false},
		{Profile{}, "", false},
	}
	for _, tt := range tests {
		got, found := scopeClaim(tt.claims)
		if got != tt.want || found != tt.found {
			t.Errorf("scopeClaim(%v) = %q, %v; want %q, %v", tt.claims, got, found, tt.want, tt.found)
		}
	}
}

func TestRequireScopes(t *testing.T) {
	var pages []ErrorPage
	e := newTokenEnv(t, func(c *Config) {
		c.Pages.Error = func(p ErrorPage) Page {
			pages = append(pages, p)
			return defaultErrorPage(p)
		}
	})
	b := e.browser()

	// Signed out: like Require.
	r := b.get("/reports")
	if r.status != http.StatusFound || r.header.Get("Location") != "/api/auth/signin?callbackUrl=%2Freports" {
		t.Errorf("signed out GET /reports: %d %q", r.status, r.header.Get("Location"))
	}
	r = b.get("/reports", "HX-Request", "true", "HX-Current-URL", e.app.URL+"/somewhere")
	if r.status != http.StatusOK || r.header.Get("HX-Redirect") != "/api/auth/signin?callbackUrl=%2Fsomewhere" {
		t.Errorf("signed out htmx GET /reports: %d HX-Redirect %q", r.status, r.header.Get("HX-Redirect"))
	}

	b.signIn()
	if r := b.get("/reports"); r.status != http.StatusOK || r.body != "reports page" {
		t.Errorf("GET /reports with read:reports: %d %q", r.status, r.body)
	}

	// Missing scopes: 403, named.
	r = b.get("/admin")
	if r.status != http.StatusForbidden {
		t.Fatalf("GET /admin: %d, want 403", r.status)
	}
	body := html.UnescapeString(r.body)
	for _, want := range []string{`"admin" and "write:reports"`, "Permission required", "Forbidden", "<html"} {
		if !strings.Contains(body, want) {
			t.Errorf("403 page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, `"read:reports"`) {
		t.Error("403 page names a scope the user has")
	}
	if !strings.Contains(r.header.Get("Vary"), "HX-Request") || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("403 headers: Vary %q Cache-Control %q", r.header.Get("Vary"), r.header.Get("Cache-Control"))
	}
	last := pages[len(pages)-1]
	if last.Code != CodeForbidden || last.Status != http.StatusForbidden || strings.Join(last.MissingScopes, " ") != "admin write:reports" || last.Fragment {
		t.Errorf("ErrorPage = %+v", last)
	}
	// Signing in with another account: the IdP must ask, then back here.
	if got, want := last.SignInURL, "/api/auth/signin?callbackUrl=%2Fadmin&prompt=login"; got != want {
		t.Errorf("ErrorPage.SignInURL = %q, want %q", got, want)
	}

	// htmx: 403 too, as a fragment.
	r = b.get("/admin", "HX-Request", "true")
	if r.status != http.StatusForbidden || strings.Contains(r.body, "<html") || !strings.Contains(html.UnescapeString(r.body), `"admin"`) {
		t.Errorf("htmx GET /admin: %d %q, want a 403 fragment", r.status, r.body)
	}
	if r.header.Get("HX-Redirect") != "" {
		t.Error("htmx 403 redirects")
	}
	if last := pages[len(pages)-1]; !last.Fragment {
		t.Error("ErrorPage.Fragment not set for htmx")
	}
	if !strings.Contains(e.logs.String(), "permission missing") {
		t.Error("missing permission not logged")
	}

	// The error page route knows the code.
	if r := b.get("/api/auth/error?error=Forbidden"); r.status != http.StatusForbidden {
		t.Errorf("GET /api/auth/error?error=Forbidden: %d", r.status)
	}
}

func TestRequireScopesOneMissing(t *testing.T) {
	e := newTokenEnv(t)
	e.idp.SetTokens(func(tk *authtest.Tokens) { tk.Scope = "openid profile email" })
	b := e.browser()
	b.signIn()
	r := b.get("/reports")
	if body := html.UnescapeString(r.body); r.status != http.StatusForbidden ||
		!strings.Contains(body, `needs the permission "read:reports", which your account does not have`) {
		t.Errorf("GET /reports without read:reports: %d\n%s", r.status, body)
	}
	if r := b.get("/profile"); r.status != http.StatusOK {
		t.Errorf("GET /profile: %d, want 200", r.status)
	}
}

func TestUserinfoAtSignIn(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(c map[string]any)
		wantOK bool
	}{
		{"claims merged", func(c map[string]any) { c["picture"] = "https://img.example/ada.png" }, true},
		{"sub mismatch refused", func(c map[string]any) { c["sub"] = "user-mallory" }, false},
		{"sub missing refused", func(c map[string]any) { delete(c, "sub") }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTokenEnv(t, func(c *Config) { c.Providers[0].Userinfo = true })
			// The IdP's userinfo knows every access token it issued.
			e.idp.SetUserinfo(tt.edit)
			b := e.browser()
			authorize := b.get("/api/auth/signin/oidc")
			callback := b.get(authorize.header.Get("Location"))
			loc := b.get(callback.header.Get("Location")).header.Get("Location")
			if !tt.wantOK {
				if loc != "/api/auth/error?error=OAuthCallbackError" {
					t.Errorf("callback went to %q, want the OAuthCallbackError page", loc)
				}
				if !strings.Contains(e.logs.String(), "userinfo sub") {
					t.Errorf("log lacks the userinfo sub check:\n%s", e.logs.String())
				}
				if s, _ := b.session(); s != nil {
					t.Errorf("signed in: %v", s)
				}
				return
			}
			s, _ := b.session()
			user, _ := s["user"].(map[string]any)
			if user["image"] != "https://img.example/ada.png" || user["name"] != "Ada Lovelace" {
				t.Errorf("user = %v, want the userinfo picture merged", user)
			}
		})
	}
}

func TestAccessTokenAndEndpoints(t *testing.T) {
	e := newTokenEnv(t)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if _, ok := e.auth.AccessToken(req); ok {
		t.Error("AccessToken ok without Middleware")
	}
	ep, err := e.auth.Endpoints(context.Background(), "oidc")
	if err != nil {
		t.Fatal(err)
	}
	if ep.Userinfo != e.idp.Issuer+"/userinfo" || ep.Introspection != e.idp.Endpoint(authtest.Introspection) || ep.Issuer != e.idp.Issuer {
		t.Errorf("Endpoints = %+v", ep)
	}
	_, err = e.auth.Endpoints(context.Background(), "nope")
	var ae *Error
	if !errors.As(err, &ae) || ae.Code != CodeUnknownProvider {
		t.Errorf("Endpoints(unknown) error = %v", err)
	}
	e2 := newTokenEnv(t)
	e2.idp.SetTokens(func(tk *authtest.Tokens) { tk.Introspection = false })
	if _, err := e2.auth.Introspect(context.Background(), "oidc", "x"); !errors.Is(err, ErrNoIntrospection) {
		t.Errorf("Introspect without endpoint: %v", err)
	}
}

func TestTTLCache(t *testing.T) {
	clock := &tkClock{t: time.Unix(1_700_000_000, 0)}
	c := newTTLCache[int](3, clock.Now)
	now := clock.Now()
	c.set("a", 1, now.Add(time.Minute))
	c.set("b", 2, now.Add(3*time.Minute))
	c.set("c", 3, now.Add(2*time.Minute))
	c.set("d", 4, now.Add(4*time.Minute)) // full: "a" expires first and goes
	if c.len() != 3 {
		t.Fatalf("len = %d, want 3", c.len())
	}
	if _, ok := c.get("a"); ok {
		t.Error("a survived eviction")
	}
	if v, ok := c.get("d"); !ok || v != 4 {
		t.Errorf("get(d) = %v, %v", v, ok)
	}
	c.set("past", 5, now.Add(-time.Second))
	if _, ok := c.get("past"); ok {
		t.Error("an already expired entry was stored")
	}
	clock.Advance(150 * time.Second) // c expired
	if _, ok := c.get("c"); ok {
		t.Error("expired c returned")
	}
	c.set("e", 6, clock.Now().Add(time.Minute))
	c.set("f", 7, clock.Now().Add(time.Minute)) // sweep drops nothing more; evicts the first to expire
	if c.len() > 3 {
		t.Errorf("len = %d, want at most 3", c.len())
	}
}
