package e2e

// Security headers, a Content-Security-Policy that htmx works under, and
// cross-site POSTs, against the real binary: over plain HTTP (every route,
// signed out and signed in, and every response of the sign-in and sign-out
// flows) and in a real browser (the CDP events of the tab: console errors,
// exceptions, the browser log, securitypolicyviolation events and the
// headers of every response).

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// --- The header rules ---------------------------------------------------------

// seenResponse is one response of the app, as a client saw it.
type seenResponse struct {
	Method    string
	URL       string
	Status    int
	Kind      string // the browser's resource type, "redirect", or "http"
	Header    http.Header
	SignedIn  bool // the request carried a session cookie (HTTP client only)
	SetCookie bool
}

func (r seenResponse) String() string {
	return fmt.Sprintf("%s %s → %d (%s)", r.Method, r.URL, r.Status, r.Kind)
}

// unsafeSources may not appear in the app's CSP.
var unsafeSources = []string{"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'wasm-unsafe-eval'"}

// headerProblems says what is wrong with the security headers of a response
// of the app at appURL. Every response has X-Content-Type-Options: nosniff
// and a Referrer-Policy that keeps paths and queries from other sites. The
// app's responses have its CSP (no unsafe source, no wildcard, frame-ancestors
// 'none') and X-Frame-Options: DENY; the front-channel logout receiver, which
// the IdP frames, has a CSP of its own with frame-ancestors. The embedded
// IdP's pages (its own styling) need frame protection only. Every response
// that may carry session data — all but the static files — says
// Cache-Control: no-store; a static file never sets a cookie.
func headerProblems(appURL string, r seenResponse) []string {
	u, err := url.Parse(r.URL)
	if err != nil || !sameOrigin(r.URL, appURL) {
		return nil
	}
	h := r.Header
	var out []string
	if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
		out = append(out, fmt.Sprintf("X-Content-Type-Options = %q", got))
	}
	switch rp := h.Get("Referrer-Policy"); rp {
	case "strict-origin-when-cross-origin", "strict-origin", "same-origin", "no-referrer":
	default:
		out = append(out, fmt.Sprintf("Referrer-Policy = %q", rp))
	}
	csp := h.Get("Content-Security-Policy")
	for _, bad := range unsafeSources {
		if strings.Contains(csp, bad) {
			out = append(out, "CSP allows "+bad)
		}
	}
	frameProtected := h.Get("X-Frame-Options") == "DENY" || h.Get("X-Frame-Options") == "SAMEORIGIN" ||
		strings.Contains(csp, "frame-ancestors")
	// A static file (a 404 under /static/ is the app's not-found page).
	static := strings.HasPrefix(u.Path, "/static/") && (r.Status < 300 || r.Status == http.StatusNotModified)
	switch {
	case strings.HasPrefix(u.Path, devIdPPath):
		if !frameProtected {
			out = append(out, "no frame protection")
		}
	case u.Path == "/api/auth/frontchannel-logout":
		if !strings.Contains(csp, "frame-ancestors") || !strings.Contains(csp, "default-src") {
			out = append(out, fmt.Sprintf("front-channel receiver CSP = %q", csp))
		}
	default:
		directives := map[string]string{}
		for _, d := range strings.Split(csp, ";") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
			directives[name] = value
		}
		for _, name := range []string{"default-src", "script-src", "style-src", "object-src", "base-uri", "frame-ancestors"} {
			if _, ok := directives[name]; !ok {
				out = append(out, fmt.Sprintf("CSP has no %s: %q", name, csp))
			}
		}
		for _, name := range []string{"default-src", "script-src", "style-src"} {
			for _, src := range strings.Fields(directives[name]) {
				if src == "*" || src == "data:" || src == "http:" || src == "https:" {
					out = append(out, fmt.Sprintf("CSP %s allows %s", name, src))
				}
			}
		}
		if directives["frame-ancestors"] != "'none'" {
			out = append(out, fmt.Sprintf("CSP frame-ancestors = %q", directives["frame-ancestors"]))
		}
		if h.Get("X-Frame-Options") != "DENY" {
			out = append(out, fmt.Sprintf("X-Frame-Options = %q", h.Get("X-Frame-Options")))
		}
	}
	if static {
		if r.SetCookie {
			out = append(out, "a static file sets a cookie")
		}
	} else if !strings.HasPrefix(u.Path, devIdPPath) && !hasNoStore(h) {
		out = append(out, fmt.Sprintf("Cache-Control = %q, want no-store", h.Get("Cache-Control")))
	}
	return out
}

