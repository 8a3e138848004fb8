package e2e

// The app's log holds no secret. A whole journey in a real browser, with the
// app at LOG_LEVEL=debug (the most it logs), against oidc-provider and
// against the embedded IdP: sign in, the pages and their htmx fragments, the
// account page (userinfo called with the access token), a refresh of the
// access token (oidc-provider only: the app asks the embedded IdP for no
// refresh token), sign out at the app and the IdP with its back-channel
// logout, sign in again, a sign-out started at the IdP (back-channel
// logout of a live session), and a replayed callback.
//
// The values to look for are taken from the wire, not from the app: a tap
// (tap_test.go) sits in front of the app as its AUTH_URL and, for
// oidc-provider, in front of the OP as its issuer. It sees every
// authorization code (the callback's query and the IdP's Location), every
// token response (ID, access and refresh tokens), the client secret (the
// token request's Basic auth), Bearer tokens, logout tokens, every cookie
// sent or set, and the state, nonce, PKCE verifier and CSRF tokens. The
// embedded IdP shares the app's origin, so the app's tap sees its traffic
// too (the app calls its own /dev-idp/ through AUTH_URL).

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tappedEnv is a journey environment with taps in front of the app and the
// IdP.
type tappedEnv struct {
	*journeyEnv
	taps []*tap
	// known are secrets known without the wire: AUTH_SECRET and, for
	// oidc-provider, the client secret it was given.
	known []secretValue
	// endSession is the IdP's end_session_endpoint, for a sign-out started
	// at the IdP; confirmSel is the button of its confirmation page ("" when
	// the page goes on by itself).
	endSession, confirmSel string
	// refresh is true when the access token is short-lived and a refresh
	// token was issued: the journey waits for a refresh.
	refresh      bool
	accessTTL    time.Duration
	providerID   string
	wantLogLines []string
}

const tappedAccessTTL = 4 * time.Second

// tappedOPEnv is oidc-provider behind a tap (its issuer is the tap's URL),
// with 4-second access tokens, and the app behind another tap.
func tappedOPEnv(t *testing.T) *tappedEnv {
	t.Helper()
	chromiumPath(t)
	appTap, opTap := newTap(t), newTap(t)
	client := appClient(appTap.URL, "oidc")
	opPort := freePort(t)
	op := startOP(t, OPConfig{
		Port: opPort, Issuer: opTap.URL, Clients: []OPClient{client},
		TTL: map[string]int{"AccessToken": int(tappedAccessTTL / time.Second)},
	})
	opTap.setTarget("http://127.0.0.1:" + strconv.Itoa(opPort))
	secret := randomSecret()
	app := startApp(t, map[string]string{
		"AUTH_URL":         appTap.URL,
		"AUTH_SECRET":      secret,
		"AUTH_OIDC_ISSUER": opTap.URL,
		"AUTH_OIDC_ID":     client.ClientID,
		"AUTH_OIDC_SECRET": client.ClientSecret,
		"LOG_LEVEL":        "debug",
	})
	appTap.setTarget(app.URL)
	viaTap := *app
	viaTap.URL = appTap.URL
	e := &tappedEnv{
		journeyEnv: &journeyEnv{
			app: &viaTap, op: op,
			providerSel: `button[data-provider="oidc"]`,
			loginSel:    opLoginSel, passwordSel: opPasswordSel, submitSel: opSubmitSel,
			username: "ada", password: "lovelace",
			idpPrefix: opTap.URL + "/",
			clientID:  client.ClientID,
			wantEmail: defaultWantedEmail,
		},
		taps: []*tap{appTap, opTap},
		known: []secretValue{
			{Kind: "AUTH_SECRET", Where: "the app's environment", Value: secret},
			{Kind: "client secret", Where: "the app's environment", Value: client.ClientSecret},
		},
		refresh:    true,
		accessTTL:  tappedAccessTTL,
		providerID: "oidc",
		wantLogLines: []string{
			"access token refreshed",
			// oidc-provider also loads the front-channel receiver, which
			// clears the browser's session at once.
			`msg="front-channel logout"`,
		},
	}
	e.endSession, _ = op.Discovery(t)["end_session_endpoint"].(string)
	return e
}

