package e2e

// Access tokens in a real browser against oidc-provider with short token
// lifetimes, so that expiry and refresh happen inside the test: the account
// page (scopes, expiry, userinfo called with the token), the reports page
// behind RequireScopes("read:reports"), a user without that scope getting
// the 403 page, and a session whose refresh token has expired asking the
// user to sign in again. The page contract:
//
//	/account        #token-card: #token-scopes [data-scope], #token-expires time[datetime],
//	                a#token-check (htmx: fetches the card again);
//	                #userinfo-claims dd[data-claim]; #reports-section or #reports-locked,
//	                each with a#reports-link
//	/reports        table#reports-table, or the 403 page (#error-code Forbidden)
//	home            #sign-in-again, #session-error, button#sign-in when the refresh failed

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const (
	reportsScope = "read:reports"
	// appScopes are the scopes the app asks for (AUTH_OIDC_SCOPE).
	appScopes = "openid profile email " + reportsScope
)

// opGrace is a user whose role lacks read:reports: the OP grants her the
// standard scopes only.
var opGrace = OPAccount{
	ID: "grace", Password: "hopper", Email: "grace@example.com",
	GivenName: "Grace", FamilyName: "Hopper", Name: "Grace Hopper", Username: "grace@example.com",
	Scopes: []string{},
}

// tokenEnv is oidc-provider with Ada (every scope) and Grace (no
// read:reports), token lifetimes ttl (seconds, oidc-provider's names), and
// the app asking for read:reports.
type tokenEnv struct {
	op  *OP
	app *App
}

func startTokenEnv(t *testing.T, ttl map[string]int) *tokenEnv {
	t.Helper()
	chromiumPath(t)
	port, appURL := reserveApp(t)
	client := appClient(appURL, "oidc")
	op := startOP(t, OPConfig{Clients: []OPClient{client}, Accounts: []OPAccount{opAda, opGrace}, TTL: ttl})
	app := startApp(t, map[string]string{
		"PORT":             strconv.Itoa(port),
		"AUTH_URL":         appURL,
		"AUTH_SECRET":      randomSecret(),
		"AUTH_OIDC_ISSUER": op.Issuer,
		"AUTH_OIDC_ID":     client.ClientID,
		"AUTH_OIDC_SECRET": client.ClientSecret,
		"AUTH_OIDC_SCOPE":  appScopes,
		"LOG_LEVEL":        "debug",
	})
	return &tokenEnv{op: op, app: app}
}

// signIn signs login in from the home page through the OP's login form.
func (e *tokenEnv) signIn(t *testing.T, ctx context.Context, login, password string) {
	t.Helper()
	navigate(t, ctx, e.app.URL+"/")
	click(t, ctx, selSignIn)
	waitVisible(t, ctx, opLoginSel)
	typeInto(t, ctx, opLoginSel, login)
	typeInto(t, ctx, opPasswordSel, password)
	click(t, ctx, opSubmitSel)
	waitAt(t, ctx, e.app.URL+"/", selWelcome)
}

// calls counts the POSTs to the OP's endpoint named by the discovery
// member (token_endpoint, introspection_endpoint) so far.
func (e *tokenEnv) calls(t *testing.T, member string) int {
	t.Helper()
	raw, _ := e.op.Discovery(t)[member].(string)
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		t.Fatalf("discovery %s = %q", member, raw)
	}
	return strings.Count(e.op.Log(), "POST "+u.Path+" ")
}

// tokenCalls counts the calls to the OP's token endpoint so far.
func (e *tokenEnv) tokenCalls(t *testing.T) int {
	t.Helper()
	return e.calls(t, "token_endpoint")
}

// pageScopes are the scopes the token card shows.
func pageScopes(t *testing.T, ctx context.Context) []string {
	t.Helper()
	waitVisible(t, ctx, "#token-scopes")
	return strings.Fields(evalJS[string](t, ctx,
		`[...document.querySelectorAll('#token-scopes [data-scope]')].map((e) => e.dataset.scope).join(' ')`))
}

