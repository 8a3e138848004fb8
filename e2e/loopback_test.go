package e2e

import (
	"strconv"
	"strings"
	"testing"
)

// TestZeroConfigFromLoopbackAddress is a newcomer's first minute: the app
// with nothing configured (no AUTH_URL, no AUTH_SECRET, no provider), and
// a browser that opens http://127.0.0.1:PORT, the address the listening
// line shows, rather than http://localhost:PORT, the one the app and its
// development IdP are configured with. The app sends the browser to
// localhost first, so Sign in ends signed in; Ada, whose grants include
// read:reports, then sees the reports, and signs out. The log of the whole
// run has no warning.
func TestZeroConfigFromLoopbackAddress(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	app := startApp(t, map[string]string{"AUTH_URL": "", "AUTH_SECRET": ""})
	canonical := "http://localhost:" + strconv.Itoa(app.Port)
	ctx := newBrowser(t)

	navigate(t, ctx, app.URL+"/")
	waitAt(t, ctx, canonical+"/", selSignIn)
	click(t, ctx, selSignIn)
	waitAt(t, ctx, canonical+"/dev-idp/login", `input[name="username"]`)
	screenshot(t, ctx, "01-idp-login")
	typeInto(t, ctx, `input[name="username"]`, "ada")
	typeInto(t, ctx, `input[name="password"]`, "lovelace")
	click(t, ctx, `button[type="submit"]`)
	waitAt(t, ctx, canonical+"/", selWelcome)
	if got := textOf(t, ctx, selWelcome); !strings.Contains(got, wantWelcome) {
		t.Errorf("%s = %q", selWelcome, got)
	}

	navigate(t, ctx, canonical+"/account")
	waitVisible(t, ctx, "#reports-section")
	if got := pageScopes(t, ctx); !hasAll(got, reportsScope) {
		t.Errorf("Ada's scopes on the account page = %v, want %s among them", got, reportsScope)
	}
	navigate(t, ctx, app.URL+"/reports") // the loopback address again: sent to localhost, still signed in
	waitAt(t, ctx, canonical+"/reports", "#reports-table")
	screenshot(t, ctx, "02-reports")

	// Sign out, through the IdP, on the same origin.
	e := &journeyEnv{
		app:              &App{URL: canonical, Port: app.Port, Env: app.Env, proc: app.proc},
		idpPrefix:        canonical + devIdPPath,
		logoutConfirmSel: `button[type="submit"]`,
	}
	navigate(t, ctx, canonical+"/profile")
	waitVisible(t, ctx, selSignOut)
	if trip := e.signOut(t, ctx); trip.endSession == nil {
		t.Errorf("Sign out did not go through the IdP's end_session_endpoint: %v", trip.idpVisits)
	}

	logs := app.Logs()
	if strings.Contains(logs, "level=WARN") || strings.Contains(logs, "level=ERROR") {
		t.Errorf("a zero-configuration run logged a warning or an error:\n%s", tail(logs, 4000))
	}
	if want := `msg="ready: open ` + canonical + ` in a browser`; !strings.Contains(logs, want) {
		t.Errorf("the start log does not say which URL to open (%s):\n%s", want, tail(logs, 2000))
	}
	for _, line := range lines(logs) {
		if !strings.HasPrefix(line, "time=") {
			t.Errorf("a log line not in the app's format: %q", line)
		}
	}
}
