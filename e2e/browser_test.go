package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/signet-auth/signet/internal/testlog"
)

// Timeouts of the browser helpers. Every wait is bounded by one of them.
const (
	browserStartTimeout = 60 * time.Second // start Chromium and open the tab
	stepTimeout         = 15 * time.Second // one navigation, click, wait or read
)

// Window sizes.
const (
	desktopWidth, desktopHeight = 1280, 900
	phoneWidth, phoneHeight     = 390, 844
)

// browserConfig is what a BrowserOption changes.
type browserConfig struct {
	width, height int
	mobile        bool
	flags         []chromedp.ExecAllocatorOption // extra command-line flags
	listeners     []func(ev any)                 // extra listeners of the tab's CDP events
}

// A BrowserOption changes the browser that newBrowser starts.
type BrowserOption func(*browserConfig)

// phoneSize makes a phone-size browser: a 390x844 window with mobile and
// touch emulation.
func phoneSize() BrowserOption {
	return func(c *browserConfig) {
		c.width, c.height, c.mobile = phoneWidth, phoneHeight, true
	}
}

// ignoreCertErrors makes Chromium accept any TLS certificate, such as the
// self-signed one the nginx test makes. Only the browser of a test that asks
// for it gets the flag.
func ignoreCertErrors() BrowserOption {
	return func(c *browserConfig) {
		c.flags = append(c.flags, chromedp.IgnoreCertErrors)
	}
}

// withListener hands every CDP event of the tab to fn as well. fn runs in
// chromedp's event loop: it must be quick and must not send CDP commands.
func withListener(fn func(ev any)) BrowserOption {
	return func(c *browserConfig) {
		c.listeners = append(c.listeners, fn)
	}
}

// chromiumPath returns the Chromium to drive: $CHROMIUM, else
// /usr/bin/chromium, else chromium or chromium-browser on PATH. When there is
// none, the test is skipped, or fails under CI.
func chromiumPath(t testing.TB) string {
	t.Helper()
	if c := os.Getenv("CHROMIUM"); c != "" {
		p, err := exec.LookPath(c)
		if err != nil {
			skipOrFail(t, fmt.Sprintf("CHROMIUM=%s: %v", c, err))
		}
		return p
	}
	for _, c := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	skipOrFail(t, "Chromium not found ($CHROMIUM, /usr/bin/chromium; install it with `apt-get install chromium`)")
	return ""
}

// newBrowser starts a headless Chromium of its own for the test (a fresh
// temp profile, 1280x900 unless an option says otherwise), opens a tab and
// returns its chromedp context. The browser is closed when the test ends; a
// failed test gets a "failure" screenshot and the list of visited URLs first.
//
// The context records every URL the tab requests or navigates to
// (visitedURLs) and every document it loads (pagesSeen).
func newBrowser(t testing.TB, opts ...BrowserOption) context.Context {
	t.Helper()
	cfg := browserConfig{width: desktopWidth, height: desktopHeight}
	for _, o := range opts {
		o(&cfg)
	}
	exe := chromiumPath(t)
	profile := t.TempDir() // removed after the browser is gone (cleanups run last-in first-out)
	chromeOut := &testlog.Buffer{}

	allocOpts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(cfg.width, cfg.height),
		chromedp.CombinedOutput(chromeOut),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(allocOpts, cfg.flags...)...)
	rec := &recorder{}
	listen := rec.listen
	if len(cfg.listeners) > 0 {
		listen = func(ev any) {
			rec.listen(ev)
			for _, l := range cfg.listeners {
				l(ev)
			}
		}
	}
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(listen))
	ctx := context.WithValue(tabCtx, recorderKey{}, rec)

	// The first Do starts the browser and binds it to ctx, which must have no
	// deadline; a timer bounds the start instead.
	timer := time.AfterFunc(browserStartTimeout, cancelTab)
	err := chromedp.Do(ctx)
	stopped := timer.Stop()
	if err != nil || !stopped {
		cancelTab()
		cancelAlloc()
		t.Fatalf("start Chromium (%s): %v\n%s", exe, err, tail(chromeOut.String(), 4000))
	}
	t.Cleanup(func() {
		if t.Failed() {
			if loc, err := location(ctx); err == nil {
				t.Logf("browser was at %s", loc)
			}
			screenshot(t, ctx, "failure")
			t.Logf("URLs the browser visited:\n%s", formatVisits(visitedURLs(ctx)))
		}
		chromedp.Cancel(ctx)
		cancelTab()
		cancelAlloc()
	})

	setup := []chromedp.Action[chromedp.Void]{
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument,
				page.AddScriptToEvaluateOnNewDocumentParams{Source: pageSeenScript})
			return err
		}),
	}
	if cfg.mobile {
		setup = append(setup, chromedp.EmulateViewport(int64(cfg.width), int64(cfg.height),
			chromedp.EmulateMobile, chromedp.EmulateTouch))
	}
	if err := withTimeout(ctx, stepTimeout, func(ctx context.Context) error {
		return chromedp.Do(ctx, setup...)
	}); err != nil {
		t.Fatalf("set up the tab: %v", err)
	}
	return ctx
}

