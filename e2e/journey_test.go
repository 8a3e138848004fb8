package e2e

// The journeys of a user through the app, in a real browser, against (a) the
// embedded development IdP and (b) oidc-provider as an external IdP (as
// provider "oidc", and as "asgardeo"). They follow the page contract:
//
//	home, signed out     button#sign-in (a form POST to /api/auth/signin/<provider>)
//	/api/auth/signin     one button[data-provider="<id>"] per provider
//	home, signed in      #welcome ("Welcome, Ada Lovelace"), #session-json (a <pre>
//	                     with the JSON of /api/auth/session)
//	nav                  a#nav-profile
//	/profile             #profile-email, #profile-given-name, #profile-family-name,
//	                     button#sign-out (a POST form with csrfToken to /api/auth/signout)
//	/auth/sign-out       #signing-out ("You’re signed out"), a#continue home
//	error page           #error-code with the Auth.js code

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The app's selectors.
const (
	selSignIn          = "button#sign-in"
	selWelcome         = "#welcome"
	selSessionJSON     = "#session-json"
	selNavProfile      = "a#nav-profile"
	selProfileEmail    = "#profile-email"
	selProfileGiven    = "#profile-given-name"
	selProfileFamily   = "#profile-family-name"
	selSignOut         = "button#sign-out"
	selSigningOut      = "#signing-out"
	idSigningOut       = "signing-out"
	signOutPagePath    = "/auth/sign-out"
	signInPagePath     = "/api/auth/signin"
	devIdPPath         = "/dev-idp/"
	wantWelcome        = "Welcome, Ada Lovelace"
	wantGivenName      = "Ada"
	wantFamilyName     = "Lovelace"
	defaultWantedEmail = "ada@example.com"
)

// journeyEnv is an app wired to one IdP, and what a journey needs to know
// about that IdP.
type journeyEnv struct {
	app *App
	op  *OP // nil for the embedded IdP

	// providerSel selects the provider's button on the default sign-in page.
	providerSel string
	// The IdP's login form, and the credentials of Ada Lovelace.
	loginSel, passwordSel, submitSel string
	username, password               string
	// idpPrefix is where the IdP's pages live (its login page starts with it).
	idpPrefix string
	// clientID is the app's client id at the IdP ("" when the test cannot know it).
	clientID string
	// skipPaths are paths of the app's origin that belong to the IdP: they are
	// not the app's own URLs in the no-token check.
	skipPaths []string
	// wantEmail is what the session and the profile show as email.
	wantEmail string
	// sharedLog is true when the IdP logs into the app's log (the embedded
	// IdP), so the app's log may quote the IdP's requests.
	sharedLog bool
	// logoutConfirmSel, when set, is the button of the IdP's sign-out
	// confirmation, which the journey clicks if the IdP shows one ("" when the
	// IdP goes on by itself, as server.mjs does by default).
	logoutConfirmSel string
}

// endSession returns the IdP's end_session_endpoint from its discovery
// document, or "" when it has none.
func (e *journeyEnv) endSession(t *testing.T) string {
	t.Helper()
	var doc map[string]any
	if e.op != nil {
		doc = e.op.Discovery(t)
	} else {
		doc = fetchJSON(t, e.app.URL+"/dev-idp/.well-known/openid-configuration")
	}
	s, _ := doc["end_session_endpoint"].(string)
	return s
}

// embeddedEnv starts the app with no provider configured: it runs its
// embedded development IdP under /dev-idp/.
func embeddedEnv(t *testing.T) *journeyEnv {
	t.Helper()
	chromiumPath(t) // skip (or fail under CI) before anything starts
	app := startApp(t, nil)
	return &journeyEnv{
		app:         app,
		providerSel: "button[data-provider]",
		loginSel:    `input[name="username"]`,
		passwordSel: `input[name="password"]`,
		submitSel:   `button[type="submit"]`,
		username:    "ada",
		password:    "lovelace",
		idpPrefix:   app.URL + devIdPPath,
		skipPaths:   []string{devIdPPath},
		wantEmail:   defaultWantedEmail,
		sharedLog:   true,
		// The embedded IdP may ask "Sign out of the development IdP?".
		logoutConfirmSel: `button[type="submit"]`,
	}
}

