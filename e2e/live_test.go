package e2e

// Live sign-out and "Your sessions", in real browsers, through nginx
// load-balancing two instances of the app (the upstream and location
// blocks of deploy/nginx.conf) that share one Redis, against
// oidc-provider. Two devices: A, a desktop browser (1280x800), and B, a
// phone (390x844), each with its own profile, both signed in as Ada.
//
//  1. A ends B's session from the sessions card on /profile: B's open
//     profile page shows the signed-out notice and a signed-out nav within
//     2 s, with no reload and no focus; its session stream is closed and
//     not opened again. A's card lists one session. B signs in again and
//     opens home; A's "Sign out all other sessions" swaps it within 2 s.
//  2. A logout at oidc-provider, which back-channels to the app through
//     nginx: A's open home page swaps to signed out within 2 s.
//  3. A signs in again and signs out in a second tab: the first tab, on
//     /account, swaps within 2 s.
//
// The pages' session streams (GET /api/auth/session/stream, Server-Sent
// Events) pass through nginx unbuffered: the app sends X-Accel-Buffering:
// no, and the example's location block needs nothing more. Screenshots of
// the card and of each swap go to e2e/screenshots/.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// liveBudget is how soon an open page must show a sign-out that happened
// elsewhere.
const liveBudget = 2 * time.Second

// windowSize makes a browser of that window size.
func windowSize(w, h int) BrowserOption {
	return func(c *browserConfig) { c.width, c.height = w, h }
}

// userAgent makes a browser that says it is ua.
func userAgent(ua string) BrowserOption {
	return func(c *browserConfig) { c.flags = append(c.flags, chromedp.UserAgent(ua)) }
}

// iPhoneUA is the User-Agent of Safari on an iPhone, for device B: its
// session is listed as "Safari on iOS".
const iPhoneUA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"

// viewShot saves what the tab's window shows (not the whole page) to
// e2e/screenshots/<TestName>-<name>.png, after scrolling sel into the
// middle of it: the pictures of the README (docs/live-*.png).
func viewShot(t *testing.T, ctx context.Context, sel, name string) {
	t.Helper()
	s, _ := json.Marshal(sel)
	run(t, ctx, "scroll to "+sel, chromedp.Evaluate[chromedp.Void](`document.querySelector(`+string(s)+`).scrollIntoView({block: 'center'})`))
	png := get(t, ctx, "screenshot "+name, chromedp.CaptureScreenshot())
	file := filepath.Join(e2eDir(t), "screenshots", screenshotNames.Replace(t.Name()+"-"+name)+".png")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
	}
}

// streamState is the readyState of the page's session stream (0
// connecting, 1 open, 2 closed), or -1 when the page has none. htmx keeps
// the EventSource in body's internal data.
const streamState = `(() => { const d = document.body && document.body['htmx-internal-data']; const s = d && d.sseEventSource; return s ? s.readyState : -1; })()`

// markPage marks the window, so that a reload shows (the mark is gone),
// counts its focus events, so that a swap caused by the focus refresh
// shows, and notes the time (Date.now(), the machine's clock) at which the
// page first shows cond, the signed-out state it should swap to.
func markPage(t *testing.T, ctx context.Context, cond string) {
	t.Helper()
	run(t, ctx, "mark the page", chromedp.Evaluate[chromedp.Void](`(() => {
  window.__e2eMark = 'live';
  window.__e2eFocus = 0;
  window.__e2eSwappedAt = 0;
  window.addEventListener('focus', () => { window.__e2eFocus++; });
  const check = () => { if (!window.__e2eSwappedAt && (`+cond+`)) window.__e2eSwappedAt = Date.now(); };
  new MutationObserver(check).observe(document.documentElement, { subtree: true, childList: true, attributes: true });
})()`))
}

// noteSend makes the page note when htmx first sends a request
// (Date.now()), for sentAt.
func noteSend(t *testing.T, ctx context.Context) {
	t.Helper()
	run(t, ctx, "note the next htmx request", chromedp.Evaluate[chromedp.Void](`(() => {
  window.__e2eSentAt = 0;
  document.body.addEventListener('htmx:beforeSend', () => { window.__e2eSentAt = window.__e2eSentAt || Date.now(); });
})()`))
}