// pageExpiry is the access token's expiry the token card shows.
func pageExpiry(t *testing.T, ctx context.Context) time.Time {
	t.Helper()
	waitVisible(t, ctx, "#token-expires time")
	s := evalJS[string](t, ctx, `document.querySelector('#token-expires time').getAttribute('datetime')`)
	exp, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("token expiry %q: %v", s, err)
	}
	return exp
}

// shootBoth saves a desktop screenshot of the page, then one at phone size
// (390 px), and goes back to the desktop size.
func shootBoth(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	screenshot(t, ctx, name+"-desktop")
	run(t, ctx, "phone size", chromedp.EmulateViewport(phoneWidth, phoneHeight, chromedp.EmulateMobile, chromedp.EmulateTouch))
	screenshot(t, ctx, name+"-phone")
	run(t, ctx, "desktop size", chromedp.EmulateViewport(desktopWidth, desktopHeight))
}

func hasAll(have []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}

// TestAccessTokenRefreshAndScopes: Ada's 20-second access token carries
// read:reports (learned by introspection: oidc-provider's access tokens are
// opaque); the account page shows it, calls userinfo with it and offers the
// reports; 20 requests at once after it is due make one refresh call, and
// the page then shows the new expiry.
func TestAccessTokenRefreshAndScopes(t *testing.T) {
	// Long enough for the pages and screenshots before the token is due
	// (three quarters of it) on a loaded machine: the burst below must
	// be the first request that finds it due.
	const lifetime = 20 * time.Second
	e := startTokenEnv(t, map[string]int{"AccessToken": int(lifetime / time.Second)})
	ctx := newBrowser(t)
	e.signIn(t, ctx, "ada", "lovelace")
	signedIn := time.Now()
	// oidc-provider's access tokens are opaque: Signet asked the
	// introspection endpoint for their scopes.
	if n := e.calls(t, "introspection_endpoint"); n != 1 {
		t.Errorf("introspection calls at sign-in = %d, want 1", n)
	}

	shootBoth(t, ctx, "home")
	click(t, ctx, "#home-account")
	waitAt(t, ctx, e.app.URL+"/account", "#token-card")
	if got := pageScopes(t, ctx); !hasAll(got, "openid", "profile", "email", reportsScope) {
		t.Errorf("scopes on the page = %v, want openid profile email %s", got, reportsScope)
	}
	first := pageExpiry(t, ctx)
	// The token was issued during the callback, before signedIn, and
	// the page shows whole seconds: on a loaded machine the gap can be a
	// few seconds.
	if d := first.Sub(signedIn); d < lifetime-6*time.Second || d > lifetime+2*time.Second {
		t.Errorf("token expires %v after sign-in, want about %v", d, lifetime)
	}
	if got := textOf(t, ctx, `#userinfo-claims [data-claim="email"]`); got != "ada@example.com" {
		t.Errorf("userinfo email = %q", got)
	}
	if got := textOf(t, ctx, `#userinfo-claims [data-claim="sub"]`); got != "ada" {
		t.Errorf("userinfo sub = %q", got)
	}
	waitVisible(t, ctx, "#reports-section")
	page := evalJS[string](t, ctx, `document.documentElement.outerHTML`)
	for _, bad := range []string{"access_token", "refresh_token", "id_token"} {
		if strings.Contains(page, bad) {
			t.Errorf("the account page contains %q", bad)
		}
	}
	if containsJWT(page) {
		t.Error("the account page contains a JWT")
	}
	shootBoth(t, ctx, "account")

	// The preview loads the reports table over htmx (RequireScopes lets it through).
	click(t, ctx, "#reports-load")
	waitVisible(t, ctx, "#reports-preview #reports-table")

	click(t, ctx, "#reports-link")
	waitAt(t, ctx, e.app.URL+"/reports", "#reports-table")
	shootBoth(t, ctx, "reports")

	// The session as the API shows it: the scopes, no tokens.
	raw := evalJS[string](t, ctx, `fetch('/api/auth/session').then((r) => r.text())`)
	if !strings.Contains(raw, `"scopes":[`) || !strings.Contains(raw, reportsScope) || strings.Contains(raw, "token") {
		t.Errorf("/api/auth/session = %s", raw)
	}

	// Wait until the token is due: within a quarter of its lifetime of
	// expiring (the 60 s default skew is capped at 5 s).
	navigate(t, ctx, e.app.URL+"/account")
	before := e.tokenCalls(t)
	if due := first.Add(-lifetime / 4); !time.Now().Before(due) {
		t.Fatalf("the steps after sign-in lasted until %v after the token was due: the burst below would find it refreshed; raise lifetime", time.Since(due))
	}
	time.Sleep(time.Until(first.Add(-lifetime/4 + 500*time.Millisecond)))

	// 20 requests of the session at once: one refresh call to the OP.
	results := evalJS[[]any](t, ctx, `Promise.all(Array.from({length: 20}, () =>
		fetch('/api/auth/session', {credentials: 'same-origin'}).then((r) => r.json())))`)
	calls := e.tokenCalls(t) - before
	t.Logf("20 concurrent requests of one session after its %v access token was due: %d call(s) to the token endpoint", lifetime, calls)
	if calls != 1 {
		t.Errorf("token endpoint calls = %d, want 1\n%s", calls, tail(e.op.Log(), 3000))
	}
	for i, r := range results {
		s, _ := r.(map[string]any)
		if s == nil || s["error"] != nil {
			t.Errorf("request %d: session %v", i, r)
		}
	}
	e.app.WaitLog(t, "access token refreshed", 5*time.Second)
	if n := strings.Count(e.app.Logs(), "access token refreshed"); n != 1 {
		t.Errorf("the app logged %d refreshes, want 1", n)
	}
	if n := e.calls(t, "introspection_endpoint"); n != 2 {
		t.Errorf("introspection calls after the refresh = %d, want 2 (one per access token)", n)
	}

	// "Check again" fetches the card over htmx: it shows the new expiry.
	click(t, ctx, "#token-check")
	waitJS(t, ctx, "the token card shows a new expiry",
		`document.querySelector('#token-expires time')?.getAttribute('datetime') !== `+strconv.Quote(first.UTC().Format(time.RFC3339)),
		stepTimeout)
	second := pageExpiry(t, ctx)
	if !second.After(first) {
		t.Errorf("expiry after refresh %v, want after %v", second, first)
	}
	if got := pageScopes(t, ctx); !hasAll(got, reportsScope) {
		t.Errorf("scopes after refresh = %v", got)
	}
	if evalJS[string](t, ctx, `location.pathname`) != "/account" {
		t.Error("Check again navigated away")
	}
	shootBoth(t, ctx, "account-refreshed")

	// The refreshed token works at the OP: userinfo answers it.
	navigate(t, ctx, e.app.URL+"/account")
	if got := textOf(t, ctx, `#userinfo-claims [data-claim="email"]`); got != "ada@example.com" {
		t.Errorf("userinfo with the refreshed token: email = %q", got)
	}
	for _, secret := range []string{e.app.Env["AUTH_SECRET"], e.app.Env["AUTH_OIDC_SECRET"]} {
		if strings.Contains(e.app.Logs(), secret) {
			t.Error("a secret is in the app's log")
		}
	}
}

