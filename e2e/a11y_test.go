package e2e

// TestAccessibility checks every page state of the app and of the embedded
// IdP with axe-core (WCAG 2.2 A and AA, and axe's best practices) in
// Chromium, in the light and the dark color scheme, at desktop and phone
// size. Zero violations is the bar. axe-core comes from the npm registry
// (package.json's devDependencies); `npm run vendor` copies it to
// e2e/vendor/axe.min.js. The test injects it into each page through the
// DevTools protocol: the app never serves it.

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// axeTags are the axe-core rule tags the pages must pass.
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"}

// colorSchemes are the values of prefers-color-scheme every page is checked in.
var colorSchemes = []string{"light", "dark"}

// axeViolation is one failed axe rule on a page, with the elements that fail it.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  string `json:"target"`
		HTML    string `json:"html"`
		Summary string `json:"summary"`
	} `json:"nodes"`
}

func (v axeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s", v.ID, v.Impact, v.Help)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n      %s  %s\n        %s", n.Target, n.HTML, strings.ReplaceAll(n.Summary, "\n", "\n        "))
	}
	return b.String()
}

// axeSource reads axe-core as `npm run vendor` copied it.
func axeSource(t testing.TB) string {
	t.Helper()
	file := filepath.Join(e2eDir(t), "vendor", "axe.min.js")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("axe-core: %v (run `npm ci && npm run vendor`, or the Taskfile's deps task)", err)
	}
	return string(b)
}

// axeRunScript runs axe on the document and returns its violations as JSON.
var axeRunScript = func() string {
	tags, _ := json.Marshal(axeTags)
	return `axe.run(document, {runOnly: {type: "tag", values: ` + string(tags) + `}, resultTypes: ["violations"]})
  .then((r) => JSON.stringify(r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), html: n.html.slice(0, 200), summary: n.failureSummary || ""})),
  }))))`
}()

// setColorScheme makes the tab's pages match prefers-color-scheme: scheme,
// with prefers-reduced-motion: reduce, which turns the pages' transitions
// off: the colours change at once, not while axe reads them.
func setColorScheme(t testing.TB, ctx context.Context, scheme string) {
	t.Helper()
	run(t, ctx, "emulate prefers-color-scheme: "+scheme, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{
				{Name: "prefers-color-scheme", Value: scheme},
				{Name: "prefers-reduced-motion", Value: "reduce"},
			},
		})
		return err
	}))
}

// a11yChecker checks page states of one tab and gathers what fails.
type a11yChecker struct {
	t      *testing.T
	ctx    context.Context
	axe    string
	n      int
	failed []string
	// widths are the pages' content widths (CSS px) and the states that
	// have each.
	widths map[int][]string
}

// contentWidthScript is the width of the app page's content: its widest
// card, callout or column inside main (0 on pages of the IdP).
const contentWidthScript = `(() => {
  const w = [...document.querySelectorAll("main .container > *")].map((e) => e.getBoundingClientRect().width);
  return w.length ? Math.round(Math.max(...w)) : 0;
})()`

// check screenshots the page in each color scheme and runs axe on it.
func (c *a11yChecker) check(state string) {
	t := c.t
	t.Helper()
	c.n++
	if w := evalJS[int](t, c.ctx, contentWidthScript); w > 0 {
		c.widths[w] = append(c.widths[w], state)
	}
	for _, scheme := range colorSchemes {
		setColorScheme(t, c.ctx, scheme)
		name := fmt.Sprintf("%02d-%s-%s", c.n, state, scheme)
		screenshot(t, c.ctx, name)
		if !get(t, c.ctx, "has axe", chromedp.Evaluate[bool](`typeof axe === "object"`)) {
			get(t, c.ctx, "inject axe-core", chromedp.Evaluate[chromedp.Void](c.axe))
		}
		out := get(t, c.ctx, "run axe on "+state, chromedp.Evaluate[string](axeRunScript, chromedp.EvalAwaitPromise))
		var vs []axeViolation
		if err := json.Unmarshal([]byte(out), &vs); err != nil {
			t.Fatalf("axe's answer on %s: %v", state, err)
		}
		if len(vs) == 0 {
			continue
		}
		loc, _ := location(c.ctx)
		var b strings.Builder
		fmt.Fprintf(&b, "%s (%s, %s):", state, scheme, loc)
		for _, v := range vs {
			b.WriteString("\n  - " + v.String())
		}
		c.failed = append(c.failed, b.String())
	}
	setColorScheme(t, c.ctx, "light")
}

