package handlers

import (
	"bytes"
	"context"
	"errors"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/components"
)

// stubTokenAuth is a tokenAuth with fixed answers.
type stubTokenAuth struct {
	info      auth.AccessTokenInfo
	ok        bool
	endpoints auth.ProviderEndpoints
	epErr     error
}

func (s stubTokenAuth) CSRFToken(http.ResponseWriter, *http.Request) string { return "csrf-1" }
func (s stubTokenAuth) Providers(*http.Request) []auth.ProviderInfo {
	return []auth.ProviderInfo{{ID: "oidc", Name: "Example IdP", SignInURL: "http://app.test/api/auth/signin/oidc"}}
}
func (s stubTokenAuth) SignInURL(cb string) string { return "/api/auth/signin?callbackUrl=" + cb }
func (s stubTokenAuth) BasePath() string           { return "/api/auth" }
func (s stubTokenAuth) CurrentPath(r *http.Request) string {
	return auth.ReturnPath(r.URL.RequestURI())
}
func (s stubTokenAuth) AccessToken(*http.Request) (auth.AccessTokenInfo, bool) {
	return s.info, s.ok
}
func (s stubTokenAuth) Endpoints(context.Context, string) (auth.ProviderEndpoints, error) {
	return s.endpoints, s.epErr
}

func TestCallUserinfo(t *testing.T) {
	const token = "opaque-access-token-123"
	var gotAuth string
	status := http.StatusOK
	body := `{"sub":"user-1","email":"ada@example.com","email_verified":true,"address":{"country":"UK"}}`
	ctype := "application/json"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	info := auth.AccessTokenInfo{Token: token, Provider: "oidc"}
	a := stubTokenAuth{info: info, ok: true, endpoints: auth.ProviderEndpoints{Userinfo: srv.URL + "/userinfo"}}

	u := callUserinfo(context.Background(), a, srv.Client(), log, info, true)
	if gotAuth != "Bearer "+token {
		t.Errorf("Authorization = %q, want the Bearer access token", gotAuth)
	}
	if u.Error != "" || u.Endpoint != srv.URL+"/userinfo" {
		t.Fatalf("userinfo = %+v", u)
	}
	want := []components.Claim{
		{Name: "address", Value: `{"country":"UK"}`}, {Name: "email", Value: "ada@example.com"},
		{Name: "email_verified", Value: "true"}, {Name: "sub", Value: "user-1"},
	}
	if len(u.Claims) != len(want) {
		t.Fatalf("claims = %+v, want %+v", u.Claims, want)
	}
	for i := range want {
		if u.Claims[i] != want[i] {
			t.Errorf("claim %d = %+v, want %+v", i, u.Claims[i], want[i])
		}
	}

	tests := []struct {
		name          string
		status        int
		ctype, body   string
		a             stubTokenAuth
		ok            bool
		wantErrSubstr string
	}{
		{"refused", http.StatusUnauthorized, "application/json", `{"error":"invalid_token"}`, a, true, "refused the access token (401 Unauthorized)"},
		{"server error", http.StatusInternalServerError, "text/plain", "boom", a, true, "did not answer usefully"},
		{"not JSON", http.StatusOK, "application/json", "[1,2]", a, true, "did not answer usefully"},
		{"signed JWT", http.StatusOK, "application/jwt", "eyJ.x.y", a, true, "did not answer usefully"},
		{"no endpoint", http.StatusOK, "", "", stubTokenAuth{}, true, "has no userinfo endpoint"},
		{"IdP unavailable", http.StatusOK, "", "", stubTokenAuth{epErr: errors.New("down")}, true, "cannot be reached"},
		{"no token", http.StatusOK, "", "", a, false, "no access token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, ctype, body = tt.status, tt.ctype, tt.body
			u := callUserinfo(context.Background(), tt.a, srv.Client(), log, info, tt.ok)
			if !strings.Contains(u.Error, tt.wantErrSubstr) || len(u.Claims) != 0 {
				t.Errorf("userinfo = %+v, want an error with %q", u, tt.wantErrSubstr)
			}
		})
	}
	if strings.Contains(logs.String(), token) {
		t.Error("the access token is in the log")
	}
}