func hasNoStore(h http.Header) bool {
	for _, v := range h.Values("Cache-Control") {
		for _, d := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(d), "no-store") {
				return true
			}
		}
	}
	return false
}

// checkHeaders reports every response of the app at appURL whose headers
// break a rule of headerProblems, and returns how many it checked.
func checkHeaders(t *testing.T, appURL string, rs []seenResponse) int {
	t.Helper()
	checked := 0
	for _, r := range rs {
		if !sameOrigin(r.URL, appURL) {
			continue
		}
		checked++
		if p := headerProblems(appURL, r); len(p) > 0 {
			t.Errorf("%s: %s", r, strings.Join(p, "; "))
		}
	}
	return checked
}

// --- An HTTP client that signs in through the embedded IdP -------------------

// webClient is a browser without JavaScript: a cookie jar, redirects
// followed one by one, every response kept.
type webClient struct {
	t    *testing.T
	base string
	c    *http.Client

	mu   sync.Mutex
	seen []seenResponse
}

func newWebClient(t *testing.T, base string) *webClient {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	w := &webClient{t: t, base: base}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	w.c = &http.Client{
		Jar:           jar,
		Timeout:       15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: roundTripper(func(req *http.Request) (*http.Response, error) {
			signedIn := slices.ContainsFunc(req.Cookies(), func(c *http.Cookie) bool { return isSessionCookie(c.Name) })
			resp, err := tr.RoundTrip(req)
			if err == nil {
				w.mu.Lock()
				w.seen = append(w.seen, seenResponse{
					Method: req.Method, URL: req.URL.String(), Status: resp.StatusCode, Kind: "http",
					Header: resp.Header.Clone(), SignedIn: signedIn, SetCookie: len(resp.Cookies()) > 0,
				})
				w.mu.Unlock()
			}
			return resp, err
		}),
	}
	return w
}

// responses returns every response so far.
func (w *webClient) responses() []seenResponse {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.seen)
}

// do sends one request (target relative to the app, or absolute) and returns
// the response with its body read.
func (w *webClient) do(method, target string, form url.Values, header map[string]string) (*http.Response, string) {
	w.t.Helper()
	if !strings.HasPrefix(target, "http") {
		target = w.base + target
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		w.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := w.c.Do(req)
	if err != nil {
		w.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		w.t.Fatalf("%s %s: read: %v", method, target, err)
	}
	return resp, string(b)
}

func (w *webClient) get(target string) (*http.Response, string) {
	w.t.Helper()
	return w.do(http.MethodGet, target, nil, nil)
}

// follow follows redirects from resp with GETs, at most ten.
func (w *webClient) follow(resp *http.Response, body string) (*http.Response, string) {
	w.t.Helper()
	for i := 0; i < 10 && resp.StatusCode >= 300 && resp.StatusCode < 400; i++ {
		loc, err := resp.Location()
		if err != nil {
			w.t.Fatalf("%s: redirect without Location", resp.Request.URL)
		}
		resp, body = w.get(loc.String())
	}
	return resp, body
}

var (
	formActionRE = regexp.MustCompile(`<form[^>]*\baction="([^"]+)"`)
	hiddenRE     = func(name string) *regexp.Regexp {
		return regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `"\s+value="([^"]*)"`)
	}
)

// formField returns the value of the first input named name in html.
func formField(t testing.TB, html, name string) string {
	t.Helper()
	m := hiddenRE(name).FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no %s field in:\n%s", name, tail(html, 3000))
	}
	return htmlUnescape(m[1])
}

