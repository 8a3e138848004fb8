package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/authtest"
)

// signOutEvents records SignOut events.
func signOutEvents(events *[]SignOutEvent, mu *sync.Mutex) option {
	return withConfig(func(c *Config) {
		c.Events.SignOut = func(_ context.Context, e SignOutEvent) {
			mu.Lock()
			defer mu.Unlock()
			*events = append(*events, e)
		}
	})
}

// TestSignOutRPInitiated walks the whole RP-Initiated Logout: the local
// session goes first, the IdP gets id_token_hint, client_id,
// post_logout_redirect_uri and state, and the post-logout page checks the
// state, clears every Signet cookie and says "You’re signed out".
func TestSignOutRPInitiated(t *testing.T) {
	var (
		mu     sync.Mutex
		events []SignOutEvent
	)
	e := newEnv(t, signOutEvents(&events, &mu))
	b := e.browser()
	b.signIn()
	login, _ := e.idp.LastLogin()

	out := b.post("/api/auth/signout", url.Values{"csrfToken": {b.csrf()}, "callbackUrl": {"/goodbye"}})
	if got, want := out.status, http.StatusSeeOther; got != want {
		t.Fatalf("POST signout: status %d, want %d", got, want)
	}
	if got := out.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	// The local session is cleared first, by this very response.
	if c := out.setCookie("signet.session-token"); c == nil || c.MaxAge >= 0 {
		t.Errorf("the sign-out response does not clear the session cookie: %v", c)
	}
	if s := b.session(); s != nil {
		t.Errorf("still signed in before reaching the IdP: %v", s)
	}
	if out.setCookie("signet.logout-state") == nil {
		t.Error("no logout-state cookie")
	}

	endSession := out.location(t)
	if got, want := endSession.Scheme+"://"+endSession.Host+endSession.Path, e.idp.Endpoint(authtest.EndSession); got != want {
		t.Fatalf("sign-out goes to %s, want the end_session_endpoint %s", got, want)
	}
	q := endSession.Query()
	if got, want := q.Get("id_token_hint"), login.IDToken; got != want {
		t.Errorf("id_token_hint is not the session's ID token")
	}
	for k, want := range map[string]string{
		"client_id":                e.idp.ClientID,
		"post_logout_redirect_uri": e.app.URL + "/auth/sign-out",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	state := q.Get("state")
	if len(state) < 43 {
		t.Errorf("state = %q, want 32+ random bytes", state)
	}

	back := b.get(endSession.String())
	calls := e.idp.Logouts()
	if len(calls) != 1 || calls[0].State != state {
		t.Fatalf("IdP logout calls = %+v", calls)
	}
	postLogout := back.location(t)
	if got, want := postLogout.Path, "/auth/sign-out"; got != want {
		t.Fatalf("IdP returns to %s, want %s", postLogout, want)
	}
	page := b.get(postLogout.String())
	if got, want := page.status, http.StatusOK; got != want {
		t.Fatalf("post-logout page status %d, want %d; log:\n%s", got, want, e.logs.String())
	}
	if !strings.Contains(page.body, "You’re signed out of this app and of your identity provider.") {
		t.Errorf("post-logout page does not say the IdP's session ended too:\n%s", page.body)
	}
	if !strings.Contains(page.body, `href="/goodbye"`) {
		t.Errorf("post-logout page does not link to the callbackUrl /goodbye:\n%s", page.body)
	}
	if strings.Contains(page.body, `http-equiv="refresh"`) {
		t.Errorf("post-logout page moves on by itself (a time limit):\n%s", page.body)
	}
	for h, want := range map[string]string{"Cache-Control": "no-store", "Clear-Site-Data": `"cache"`} {
		if got := page.header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if left := b.cookieNames(); len(left) != 0 {
		t.Errorf("cookies left after the post-logout page: %v", left)
	}

	// No token ever appeared in the app's own URLs.
	for _, u := range b.visited {
		if !strings.HasPrefix(u, e.app.URL) {
			continue
		}
		for _, secret := range []string{login.IDToken, login.AccessToken, login.RefreshToken, login.Code} {
			if secret != "" && strings.Contains(u, secret) && !strings.Contains(u, "/api/auth/callback/") {
				t.Errorf("app URL %s carries a token", u)
			}
		}
		if strings.Contains(u, "id_token") {
			t.Errorf("app URL %s mentions id_token", u)
		}
	}

	mu.Lock()
	if len(events) != 1 || !events[0].IdPLogout || events[0].Subject != "user-ada" || events[0].Provider != "oidc" {
		t.Errorf("SignOut events = %+v", events)
	}
	mu.Unlock()
	e.wantLog(t, "signed out", "idp_logout=true")

	// Signing in again works (the fake IdP does not ask; a real one would).
	b.signIn()
	if b.session() == nil {
		t.Error("cannot sign in again after signing out")
	}
}

// TestPostLogoutState: the post-logout page refuses a missing or wrong
// state while a session is alive (a forged logout link signs nobody out);
// with no session it only tidies up.
func TestPostLogoutState(t *testing.T) {
	tests := []struct {
		name     string
		query    string
		signedIn bool
		status   int
	}{
		{"wrong state while signed in", "?state=forged", true, http.StatusForbidden},
		{"no state while signed in", "", true, http.StatusForbidden},
		{"empty state while signed in", "?state=", true, http.StatusForbidden},
		{"wrong state, signed out", "?state=forged", false, http.StatusOK},
		{"no state, signed out", "", false, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			b := e.browser()
			if tt.signedIn {
				b.signIn()
			}
			r := b.get("/auth/sign-out" + tt.query)
			if got := r.status; got != tt.status {
				t.Fatalf("status %d, want %d", got, tt.status)
			}
			if tt.signedIn {
				if !strings.Contains(r.body, string(CodeVerification)) {
					t.Errorf("page does not show Verification:\n%s", r.body)
				}
				if b.session() == nil {
					t.Error("a forged post-logout link signed the user out")
				}
				e.wantLog(t, "post-logout page without matching state while signed in")
			} else if !strings.Contains(r.body, "You’re signed out") {
				t.Errorf("page:\n%s", r.body)
			}
		})
	}
}

// TestPostLogoutStateFromAnotherSignOut: a state from one browser's
// sign-out does not validate another browser's page.
func TestPostLogoutStateFromAnotherSignOut(t *testing.T) {
	e := newEnv(t)
	attacker := e.browser()
	attacker.signIn()
	out := attacker.post("/api/auth/signout", url.Values{"csrfToken": {attacker.csrf()}})
	state := out.location(t).Query().Get("state")

	victim := e.browser()
	victim.signIn()
	r := victim.get("/auth/sign-out?state=" + url.QueryEscape(state))
	if got, want := r.status, http.StatusForbidden; got != want {
		t.Fatalf("status %d, want %d", got, want)
	}
	if victim.session() == nil {
		t.Error("another browser's state signed the victim out")
	}
}

// TestSignOutLocalOnly: an IdP without end_session_endpoint gets a
// local-only sign-out that lands on the same post-logout page.
func TestSignOutLocalOnly(t *testing.T) {
	var (
		mu     sync.Mutex
		events []SignOutEvent
	)
	e := newEnv(t, withIdP(authtest.Options{NoEndSession: true}), signOutEvents(&events, &mu))
	b := e.browser()
	b.signIn()
	out := b.post("/api/auth/signout", url.Values{"csrfToken": {b.csrf()}})
	l := out.location(t)
	if got, want := l.Scheme+"://"+l.Host+l.Path, e.app.URL+"/auth/sign-out"; got != want {
		t.Fatalf("local sign-out goes to %s, want %s", got, want)
	}
	if len(l.Query().Get("state")) < 43 || len(l.Query()) != 1 {
		t.Errorf("post-logout URL query = %q, want only state", l.RawQuery)
	}
	page := b.get(l.String())
	if page.status != http.StatusOK || !strings.Contains(page.body, "You’re signed out of this app.") {
		t.Fatalf("post-logout page: %d\n%s", page.status, page.body)
	}
	if got := len(e.idp.Logouts()); got != 0 {
		t.Errorf("IdP logout called %d times", got)
	}
	if left := b.cookieNames(); len(left) != 0 {
		t.Errorf("cookies left: %v", left)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 1 || events[0].IdPLogout {
		t.Errorf("SignOut events = %+v, want one local sign-out", events)
	}
	e.wantLog(t, "idp_logout=false")
}

// TestSignOutIdPDown: when discovery cannot be fetched at sign-out time,
// the local session still ends and the sign-out is local.
func TestSignOutIdPDown(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	e.restart(nil) // a fresh process: no discovery cached
	e.idp.Fail(authtest.Discovery, authtest.Status500)
	out := b.post("/api/auth/signout", url.Values{"csrfToken": {b.csrf()}})
	if got, want := out.location(t).Path, "/auth/sign-out"; got != want {
		t.Fatalf("sign-out goes to %s, want the local post-logout page", out.location(t))
	}
	if b.session() != nil {
		t.Error("still signed in")
	}
	e.wantLog(t, "sign-out is local only: identity provider unavailable")
}

func TestSignOutCustomLogoutURL(t *testing.T) {
	var got LogoutRequest
	e := newEnv(t, withProvider(func(p *Provider) {
		p.LogoutURL = func(r LogoutRequest) string {
			got = r
			return "https://idp.example/v2/logout?returnTo=" + url.QueryEscape(r.PostLogoutRedirectURI)
		}
	}))
	b := e.browser()
	b.signIn()
	login, _ := e.idp.LastLogin()
	out := b.post("/api/auth/signout", url.Values{"csrfToken": {b.csrf()}})
	if want := "https://idp.example/v2/logout?returnTo=" + url.QueryEscape(e.app.URL+"/auth/sign-out"); out.header.Get("Location") != want {
		t.Errorf("Location = %q, want %q", out.header.Get("Location"), want)
	}
	if got.IDTokenHint != login.IDToken || got.ClientID != e.idp.ClientID || got.State == "" ||
		got.EndSessionEndpoint != e.idp.Endpoint(authtest.EndSession) || got.Issuer != e.idp.Issuer {
		t.Errorf("LogoutURL got %+v", got)
	}
	// Auth0-like IdPs return without state: with the session gone, the
	// page tidies up.
	page := b.get("/auth/sign-out")
	if page.status != http.StatusOK {
		t.Errorf("post-logout page without state after sign-out: %d", page.status)
	}
}

func TestSignOutSignedOut(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	out := b.post("/api/auth/signout", url.Values{"csrfToken": {b.csrf()}})
	l := out.location(t)
	if l.Path != "/auth/sign-out" {
		t.Fatalf("Location %s, want the post-logout page", l)
	}
	if r := b.get(l.String()); r.status != http.StatusOK {
		t.Errorf("post-logout page: %d", r.status)
	}
}

func TestSignOutReturnRedirectJSON(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	r := b.post("/api/auth/signout", url.Values{"csrfToken": {b.csrf()}}, "X-Auth-Return-Redirect", "1")
	var v struct {
		URL string `json:"url"`
	}
	if err := json.Unmarshal([]byte(r.body), &v); err != nil || !strings.HasPrefix(v.URL, e.idp.Endpoint(authtest.EndSession)+"?") {
		t.Errorf("body %q: want {url: end_session_endpoint…}", r.body)
	}
	if b.session() != nil {
		t.Error("still signed in")
	}
}

func TestSignOutConfirmationPage(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	r := b.get("/api/auth/signout?callbackUrl=%2Fbye")
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	tok, _, _ := strings.Cut(b.cookie("signet.csrf-token"), "|")
	for _, want := range []string{
		`<form method="post" action="/api/auth/signout">`,
		`name="csrfToken" value="` + tok + `"`,
		`name="callbackUrl" value="/bye"`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("confirmation page lacks %s:\n%s", want, r.body)
		}
	}
	// Submitting the page's own form signs out.
	form := url.Values{}
	for _, m := range regexp.MustCompile(`name="(\w+)" value="([^"]*)"`).FindAllStringSubmatch(r.body, -1) {
		form.Set(m[1], m[2])
	}
	out := b.post("/api/auth/signout", form)
	if out.status != http.StatusSeeOther || strings.Contains(out.header.Get("Location"), "error") {
		t.Errorf("form submit: %d %s", out.status, out.header.Get("Location"))
	}
}

// With the cookie strategy the browser's cookie is deleted at sign-out, but
// a copy taken earlier (another device, a stolen cookie) is still a valid
// seal: the sign-out revokes the IdP session id, so the copy is refused too.
func TestSignOutRevokesCopiesOfTheCookie(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	app, _ := url.Parse(e.app.URL)
	thief := e.browser()
	thief.jar.SetCookies(app, b.jar.Cookies(app))
	if thief.session() == nil {
		t.Fatal("the copied cookie does not work before sign-out")
	}
	b.post("/api/auth/signout", url.Values{"csrfToken": {b.csrf()}})
	if s := thief.session(); s != nil {
		t.Errorf("a copy of the session cookie survived sign-out: %v", s)
	}
}

// After a local-only sign-out the IdP session lives on, and the next
// sign-in may carry the same sid: it must work, while the old cookie stays
// dead. (The clock moves on between the two sign-ins, as it does for a
// person.)
func TestSignInAgainWithTheSameSID(t *testing.T) {
	e := newEnv(t, withIdP(authtest.Options{NoEndSession: true}))
	e.idp.SetClaims(func(c map[string]any) { c["sid"] = "idp-session-1" })
	b := e.browser()
	b.signIn()
	app, _ := url.Parse(e.app.URL)
	old := e.browser()
	old.jar.SetCookies(app, b.jar.Cookies(app))
	b.post("/api/auth/signout", url.Values{"csrfToken": {b.csrf()}})
	e.clock.Advance(2 * time.Second)
	b.signIn()
	if b.session() == nil {
		t.Fatal("signing in again with the IdP's same sid is refused")
	}
	if s := old.session(); s != nil {
		t.Errorf("the signed-out cookie works again: %v", s)
	}
}

// TestSignOutWhenSignedOut: a visitor without a session (Back after signing
// out) is told they are signed out instead of being asked to confirm, and
// confirming an old form anyway says they were signed out already, never
// that the identity provider offers no sign-out.
func TestSignOutWhenSignedOut(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	r := b.get("/api/auth/signout?callbackUrl=%2Fbye")
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	for _, want := range []string{"You’re signed out", `href="/bye"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("sign-out page, signed out, lacks %s:\n%s", want, r.body)
		}
	}
	for _, bad := range []string{"Are you sure", `id="sign-out"`} {
		if strings.Contains(r.body, bad) {
			t.Errorf("sign-out page, signed out, has %s:\n%s", bad, r.body)
		}
	}

	out := b.post("/api/auth/signout", url.Values{"csrfToken": {b.csrf()}})
	l := out.location(t)
	if l.Path != "/auth/sign-out" {
		t.Fatalf("sign-out without a session goes to %s, want /auth/sign-out", l)
	}
	page := b.get(l.String())
	if !strings.Contains(page.body, "You were already signed out") {
		t.Errorf("post-logout page after a sign-out without a session:\n%s", page.body)
	}
	if strings.Contains(page.body, "identity provider") {
		t.Errorf("post-logout page speaks of the identity provider, which was not asked:\n%s", page.body)
	}
	if got := len(e.idp.Logouts()); got != 0 {
		t.Errorf("IdP logout called %d times", got)
	}
}