// navEdgeScript is how far the visible right edge of the nav's last control
// (its border box, or its content when it has no border or background) is
// from the right edge of the header's content box, in CSS pixels.
const navEdgeScript = `(() => {
  const inner = document.querySelector(".header-inner"), last = document.querySelector("#nav").lastElementChild;
  if (!last) return -1;
  const r = inner.getBoundingClientRect(), pad = parseFloat(getComputedStyle(inner).paddingRight);
  const cs = getComputedStyle(last.matches("form") ? last.querySelector("button") : last);
  const bare = cs.backgroundColor === "rgba(0, 0, 0, 0)" && parseFloat(cs.borderRightWidth) === 0;
  return Math.round(r.right - pad - (last.getBoundingClientRect().right - (bare ? parseFloat(cs.paddingRight) : 0)));
})()`

// checkNavEdge fails when the nav's right edge is not the header's: the
// nav must not shift when its Sign out is hidden.
func (c *a11yChecker) checkNavEdge(state string) {
	c.t.Helper()
	if gap := evalJS[int](c.t, c.ctx, navEdgeScript); gap != 0 {
		c.t.Errorf("%s: the nav ends %dpx before the header's right edge, want 0", state, gap)
	}
}

func TestAccessibility(t *testing.T) {
	t.Parallel()
	axe := axeSource(t)
	for _, size := range []struct {
		name string
		opts []BrowserOption
	}{
		{"desktop", nil},
		{"phone", []BrowserOption{phoneSize()}},
	} {
		t.Run(size.name, func(t *testing.T) {
			e := embeddedEnv(t)
			ctx := newBrowser(t, size.opts...)
			c := &a11yChecker{t: t, ctx: ctx, axe: axe, widths: map[int][]string{}}
			app := e.app.URL

			// Signed out.
			navigate(t, ctx, app+"/")
			waitVisible(t, ctx, selSignIn)
			c.check("home-signed-out")
			navigate(t, ctx, app+signInPagePath)
			waitVisible(t, ctx, e.providerSel)
			c.check("sign-in-page")
			navigate(t, ctx, app+signInPagePath+"?error=OAuthCallbackError")
			waitVisible(t, ctx, "#error-code")
			c.check("sign-in-page-error")
			navigate(t, ctx, app+"/api/auth/signout")
			waitVisible(t, ctx, "h1")
			c.check("sign-out-page-signed-out")
			for _, code := range []string{"Verification", "Configuration", "NoSuchCode"} {
				navigate(t, ctx, app+"/api/auth/error?error="+code)
				waitVisible(t, ctx, "h1")
				c.check("error-" + code)
			}
			navigate(t, ctx, app+"/no-such-page")
			waitVisible(t, ctx, "h1")
			c.check("not-found")

			// The embedded IdP's login page, a wrong password, then Ada.
			navigate(t, ctx, app+"/")
			click(t, ctx, selSignIn)
			e.waitLoginForm(t, ctx)
			c.check("idp-login")
			typeInto(t, ctx, e.loginSel, e.username)
			typeInto(t, ctx, e.passwordSel, "wrong")
			click(t, ctx, e.submitSel)
			waitVisible(t, ctx, "[role=alert]")
			c.check("idp-login-wrong-password")
			run(t, ctx, "clear the login form", chromedp.Evaluate[chromedp.Void](
				`document.querySelectorAll('input[type=text], input[type=password]').forEach((i) => { i.value = ""; })`))
			e.submitCredentials(t, ctx)
			waitAt(t, ctx, app+"/", selWelcome)
			c.check("home-signed-in")
			c.checkNavEdge("home, signed in")

			// Signed in.
			navigate(t, ctx, app+"/profile")
			waitVisible(t, ctx, selProfileEmail)
			c.check("profile")
			navigate(t, ctx, app+"/account")
			waitVisible(t, ctx, "#token-card")
			c.check("account")
			navigate(t, ctx, app+"/reports")
			waitVisible(t, ctx, "#reports-table")
			c.check("reports")
			navigate(t, ctx, app+"/api/auth/signout")
			waitVisible(t, ctx, selSignOut)
			c.check("sign-out-page")
			c.checkNavEdge("sign-out page, Sign out hidden")

			// Sign out: the signed-out page stays until the visitor goes on.
			navigate(t, ctx, app+"/profile")
			click(t, ctx, selSignOut)
			e.toSignedOutPage(t, ctx, "/profile")
			c.check("signed-out")

			// Alan, who lacks the reports permission: the locked section and the 403.
			navigate(t, ctx, app+"/")
			click(t, ctx, selSignIn)
			e.waitLoginForm(t, ctx)
			typeInto(t, ctx, e.loginSel, "alan")
			typeInto(t, ctx, e.passwordSel, "turing")
			click(t, ctx, e.submitSel)
			waitAt(t, ctx, app+"/", selWelcome)
			navigate(t, ctx, app+"/account")
			waitVisible(t, ctx, "#reports-locked")
			c.check("account-without-reports")
			click(t, ctx, "#reports-load")
			waitVisible(t, ctx, "#error-fragment")
			c.check("account-reports-refused")
			navigate(t, ctx, app+"/reports")
			waitVisible(t, ctx, "#error-sign-in")
			c.check("reports-forbidden")

			// One page column and one card width: no page has a width of its own.
			if len(c.widths) > 2 {
				t.Errorf("the pages have %d content widths, want at most 2 (the page column and the card): %v", len(c.widths), c.widths)
			} else {
				t.Logf("content widths: %v", c.widths)
			}
			if len(c.failed) > 0 {
				t.Errorf("axe-core (%s) found violations on %d of %d page checks:\n%s",
					strings.Join(axeTags, ", "), len(c.failed), 2*c.n, strings.Join(c.failed, "\n"))
			}
		})
	}
}