var htmlUnescape = strings.NewReplacer("&amp;", "&", "&#34;", `"`, "&quot;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace

// signInDev signs in from the home page through the embedded IdP's form and
// returns the home page, signed in.
func (w *webClient) signInDev(username, password string) string {
	w.t.Helper()
	_, home := w.get("/")
	action := ""
	for _, m := range formActionRE.FindAllStringSubmatch(home, -1) {
		if strings.Contains(m[1], "/api/auth/signin/") {
			action = htmlUnescape(m[1])
			break
		}
	}
	if action == "" {
		w.t.Fatalf("no sign-in form on the home page:\n%s", tail(home, 3000))
	}
	resp, body := w.do(http.MethodPost, action, url.Values{"csrfToken": {formField(w.t, home, "csrfToken")}, "callbackUrl": {"/"}}, nil)
	resp, body = w.follow(resp, body)
	if !strings.Contains(resp.Request.URL.Path, "/dev-idp/") || !strings.Contains(body, `name="password"`) {
		w.t.Fatalf("sign-in did not reach the IdP's form: %s %d\n%s", resp.Request.URL, resp.StatusCode, tail(body, 2000))
	}
	loginAction := htmlUnescape(formActionRE.FindStringSubmatch(body)[1])
	loginURL := resp.Request.URL.ResolveReference(&url.URL{Path: loginAction}).String()
	resp, body = w.do(http.MethodPost, loginURL, url.Values{
		"authRequestID": {formField(w.t, body, "authRequestID")},
		"csrf_token":    {formField(w.t, body, "csrf_token")},
		"username":      {username},
		"password":      {password},
	}, nil)
	resp, body = w.follow(resp, body)
	if resp.Request.URL.Path != "/" || !strings.Contains(body, `id="welcome"`) {
		w.t.Fatalf("sign-in ended at %s (%d), not home signed in:\n%s", resp.Request.URL, resp.StatusCode, tail(body, 2000))
	}
	return body
}

// signOut posts the sign-out form of page and follows the browser through
// the IdP back to the post-logout page.
func (w *webClient) signOut(page string) (*http.Response, string) {
	w.t.Helper()
	resp, body := w.do(http.MethodPost, "/api/auth/signout", url.Values{"csrfToken": {formField(w.t, page, "csrfToken")}}, nil)
	return w.follow(resp, body)
}

// --- Headers over HTTP ----------------------------------------------------------

// TestSecurityHeadersOverHTTP: every route of the real binary, signed out
// and signed in, plain and as htmx fragments, GET and HEAD, refused POSTs,
// plus every response of a whole sign-in and sign-out through the embedded
// IdP, has the security headers of headerProblems.
func TestSecurityHeadersOverHTTP(t *testing.T) {
	t.Parallel()
	app := startApp(t, nil)
	w := newWebClient(t, app.URL)

	_, home := w.get("/")
	css := regexp.MustCompile(`href="(/static/[^"]+\.css[^"]*)"`).FindStringSubmatch(home)
	if css == nil {
		t.Fatalf("no stylesheet on the home page:\n%s", tail(home, 2000))
	}
	htmx := map[string]string{"HX-Request": "true", "HX-Current-URL": app.URL + "/profile"}
	visit := func() {
		for _, p := range []string{
			"/", "/profile", "/account", "/reports", "/nope", "/healthz",
			"/api/auth/session", "/api/auth/csrf", "/api/auth/providers",
			"/api/auth/signin", "/api/auth/signin?callbackUrl=%2F%2Fevil.example", "/api/auth/signout",
			"/api/auth/error?error=Verification", "/api/auth/nope", "/auth/sign-out?state=forged",
			"/api/auth/frontchannel-logout", "/dev-idp/", htmlUnescape(css[1]), "/static/nope.css",
		} {
			w.get(p)
			w.do(http.MethodHead, p, nil, nil)
		}
		for _, p := range []string{"/fragments/nav", "/fragments/home", "/fragments/profile", "/fragments/token", "/profile", "/account"} {
			w.do(http.MethodGet, p, nil, htmx)
		}
		w.do(http.MethodPost, "/api/auth/signout", url.Values{}, nil)
		w.do(http.MethodPost, "/api/auth/signin/dev", url.Values{"csrfToken": {"forged"}}, nil)
		w.do(http.MethodPost, "/api/auth/backchannel-logout", url.Values{"logout_token": {"not.a.token"}}, nil)
		w.do(http.MethodPost, "/profile", url.Values{}, nil)
	}
	visit() // signed out
	page := w.signInDev("ada", "lovelace")
	visit() // signed in
	if _, s := w.get("/api/auth/session"); !strings.Contains(s, "ada@example.com") {
		t.Fatalf("not signed in after the sign-in: %s", s)
	}
	resp, _ := w.signOut(page)
	if resp.Request.URL.Path != "/auth/sign-out" {
		t.Errorf("sign-out ended at %s, want /auth/sign-out", resp.Request.URL)
	}

	rs := w.responses()
	signedIn := 0
	for _, r := range rs {
		if r.SignedIn {
			signedIn++
		}
	}
	n := checkHeaders(t, app.URL, rs)
	if signedIn < 30 {
		t.Errorf("only %d responses to a signed-in request; the sign-in did not hold", signedIn)
	}
	t.Logf("checked the headers of %d responses (%d signed in)", n, signedIn)
}

// --- The browser's view ---------------------------------------------------------

// pageWatch keeps what a tab reports: console errors, uncaught exceptions,
// errors of the browser log (failed loads included), CSP violations (from a
// securitypolicyviolation listener injected in every document) and the
// headers of every response, redirects included.
type pageWatch struct {
	mu         sync.Mutex
	problems   []string
	violations []string
	responses  []seenResponse
}

const violationMarker = "__signet_e2e_csp_violation__"

// violationScript reports every securitypolicyviolation event of a document
// (and its frames) through the console, where the watch picks it up.
var violationScript = `document.addEventListener('securitypolicyviolation', (e) => {
  console.debug('` + violationMarker + `' + JSON.stringify({
    page: location.href, directive: e.violatedDirective, blocked: e.blockedURI,
    source: e.sourceFile, line: e.lineNumber, sample: e.sample,
  }));
}, true);`

// watchPage starts watching the tab of ctx; call it before the first
// navigation.
func watchPage(t *testing.T, ctx context.Context) *pageWatch {
	t.Helper()
	w := &pageWatch{}
	if err := chromedp.Listen(ctx, w.listen); err != nil {
		t.Fatalf("listen to the tab: %v", err)
	}
	run(t, ctx, "inject the CSP violation reporter", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument,
			page.AddScriptToEvaluateOnNewDocumentParams{Source: violationScript})
		return err
	}))
	return w
}