// opEnv starts oidc-provider with the app registered as a client for the
// provider id providerID ("oidc" or "asgardeo"), then the app configured with
// AUTH_<PROVIDERID>_ISSUER, _ID and _SECRET. configure may change the OP's
// settings first.
func opEnv(t *testing.T, providerID string, configure func(*OPConfig)) *journeyEnv {
	t.Helper()
	chromiumPath(t)
	port, appURL := reserveApp(t)
	client := appClient(appURL, providerID)
	cfg := OPConfig{Clients: []OPClient{client}}
	if configure != nil {
		configure(&cfg)
	}
	op := startOP(t, cfg)
	prefix := "AUTH_" + strings.ToUpper(providerID) + "_"
	app := startApp(t, map[string]string{
		"PORT":            strconv.Itoa(port),
		"AUTH_URL":        appURL,
		"AUTH_SECRET":     randomSecret(),
		prefix + "ISSUER": op.Issuer,
		prefix + "ID":     client.ClientID,
		prefix + "SECRET": client.ClientSecret,
		"LOG_LEVEL":       "debug", // the most the app logs: no token may be in it
	})
	return &journeyEnv{
		app:         app,
		op:          op,
		providerSel: `button[data-provider="` + providerID + `"]`,
		loginSel:    opLoginSel,
		passwordSel: opPasswordSel,
		submitSel:   opSubmitSel,
		username:    "ada",
		password:    "lovelace",
		idpPrefix:   op.Issuer + "/",
		clientID:    client.ClientID,
		wantEmail:   defaultWantedEmail,
	}
}

// waitLoginForm waits for the IdP's login form, on the IdP.
func (e *journeyEnv) waitLoginForm(t *testing.T, ctx context.Context) {
	t.Helper()
	waitVisible(t, ctx, e.loginSel)
	waitVisible(t, ctx, e.passwordSel)
	loc, _ := location(ctx)
	if !strings.HasPrefix(loc, e.idpPrefix) {
		t.Fatalf("the login form is at %s, want a page of the IdP (%s…)", loc, e.idpPrefix)
	}
}

// submitCredentials signs Ada in on the IdP's login form.
func (e *journeyEnv) submitCredentials(t *testing.T, ctx context.Context) {
	t.Helper()
	typeInto(t, ctx, e.loginSel, e.username)
	typeInto(t, ctx, e.passwordSel, e.password)
	click(t, ctx, e.submitSel)
}

// waitAt waits until the tab shows wantURL (origin and path, the query and
// fragment ignored) with an element that matches sel.
func waitAt(t *testing.T, ctx context.Context, wantURL, sel string) {
	t.Helper()
	u, _ := json.Marshal(wantURL)
	s, _ := json.Marshal(sel)
	waitJS(t, ctx, "wait for "+sel+" at "+wantURL,
		`location.origin + location.pathname === `+string(u)+
			` && document.readyState !== 'loading' && (() => { const e = document.querySelector(`+string(s)+`); return !!e && e.getClientRects().length > 0; })()`,
		stepTimeout)
}

// signInFromHome starts on the home page, signed out, and signs Ada in
// through the IdP's login form; it ends on the home page, signed in.
func (e *journeyEnv) signInFromHome(t *testing.T, ctx context.Context, shot string) {
	t.Helper()
	navigate(t, ctx, e.app.URL+"/")
	waitVisible(t, ctx, selSignIn)
	click(t, ctx, selSignIn)
	e.waitLoginForm(t, ctx)
	if shot != "" {
		screenshot(t, ctx, shot)
	}
	e.submitCredentials(t, ctx)
	waitAt(t, ctx, e.app.URL+"/", selWelcome)
}

