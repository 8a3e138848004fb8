package e2e

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/network"
)

// TestSignOutInAnotherTab: the fallback where the session stream is
// unavailable (here the first tab's browser blocks it, as a proxy that
// cuts it would). A visitor signed in in two tabs signs out in one. The
// other tab shows it as soon as it gets the focus back: its nav
// and home panel swap to signed out, with no reload, and its Sign in goes
// to the IdP's login form, because the sign-out ended the IdP's session
// too. Before that, focusing the tab while nothing had changed left the
// page as it was (the fragments answer 304 to their own ETag).
func TestSignOutInAnotherTab(t *testing.T) {
	t.Parallel()
	e := embeddedEnv(t)
	first := newBrowser(t)
	blockSessionStream(t, first)
	e.signInFromHome(t, first, "")
	e.checkHomeSignedIn(t, first)
	swapFragments(t, first) // unchanged: kept; then forced: swapped

	second := newTab(t, first)
	navigate(t, second, e.app.URL+"/profile")
	waitAt(t, second, e.app.URL+"/profile", selSignOut)
	click(t, second, selSignOut)
	e.followSignOut(t, second)
	screenshot(t, second, "01-second-tab-signed-out")

	// Back to the first tab, which still shows the signed-in page.
	if n := evalJS[int](t, first, `document.querySelectorAll('#welcome, #nav-sign-out').length`); n != 2 {
		t.Fatalf("the first tab changed before it got the focus: %d of #welcome, #nav-sign-out left", n)
	}
	focusWindow(t, first)
	waitJS(t, first, "the first tab swaps to signed out",
		`!!document.querySelector('#nav-sign-in') && !!document.querySelector('button#sign-in') && !document.querySelector('#welcome, #nav-sign-out')`, stepTimeout)
	if got := evalJS[string](t, first, `document.querySelector('#home-panel').dataset.state`); got != "signed-out" {
		t.Errorf("#home-panel data-state = %q after the swap, want signed-out", got)
	}
	screenshot(t, first, "02-first-tab-after-focus")

	// Its Sign in asks for credentials again: the IdP's session is over.
	click(t, first, selSignIn)
	e.waitLoginForm(t, first)
	e.submitCredentials(t, first)
	waitAt(t, first, e.app.URL+"/", selWelcome)
}

// blockSessionStream makes the tab of ctx fail every request to the
// session stream, so that its pages fall back to the focus refresh.
func blockSessionStream(t testing.TB, ctx context.Context) {
	t.Helper()
	if _, err := callWithTimeout(ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{
		URLPatterns: []*network.BlockPattern{{URLPattern: "*://*:*/api/auth/session/stream", Block: true}},
	}); err != nil {
		t.Fatalf("block the session stream: %v", err)
	}
}