// tappedEmbeddedEnv is the app with its embedded IdP, behind a tap.
func tappedEmbeddedEnv(t *testing.T) *tappedEnv {
	t.Helper()
	chromiumPath(t)
	appTap := newTap(t)
	secret := randomSecret()
	app := startApp(t, map[string]string{
		"AUTH_URL":    appTap.URL,
		"AUTH_SECRET": secret,
		"LOG_LEVEL":   "debug",
	})
	appTap.setTarget(app.URL)
	viaTap := *app
	viaTap.URL = appTap.URL
	e := &tappedEnv{
		journeyEnv: &journeyEnv{
			app:         &viaTap,
			providerSel: "button[data-provider]",
			loginSel:    `input[name="username"]`, passwordSel: `input[name="password"]`, submitSel: `button[type="submit"]`,
			username: "ada", password: "lovelace",
			idpPrefix:        appTap.URL + devIdPPath,
			skipPaths:        []string{devIdPPath},
			wantEmail:        defaultWantedEmail,
			sharedLog:        true,
			logoutConfirmSel: `button[type="submit"]`,
		},
		taps: []*tap{appTap},
		known: []secretValue{
			{Kind: "AUTH_SECRET", Where: "the app's environment", Value: secret},
		},
		confirmSel: `button[type="submit"]`,
		providerID: "dev",
		wantLogLines: []string{
			"back-channel logout delivered",
			// The session's next request finds it revoked.
			"session ended elsewhere",
		},
	}
	e.endSession = e.journeyEnv.endSession(t)
	return e
}