func (w *pageWatch) listen(ev any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		text := consoleArgs(ev.Args)
		if rest, ok := strings.CutPrefix(text, violationMarker); ok {
			w.violations = append(w.violations, rest)
			return
		}
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			w.problems = append(w.problems, fmt.Sprintf("console.%s: %s", ev.Type, text))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		desc := ""
		if d.Exception != nil {
			desc = d.Exception.Description
		}
		w.problems = append(w.problems, fmt.Sprintf("exception at %s:%d: %s %s", d.URL, d.LineNumber, d.Text, desc))
	case *log.EventEntryAdded:
		e := ev.Entry
		if e.Level == log.EntryLevelError || e.Source == log.EntrySourceSecurity {
			w.problems = append(w.problems, fmt.Sprintf("browser log [%s %s] %s (%s)", e.Source, e.Level, e.Text, e.URL))
		}
	case *network.EventResponseReceived:
		if r := ev.Response; r != nil {
			w.responses = append(w.responses, seenResponse{Method: "GET", URL: r.URL, Status: int(r.Status), Kind: string(ev.Type), Header: cdpHeader(r.Headers)})
		}
	case *network.EventRequestWillBeSent:
		if r := ev.RedirectResponse; r != nil {
			w.responses = append(w.responses, seenResponse{Method: "GET", URL: r.URL, Status: int(r.Status), Kind: "redirect", Header: cdpHeader(r.Headers)})
		}
	}
}

// consoleArgs joins the console call's arguments as text.
func consoleArgs(args []*runtime.RemoteObject) string {
	var parts []string
	for _, a := range args {
		if a == nil {
			continue
		}
		var s string
		if len(a.Value) > 0 && json.Unmarshal([]byte(a.Value), &s) == nil {
			parts = append(parts, s)
		} else if len(a.Value) > 0 {
			parts = append(parts, string(a.Value))
		} else {
			parts = append(parts, a.Description)
		}
	}
	return strings.Join(parts, " ")
}