// sentAt is when the page sent the htmx request noteSend waited for.
func sentAt(t *testing.T, ctx context.Context) time.Time {
	t.Helper()
	waitJS(t, ctx, "the htmx request is sent", `window.__e2eSentAt > 0`, stepTimeout)
	return time.UnixMilli(int64(evalJS[float64](t, ctx, `window.__e2eSentAt`)))
}

// waitStreamOpen waits until the page's session stream is open.
func waitStreamOpen(t *testing.T, ctx context.Context) {
	t.Helper()
	waitJS(t, ctx, "the session stream opens", streamState+` === 1`, stepTimeout)
}

// waitLive waits until the tab, marked with markPage, shows its
// signed-out state, and fails the test unless the page got there within
// liveBudget of start. It returns how long it took, by the page's own
// note of the moment (not by the polling, which a loaded machine slows).
func waitLive(t *testing.T, ctx context.Context, what string, start time.Time) time.Duration {
	t.Helper()
	var at float64
	deadline := time.Now().Add(stepTimeout)
	for {
		err := withTimeout(ctx, 2*time.Second, func(ctx context.Context) error {
			var err error
			at, err = chromedp.Run(ctx, chromedp.Evaluate[float64](`window.__e2eSwappedAt || 0`))
			return err
		})
		if err == nil && at > 0 {
			break
		}
		if time.Now().After(deadline) {
			screenshot(t, ctx, "not-live")
			t.Fatalf("%s: not within %v (last error %v)", what, stepTimeout, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
	took := time.UnixMilli(int64(at)).Sub(start)
	if took > liveBudget {
		t.Errorf("%s: after %v, want within %v", what, took.Round(time.Millisecond), liveBudget)
	}
	return took
}

// checkSwappedInPlace fails the test if the page was reloaded or got a
// focus event since markPage, or if its stream is not closed.
func checkSwappedInPlace(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	if mark := evalJS[string](t, ctx, `String(window.__e2eMark)`); mark != "live" {
		t.Errorf("%s: the page was reloaded", what)
	}
	if n := evalJS[int](t, ctx, `window.__e2eFocus || 0`); n != 0 {
		t.Errorf("%s: the window got %d focus events: the swap may be the focus refresh's", what, n)
	}
	waitJS(t, ctx, what+": the session stream is closed", streamState+` === 2`, stepTimeout)
}

// The signed-out states of the pages.
const (
	navSignedOutJS = `!!document.querySelector('#nav-sign-in') && !document.querySelector('#nav-sign-out')`
	noticeJS       = navSignedOutJS + ` && !!document.querySelector('#signed-out-notice') && !document.querySelector('#profile-card, #sessions-card, #token-card')`
	homeOutJS      = navSignedOutJS + ` && document.querySelector('#home-panel')?.dataset.state === 'signed-out' && !document.querySelector('#welcome')`
)

// backchannelReceived waits for an instance to log a back-channel logout
// beyond the before[i] it had logged, and returns that line's time: the
// moment the app had the logout token.
func backchannelReceived(t *testing.T, apps []*App, before []int) time.Time {
	t.Helper()
	const msg = `msg="back-channel logout"`
	deadline := time.Now().Add(stepTimeout)
	for {
		for i, app := range apps {
			var seen []string
			for _, l := range lines(app.Logs()) {
				if strings.Contains(l, msg) {
					seen = append(seen, l)
				}
			}
			if len(seen) <= before[i] {
				continue
			}
			line := seen[before[i]]
			stamp, _, _ := strings.Cut(strings.TrimPrefix(line, "time="), " ")
			at, err := time.Parse(time.RFC3339Nano, stamp)
			if err != nil {
				t.Fatalf("the app's log line %q has no time: %v", line, err)
			}
			return at
		}
		if time.Now().After(deadline) {
			t.Fatalf("no instance logged a back-channel logout")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// streamRequests counts the tab's requests to the session stream since
// visit index from.
func streamRequests(ctx context.Context, from int) int {
	n := 0
	for _, v := range visitedURLs(ctx)[from:] {
		if strings.HasPrefix(v.Kind, "request:") && strings.HasSuffix(v.URL, "/api/auth/session/stream") {
			n++
		}
	}
	return n
}

// TestLiveSignOut: see the top of the file.
func TestLiveSignOut(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	nginxPath(t)
	op, client, apps, proxy, proxyURL := startBalancedPair(t, "cookie")

	public := *apps[0]
	public.URL = proxyURL
	e := &journeyEnv{
		app: &public, op: op, providerSel: `button[data-provider="oidc"]`,
		loginSel: opLoginSel, passwordSel: opPasswordSel, submitSel: opSubmitSel,
		username: "ada", password: "lovelace", idpPrefix: op.Issuer + "/",
		clientID: client.ClientID, wantEmail: defaultWantedEmail,
	}
	deviceA := newBrowser(t, windowSize(1280, 800))
	run(t, deviceA, "a 1280x800 viewport", chromedp.EmulateViewport(1280, 800))
	deviceB := newBrowser(t, phoneSize(), userAgent(iPhoneUA))
	e.signInFromHome(t, deviceA, "")
	e.signInFromHome(t, deviceB, "")

	// 1. A ends B's session from the list.
	navigate(t, deviceB, proxyURL+"/profile")
	waitVisible(t, deviceB, "#sessions-card")
	waitStreamOpen(t, deviceB)
	markPage(t, deviceB, noticeJS)
	bVisits := len(visitedURLs(deviceB)) - 1 // the page itself and its stream
	for bVisits > 0 && !strings.HasSuffix(visitedURLs(deviceB)[bVisits].URL, "/profile") {
		bVisits--
	}
	screenshot(t, deviceB, "phone-01-profile-sessions")
	viewShot(t, deviceB, "#sessions-card", "view-phone-sessions")

	navigate(t, deviceA, proxyURL+"/profile")
	waitVisible(t, deviceA, "#sessions-card")
	if n := evalJS[int](t, deviceA, `document.querySelectorAll('#sessions-list .session-row').length`); n != 2 {
		t.Fatalf("A's sessions card lists %d sessions, want 2 (A and B)", n)
	}
	if !evalJS[bool](t, deviceA, `document.querySelector('#sessions-list .session-row').hasAttribute('data-current')`) {
		t.Errorf("A's own session is not the first row")
	}
	screenshot(t, deviceA, "desktop-01-profile-sessions")
	viewShot(t, deviceA, "#sessions-card", "view-desktop-sessions")
	noteSend(t, deviceA)
	click(t, deviceA, "#sessions-list button[data-revoke]")
	took := waitLive(t, deviceB, "B's profile shows it is signed out", sentAt(t, deviceA))
	t.Logf("A ended B's session from the list: B's open profile page swapped %v after A's page sent the revoke", took.Round(time.Millisecond))
	checkSwappedInPlace(t, deviceB, "B after the revoke")
	screenshot(t, deviceB, "phone-02-signed-out-live")
	viewShot(t, deviceB, "#signed-out-notice", "view-phone-signed-out")
	waitJS(t, deviceA, "A's card lists A alone",
		`document.querySelectorAll('#sessions-list .session-row').length === 1 && !document.querySelector('#sessions-revoke-others')`, stepTimeout)
	screenshot(t, deviceA, "desktop-02-after-revoke")

	// 1b. B signs in again in a second tab (its IdP session was left
	// alone, so without the password) and opens home; A signs out all
	// other sessions. B's first tab stays on its signed-out page.
	tabB := newTab(t, deviceB)
	navigate(t, tabB, proxyURL+"/")
	click(t, tabB, selSignIn)
	if waitAny(t, tabB, e.loginSel, selWelcome) != selWelcome {
		e.submitCredentials(t, tabB)
	}
	waitAt(t, tabB, proxyURL+"/", selWelcome)
	waitStreamOpen(t, tabB)
	markPage(t, tabB, homeOutJS)
	navigate(t, deviceA, proxyURL+"/profile")
	waitJS(t, deviceA, "A's card lists A and B again", `document.querySelectorAll('#sessions-list .session-row').length === 2`, stepTimeout)
	noteSend(t, deviceA)
	click(t, deviceA, "#sessions-revoke-others")
	took = waitLive(t, tabB, "B's home page shows it is signed out", sentAt(t, deviceA))
	t.Logf("A signed out all other sessions: B's open home page swapped %v after A's page sent the revoke", took.Round(time.Millisecond))
	checkSwappedInPlace(t, tabB, "B after sign out all other sessions")
	waitJS(t, deviceA, "A's card lists A alone again", `document.querySelectorAll('#sessions-list .session-row').length === 1`, stepTimeout)

	// 2. A logout at the IdP, in A's second tab: A's open home page swaps.
	navigate(t, deviceA, proxyURL+"/")
	waitVisible(t, deviceA, selWelcome)
	waitStreamOpen(t, deviceA)
	markPage(t, deviceA, homeOutJS)
	second := newTab(t, deviceA)
	endSession, _ := op.Discovery(t)["end_session_endpoint"].(string)
	var before []int
	for _, app := range apps {
		before = append(before, strings.Count(app.Logs(), `msg="back-channel logout"`))
	}
	begun := time.Now()
	navigate(t, second, endSession)
	waitVisible(t, second, "#op-logout-success")
	// The clock starts when an instance logged the back-channel logout
	// (that line's time).
	received := backchannelReceived(t, apps, before)
	took = waitLive(t, deviceA, "A's home page shows it is signed out", received)
	t.Logf("logout at the IdP (back-channel through nginx): A's open home page swapped %v after an instance received the back-channel logout (%v after the logout began)",
		took.Round(time.Millisecond), (took + received.Sub(begun)).Round(time.Millisecond))
	checkSwappedInPlace(t, deviceA, "A after the logout at the IdP")
	screenshot(t, deviceA, "desktop-03-home-signed-out-live")

	// 3. Sign-out in one tab: the other tab of the same browser swaps.
	click(t, deviceA, selSignIn)
	e.waitLoginForm(t, deviceA) // the IdP's session ended: the password again
	e.submitCredentials(t, deviceA)
	waitAt(t, deviceA, proxyURL+"/", selWelcome)
	navigate(t, deviceA, proxyURL+"/account")
	waitVisible(t, deviceA, "#token-card")
	waitStreamOpen(t, deviceA)
	markPage(t, deviceA, noticeJS)
	navigate(t, second, proxyURL+"/profile")
	waitVisible(t, second, selSignOut)
	start := time.Now() // a form POST: the tab leaves the page, so the test's clock
	click(t, second, selSignOut)
	took = waitLive(t, deviceA, "the first tab's account page shows it is signed out", start)
	t.Logf("sign-out in the second tab: the first tab swapped %v after the click", took.Round(time.Millisecond))
	checkSwappedInPlace(t, deviceA, "the first tab after the sign-out in the second")
	e.followSignOut(t, second)
	screenshot(t, deviceA, "desktop-04-account-signed-out-live")
	viewShot(t, deviceA, "#signed-out-notice", "view-desktop-signed-out")

	// B's first tab opened its stream once: no reconnect after the signout
	// (the stream's retry is 3 s, and the steps above took longer).
	if n := streamRequests(deviceB, bVisits); n != 1 {
		t.Errorf("B's profile page requested the session stream %d times, want once:\n%s", n, formatVisits(visitedURLs(deviceB)[bVisits:]))
	}

	// nginx: no error, and every stream answered by an instance (200; 499
	// when the browser left first).
	reqs := proxy.accessLog(t)
	checkNginxLogs(t, proxy, reqs)
	streams := map[string]int{}
	for _, r := range reqs {
		if r.URI == "/api/auth/session/stream" {
			streams[fmt.Sprintf("%d from %s", r.Status, r.UpstreamAddr)]++
		}
	}
	if len(streams) == 0 {
		t.Errorf("nginx logged no session stream")
	}
	t.Logf("session streams through nginx: %v", streams)
}
