package devidp

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestSingleSignOn: after one sign-in, the same browser goes straight
// through a second authorization request, in the same session.
func TestSingleSignOn(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.rp(ctx, oauth2.AuthStyleInHeader)
	b := e.browser()

	first := r.newAuthRequest()
	_, _, c1 := r.exchange(t, ctx, first, e.signIn(t, b, first, "grace", "hopper"))

	second := r.newAuthRequest()
	p := get(t, b, second.url)
	code := e.codeFrom(t, p, second.state) // no form in between
	_, _, c2 := r.exchange(t, ctx, second, code)
	if got, want := c2["sid"], c1["sid"]; got != want {
		t.Errorf("second sign-in sid = %v, want the first's %v", got, want)
	}
	if got, want := c2["username"], "grace"; got != want {
		t.Errorf("second sign-in username = %v, want %v", got, want)
	}

	// The cookie is the IdP's, scoped to its path.
	var found bool
	for _, c := range b.Jar.Cookies(mustParse(t, e.issuer+"/authorize")) {
		if c.Name == SessionCookie {
			found = true
		}
	}
	if !found {
		t.Errorf("no %s cookie for the issuer path", SessionCookie)
	}
	if cs := b.Jar.Cookies(mustParse(t, e.srv.URL+"/")); len(cs) != 0 {
		t.Errorf("cookies sent outside the issuer path: %v", cs)
	}
}

func TestPrompt(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		signedIn  bool
		param     oauth2.AuthCodeOption
		wantForm  bool
		wantError string
	}{
		{"login with session shows the form", true, oauth2.SetAuthURLParam("prompt", "login"), true, ""},
		{"max_age=0 with session shows the form", true, oauth2.SetAuthURLParam("max_age", "0"), true, ""},
		{"none with session goes through", true, oauth2.SetAuthURLParam("prompt", "none"), false, ""},
		{"none without session is login_required", false, oauth2.SetAuthURLParam("prompt", "none"), false, "login_required"},
		{"no prompt without session shows the form", false, oauth2.SetAuthURLParam("prompt", ""), true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			r := e.rp(ctx, oauth2.AuthStyleInHeader)
			b := e.browser()
			var firstSID any
			if tc.signedIn {
				a := r.newAuthRequest()
				_, _, c := r.exchange(t, ctx, a, e.signIn(t, b, a, "alan", "turing"))
				firstSID = c["sid"]
			}
			a := r.newAuthRequest(tc.param)
			p := get(t, b, a.url)
			switch {
			case tc.wantForm:
				form := loginForm(t, p)
				if tc.signedIn && !strings.Contains(p.body, `value="alan"`) {
					t.Errorf("re-authentication form does not name the signed-in user")
				}
				code := e.codeFrom(t, e.submitLogin(t, b, form, "alan", "turing"), a.state)
				_, _, c := r.exchange(t, ctx, a, code)
				if tc.signedIn && c["sid"] != firstSID {
					t.Errorf("re-authentication sid = %v, want the session's %v", c["sid"], firstSID)
				}
			case tc.wantError != "":
				if p.location == nil {
					t.Fatalf("status %d, want a redirect with an error; body:\n%s", p.status, p.body)
				}
				q := p.location.Query()
				if got := q.Get("error"); got != tc.wantError {
					t.Errorf("error = %q, want %q", got, tc.wantError)
				}
				if got := q.Get("state"); got != a.state {
					t.Errorf("state = %q, want %q", got, a.state)
				}
			default:
				r.exchange(t, ctx, a, e.codeFrom(t, p, a.state))
			}
		})
	}
}

// TestSwitchUser: signing in as someone else in the same browser ends the
// previous user's session, back-channel logout included.
func TestSwitchUser(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.rp(ctx, oauth2.AuthStyleInHeader)
	b := e.browser()
	a := r.newAuthRequest()
	_, _, first := r.exchange(t, ctx, a, e.signIn(t, b, a, "ada", "lovelace"))

	a = r.newAuthRequest(oauth2.SetAuthURLParam("prompt", "login"))
	_, _, second := r.exchange(t, ctx, a, e.signIn(t, b, a, "grace", "hopper"))
	if second["sid"] == first["sid"] {
		t.Errorf("new user kept the old sid %v", first["sid"])
	}
	if got, want := len(e.tokens()), 1; got != want {
		t.Fatalf("logout tokens = %d, want %d", got, want)
	}
	lt := verifyLogoutToken(t, ctx, r, e.tokens()[0])
	if lt["sid"] != first["sid"] {
		t.Errorf("logout token sid = %v, want %v", lt["sid"], first["sid"])
	}
}

// TestConcurrentSignIns runs sign-ins in parallel browsers, for -race.
func TestConcurrentSignIns(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.rp(ctx, oauth2.AuthStyleInHeader)
	users := DefaultUsers()
	t.Run("group", func(t *testing.T) {
		for i := range 6 {
			u := users[i%len(users)]
			t.Run(fmt.Sprintf("%d-%s", i, u.Username), func(t *testing.T) {
				t.Parallel()
				b := e.browser()
				for range 2 {
					a := r.newAuthRequest()
					p := get(t, b, a.url)
					var code string
					if p.status == http.StatusOK {
						code = e.codeFrom(t, e.submitLogin(t, b, loginForm(t, p), u.Username, u.Password), a.state)
					} else {
						code = e.codeFrom(t, p, a.state)
					}
					_, _, c := r.exchange(t, ctx, a, code)
					if got, want := c["sub"], u.ID; got != want {
						t.Errorf("sub = %v, want %v", got, want)
					}
				}
			})
		}
	})
}
