package e2e

// A failing network, end to end: the app configured with an external IdP
// that is down when the app starts.

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestIdPDownAtStart: the app starts although nothing listens at its IdP's
// issuer; home, /healthz, the session and providers APIs and the sign-in
// page work; Sign in ends on the "identity provider unavailable" page (503,
// ProviderUnavailable), with the cause in the log and no flow cookie left.
// Then oidc-provider starts at that address, and the next Sign in works
// without a restart of the app.
func TestIdPDownAtStart(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	port, appURL := reserveApp(t)
	client := appClient(appURL, "oidc")
	opPort := freePort(t)
	issuer := "http://127.0.0.1:" + strconv.Itoa(opPort)
	buildApp(t)
	start := time.Now()
	app := startApp(t, map[string]string{
		"PORT":             strconv.Itoa(port),
		"AUTH_URL":         appURL,
		"AUTH_OIDC_ISSUER": issuer,
		"AUTH_OIDC_ID":     client.ClientID,
		"AUTH_OIDC_SECRET": client.ClientSecret,
		"LOG_LEVEL":        "debug",
	})
	t.Logf("the app answered /healthz %v after its start, with its IdP down", time.Since(start).Round(time.Millisecond))

	// Over HTTP: the pages that do not need the IdP, then a sign-in.
	w := newWebClient(t, app.URL)
	for _, tc := range []struct {
		path, want string
		status     int
	}{
		{"/healthz", "ok", 200},
		{"/", `id="sign-in"`, 200},
		{"/api/auth/session", "null", 200},
		{"/api/auth/providers", `"oidc"`, 200},
		{"/api/auth/signin", `data-provider="oidc"`, 200},
		{"/api/auth/csrf", "csrfToken", 200},
	} {
		resp, body := w.get(tc.path)
		if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s with the IdP down: %d, want %d with %q\n%s", tc.path, resp.StatusCode, tc.status, tc.want, tail(body, 1000))
		}
	}
	_, home := w.get("/")
	resp, _ := w.do(http.MethodPost, "/api/auth/signin/oidc", url.Values{"csrfToken": {formField(t, home, "csrfToken")}, "callbackUrl": {"/"}}, nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/api/auth/error?error=ProviderUnavailable" {
		t.Errorf("sign-in with the IdP down: %d to %q, want 303 to the ProviderUnavailable error page", resp.StatusCode, loc)
	}
	resp, body := w.follow(resp, "")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, `id="error-code">ProviderUnavailable<`) ||
		!strings.Contains(body, "Identity provider unavailable") {
		t.Errorf("the error page: %d, want 503 with ProviderUnavailable:\n%s", resp.StatusCode, tail(body, 2000))
	}
	// The log says why. The app writes its log in batches under load, so a
	// line may reach it a few milliseconds after the response.
	app.WaitLog(t, "code=ProviderUnavailable", 5*time.Second)
	app.WaitLog(t, "connection refused", 5*time.Second)

	// In the browser: Sign in shows the page, and leaves no flow cookie.
	ctx := newBrowser(t)
	navigate(t, ctx, app.URL+"/")
	click(t, ctx, selSignIn)
	waitAt(t, ctx, app.URL+"/api/auth/error", "#error-code")
	if got := textOf(t, ctx, "#error-code"); got != "ProviderUnavailable" {
		t.Errorf("#error-code = %q, want ProviderUnavailable", got)
	}
	if h1 := textOf(t, ctx, "h1"); !strings.Contains(h1, "Identity provider unavailable") {
		t.Errorf("the error page's heading = %q", h1)
	}
	failedAt := time.Now()
	screenshot(t, ctx, "01-provider-unavailable")
	for _, c := range appCookies(t, ctx, app.URL) {
		if strings.Contains(c.Name, "state") || strings.Contains(c.Name, "pkce") || strings.Contains(c.Name, "nonce") {
			t.Errorf("a sign-in that could not start left the cookie %s", c.Name)
		}
	}

	// The IdP comes up where the app expects it; the app is not restarted.
	op := startOP(t, OPConfig{Port: opPort, Clients: []OPClient{client}})
	if op.Issuer != issuer {
		t.Fatalf("the OP's issuer is %s, want %s", op.Issuer, issuer)
	}
	time.Sleep(time.Until(failedAt.Add(1100 * time.Millisecond))) // the app waits a second before it asks a failed IdP again
	e := &journeyEnv{app: app, op: op, loginSel: opLoginSel, passwordSel: opPasswordSel, submitSel: opSubmitSel,
		username: "ada", password: "lovelace", idpPrefix: op.Issuer + "/"}
	e.signInFromHome(t, ctx, "02-idp-login")
	if got := textOf(t, ctx, selWelcome); !strings.Contains(got, wantWelcome) {
		t.Errorf("%s = %q after the IdP came back", selWelcome, got)
	}
	screenshot(t, ctx, "03-signed-in")
}