// checkHomeSignedIn checks the welcome line and the session JSON of the home
// page against /api/auth/session.
func (e *journeyEnv) checkHomeSignedIn(t *testing.T, ctx context.Context) {
	t.Helper()
	if got := textOf(t, ctx, selWelcome); !strings.Contains(got, wantWelcome) {
		t.Errorf("%s = %q, want it to contain %q", selWelcome, got, wantWelcome)
	}
	shown := textOf(t, ctx, selSessionJSON)
	for _, bad := range []string{"id_token", "access_token", "refresh_token"} {
		if strings.Contains(shown, bad) {
			t.Errorf("the session JSON on the page contains %q:\n%s", bad, shown)
		}
	}
	if containsJWT(shown) {
		t.Errorf("the session JSON on the page contains a JWT:\n%s", shown)
	}
	var page sessionJSON
	if err := json.Unmarshal([]byte(shown), &page); err != nil {
		t.Fatalf("%s is not the session JSON: %v\n%s", selSessionJSON, err, shown)
	}
	for k, want := range map[string]string{
		"given_name": wantGivenName, "family_name": wantFamilyName, "email": e.wantEmail,
	} {
		if got := page.User[k]; got != want {
			t.Errorf("session JSON user.%s = %v, want %q\n%s", k, got, want, shown)
		}
	}
	if page.Expires == "" {
		t.Errorf("session JSON has no expires:\n%s", shown)
	} else if _, err := time.Parse(time.RFC3339, page.Expires); err != nil {
		t.Errorf("session JSON expires %q is not an RFC 3339 time", page.Expires)
	}

	// The same session as the API returns it.
	raw := evalJS[string](t, ctx, `fetch('/api/auth/session', {credentials: 'same-origin'}).then((r) => r.text())`)
	var api sessionJSON
	if err := json.Unmarshal([]byte(raw), &api); err != nil {
		t.Fatalf("/api/auth/session is not JSON: %v\n%s", err, raw)
	}
	if a, b := mustJSON(api.User), mustJSON(page.User); a != b {
		t.Errorf("user on the page differs from /api/auth/session:\npage: %s\napi:  %s", b, a)
	}
	for _, bad := range []string{"id_token", "access_token", "refresh_token"} {
		if strings.Contains(raw, bad) {
			t.Errorf("/api/auth/session contains %q:\n%s", bad, raw)
		}
	}
	if containsJWT(raw) {
		t.Errorf("/api/auth/session contains a JWT:\n%s", raw)
	}
}