// newTab opens a second tab in the browser of ctx: same profile, same
// cookies. Like the browser's first tab, it is bound to a context without
// a deadline (the first action on a tab binds it to that action's
// context); a timer bounds the opening instead. It closes with the test.
func newTab(t testing.TB, ctx context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(ctx)
	timer := time.AfterFunc(stepTimeout, cancel)
	err := chromedp.Do(tab)
	if !timer.Stop() || err != nil {
		cancel()
		t.Fatalf("open a second tab: %v", err)
	}
	t.Cleanup(cancel)
	return tab
}

// newPhoneBrowser is newBrowser for a phone-size (390x844) screen.
func newPhoneBrowser(t testing.TB) context.Context {
	t.Helper()
	return newBrowser(t, phoneSize())
}

// --- What the tab saw -------------------------------------------------------

type recorderKey struct{}

// visit is one URL the tab requested or navigated to.
type visit struct {
	URL  string // with its fragment, if any
	Kind string // "request:<resource type>" (redirect hops included), "navigated", "same-document"
	At   time.Time
}

// pageSeen is one document the tab (or a frame in it) loaded, reported by a
// script at DOMContentLoaded, before the page can navigate away by itself.
type pageSeen struct {
	URL      string   `json:"url"`
	Title    string   `json:"title"`
	IDs      []string `json:"ids"`      // the ids of its elements
	Password bool     `json:"password"` // it has an input[type=password] (a login form)
	Frame    bool     `json:"frame"`    // it is an iframe, not the top document
	Text     string   `json:"text"`     // the start of its text
}

// Has reports whether the page had an element with the id.
func (p pageSeen) Has(id string) bool { return slices.Contains(p.IDs, id) }

const pageSeenMarker = "__signet_e2e_page_seen__"

// pageSeenScript runs in every document before its own scripts, and reports
// the document at DOMContentLoaded through the console.
var pageSeenScript = `(() => {
  const report = () => {
    try {
      const ids = Array.from(document.querySelectorAll('[id]'), (e) => e.id).slice(0, 1000);
      console.debug(` + "`" + pageSeenMarker + "`" + ` + JSON.stringify({
        url: location.href,
        title: document.title,
        ids,
        password: !!document.querySelector('input[type=password]'),
        frame: window !== window.top,
        text: document.body ? document.body.innerText.slice(0, 2000) : '',
      }));
    } catch (e) {}
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', report);
  else report();
})();`

// recorder keeps what the tab saw. Its listen method runs in chromedp's event
// loop, so it only appends under a lock.
type recorder struct {
	mu     sync.Mutex
	visits []visit
	pages  []pageSeen
}

func (r *recorder) listen(ev any) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if ev.Request != nil {
			r.visits = append(r.visits, visit{URL: ev.Request.URL + ev.Request.URLFragment, Kind: "request:" + string(ev.Type), At: now})
		}
	case *page.EventFrameNavigated:
		if ev.Frame != nil {
			r.visits = append(r.visits, visit{URL: ev.Frame.URL + ev.Frame.URLFragment, Kind: "navigated", At: now})
		}
	case *page.EventNavigatedWithinDocument:
		r.visits = append(r.visits, visit{URL: ev.URL, Kind: "same-document", At: now})
	case *runtime.EventConsoleAPICalled:
		if len(ev.Args) != 1 || ev.Args[0] == nil || ev.Args[0].Type != runtime.RemoteObjectTypeString {
			return
		}
		var s string
		if err := json.Unmarshal([]byte(ev.Args[0].Value), &s); err != nil {
			return
		}
		payload, ok := strings.CutPrefix(s, pageSeenMarker)
		if !ok {
			return
		}
		var p pageSeen
		if json.Unmarshal([]byte(payload), &p) == nil {
			r.pages = append(r.pages, p)
		}
	}
}