func cdpHeader(h network.Headers) http.Header {
	out := http.Header{}
	for k, v := range h {
		// Chromium joins repeated headers with newlines.
		for _, line := range strings.Split(fmt.Sprint(v), "\n") {
			out.Add(k, line)
		}
	}
	return out
}

func (w *pageWatch) snapshot() (problems, violations []string, responses []seenResponse) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.problems), slices.Clone(w.violations), slices.Clone(w.responses)
}

// focusWindow gives the window the focus back, as a visitor returning to
// the tab does, once htmx has processed the fragments that refresh on it:
// htmx listens only after DOMContentLoaded, and a focus before that is not
// heard.
func focusWindow(t *testing.T, ctx context.Context) {
	t.Helper()
	waitJS(t, ctx, "htmx has processed the fragments", `[...document.querySelectorAll('[hx-trigger*="focus from:window"]')].every((e) => e['htmx-internal-data'] && e['htmx-internal-data'].initHash)`, stepTimeout)
	evalJS[bool](t, ctx, `window.dispatchEvent(new Event('focus')), true`)
}

// swapFragments makes htmx refresh every fragment of the page that
// refreshes when the window gets the focus back (hx-trigger "focus from:window"),
// twice. First as a visitor returning to the tab: each request sends the
// fragment's ETag, the server answers 304 and htmx leaves every element as
// it is. Then with the tags forgotten: the server sends each fragment
// again and htmx swaps it in. It returns how many were swapped, and fails
// when none.
func swapFragments(t *testing.T, ctx context.Context) int {
	t.Helper()
	n := evalJS[int](t, ctx, `(() => {
  if (!window.e2eRefresh) {
    document.body.addEventListener('htmx:afterRequest', (ev) => {
      window.e2eRefresh.statuses.push(ev.detail.xhr.status);
    });
  }
  window.e2eRefresh = { statuses: [] };
  const els = document.querySelectorAll('[hx-trigger*="focus from:window"]');
  els.forEach((e) => { e.dataset.e2eStale = '1'; });
  return els.length;
})()`)
	if n == 0 {
		loc, _ := location(ctx)
		t.Fatalf("no htmx fragment on %s refreshes when the window is focused", loc)
	}
	focusWindow(t, ctx)
	waitJS(t, ctx, "htmx asks for every fragment", fmt.Sprintf(`window.e2eRefresh.statuses.length >= %d && document.querySelectorAll('.htmx-request').length === 0`, n), stepTimeout)
	statuses := evalJS[[]int](t, ctx, `window.e2eRefresh.statuses`)
	kept := evalJS[int](t, ctx, `document.querySelectorAll('[data-e2e-stale]').length`)
	if kept != n || slices.ContainsFunc(statuses, func(s int) bool { return s != http.StatusNotModified }) {
		t.Errorf("focus on an unchanged page: answers %v and %d of %d fragments kept, want all 304 and kept", statuses, kept, n)
	}

	evalJS[bool](t, ctx, `(() => {
  document.querySelectorAll('[data-e2e-stale]').forEach((e) => e.setAttribute('hx-headers', '{}'));
  window.dispatchEvent(new Event('focus'));
  return true;
})()`)
	waitJS(t, ctx, "htmx swaps the fragments", `document.querySelectorAll('[data-e2e-stale]').length === 0 && document.querySelectorAll('.htmx-request').length === 0`, stepTimeout)
	return n
}

