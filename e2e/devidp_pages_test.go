package e2e

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// colorScheme makes the tab prefer scheme ("light" or "dark").
func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return chromedp.Void{}, err
	}
}

// TestDevIdPPages: the development IdP's own pages as a person meets them,
// pictured at desktop (1280×800) and phone (390×844) size: the sign-in
// form names the application ("Signet", not its client id), its banner
// sits in a landmark, its "Use" buttons are named by their visible label,
// a wrong password marks the fields invalid and points them at the
// message, and a refused request's details wrap between words.
func TestDevIdPPages(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	app := startApp(t, map[string]string{"AUTH_URL": "", "AUTH_SECRET": ""})
	origin := "http://localhost:" + strconv.Itoa(app.Port)
	ctx := newBrowser(t)
	shoot := func(name string) {
		t.Helper()
		run(t, ctx, "desktop size", chromedp.EmulateViewport(1280, 800))
		screenshot(t, ctx, name+"-desktop")
		run(t, ctx, "phone size", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
		screenshot(t, ctx, name+"-phone")
		run(t, ctx, "desktop size", chromedp.EmulateViewport(1280, 800))
	}

	// The sign-in form.
	navigate(t, ctx, origin+"/")
	click(t, ctx, selSignIn)
	waitAt(t, ctx, origin+"/dev-idp/login", `input[name="username"]`)
	if got := textOf(t, ctx, ".lead"); got != "to continue to Signet" {
		t.Errorf("the sign-in form says %q, want the application's name", got)
	}
	if got := evalJS[string](t, ctx, `(() => {
		const b = document.querySelector('.dev-banner');
		const l = b && b.closest('header, main, footer, nav, aside, [role=banner], [role=main], [role=contentinfo], [role=region]');
		return l ? l.tagName : '';
	})()`); got == "" {
		t.Error("the development IdP's banner is outside every landmark")
	}
	buttons := evalJS[[]any](t, ctx, `Array.from(document.querySelectorAll('.users button')).map((b) =>
		[b.textContent.trim(), b.getAttribute('aria-label') || '', (document.getElementById(b.getAttribute('aria-describedby') || '') || {}).textContent || ''])`)
	if len(buttons) != 3 {
		t.Fatalf("%d Use buttons, want 3", len(buttons))
	}
	for _, b := range buttons {
		f, _ := b.([]any)
		label, ariaLabel, description := f[0].(string), f[1].(string), f[2].(string)
		user := strings.TrimPrefix(label, "Use ")
		if label == user || ariaLabel != "" || !strings.Contains(description, user) {
			t.Errorf("Use button: label %q, aria-label %q, description %q; want \"Use <user>\", no aria-label, described by the user", label, ariaLabel, description)
		}
	}
	shoot("01-sign-in")

	// A wrong password.
	typeInto(t, ctx, `input[name="username"]`, "ada")
	typeInto(t, ctx, `input[name="password"]`, "babbage")
	click(t, ctx, `form button[type="submit"]`)
	waitVisible(t, ctx, "#login-error")
	for _, id := range []string{"username", "password"} {
		got := evalJS[string](t, ctx, `(() => { const i = document.getElementById('`+id+`'); return i.getAttribute('aria-invalid') + ' ' + i.getAttribute('aria-describedby'); })()`)
		if got != "true login-error" {
			t.Errorf("#%s after a wrong password: aria-invalid, aria-describedby = %q, want \"true login-error\"", id, got)
		}
	}
	shoot("02-wrong-password")
	run(t, ctx, "dark scheme", colorScheme("dark"))
	shoot("02-wrong-password-dark")
	run(t, ctx, "light scheme", colorScheme("light"))

	// A request the IdP refuses, with a long redirect_uri in its details.
	navigate(t, ctx, origin+"/dev-idp/authorize?"+url.Values{
		"client_id":     {"signet-dev"},
		"redirect_uri":  {"http://127.0.0.1:1/api/auth/callback/dev-with-a-rather-long-path-segment"},
		"response_type": {"code"},
		"scope":         {"openid"},
	}.Encode())
	waitVisible(t, ctx, ".detail-text")
	if got := evalJS[string](t, ctx, `getComputedStyle(document.querySelector('.detail-text')).wordBreak + ' ' + getComputedStyle(document.querySelector('.detail-text')).overflowWrap`); got != "normal break-word" {
		t.Errorf("details: word-break, overflow-wrap = %q, want \"normal break-word\" (break between words, and inside one only when it is longer than the line)", got)
	}
	shoot("03-request-refused")

	// The IdP's own home page.
	navigate(t, ctx, origin+"/dev-idp/")
	waitVisible(t, ctx, "h1")
	shoot("04-home")

	// Signing out at the IdP by hand: the confirmation, then the end.
	navigate(t, ctx, origin+"/dev-idp/end_session")
	waitVisible(t, ctx, `form button[type="submit"]`)
	shoot("05-sign-out")
	click(t, ctx, `form button[type="submit"]`)
	waitJS(t, ctx, "the signed-out page", `document.querySelector('h1')?.textContent === 'You are signed out'`, stepTimeout)
	shoot("06-signed-out")
}