func recorderOf(ctx context.Context) *recorder {
	rec, _ := ctx.Value(recorderKey{}).(*recorder)
	if rec == nil {
		panic("e2e: not a context of newBrowser")
	}
	return rec
}

// visitedURLs returns every URL the tab requested or navigated to so far, in
// order: documents, redirect hops, scripts, fetches, frames.
func visitedURLs(ctx context.Context) []visit {
	rec := recorderOf(ctx)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.visits)
}

// pagesSeen returns every document the tab loaded so far, in order.
func pagesSeen(ctx context.Context) []pageSeen {
	rec := recorderOf(ctx)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.pages)
}

func formatVisits(vs []visit) string {
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "  %-22s %s\n", v.Kind, v.URL)
	}
	return b.String()
}

// sameOrigin reports whether rawURL is on the origin of base.
func sameOrigin(rawURL, base string) bool {
	u, err1 := url.Parse(rawURL)
	b, err2 := url.Parse(base)
	return err1 == nil && err2 == nil && u.Scheme == b.Scheme && u.Host == b.Host
}

// tokenParams are the names of query or fragment parameters that carry a token.
var tokenParams = []string{"id_token", "access_token", "refresh_token", "token", "logout_token"}

// tokenInURL says why rawURL carries a token, or "" when it does not: a
// parameter named like a token, a JWT (see containsJWT) in the path or in a
// parameter, or one of secrets anywhere. The authorization code is the one
// parameter that may look like a JWT: OAuth sends it in the URL by design,
// and some IdPs (the embedded one, on zitadel/oidc) make it a JWE that only
// they can read. It is still checked against the known token values.
func tokenInURL(rawURL string, secrets ...string) string {
	for _, s := range secrets {
		if s != "" && strings.Contains(rawURL, s) {
			return "a known token value"
		}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		if containsJWT(rawURL) {
			return "a JWT"
		}
		return ""
	}
	if containsJWT(u.Path) {
		return "a JWT in the path"
	}
	for _, part := range []string{u.RawQuery, u.Fragment} {
		vals, err := url.ParseQuery(part)
		if err != nil && containsJWT(part) {
			return "a JWT"
		}
		for _, name := range tokenParams {
			if vals.Has(name) {
				return "a " + name + " parameter"
			}
		}
		for name, vs := range vals {
			if containsJWT(name) {
				return "a JWT in a parameter name"
			}
			for _, v := range vs {
				if name != "code" && containsJWT(v) {
					return "a JWT in the parameter " + name
				}
			}
		}
	}
	return ""
}

// containsJWT reports whether s holds a JWT by its shape, not by a
// substring such as "eyJ" (which a random identifier can contain): a run
// of base64url characters and dots made of three segments (a JWS; the
// signature may be empty, as with alg none) or five (a JWE), whose first
// segment decodes to a JSON object with an "alg" member.
func containsJWT(s string) bool {
	runs := strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	})
	for _, run := range runs {
		segs := strings.Split(run, ".")
		if len(segs) != 3 && len(segs) != 5 {
			continue
		}
		header, err := base64.RawURLEncoding.DecodeString(segs[0])
		if err != nil {
			continue
		}
		var h map[string]any
		if json.Unmarshal(header, &h) != nil {
			continue
		}
		if _, ok := h["alg"]; ok {
			return true
		}
	}
	return false
}

// assertNoTokenInAppURLs fails the test if any URL of the app's origin that
// the tab visited carries a token. URLs under the paths in skip (such as the
// embedded IdP's /dev-idp/, which is another party that shares the origin)
// are not the app's own.
func assertNoTokenInAppURLs(t testing.TB, ctx context.Context, appURL string, skip []string, secrets ...string) {
	t.Helper()
	checked := 0
	for _, v := range visitedURLs(ctx) {
		if !sameOrigin(v.URL, appURL) {
			continue
		}
		u, _ := url.Parse(v.URL)
		if slices.ContainsFunc(skip, func(p string) bool { return strings.HasPrefix(u.Path, p) }) {
			continue
		}
		checked++
		if why := tokenInURL(v.URL, secrets...); why != "" {
			t.Errorf("a URL of the app carries %s: %s (%s)", why, v.URL, v.Kind)
		}
	}
	if checked == 0 {
		t.Errorf("no URL of the app %s was visited; nothing checked", appURL)
	}
}