// sessionJSON is the shape of /api/auth/session.
type sessionJSON struct {
	User    map[string]any `json:"user"`
	Expires string         `json:"expires"`
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// checkSessionCookies checks the session cookie (or its chunks) and its
// attributes on http: HttpOnly, SameSite=Lax, Path=/, not Secure.
func (e *journeyEnv) checkSessionCookies(t *testing.T, ctx context.Context) {
	t.Helper()
	cookies := appCookies(t, ctx, e.app.URL)
	var session []*network.Cookie
	for _, c := range cookies {
		if isSessionCookie(c.Name) {
			session = append(session, c)
		}
	}
	if len(session) == 0 {
		t.Fatalf("no signet.session-token cookie after sign-in; the app's cookies:\n%s", describeCookies(cookies))
	}
	for _, c := range session {
		if !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax || c.Path != "/" || c.Secure {
			t.Errorf("session cookie %s: httpOnly=%v sameSite=%q path=%q secure=%v; want HttpOnly, SameSite=Lax, Path=/, not Secure on http",
				c.Name, c.HTTPOnly, c.SameSite, c.Path, c.Secure)
		}
		if c.Size > 4096 {
			t.Errorf("session cookie %s is %d bytes, more than a browser keeps", c.Name, c.Size)
		}
	}
	t.Logf("the app's cookies when signed in:\n%s", describeCookies(cookies))
}

// isSessionCookie reports whether name is the session cookie or one of its
// chunks (signet.session-token, signet.session-token.0, ...).
func isSessionCookie(name string) bool {
	name = strings.TrimPrefix(name, "__Secure-")
	return name == "signet.session-token" || strings.HasPrefix(name, "signet.session-token.")
}

// checkProfile opens /profile from the nav and checks its fields.
func (e *journeyEnv) checkProfile(t *testing.T, ctx context.Context) {
	t.Helper()
	checkProfileFields(t, ctx, e.wantEmail)
	waitVisible(t, ctx, selSignOut)
}

func checkProfileFields(t *testing.T, ctx context.Context, wantEmail string) {
	t.Helper()
	for sel, want := range map[string]string{
		selProfileEmail: wantEmail, selProfileGiven: wantGivenName, selProfileFamily: wantFamilyName,
	} {
		if got := textOf(t, ctx, sel); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
}

// signOutTrip is what the browser did between a click on Sign out and the
// home page.
type signOutTrip struct {
	endSession    *url.URL // the request to the IdP's end_session_endpoint (nil: none)
	postLogout    *url.URL // the request to the app's /auth/sign-out
	sawSigningOut bool     // the /auth/sign-out page showed #signing-out
	idpVisits     []string // every URL of the IdP visited
}

// signOut clicks Sign out on the profile page and follows the browser to the
// home page, signed out.
func (e *journeyEnv) signOut(t *testing.T, ctx context.Context) signOutTrip {
	t.Helper()
	visitsBefore, pagesBefore := len(visitedURLs(ctx)), len(pagesSeen(ctx))
	click(t, ctx, selSignOut)
	e.followSignOut(t, ctx)

	var trip signOutTrip
	endSession := ""
	if e.op != nil {
		endSession, _ = e.op.Discovery(t)["end_session_endpoint"].(string)
	} else {
		endSession = e.endSession(t)
	}
	for _, v := range visitedURLs(ctx)[visitsBefore:] {
		if v.Kind != "request:Document" {
			continue
		}
		u, err := url.Parse(v.URL)
		if err != nil {
			continue
		}
		bare := u.Scheme + "://" + u.Host + u.Path
		if strings.HasPrefix(v.URL, e.idpPrefix) {
			trip.idpVisits = append(trip.idpVisits, v.URL)
		}
		switch {
		case endSession != "" && bare == endSession && trip.endSession == nil:
			trip.endSession = u
		case bare == e.app.URL+signOutPagePath && trip.postLogout == nil:
			trip.postLogout = u
		}
	}
	for _, p := range pagesSeen(ctx)[pagesBefore:] {
		if strings.HasPrefix(p.URL, e.app.URL+signOutPagePath) && p.Has(idSigningOut) {
			trip.sawSigningOut = true
		}
	}
	if trip.postLogout == nil {
		t.Errorf("the browser never loaded %s after Sign out:\n%s", signOutPagePath, formatVisits(visitedURLs(ctx)[visitsBefore:]))
	}
	if !trip.sawSigningOut {
		t.Errorf("the %s page did not show %s", signOutPagePath, selSigningOut)
	}
	return trip
}

// followSignOut waits for the home page, signed out, after a click on Sign
// out. On the way, a sign-out confirmation of the IdP (a page of the IdP with
// logoutConfirmSel and no password field) is screenshotted and confirmed, and
// the app's signed-out page, which stays until the visitor goes on, is
// screenshotted and its Continue clicked.
func (e *journeyEnv) followSignOut(t *testing.T, ctx context.Context) {
	t.Helper()
	home, _ := json.Marshal(e.app.URL + "/")
	signIn, _ := json.Marshal(selSignIn)
	idp, _ := json.Marshal(e.idpPrefix)
	confirm, _ := json.Marshal(e.logoutConfirmSel)
	signingOut, _ := json.Marshal(e.app.URL + signOutPagePath)
	expr := `(() => {
  const visible = (s) => { const el = s && document.querySelector(s); return !!el && el.getClientRects().length > 0; };
  if (document.readyState === 'loading') return '';
  if (location.origin + location.pathname === ` + string(home) + ` && visible(` + string(signIn) + `)) return 'home';
  if (location.origin + location.pathname === ` + string(signingOut) + ` && visible('` + selSigningOut + `')) return 'signing-out';
  if (location.href.startsWith(` + string(idp) + `) && visible(` + string(confirm) + `) && !document.querySelector('input[type=password]')) return 'confirm';
  return '';
})()`
	deadline := time.Now().Add(2 * stepTimeout)
	confirmed, continued := 0, 0
	for time.Now().Before(deadline) {
		var state string
		err := withTimeout(ctx, 2*time.Second, func(ctx context.Context) error {
			var err error
			state, err = chromedp.Run(ctx, chromedp.Evaluate[string](expr))
			return err
		})
		switch {
		case err != nil:
		case state == "home":
			return
		case state == "signing-out" && continued < 2:
			continued++
			screenshot(t, ctx, "05b-signed-out")
			click(t, ctx, "a#continue")
		case state == "confirm" && confirmed < 2:
			confirmed++
			screenshot(t, ctx, "05a-idp-sign-out-confirmation")
			click(t, ctx, e.logoutConfirmSel)
		}
		time.Sleep(100 * time.Millisecond)
	}
	loc, _ := location(ctx)
	t.Fatalf("after Sign out the browser did not reach the home page, signed out, within %v (at %s)", 2*stepTimeout, loc)
}

// checkRPInitiatedLogout checks that the sign-out went through the IdP's
// end_session_endpoint with id_token_hint, client_id, the post-logout URI and
// a state that came back to /auth/sign-out.
func (e *journeyEnv) checkRPInitiatedLogout(t *testing.T, trip signOutTrip) {
	t.Helper()
	if trip.endSession == nil {
		t.Errorf("the browser did not visit the IdP's end_session_endpoint after Sign out; IdP URLs: %v", trip.idpVisits)
		return
	}
	q := trip.endSession.Query()
	if hint := q.Get("id_token_hint"); !containsJWT(hint) {
		t.Errorf("end_session id_token_hint = %q, want the ID token", hint)
	}
	if got := q.Get("client_id"); got == "" || (e.clientID != "" && got != e.clientID) {
		t.Errorf("end_session client_id = %q, want %q", got, e.clientID)
	}
	if got, want := q.Get("post_logout_redirect_uri"), e.app.URL+signOutPagePath; got != want {
		t.Errorf("end_session post_logout_redirect_uri = %q, want %q", got, want)
	}
	state := q.Get("state")
	if state == "" {
		t.Errorf("end_session has no state")
	}
	if trip.postLogout != nil && trip.postLogout.Query().Get("state") != state {
		t.Errorf("%s got state %q, want the state sent to the IdP, %q", signOutPagePath, trip.postLogout.Query().Get("state"), state)
	}
	// The app's log must not hold the ID token (it sent it as id_token_hint).
	if hint := q.Get("id_token_hint"); hint != "" && !e.sharedLog && strings.Contains(e.app.Logs(), hint) {
		t.Errorf("the app's log contains the ID token")
	}
}

// checkSignedOutCookies checks that no session, flow or logout cookie of the
// app is left.
func (e *journeyEnv) checkSignedOutCookies(t *testing.T, ctx context.Context) {
	t.Helper()
	for _, c := range appCookies(t, ctx, e.app.URL) {
		name := strings.TrimPrefix(strings.TrimPrefix(c.Name, "__Secure-"), "__Host-")
		if isSessionCookie(c.Name) || slices.Contains([]string{
			"signet.state", "signet.nonce", "signet.pkce.code_verifier", "signet.logout-state",
		}, name) {
			t.Errorf("cookie %s is still there after sign-out (size %d)", c.Name, c.Size)
		}
	}
}

// TestSignInSignOut is the journey of issue 2: sign in through the IdP,
// home and profile signed in, sign out at the app and at the IdP, and the
// next Sign in asks for credentials again.
func TestSignInSignOut(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  func(t *testing.T) *journeyEnv
	}{
		{"embedded", embeddedEnv},
		{"oidc", func(t *testing.T) *journeyEnv { return opEnv(t, "oidc", nil) }},
		{"asgardeo", func(t *testing.T) *journeyEnv {
			// Asgardeo's ID token carries username and, by default, no email:
			// the profile shows the username as email.
			e := opEnv(t, "asgardeo", func(c *OPConfig) {
				c.Accounts = []OPAccount{{
					ID: "ada", Password: "lovelace", GivenName: "Ada", FamilyName: "Lovelace",
					Name: "Ada Lovelace", Username: "ada.lovelace@asgardeo.example",
				}}
			})
			e.wantEmail = "ada.lovelace@asgardeo.example"
			return e
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := tc.env(t)
			ctx := newBrowser(t)

			// Home, signed out.
			navigate(t, ctx, e.app.URL+"/")
			waitVisible(t, ctx, selSignIn)
			screenshot(t, ctx, "01-home-signed-out")

			// Sign in → the IdP's login form → home, signed in.
			click(t, ctx, selSignIn)
			e.waitLoginForm(t, ctx)
			screenshot(t, ctx, "02-idp-login")
			e.submitCredentials(t, ctx)
			waitAt(t, ctx, e.app.URL+"/", selWelcome)
			screenshot(t, ctx, "03-home-signed-in")
			e.checkHomeSignedIn(t, ctx)
			e.checkSessionCookies(t, ctx)

			// Profile.
			click(t, ctx, selNavProfile)
			waitAt(t, ctx, e.app.URL+"/profile", selProfileEmail)
			e.checkProfile(t, ctx)
			screenshot(t, ctx, "04-profile")

			// Sign out: the app, then the IdP, then /auth/sign-out, then home.
			trip := e.signOut(t, ctx)
			e.checkRPInitiatedLogout(t, trip)
			var idToken string // the ID token, as the app sent it to the IdP
			if trip.endSession != nil {
				idToken = trip.endSession.Query().Get("id_token_hint")
			}
			screenshot(t, ctx, "06-home-signed-out-again")
			e.checkSignedOutCookies(t, ctx)
			if got := evalJS[string](t, ctx, `fetch('/api/auth/session').then((r) => r.text())`); strings.TrimSpace(got) != "null" {
				t.Errorf("/api/auth/session after sign-out = %s, want null", got)
			}

			// Sign in again: the IdP's session ended, so it asks for credentials.
			navigate(t, ctx, e.app.URL+"/")
			click(t, ctx, selSignIn)
			if waitAny(t, ctx, e.loginSel, selWelcome) == selWelcome {
				screenshot(t, ctx, "07-signed-in-without-credentials")
				t.Fatalf("Sign in again went through without asking for credentials: the IdP's session was not ended")
			}
			e.waitLoginForm(t, ctx)
			screenshot(t, ctx, "07-idp-login-again")
			e.submitCredentials(t, ctx)
			waitAt(t, ctx, e.app.URL+"/", selWelcome)
			screenshot(t, ctx, "08-home-signed-in-again")

			assertNoTokenInAppURLs(t, ctx, e.app.URL, e.skipPaths, idToken)
		})
	}
}

// TestLocalSignOutKeepsIdPSession is the control of TestSignInSignOut: after
// a local-only sign-out (the app's signet.* cookies deleted, as the seeds'
// plain signOut() does), the IdP's session is still there, so Sign in goes
// straight through without asking for credentials. It shows that the check
// "Sign in again asks for credentials" can fail.
func TestLocalSignOutKeepsIdPSession(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  func(t *testing.T) *journeyEnv
	}{
		{"embedded", embeddedEnv},
		{"oidc", func(t *testing.T) *journeyEnv { return opEnv(t, "oidc", nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := tc.env(t)
			ctx := newBrowser(t)
			e.signInFromHome(t, ctx, "01-idp-login")
			screenshot(t, ctx, "02-home-signed-in")

			deleted := deleteAppCookies(t, ctx, e.app.URL)
			if !slices.ContainsFunc(deleted, isSessionCookie) {
				t.Fatalf("no session cookie to delete; deleted %v", deleted)
			}
			navigate(t, ctx, e.app.URL+"/")
			waitAt(t, ctx, e.app.URL+"/", selSignIn)
			screenshot(t, ctx, "03-home-after-local-sign-out")

			pagesBefore := len(pagesSeen(ctx))
			click(t, ctx, selSignIn)
			waitAt(t, ctx, e.app.URL+"/", selWelcome)
			screenshot(t, ctx, "04-home-signed-in-without-credentials")
			for _, p := range pagesSeen(ctx)[pagesBefore:] {
				if p.Password && !p.Frame {
					t.Errorf("the IdP asked for credentials again at %s, but its session should still be there", p.URL)
				}
			}
			assertNoTokenInAppURLs(t, ctx, e.app.URL, e.skipPaths)
		})
	}
}

// TestProfileRequiresSignIn: a signed-out visit to /profile goes to the
// sign-in page, then the IdP, and back to /profile.
func TestProfileRequiresSignIn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  func(t *testing.T) *journeyEnv
	}{
		{"embedded", embeddedEnv},
		{"oidc", func(t *testing.T) *journeyEnv { return opEnv(t, "oidc", nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := tc.env(t)
			ctx := newBrowser(t)
			navigate(t, ctx, e.app.URL+"/profile")
			waitAt(t, ctx, e.app.URL+signInPagePath, e.providerSel)
			screenshot(t, ctx, "01-sign-in-page")
			if n := evalJS[int](t, ctx, `document.querySelectorAll('button[data-provider]').length`); n != 1 {
				t.Errorf("the sign-in page has %d provider buttons, want 1", n)
			}
			click(t, ctx, e.providerSel)
			e.waitLoginForm(t, ctx)
			screenshot(t, ctx, "02-idp-login")
			e.submitCredentials(t, ctx)
			waitAt(t, ctx, e.app.URL+"/profile", selProfileEmail)
			checkProfileFields(t, ctx, e.wantEmail)
			screenshot(t, ctx, "03-profile")
			assertNoTokenInAppURLs(t, ctx, e.app.URL, e.skipPaths)
		})
	}
}