// TestUserWithoutScopeGets403: Grace's role lacks read:reports; the OP
// leaves it out of her token, the account page hides the reports, and the
// reports page answers 403 naming the permission.
func TestUserWithoutScopeGets403(t *testing.T) {
	e := startTokenEnv(t, map[string]int{"AccessToken": 15})
	ctx := newBrowser(t)
	e.signIn(t, ctx, "grace", "hopper")
	e.op.WaitLog(t, "scope refused account=grace scope="+reportsScope, 5*time.Second)

	navigate(t, ctx, e.app.URL+"/account")
	got := pageScopes(t, ctx)
	if hasAll(got, reportsScope) || !hasAll(got, "openid", "email") {
		t.Errorf("Grace's scopes = %v, want no %s", got, reportsScope)
	}
	waitVisible(t, ctx, "#reports-locked")
	if n := evalJS[int](t, ctx, `document.querySelectorAll('#reports-section').length`); n != 0 {
		t.Error("the reports section is shown without the scope")
	}

	// The preview asks for the reports fragment over htmx: RequireScopes
	// answers 403 with a fragment naming the permission, which htmx swaps in.
	click(t, ctx, "#reports-load")
	waitVisible(t, ctx, "#reports-preview #error-fragment")
	if code := evalJS[string](t, ctx, `document.querySelector('#reports-preview #error-fragment').dataset.code`); code != "Forbidden" {
		t.Errorf("fragment error code = %q, want Forbidden", code)
	}
	if msg := textOf(t, ctx, "#reports-preview #error-fragment"); !strings.Contains(msg, `"`+reportsScope+`"`) {
		t.Errorf("the 403 fragment does not name %s: %s", reportsScope, msg)
	}
	if evalJS[string](t, ctx, `location.pathname`) != "/account" {
		t.Error("the preview navigated away")
	}
	shootBoth(t, ctx, "account-without-scope")

	click(t, ctx, "#reports-link")
	waitAt(t, ctx, e.app.URL+"/reports", "#error-code")
	if code := textOf(t, ctx, "#error-code"); code != "Forbidden" {
		t.Errorf("error code = %q, want Forbidden", code)
	}
	if msg := textOf(t, ctx, "main"); !strings.Contains(msg, `"`+reportsScope+`"`) {
		t.Errorf("the 403 page does not name %s:\n%s", reportsScope, msg)
	}
	if status := evalJS[int](t, ctx, `fetch('/reports').then((r) => r.status)`); status != 403 {
		t.Errorf("GET /reports: %d, want 403", status)
	}
	frag := evalJS[string](t, ctx, `fetch('/reports', {headers: {'HX-Request': 'true'}}).then(async (r) => r.status + ' ' + (await r.text()))`)
	if !strings.HasPrefix(frag, "403 ") || !strings.Contains(frag, `id="error-fragment"`) || strings.Contains(frag, "<html") {
		t.Errorf("htmx GET /reports: %.300s, want a 403 fragment", frag)
	}
	shootBoth(t, ctx, "reports-403")
}