func TestTokenCard(t *testing.T) {
	now := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	c := tokenCard(auth.AccessTokenInfo{
		Token: "secret-token", Provider: "oidc", Scopes: []string{"openid", "read:reports"},
		Expires: now.Add(4*time.Minute + 10*time.Second),
	}, true, "Example IdP", now)
	if !c.OK || c.Provider != "Example IdP" || c.ExpiresAt != "2 Jan 2026, 15:08 UTC" ||
		c.ExpiresISO != "2026-01-02T15:08:15Z" || c.ExpiresIn != "in 4 min 10 s" || len(c.Scopes) != 2 {
		t.Errorf("tokenCard = %+v", c)
	}
	if c := tokenCard(auth.AccessTokenInfo{Token: "x"}, true, "", now); c.ExpiresISO != "" {
		t.Errorf("unknown expiry: %+v", c)
	}
	if c := tokenCard(auth.AccessTokenInfo{}, false, "", now); c.OK || c.Problem == "" {
		t.Errorf("no token: %+v", c)
	}
	for d, want := range map[time.Duration]string{
		-time.Second: "expired", 0: "expired", 12 * time.Second: "in 12 s",
		61 * time.Second: "in 1 min 1 s", 2*time.Hour + 5*time.Minute: "in 2 h 5 min",
	} {
		if got := untilText(d); got != want {
			t.Errorf("untilText(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestAccountRoutes runs the account page, its fragment and the reports
// page through the real route table and auth: the test IdP sends no scope
// and has no userinfo endpoint.
func TestAccountRoutes(t *testing.T) {
	app := newTestApp(t, testAppOptions{})
	c := app.browser()

	resp, _ := app.get(c, "/account", nil)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/api/auth/signin?callbackUrl=%2Faccount" {
		t.Errorf("signed out GET /account: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = app.get(c, "/fragments/token", map[string]string{"HX-Request": "true"})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("HX-Redirect") == "" {
		t.Errorf("signed out htmx GET /fragments/token: %d HX-Redirect %q", resp.StatusCode, resp.Header.Get("HX-Redirect"))
	}
	resp, _ = app.get(c, "/reports", nil)
	if resp.StatusCode != http.StatusFound {
		t.Errorf("signed out GET /reports: %d, want a redirect to sign in", resp.StatusCode)
	}

	app.signIn(c)
	resp, body := app.get(c, "/account", nil)
	checkRoute(t, route{
		status: http.StatusOK, ctype: "text/html", noStore: true, vary: true, csp: "app",
		body: []string{
			`id="token-card"`, `data-scope="openid"`, `data-scope="profile"`, `data-scope="email"`,
			`id="token-expires-in"`, `id="reports-locked"`, `<code>read:reports</code>`,
			`id="userinfo-error"`, "has no userinfo endpoint", `id="token-provider">Test IdP<`,
		},
		noBody: []string{`id="reports-section"`, "access-"},
	}, resp, body)
	for _, s := range issued(app.idp) {
		if strings.Contains(body, s) {
			t.Errorf("the account page contains a token or code the IdP issued: %.20s…", s)
		}
	}

	resp, body = app.get(c, "/fragments/token", map[string]string{"HX-Request": "true"})
	checkRoute(t, route{
		status: http.StatusOK, ctype: "text/html", noStore: true, vary: true, csp: "app",
		body: []string{`id="token-card"`, `data-scope="openid"`}, noBody: []string{"<html"},
	}, resp, body)

	resp, body = app.get(c, "/reports", nil)
	checkRoute(t, route{
		status: http.StatusForbidden, ctype: "text/html", noStore: true, vary: true, csp: "app",
		body: []string{`id="error-code">Forbidden<`, "Permission required", "<html"},
	}, resp, body)
	if !strings.Contains(html.UnescapeString(body), `needs the permission "read:reports"`) {
		t.Errorf("403 page does not name read:reports:\n%s", body)
	}
	for _, path := range []string{"/reports", "/fragments/reports"} {
		resp, body = app.get(c, path, map[string]string{"HX-Request": "true"})
		checkRoute(t, route{
			status: http.StatusForbidden, ctype: "text/html", noStore: true, vary: true, csp: "app",
			body: []string{`id="error-fragment"`, `data-code="Forbidden"`, "read:reports"}, noBody: []string{"<html", "reports-table"},
		}, resp, body)
	}
}

// TestHomeAsksToSignInAgain: a session whose refresh failed shows "Please
// sign in again" with a working Sign in button.
func TestHomeAsksToSignInAgain(t *testing.T) {
	a := stubTokenAuth{}
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	s := &auth.Session{User: auth.User{Name: "Ada Lovelace"}, Error: auth.RefreshTokenError}
	p, err := homePanel(a, w, r, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.SessionError != auth.RefreshTokenError || !p.SignIn.Direct() || p.SignIn.CallbackURL != "/" {
		t.Fatalf("panel = %+v", p)
	}
	var buf bytes.Buffer
	if err := components.HomePanel(p).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="sign-in-again"`, `data-state="sign-in-again"`, `id="sign-in"`, `id="session-error">RefreshTokenError<`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("panel lacks %q:\n%s", want, buf.String())
		}
	}
	if strings.Contains(buf.String(), `id="welcome"`) {
		t.Error("panel still welcomes")
	}
}