// TestSignOutWithoutEndSessionEndpoint: an IdP whose discovery has no
// end_session_endpoint gets a local-only sign-out that lands on the same
// post-logout page. The IdP's session is left as it is, so the next Sign in
// goes through without credentials.
func TestSignOutWithoutEndSessionEndpoint(t *testing.T) {
	t.Parallel()
	e := opEnv(t, "oidc", func(c *OPConfig) {
		c.Features.RPInitiatedLogout = new(false)
		c.Features.FrontchannelLogout = new(false)
	})
	if es := e.endSession(t); es != "" {
		t.Fatalf("the OP advertises end_session_endpoint %s; the test needs it without", es)
	}
	ctx := newBrowser(t)
	e.signInFromHome(t, ctx, "01-idp-login")
	click(t, ctx, selNavProfile)
	waitAt(t, ctx, e.app.URL+"/profile", selSignOut)
	screenshot(t, ctx, "02-profile")

	trip := e.signOut(t, ctx)
	if len(trip.idpVisits) > 0 {
		t.Errorf("sign-out visited the IdP, which has no end_session_endpoint: %v", trip.idpVisits)
	}
	screenshot(t, ctx, "03-home-signed-out")
	e.checkSignedOutCookies(t, ctx)

	pagesBefore := len(pagesSeen(ctx))
	click(t, ctx, selSignIn)
	waitAt(t, ctx, e.app.URL+"/", selWelcome)
	for _, p := range pagesSeen(ctx)[pagesBefore:] {
		if p.Password && !p.Frame {
			t.Errorf("the IdP asked for credentials at %s, but a local-only sign-out leaves its session", p.URL)
		}
	}
	assertNoTokenInAppURLs(t, ctx, e.app.URL, e.skipPaths)
}