// TestCSPWithHTMX: a whole journey with the embedded IdP — home signed out,
// the sign-in page, the IdP's form, home signed in, profile, account (its
// token card refreshed by a click), the sign-out confirmation page, the
// error and 404 pages, sign out — with every htmx fragment of each page
// swapped in by htmx, and not one CSP violation, console error, uncaught
// exception or failed load. Every response the browser got has the
// security headers. A deliberate inline script at the end shows that the
// watch sees violations.
func TestCSPWithHTMX(t *testing.T) {
	t.Parallel()
	e := embeddedEnv(t)
	ctx := newBrowser(t)
	w := watchPage(t, ctx)
	app := e.app

	swaps := 0
	navigate(t, ctx, app.URL+"/")
	waitVisible(t, ctx, selSignIn)
	swaps += swapFragments(t, ctx)
	navigate(t, ctx, app.URL+signInPagePath)
	waitVisible(t, ctx, e.providerSel)
	e.signInFromHome(t, ctx, "")
	if !evalJS[bool](t, ctx, `typeof htmx === 'object' && htmx.config.allowEval === false && htmx.config.includeIndicatorStyles === false`) {
		t.Errorf("htmx is not loaded with the CSP-safe config")
	}
	swaps += swapFragments(t, ctx)
	screenshot(t, ctx, "01-home-after-swap")

	click(t, ctx, selNavProfile)
	waitAt(t, ctx, app.URL+"/profile", selProfileEmail)
	swaps += swapFragments(t, ctx)
	screenshot(t, ctx, "02-profile-after-swap")

	navigate(t, ctx, app.URL+"/account")
	waitVisible(t, ctx, "#token-card")
	run(t, ctx, "mark the token card", chromedp.Evaluate[chromedp.Void](`document.querySelector('#token-card').dataset.e2eStale = '1'`))
	click(t, ctx, "#token-check")
	waitJS(t, ctx, "htmx swaps the token card", `(() => { const c = document.querySelector('#token-card'); return !!c && !c.dataset.e2eStale; })()`, stepTimeout)
	swaps++
	screenshot(t, ctx, "03-account-after-swap")

	// Pages that answer 4xx on purpose: the browser logs each as a failed
	// load, which is expected for these and only these.
	expectedFailures := []string{app.URL + "/api/auth/error?error=Verification", app.URL + "/nope"}
	for _, u := range append([]string{app.URL + "/api/auth/signout"}, expectedFailures...) {
		navigate(t, ctx, u)
		waitJS(t, ctx, "page loaded", `document.readyState === 'complete'`, stepTimeout)
	}
	navigate(t, ctx, app.URL+"/profile")
	waitVisible(t, ctx, selSignOut)
	e.signOut(t, ctx)
	swaps += swapFragments(t, ctx)
	time.Sleep(300 * time.Millisecond) // late console messages

	problems, violations, responses := w.snapshot()
	for _, v := range violations {
		t.Errorf("CSP violation: %s", v)
	}
	expected := 0
	for _, p := range problems {
		if slices.ContainsFunc(expectedFailures, func(u string) bool { return strings.HasSuffix(p, "("+u+")") && strings.Contains(p, "[network error]") }) {
			expected++
			continue
		}
		t.Errorf("%s", p)
	}
	if expected != len(expectedFailures) {
		t.Errorf("the browser logged %d of the %d failed loads it should have: the watch misses the browser log", expected, len(expectedFailures))
	}
	problems = slices.DeleteFunc(problems, func(p string) bool {
		return strings.Contains(p, "[network error]") && slices.ContainsFunc(expectedFailures, func(u string) bool { return strings.HasSuffix(p, "("+u+")") })
	})
	var xhr int
	for _, r := range responses {
		if r.Kind == string(network.ResourceTypeXHR) && sameOrigin(r.URL, app.URL) {
			xhr++
		}
	}
	n := checkHeaders(t, app.URL, responses)
	if xhr < swaps {
		t.Errorf("%d htmx requests seen for %d swaps", xhr, swaps)
	}
	t.Logf("%d htmx swaps, %d responses checked (%d htmx), %d CSP violations, %d console problems", swaps, n, xhr, len(violations), len(problems))

	// The control: an inline script is refused, and the watch sees it.
	run(t, ctx, "add an inline script", chromedp.Evaluate[chromedp.Void](`(() => {
  const s = document.createElement('script');
  s.textContent = 'window.__e2eInlineRan = true';
  document.head.appendChild(s);
})()`))
	if evalJS[bool](t, ctx, `window.__e2eInlineRan === true`) {
		t.Errorf("an inline script ran: the CSP does not hold")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, v, _ := w.snapshot()
		if len(v) > len(violations) {
			t.Logf("control: %s", v[len(v)-1])
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the watch saw no violation for an inline script: it would miss real ones")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// --- Cross-site POSTs ----------------------------------------------------------

// evilPage serves a page with forms that POST to the app's sign-out and
// sign-in endpoints with a guessed CSRF token, and a script-free way to send
// them (the test submits them).
func evilPage(t *testing.T, appURL string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Win a prize</title>
<form id="signout" method="POST" action="%[1]s/api/auth/signout">
  <input type="hidden" name="csrfToken" value="guessed">
  <input type="hidden" name="callbackUrl" value="/">
</form>
<form id="signin" method="POST" action="%[1]s/api/auth/signin/dev">
  <input type="hidden" name="csrfToken" value="guessed">
  <input type="hidden" name="callbackUrl" value="/">
</form>
<p id="ready">ready</p>`, appURL)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestCrossSitePostRefused: a page of another site (localhost, while the
// app is 127.0.0.1) and a page of the same site on another port (another
// origin: the browser sends the app's SameSite=Lax cookies with it) each
// POST to /api/auth/signout — a form submission and a no-cors fetch — and
// to /api/auth/signin. Each is refused (MissingCSRF, the cross-origin check
// named in the log), and the user stays signed in with the same session.
func TestCrossSitePostRefused(t *testing.T) {
	t.Parallel()
	e := embeddedEnv(t)
	ctx := newBrowser(t)
	app := e.app
	e.signInFromHome(t, ctx, "")
	sessionBefore := sessionCookieValues(t, ctx, app.URL)
	if len(sessionBefore) == 0 {
		t.Fatalf("no session cookie after sign-in")
	}
	evil := evilPage(t, app.URL)
	evilURL, _ := url.Parse(evil.URL)
	for _, tc := range []struct{ name, origin string }{
		{"cross-site", "http://localhost:" + evilURL.Port()},
		{"same-site", "http://127.0.0.1:" + evilURL.Port()},
	} {
		for _, form := range []string{"signout", "signin"} {
			refusedBefore := strings.Count(app.Logs(), "cross-origin request detected")
			navigate(t, ctx, tc.origin+"/")
			waitVisible(t, ctx, "#ready")
			run(t, ctx, "submit the "+form+" form of "+tc.name, chromedp.Evaluate[chromedp.Void](`document.getElementById('`+form+`').submit()`))
			waitJS(t, ctx, "the app answers the cross-site POST", `location.origin === `+mustJSON(app.URL)+` && !!document.querySelector('#error-code')`, stepTimeout)
			if got := textOf(t, ctx, "#error-code"); !strings.Contains(got, "MissingCSRF") {
				t.Errorf("%s %s: #error-code = %q, want MissingCSRF", tc.name, form, got)
			}
			screenshot(t, ctx, tc.name+"-"+form)
			waitLogCount(t, app, "cross-origin request detected", refusedBefore+1, 5*time.Second)
		}

		// The same sign-out as a fetch of the evil page: its answer is
		// opaque, and the app refuses it all the same.
		navigate(t, ctx, tc.origin+"/")
		waitVisible(t, ctx, "#ready")
		refusedBefore := strings.Count(app.Logs(), "cross-origin request detected")
		run(t, ctx, "fetch the sign-out from "+tc.name, chromedp.Evaluate[chromedp.Void](`fetch(`+mustJSON(app.URL+"/api/auth/signout")+`, {
  method: 'POST', mode: 'no-cors', credentials: 'include',
  headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'csrfToken=guessed',
}).catch(() => {})`))
		waitLogCount(t, app, "cross-origin request detected", refusedBefore+1, 5*time.Second)

		navigate(t, ctx, app.URL+"/")
		waitAt(t, ctx, app.URL+"/", selWelcome)
		if after := sessionCookieValues(t, ctx, app.URL); !slices.Equal(after, sessionBefore) {
			t.Errorf("%s: the session cookie changed after the refused POSTs", tc.name)
		}
	}
	if got := evalJS[string](t, ctx, `fetch('/api/auth/session').then((r) => r.text())`); !strings.Contains(got, "ada@example.com") {
		t.Errorf("/api/auth/session after the cross-site POSTs = %s, want Ada's session", got)
	}
}

// sessionCookieValues returns the values of the session cookie (or its
// chunks) the browser holds for appURL, by name.
func sessionCookieValues(t *testing.T, ctx context.Context, appURL string) []string {
	t.Helper()
	var out []string
	for _, c := range appCookies(t, ctx, appURL) {
		if isSessionCookie(c.Name) {
			out = append(out, c.Name+"="+c.Value)
		}
	}
	slices.Sort(out)
	return out
}
