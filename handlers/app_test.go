package handlers

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/auth/authtest"
	"github.com/signet-auth/signet/internal/testlog"
)

// testApp is the app's real handler (New) with a real auth.Auth signing in
// at auth's fake IdP, served on 127.0.0.1.
type testApp struct {
	t    *testing.T
	srv  *httptest.Server
	auth *auth.Auth
	idp  *authtest.IdP
	logs *testlog.Buffer
}

// testAppOptions change the app a test builds.
type testAppOptions struct {
	devIdP    http.Handler
	devUsers  []DevUser
	providers int // extra providers beyond the first: the sign-in page lists them all
}

func newTestApp(t *testing.T, opts testAppOptions) *testApp {
	t.Helper()
	idp := newFakeIdP(t, map[string]any{
		"name": "Ada Lovelace", "given_name": "Ada", "family_name": "Lovelace", "email": "ada@example.com",
	}, false)
	providers := []*auth.Provider{auth.NewProvider("test", "Test IdP", idp.Issuer, idp.ClientID, idp.ClientSecret)}
	for i := range opts.providers {
		id := string(rune('a' + i))
		providers = append(providers, auth.NewProvider("other-"+id, "Other "+id, idp.Issuer, idp.ClientID, idp.ClientSecret))
	}
	logs := &testlog.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := auth.New(auth.Config{
		Providers: providers,
		Secrets:   []string{"test-secret-test-secret-test-secret-0123456789"},
		Callbacks: AuthCallbacks(),
		Pages:     AuthPages(),
		Logger:    log,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(Deps{Auth: a, Logger: log, DevIdP: opts.devIdP, DevUsers: opts.devUsers}))
	t.Cleanup(srv.Close)
	return &testApp{t: t, srv: srv, auth: a, idp: idp, logs: logs}
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see each response.
func (app *testApp) browser() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		app.t.Fatal(err)
	}
	return &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// get requests path (relative to the app) with headers.
func (app *testApp) get(c *http.Client, path string, headers map[string]string) (*http.Response, string) {
	app.t.Helper()
	return app.do(c, http.MethodGet, path, headers, nil)
}

func (app *testApp) do(c *http.Client, method, path string, headers map[string]string, form url.Values) (*http.Response, string) {
	app.t.Helper()
	target := path
	if !strings.HasPrefix(path, "http") {
		target = app.srv.URL + path
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		app.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		app.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		app.t.Fatal(err)
	}
	return resp, string(b)
}

// follow follows redirects from resp to the end, returning the last
// response and body.
func (app *testApp) follow(c *http.Client, resp *http.Response, body string) (*http.Response, string) {
	app.t.Helper()
	for i := 0; i < 10 && resp.StatusCode >= 300 && resp.StatusCode < 400; i++ {
		loc, err := resp.Location()
		if err != nil {
			app.t.Fatalf("redirect without Location: %v", err)
		}
		resp, body = app.get(c, loc.String(), nil)
	}
	return resp, body
}

// signIn signs c in through the home page's form: POST to the provider
// with the CSRF token, the IdP, the callback, and back home.
func (app *testApp) signIn(c *http.Client) {
	app.t.Helper()
	_, home := app.get(c, "/", nil)
	token := hiddenValue(app.t, home, "csrfToken")
	resp, body := app.do(c, http.MethodPost, "/api/auth/signin/test", nil, url.Values{"csrfToken": {token}, "callbackUrl": {"/"}})
	resp, body = app.follow(c, resp, body)
	if resp.Request.URL.Path != "/" || !strings.Contains(body, `id="welcome"`) {
		app.t.Fatalf("sign-in ended at %s with status %d:\n%s", resp.Request.URL, resp.StatusCode, body)
	}
}

// hiddenValue returns the value of the first hidden input named name.
func hiddenValue(t *testing.T, html, name string) string {
	t.Helper()
	marker := `name="` + name + `" value="`
	i := strings.Index(html, marker)
	if i < 0 {
		t.Fatalf("no %s field in:\n%s", name, html)
	}
	rest := html[i+len(marker):]
	return rest[:strings.IndexByte(rest, '"')]
}