// TestPagesOnPhone walks the pages at phone size (390x844) for the
// screenshots, with the embedded IdP.
func TestPagesOnPhone(t *testing.T) {
	t.Parallel()
	e := embeddedEnv(t)
	ctx := newPhoneBrowser(t)
	navigate(t, ctx, e.app.URL+"/")
	waitVisible(t, ctx, selSignIn)
	screenshot(t, ctx, "01-home-signed-out")
	navigate(t, ctx, e.app.URL+signInPagePath)
	waitVisible(t, ctx, e.providerSel)
	screenshot(t, ctx, "02-sign-in-page")
	e.signInFromHome(t, ctx, "03-idp-login")
	screenshot(t, ctx, "04-home-signed-in")
	if w := evalJS[int](t, ctx, `document.documentElement.scrollWidth`); w > phoneWidth {
		t.Errorf("the home page is %dpx wide on a %dpx screen (it scrolls sideways)", w, phoneWidth)
	}
	navigate(t, ctx, e.app.URL+"/profile")
	waitVisible(t, ctx, selProfileEmail)
	screenshot(t, ctx, "05-profile")
	if w := evalJS[int](t, ctx, `document.documentElement.scrollWidth`); w > phoneWidth {
		t.Errorf("the profile page is %dpx wide on a %dpx screen (it scrolls sideways)", w, phoneWidth)
	}
	navigate(t, ctx, e.app.URL+"/api/auth/error?error=Verification")
	waitVisible(t, ctx, "#error-code")
	screenshot(t, ctx, "06-error-page")
}