// TestRefreshFailureAsksToSignInAgain: once the refresh token has expired
// too, the next page finds the refresh refused (RefreshTokenError): home
// asks to sign in again, protected pages send to sign-in, and signing in
// again replaces the session.
func TestRefreshFailureAsksToSignInAgain(t *testing.T) {
	e := startTokenEnv(t, map[string]int{"AccessToken": 4, "RefreshToken": 8})
	ctx := newBrowser(t)
	e.signIn(t, ctx, "ada", "lovelace")
	time.Sleep(9 * time.Second) // both tokens expire; nothing asks the app meanwhile

	navigate(t, ctx, e.app.URL+"/")
	waitVisible(t, ctx, "#sign-in-again")
	if code := textOf(t, ctx, "#session-error"); code != "RefreshTokenError" {
		t.Errorf("#session-error = %q", code)
	}
	e.app.WaitLog(t, "refresh failed", 5*time.Second)
	raw := evalJS[string](t, ctx, `fetch('/api/auth/session').then((r) => r.text())`)
	if !strings.Contains(raw, `"error":"RefreshTokenError"`) {
		t.Errorf("/api/auth/session = %s", raw)
	}
	shootBoth(t, ctx, "sign-in-again")

	// No loop: reading the failed session again does not call the OP.
	calls := e.tokenCalls(t)
	for range 3 {
		evalJS[string](t, ctx, `fetch('/api/auth/session').then((r) => r.text())`)
	}
	if got := e.tokenCalls(t); got != calls {
		t.Errorf("token endpoint calls went from %d to %d after the failure", calls, got)
	}

	// Protected pages treat the session as signed out.
	navigate(t, ctx, e.app.URL+"/account")
	waitURL(t, ctx, e.app.URL+signInPagePath, "")

	// Signing in again (the OP still knows Ada: no password) replaces it.
	navigate(t, ctx, e.app.URL+"/")
	click(t, ctx, "#home-panel button#sign-in")
	waitAt(t, ctx, e.app.URL+"/", selWelcome)
	raw = evalJS[string](t, ctx, `fetch('/api/auth/session').then((r) => r.text())`)
	if strings.Contains(raw, "error") || !strings.Contains(raw, reportsScope) {
		t.Errorf("session after signing in again = %s", raw)
	}
}