// focusRing is what getComputedStyle says of the focused element's outline,
// and the page's background colour.
type focusRing struct {
	Element string  `json:"element"`
	Style   string  `json:"style"`
	Width   float64 `json:"width"`
	Color   string  `json:"color"`
	Page    string  `json:"page"`
}

const focusRingScript = `(() => {
  const el = document.activeElement, cs = getComputedStyle(el);
  return JSON.stringify({element: el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + " " + el.textContent.trim().slice(0, 30),
    style: cs.outlineStyle, width: parseFloat(cs.outlineWidth) || 0, color: cs.outlineColor,
    page: getComputedStyle(document.body).backgroundColor});
})()`

// parseRGB reads "rgb(r, g, b)" or "rgba(r, g, b, a)".
func parseRGB(s string) (rgb [3]float64, ok bool) {
	inner, found := strings.CutPrefix(s, "rgb(")
	if !found {
		inner, found = strings.CutPrefix(s, "rgba(")
	}
	inner, _ = strings.CutSuffix(inner, ")")
	parts := strings.Split(inner, ",")
	if !found || len(parts) < 3 {
		return rgb, false
	}
	for i := range 3 {
		if _, err := fmt.Sscan(strings.TrimSpace(parts[i]), &rgb[i]); err != nil {
			return rgb, false
		}
	}
	return rgb, true
}

// contrast is the WCAG contrast ratio of two sRGB colours.
func contrast(a, b [3]float64) float64 {
	lum := func(c [3]float64) float64 {
		var l [3]float64
		for i, v := range c {
			v /= 255
			if v <= 0.04045 {
				l[i] = v / 12.92
			} else {
				l[i] = math.Pow((v+0.055)/1.055, 2.4)
			}
		}
		return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
	}
	la, lb := lum(a), lum(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// TestFocusRing: moving with Tab through the signed-out home page, every
// focused control shows an outline of at least 2 px with at least 3:1
// contrast against the page, in light and dark, and keeps an outline in
// forced-colors mode (a box-shadow ring would vanish there).
func TestFocusRing(t *testing.T) {
	t.Parallel()
	e := embeddedEnv(t)
	ctx := newBrowser(t)
	for _, mode := range []struct{ name, scheme, forced string }{
		{"light", "light", "none"},
		{"dark", "dark", "none"},
		{"forced-colors", "light", "active"},
	} {
		run(t, ctx, "emulate "+mode.name, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{
					{Name: "prefers-color-scheme", Value: mode.scheme},
					{Name: "prefers-reduced-motion", Value: "reduce"},
					{Name: "forced-colors", Value: mode.forced},
				},
			})
			return err
		}))
		navigate(t, ctx, e.app.URL+"/")
		waitVisible(t, ctx, selSignIn)
		// The skip link, the brand, the nav's Sign in, the hero's Sign in.
		for i := range 4 {
			run(t, ctx, "press Tab", chromedp.KeyEvent("\t"))
			var f focusRing
			if err := json.Unmarshal([]byte(evalJS[string](t, ctx, focusRingScript)), &f); err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				screenshot(t, ctx, mode.name+"-focus-skip-link")
			}
			if f.Style == "none" || f.Width < 2 {
				t.Errorf("%s: Tab %d focuses %q with outline %s %vpx, want a visible outline of 2px or more", mode.name, i+1, f.Element, f.Style, f.Width)
				continue
			}
			if mode.forced != "none" {
				continue // the system's colours
			}
			ring, ok1 := parseRGB(f.Color)
			page, ok2 := parseRGB(f.Page)
			if !ok1 || !ok2 {
				t.Errorf("%s: colours %q on %q", mode.name, f.Color, f.Page)
				continue
			}
			if c := contrast(ring, page); c < 3 {
				t.Errorf("%s: the focus ring of %q (%s) has %.2f:1 against the page (%s), want 3:1", mode.name, f.Element, f.Color, c, f.Page)
			}
		}
	}
}