// TestErrorPage: the error page names the Auth.js code.
func TestErrorPage(t *testing.T) {
	t.Parallel()
	e := embeddedEnv(t)
	ctx := newBrowser(t)
	for _, code := range []string{"Verification", "Configuration", "AccessDenied"} {
		navigate(t, ctx, e.app.URL+"/api/auth/error?error="+code)
		if got := textOf(t, ctx, "#error-code"); !strings.Contains(got, code) {
			t.Errorf("#error-code for %s = %q", code, got)
		}
		screenshot(t, ctx, code)
	}
}

// TestSignOutWithoutCSRFToken: a sign-out POST without csrfToken changes
// nothing and shows the MissingCSRF error page.
func TestSignOutWithoutCSRFToken(t *testing.T) {
	t.Parallel()
	e := embeddedEnv(t)
	ctx := newBrowser(t)
	e.signInFromHome(t, ctx, "")
	run(t, ctx, "post a sign-out form without csrfToken", chromedp.Evaluate[chromedp.Void](`(() => {
  const f = document.createElement('form');
  f.method = 'POST';
  f.action = '/api/auth/signout';
  document.body.appendChild(f);
  f.submit();
})()`))
	if got := textOf(t, ctx, "#error-code"); !strings.Contains(got, "MissingCSRF") {
		t.Errorf("#error-code = %q, want MissingCSRF", got)
	}
	screenshot(t, ctx, "01-missing-csrf")
	navigate(t, ctx, e.app.URL+"/")
	waitAt(t, ctx, e.app.URL+"/", selWelcome)
}