// --- Steps --------------------------------------------------------------------

// run runs steps with the step timeout and fails the test with what and the
// current URL when one fails.
func run(t testing.TB, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	err := withTimeout(ctx, stepTimeout, func(ctx context.Context) error {
		return chromedp.Do(ctx, steps...)
	})
	if err != nil {
		loc, _ := location(ctx)
		t.Fatalf("%s: %v (browser at %s)", what, err, loc)
	}
}

// get runs one action that returns a value, with the step timeout.
func get[T any](t testing.TB, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	var v T
	err := withTimeout(ctx, stepTimeout, func(ctx context.Context) error {
		var err error
		v, err = chromedp.Run(ctx, a)
		return err
	})
	if err != nil {
		loc, _ := location(ctx)
		t.Fatalf("%s: %v (browser at %s)", what, err, loc)
	}
	return v
}

// location returns the URL of the tab, within a short timeout.
func location(ctx context.Context) (string, error) {
	var loc string
	err := withTimeout(ctx, 3*time.Second, func(ctx context.Context) error {
		var err error
		loc, err = chromedp.Run(ctx, chromedp.Location())
		return err
	})
	return loc, err
}

// navigate loads url and waits for its load event.
func navigate(t testing.TB, ctx context.Context, url string) {
	t.Helper()
	run(t, ctx, "navigate to "+url, chromedp.Navigate(url))
}

