package handlers

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/static"
)

// TestAuthPagesOnTheirOwn: AuthPages work in an app that does not use New
// (no app info in the context): the default base path and the embedded
// assets.
func TestAuthPagesOnTheirOwn(t *testing.T) {
	t.Parallel()
	idp := newFakeIdP(t, nil, false)
	a, err := auth.New(auth.Config{
		Providers: []*auth.Provider{auth.NewProvider("test", "Test IdP", idp.Issuer, idp.ClientID, idp.ClientSecret)},
		Secrets:   []string{"test-secret-test-secret-test-secret-0123456789"},
		Pages:     AuthPages(),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(a.BasePath()+"/", a.Handler())
	mux.Handle("GET "+a.SignOutPath(), a.PostLogoutHandler())
	srv := httptest.NewServer(a.Middleware(mux))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		path   string
		status int
		want   []string
	}{
		{"/api/auth/signin", 200, []string{`data-provider="test"`, `<link rel="stylesheet" href="/static/css/app.css?v=`}},
		{"/api/auth/signout", 200, []string{`<h1 id="signed-out"`}},
		{"/api/auth/error?error=AccessDenied", 403, []string{`<code id="error-code">AccessDenied</code>`, `<a id="nav-sign-in" class="btn btn-secondary btn-sm" href="/api/auth/signin">Sign in</a>`}},
		{"/api/auth/error?error=bogus", 400, []string{"Something went wrong"}},
		{"/auth/sign-out", 200, []string{`id="signing-out"`}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := http.Get(srv.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.status)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("lacks %s in\n%s", w, b)
				}
			}
		})
	}
}

// TestNoDevIdP: without the development IdP, /dev-idp/ is not found and
// home shows no demo users.
func TestNoDevIdP(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testAppOptions{})
	resp, body := app.get(app.browser(), "/dev-idp/.well-known/openid-configuration", nil)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, `id="not-found"`) {
		t.Errorf("/dev-idp/ without a dev IdP: %d\n%s", resp.StatusCode, body)
	}
	if _, home := app.get(app.browser(), "/", nil); strings.Contains(home, "dev-idp-banner") {
		t.Error("home shows the development IdP banner without a dev IdP")
	}
}

// TestMissingHTMXWarning: New warns at start when htmx was not vendored.
func TestMissingHTMXWarning(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testAppOptions{})
	warned := strings.Contains(app.logs.String(), "htmx is missing")
	if warned != !static.HasHTMX() {
		t.Errorf("warned about missing htmx: %v, htmx embedded: %v", warned, static.HasHTMX())
	}
	_, home := app.get(app.browser(), "/", nil)
	if hasScript := strings.Contains(home, "htmx.min.js"); hasScript != static.HasHTMX() {
		t.Errorf("home links htmx: %v, htmx embedded: %v", hasScript, static.HasHTMX())
	}
}