// TestLogsHoldNoSecrets: see the top of the file.
func TestLogsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  func(*testing.T) *tappedEnv
	}{
		{"oidc", tappedOPEnv},
		{"embedded", tappedEmbeddedEnv},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := tc.env(t)
			ctx := newBrowser(t)
			app := e.app

			// Sign in; home, its session JSON and /api/auth/session.
			e.signInFromHome(t, ctx, "")
			signedInAt := time.Now()
			e.checkHomeSignedIn(t, ctx)
			swapFragments(t, ctx)

			// Profile and account pages, fragments swapped by htmx.
			navigate(t, ctx, app.URL+"/profile")
			waitVisible(t, ctx, selProfileEmail)
			swapFragments(t, ctx)
			navigate(t, ctx, app.URL+"/account")
			waitVisible(t, ctx, "#token-card")
			waitVisible(t, ctx, "#userinfo-card")

			// A refresh: once the access token is due, the next page refreshes it.
			if e.refresh {
				time.Sleep(time.Until(signedInAt.Add(e.accessTTL - e.accessTTL/4 + 300*time.Millisecond)))
				navigate(t, ctx, app.URL+"/account")
				waitVisible(t, ctx, "#token-card")
				app.WaitLog(t, "access token refreshed", 10*time.Second)
			}

			// Sign out at the app and the IdP (back-channel logout on the way).
			navigate(t, ctx, app.URL+"/profile")
			waitVisible(t, ctx, selSignOut)
			trip := e.signOut(t, ctx)
			e.checkRPInitiatedLogout(t, trip)

			// Sign in again, then end the session at the IdP: its back-channel
			// logout ends the app's live session.
			e.signInFromHome(t, ctx, "")
			before := strings.Count(app.Logs(), `msg="back-channel logout"`)
			navigate(t, ctx, e.endSession)
			if e.confirmSel != "" {
				click(t, ctx, e.confirmSel)
			}
			waitLogCount(t, app, `msg="back-channel logout"`, before+1, 10*time.Second)
			// The IdP's tab may still be loading its last sign-out page
			// (a navigation there would be aborted): the rest goes on in a
			// tab of its own, with the same cookies.
			ctx = newTab(t, ctx)
			navigate(t, ctx, app.URL+"/")
			waitAt(t, ctx, app.URL+"/", selSignIn)

			// A replayed callback: the first one, with its used code and state.
			var callbacks []string
			for _, ex := range e.taps[0].Exchanges() {
				if ex.Method == "GET" && ex.URL.Path == "/api/auth/callback/"+e.providerID && ex.URL.Query().Get("code") != "" {
					callbacks = append(callbacks, ex.URL.String())
				}
			}
			if len(callbacks) < 2 {
				t.Fatalf("the tap saw %d callbacks, want 2", len(callbacks))
			}
			navigate(t, ctx, app.URL+callbacks[0])
			waitVisible(t, ctx, "#error-code")
			app.WaitLog(t, "auth flow failed", 5*time.Second)

			logs := app.Logs()
			for _, want := range append([]string{
				`msg="signed in"`, `msg="signed out"`, `msg="back-channel logout"`, "auth flow failed",
			}, e.wantLogLines...) {
				if !strings.Contains(logs, want) {
					t.Errorf("the app's log lacks %q: the journey is not complete", want)
				}
			}

			secrets := slices.Clone(e.known)
			for _, tp := range e.taps {
				secrets = append(secrets, tp.Secrets()...)
			}
			checkSecretsAbsent(t, logs, secrets)

			// The values come from the wire and are the real ones: the OP logs
			// its request URLs, so its own log holds the ID token the app sent
			// as id_token_hint.
			if e.op != nil && trip.endSession != nil {
				if hint := trip.endSession.Query().Get("id_token_hint"); hint == "" || !strings.Contains(e.op.Log(), hint) {
					t.Errorf("the OP's log lacks the id_token_hint the browser carried: the control failed")
				}
			}

			wantKinds := []string{
				"authorization code", "ID token", "access token", "client secret", "AUTH_SECRET",
				"state", "nonce", "PKCE verifier", "logout token", "CSRF token",
				"cookie signet.session-token", "cookie signet.csrf-token", "cookie signet.state",
			}
			if e.refresh {
				wantKinds = append(wantKinds, "refresh token")
			}
			kinds := map[string]int{}
			for _, s := range secrets {
				kinds[s.Kind]++
			}
			for _, k := range wantKinds {
				if kinds[k] == 0 {
					t.Errorf("no %s was seen on the wire: the check would not find it", k)
				}
			}
			t.Logf("the app's log (%d bytes, %d lines) holds none of %d secret values:\n%s",
				len(logs), len(lines(logs)), len(secrets), formatKinds(kinds))
		})
	}
}

// waitLogCount waits until the app's log holds s at least n times.
func waitLogCount(t *testing.T, app *App, s string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for strings.Count(app.Logs(), s) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the app logged %q %d times within %v, want %d:\n%s", s, strings.Count(app.Logs(), s), timeout, n, tail(app.Logs(), 4000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkSecretsAbsent fails the test for each secret found in logs, whole,
// URL-encoded, or in part (its first and middle 16 characters, for a value of
// 32 or more).
func checkSecretsAbsent(t *testing.T, logs string, secrets []secretValue) {
	t.Helper()
	for _, s := range secrets {
		probes := []string{s.Value, url.QueryEscape(s.Value)}
		if len(s.Value) >= 32 {
			probes = append(probes, s.Value[:16], s.Value[len(s.Value)/2:len(s.Value)/2+16])
		}
		for _, p := range probes {
			if i := strings.Index(logs, p); i >= 0 {
				start := strings.LastIndexByte(logs[:i], '\n') + 1
				end := strings.IndexByte(logs[i:], '\n')
				if end < 0 {
					end = len(logs) - i
				}
				t.Errorf("the app's log holds a %s (seen at %s):\n%s", s.Kind, s.Where, logs[start:i+end])
				break
			}
		}
	}
}

func formatKinds(kinds map[string]int) string {
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		fmt.Fprintf(&b, "  %3d %s\n", kinds[k], k)
	}
	return b.String()
}