// waitVisible waits for the first element that matches the CSS selector to
// be visible.
func waitVisible(t testing.TB, ctx context.Context, sel string) {
	t.Helper()
	run(t, ctx, "wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// click clicks the first element that matches the CSS selector, once visible.
func click(t testing.TB, ctx context.Context, sel string) {
	t.Helper()
	run(t, ctx, "click "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
}

// typeInto types text into the field that matches the CSS selector.
func typeInto(t testing.TB, ctx context.Context, sel, text string) {
	t.Helper()
	run(t, ctx, "type into "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), text))
}

// textOf returns the visible text of the first element that matches sel.
func textOf(t testing.TB, ctx context.Context, sel string) string {
	t.Helper()
	run(t, ctx, "wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	return strings.TrimSpace(get(t, ctx, "text of "+sel, chromedp.Text(chromedp.CSS(sel))))
}

// evalJS evaluates a JavaScript expression in the page (promises awaited).
func evalJS[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	return get(t, ctx, "evaluate "+expr, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// waitJS polls a JavaScript condition until it is true, across navigations
// (an evaluation that fails while a page loads counts as false). It fails the
// test after timeout.
func waitJS(t testing.TB, ctx context.Context, what, expr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for {
		var ok bool
		lastErr = withTimeout(ctx, 2*time.Second, func(ctx context.Context) error {
			var err error
			ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
			return err
		})
		if lastErr == nil && ok {
			return
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	loc, _ := location(ctx)
	t.Fatalf("%s: not true within %v: %s (last error: %v; browser at %s)", what, timeout, expr, lastErr, loc)
}

// waitURL waits until the tab's URL (without fragment) starts with prefix and
// the element sel is on the page (sel may be empty).
func waitURL(t testing.TB, ctx context.Context, prefix, sel string) {
	t.Helper()
	p, _ := json.Marshal(prefix)
	expr := fmt.Sprintf(`location.href.split('#')[0].startsWith(%s)`, p)
	if sel != "" {
		s, _ := json.Marshal(sel)
		expr += fmt.Sprintf(` && document.readyState !== 'loading' && !!document.querySelector(%s)`, s)
	}
	waitJS(t, ctx, "wait for "+prefix+" "+sel, expr, stepTimeout)
}

// waitAny waits until one of the CSS selectors matches a visible element and
// returns it.
func waitAny(t testing.TB, ctx context.Context, sels ...string) string {
	t.Helper()
	list, _ := json.Marshal(sels)
	expr := fmt.Sprintf(`(() => {
  for (const s of %s) {
    const e = document.querySelector(s);
    if (e && e.offsetParent !== null) return s;
  }
  return '';
})()`, list)
	deadline := time.Now().Add(stepTimeout)
	for {
		var found string
		err := withTimeout(ctx, 2*time.Second, func(ctx context.Context) error {
			var err error
			found, err = chromedp.Run(ctx, chromedp.Evaluate[string](expr))
			return err
		})
		if err == nil && found != "" {
			return found
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			loc, _ := location(ctx)
			t.Fatalf("none of %v became visible within %v (browser at %s)", sels, stepTimeout, loc)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// --- Screenshots ----------------------------------------------------------------

var screenshotNames = strings.NewReplacer("/", "_", " ", "_", ":", "_", "\\", "_")

// screenshot saves a full-page PNG of the tab to
// e2e/screenshots/<TestName>-<name>.png. A screenshot that fails is reported
// as a test error, but does not stop the test.
func screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	dir := filepath.Join(e2eDir(t), "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	file := filepath.Join(dir, screenshotNames.Replace(t.Name()+"-"+name)+".png")
	var png []byte
	err := withTimeout(ctx, stepTimeout, func(ctx context.Context) error {
		var err error
		png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		return err
	})
	if err == nil {
		err = os.WriteFile(file, png, 0o644)
	}
	if err != nil {
		if errors.Is(err, context.Canceled) && name == "failure" {
			return
		}
		t.Errorf("screenshot %s: %v", name, err)
	}
}

// --- Cookies ------------------------------------------------------------------

// browserCookies returns the cookies the browser would send to the URLs, with
// their attributes (Name, Value, Size, Path, HTTPOnly, Secure, SameSite,
// Expires, Session). With no URLs, it returns those of the current page.
func browserCookies(t testing.TB, ctx context.Context, urls ...string) []*network.Cookie {
	t.Helper()
	res, err := callWithTimeout(ctx, network.GetCookies, network.GetCookiesParams{URLs: urls})
	if err != nil {
		t.Fatalf("get cookies of %v: %v", urls, err)
	}
	return res.Cookies
}

// callWithTimeout sends one CDP command to the tab with the step timeout.
func callWithTimeout[P, R any](ctx context.Context, cmd cdp.Command[P, R], params P) (R, error) {
	var res R
	err := withTimeout(ctx, stepTimeout, func(ctx context.Context) error {
		var err error
		res, err = chromedp.Call(ctx, cmd, params)
		return err
	})
	return res, err
}

// isAppCookie reports whether a cookie name is one of the app's auth cookies
// (signet.*, with or without a __Secure- or __Host- prefix). The embedded
// IdP's own cookies are not the app's, even if they share the prefix: their
// names mention "idp".
func isAppCookie(name string) bool {
	name = strings.TrimPrefix(strings.TrimPrefix(name, "__Secure-"), "__Host-")
	return strings.HasPrefix(name, "signet.") && !strings.Contains(strings.ToLower(name), "idp")
}

// appCookies returns the app's auth cookies that the browser holds for appURL.
func appCookies(t testing.TB, ctx context.Context, appURL string) []*network.Cookie {
	t.Helper()
	var out []*network.Cookie
	for _, c := range browserCookies(t, ctx, appURL+"/") {
		if isAppCookie(c.Name) {
			out = append(out, c)
		}
	}
	return out
}

// describeCookies formats cookies with their size and attributes.
func describeCookies(cs []*network.Cookie) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "  %s size=%d path=%s httpOnly=%v secure=%v sameSite=%s session=%v\n",
			c.Name, c.Size, c.Path, c.HTTPOnly, c.Secure, c.SameSite, c.Session)
	}
	return b.String()
}

// deleteAppCookies deletes the app's auth cookies (see isAppCookie) from the
// browser through CDP, leaving every other cookie of the host (the IdP's
// session) alone: a local-only sign-out. It returns the names it deleted.
func deleteAppCookies(t testing.TB, ctx context.Context, appURL string) []string {
	t.Helper()
	var deleted []string
	for _, c := range appCookies(t, ctx, appURL) {
		_, err := callWithTimeout(ctx, network.DeleteCookies, network.DeleteCookiesParams{
			Name: c.Name, Domain: c.Domain, Path: c.Path,
		})
		if err != nil {
			t.Fatalf("delete cookie %s: %v", c.Name, err)
		}
		deleted = append(deleted, c.Name)
	}
	return deleted
}