// TestSignOutWithCustomLogoutURL: a provider whose logout endpoint is not
// discovery's end_session_endpoint but a URL of its own, in Amazon
// Cognito's shape (/logout?client_id=…&logout_uri=…, no state back). The
// cognito preset builds it from the authorization endpoint's host; the test
// OP serves it and really ends its session, so Sign in asks for the
// password again.
func TestSignOutWithCustomLogoutURL(t *testing.T) {
	t.Parallel()
	e := opEnv(t, "cognito", nil)
	ctx := newBrowser(t)
	e.signInFromHome(t, ctx, "01-idp-login")
	click(t, ctx, selNavProfile)
	waitAt(t, ctx, e.app.URL+"/profile", selSignOut)
	screenshot(t, ctx, "02-profile")

	visitsBefore := len(visitedURLs(ctx))
	trip := e.signOut(t, ctx)
	var custom *url.URL
	for _, v := range visitedURLs(ctx)[visitsBefore:] {
		if u, err := url.Parse(v.URL); err == nil && v.Kind == "request:Document" && u.Scheme+"://"+u.Host+u.Path == e.op.Issuer+"/logout" {
			custom = u
		}
	}
	if custom == nil {
		t.Fatalf("sign-out never visited the custom logout URL %s/logout:\n%s", e.op.Issuer, formatVisits(visitedURLs(ctx)[visitsBefore:]))
	}
	if got, want := custom.Query().Get("client_id"), e.clientID; got != want {
		t.Errorf("client_id = %q, want %q", got, want)
	}
	if got, want := custom.Query().Get("logout_uri"), e.app.URL+signOutPagePath; got != want {
		t.Errorf("logout_uri = %q, want %q", got, want)
	}
	if custom.Query().Has("id_token_hint") {
		t.Error("the custom logout URL carries id_token_hint, which Cognito does not take")
	}
	if trip.postLogout == nil {
		t.Fatal("the IdP did not send the browser back to the post-logout page")
	}
	e.op.WaitLog(t, "end_session.success", stepTimeout)
	screenshot(t, ctx, "03-home-signed-out")
	e.checkSignedOutCookies(t, ctx)

	click(t, ctx, selSignIn)
	e.waitLoginForm(t, ctx)
	screenshot(t, ctx, "04-idp-login-again")
	assertNoTokenInAppURLs(t, ctx, e.app.URL, e.skipPaths)
}

// TestBackAfterSignOut: after signing out through the confirmation page,
// Back returns to it; the visitor is told they are signed out, not asked
// to sign out again, and Continue goes home, signed out.
func TestBackAfterSignOut(t *testing.T) {
	t.Parallel()
	e := embeddedEnv(t)
	ctx := newBrowser(t)
	e.signInFromHome(t, ctx, "")
	navigate(t, ctx, e.app.URL+"/api/auth/signout")
	waitVisible(t, ctx, selSignOut)
	screenshot(t, ctx, "01-sign-out-page")
	click(t, ctx, selSignOut)
	e.toSignedOutPage(t, ctx, "/api/auth/signout")
	screenshot(t, ctx, "02-signed-out")

	// Back, past the IdP's page if it showed one, to the sign-out page.
	for range 3 {
		run(t, ctx, "go back", chromedp.NavigateBack())
		if loc, _ := location(ctx); strings.HasPrefix(loc, e.app.URL+"/api/auth/signout") {
			break
		}
	}
	waitAt(t, ctx, e.app.URL+"/api/auth/signout", "#signed-out")
	screenshot(t, ctx, "03-back-to-sign-out-page")
	if got := textOf(t, ctx, "main"); strings.Contains(got, "Are you sure") || !strings.Contains(got, "You’re signed out") {
		t.Errorf("the sign-out page after Back says:\n%s", got)
	}
	if n := evalJS[int](t, ctx, `document.querySelectorAll("#sign-out").length`); n != 0 {
		t.Errorf("the sign-out page after Back offers to sign out again (%d buttons)", n)
	}
	click(t, ctx, "a#continue")
	waitAt(t, ctx, e.app.URL+"/", selSignIn)
}

// toSignedOutPage follows a click on Sign out on the page at fromPath to the
// app's signed-out page, confirming at the IdP if it asks.
func (e *journeyEnv) toSignedOutPage(t *testing.T, ctx context.Context, fromPath string) {
	t.Helper()
	from, _ := json.Marshal(fromPath)
	idp, _ := json.Marshal(e.idpPrefix)
	waitJS(t, ctx, "leave "+fromPath, `location.pathname !== `+string(from), stepTimeout)
	if loc, _ := location(ctx); strings.HasPrefix(loc, e.idpPrefix) && e.logoutConfirmSel != "" {
		waitJS(t, ctx, "the IdP's page", `location.href.startsWith(`+string(idp)+`) && document.readyState !== "loading"`, stepTimeout)
		if loc, _ := location(ctx); strings.HasPrefix(loc, e.idpPrefix) {
			click(t, ctx, e.logoutConfirmSel)
		}
	}
	waitAt(t, ctx, e.app.URL+signOutPagePath, selSigningOut)
}
