package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/authtest"
)

// logoutEvents records IdPLogout events.
func logoutEvents(events *[]LogoutEvent, mu *sync.Mutex) option {
	return withConfig(func(c *Config) {
		c.Events.IdPLogout = func(_ context.Context, e LogoutEvent) {
			mu.Lock()
			defer mu.Unlock()
			*events = append(*events, e)
		}
	})
}

// postLogoutToken POSTs logout_token as the IdP does: server to server,
// without the user's cookies.
func (e *env) postLogoutToken(t *testing.T, token string) response {
	t.Helper()
	return e.browser().post("/api/auth/backchannel-logout", url.Values{"logout_token": {token}})
}

// TestBackchannelLogout (rp-backchannel-rpinitlogout): a valid logout token
// answers 200, not cached, and the session with that sid is refused from
// its next request; other sessions live on.
func TestBackchannelLogout(t *testing.T) {
	for _, strategy := range []string{"cookie", "server"} {
		t.Run(strategy, func(t *testing.T) {
			var (
				mu     sync.Mutex
				events []LogoutEvent
				store  *memoryStore
			)
			e := newEnv(t, logoutEvents(&events, &mu), withConfig(func(c *Config) {
				if strategy == "server" {
					store = newMemoryStore(c.Now)
					c.Session.Strategy, c.Store = StrategyServer, store
				}
			}))
			victim := e.browser()
			victim.signIn()
			login, _ := e.idp.LastLogin()
			bystander := e.browser()
			bystander.signIn()

			r := e.postLogoutToken(t, e.idp.LogoutToken(login.SID, "", authtest.RS256, nil))
			if got, want := r.status, http.StatusOK; got != want {
				t.Fatalf("status %d, want %d: %s; log:\n%s", got, want, r.body, e.logs.String())
			}
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}

			s := victim.get("/api/auth/session")
			if s.body != "null" {
				t.Fatalf("session after back-channel logout = %s, want null", s.body)
			}
			if c := s.setCookie("signet.session-token"); c == nil || c.MaxAge >= 0 {
				t.Errorf("session cookie not cleared: %v", c)
			}
			if got := victim.get("/profile").status; got != http.StatusFound {
				t.Errorf("/profile status %d, want 302 to sign in", got)
			}
			if bystander.session() == nil {
				t.Error("another session (another sid) was ended too")
			}
			if strategy == "server" {
				if got, want := storedSessions(store), 1; got != want {
					t.Errorf("store holds %d sessions, want %d", got, want)
				}
			}
			mu.Lock()
			if len(events) != 1 || events[0].SID != login.SID || events[0].Channel != "backchannel" || events[0].Issuer != e.idp.Issuer {
				t.Errorf("IdPLogout events = %+v", events)
			}
			mu.Unlock()
			// A server session is deleted at once; a cookie session is
			// refused by the revocation record.
			ended := "session ended elsewhere"
			if strategy == "server" {
				ended = "session not found in the store"
			}
			e.wantLog(t, "back-channel logout", ended)
		})
	}
}

// TestBackchannelLogoutBySub: a token with sub and no sid ends every
// session of that user issued until then, not later ones.
func TestBackchannelLogoutBySub(t *testing.T) {
	e := newEnv(t)
	first, second := e.browser(), e.browser()
	first.signIn()
	second.signIn()
	e.idp.SetUser(map[string]any{"sub": "user-grace", "given_name": "Grace"})
	other := e.browser()
	other.signIn()
	e.idp.SetUser(authtest.DefaultUser())

	e.clock.Advance(time.Minute)
	r := e.postLogoutToken(t, e.idp.LogoutToken("", "user-ada", authtest.RS256, nil))
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	for name, b := range map[string]*browser{"first": first, "second": second} {
		if s := b.session(); s != nil {
			t.Errorf("%s session of user-ada survived: %v", name, s)
		}
	}
	if other.session() == nil {
		t.Error("user-grace's session ended too")
	}
	e.clock.Advance(time.Minute)
	later := e.browser()
	later.signIn()
	if later.session() == nil {
		t.Error("a session signed in after the logout is refused")
	}
}

// TestBackchannelLogoutRejected runs the Back-Channel Logout conformance
// rejections (and more): each answers 400 with an OAuth error, logs why,
// and ends no session.
func TestBackchannelLogoutRejected(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	login, _ := e.idp.LastLogin()
	sid := login.SID
	edit := func(f func(c map[string]any)) func(*authtest.IdP) string {
		return func(idp *authtest.IdP) string { return idp.LogoutToken(sid, "", authtest.RS256, f) }
	}
	replayed := e.idp.LogoutToken("sid-unused", "", authtest.RS256, nil)
	if r := e.postLogoutToken(t, replayed); r.status != http.StatusOK {
		t.Fatalf("first use of a valid token: %d", r.status)
	}
	tests := []struct {
		name   string
		token  func(idp *authtest.IdP) string
		logWhy string
	}{
		{"alg none (-lt-alg-none)", func(idp *authtest.IdP) string { return idp.LogoutToken(sid, "", authtest.AlgNone, nil) }, "unexpected signature algorithm"},
		{"no event (-lt-no-event)", edit(func(c map[string]any) { delete(c, "events") }), "no back-channel logout event"},
		{"wrong event (-lt-wrong-event)", edit(func(c map[string]any) {
			c["events"] = map[string]any{"http://schemas.openid.net/event/other": map[string]any{}}
		}), "no back-channel logout event"},
		{"event not an object", edit(func(c map[string]any) {
			c["events"] = map[string]any{authtest.BackchannelEvent: "yes"}
		}), "no back-channel logout event"},
		{"with nonce (-lt-with-nonce)", edit(func(c map[string]any) { c["nonce"] = "n" }), "has a nonce"},
		{"HS256 (-lt-wrong-alg)", func(idp *authtest.IdP) string { return idp.LogoutToken(sid, "", authtest.HS256ClientSecret, nil) }, "unexpected signature algorithm"},
		{"wrong aud (-lt-wrong-aud)", edit(func(c map[string]any) { c["aud"] = "someone-else" }), "expected audience"},
		{"wrong issuer (-lt-wrong-issuer)", edit(func(c map[string]any) { c["iss"] = "https://evil.example" }), "unknown issuer"},
		{"issuer with a path added", edit(func(c map[string]any) { c["iss"] = c["iss"].(string) + "/x" }), "unknown issuer"},
		{"replayed jti", func(*authtest.IdP) string { return replayed }, "jti replayed"},
		{"neither sub nor sid", func(idp *authtest.IdP) string { return idp.LogoutToken("", "", authtest.RS256, nil) }, "neither sub nor sid"},
		{"no jti", edit(func(c map[string]any) { delete(c, "jti") }), "no jti"},
		{"no iat", edit(func(c map[string]any) { delete(c, "iat") }), "no iat"},
		{"expired", edit(func(c map[string]any) { c["exp"] = c["iat"].(int64) - 120 }), "expired"},
		{"too old without exp", edit(func(c map[string]any) {
			delete(c, "exp")
			c["iat"] = c["iat"].(int64) - int64(11*time.Minute/time.Second)
		}), "too old"},
		{"bad signature", func(idp *authtest.IdP) string { return idp.LogoutToken(sid, "", authtest.BadSignature, nil) }, "failed to verify signature"},
		{"foreign key", func(idp *authtest.IdP) string { return idp.LogoutToken(sid, "", authtest.ForeignKey, nil) }, "failed to verify signature"},
		{"an ID token", func(idp *authtest.IdP) string { return login.IDToken }, "no back-channel logout event"},
		{"empty", func(*authtest.IdP) string { return "" }, "no logout_token"},
		{"not a JWT", func(*authtest.IdP) string { return "hello" }, "parse"},
		{"truncated", func(idp *authtest.IdP) string {
			t := idp.LogoutToken(sid, "", authtest.RS256, nil)
			return t[:len(t)-5]
		}, "failed to verify signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.postLogoutToken(t, tt.token(e.idp))
			if got, want := r.status, http.StatusBadRequest; got != want {
				t.Fatalf("status %d, want %d; log:\n%s", got, want, e.logs.String())
			}
			var body map[string]string
			if err := json.Unmarshal([]byte(r.body), &body); err != nil || body["error"] != "invalid_request" {
				t.Errorf("body = %s, want an OAuth invalid_request error", r.body)
			}
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			e.wantLog(t, "back-channel logout refused", tt.logWhy)
			if b.session() == nil {
				t.Fatal("a rejected logout token ended the session")
			}
		})
	}
	t.Run("typ", func(t *testing.T) {
		for typ, ok := range map[string]bool{"logout+jwt": true, "JWT": true, "application/logout+jwt": true, "at+jwt": false, "secevent+jwt": false} {
			claims := map[string]any{
				"iss": e.idp.Issuer, "aud": e.idp.ClientID, "iat": e.clock.Now().Unix(), "jti": typ + "-jti",
				"sid": "sid-typ", "events": map[string]any{authtest.BackchannelEvent: map[string]any{}},
			}
			r := e.postLogoutToken(t, e.idp.SignJWT(claims, authtest.RS256, typ))
			if got := r.status == http.StatusOK; got != ok {
				t.Errorf("typ %q: status %d, want accepted %v", typ, r.status, ok)
			}
		}
	})
	t.Run("GET", func(t *testing.T) {
		if got := b.get("/api/auth/backchannel-logout").status; got == http.StatusOK {
			t.Errorf("GET answered %d", got)
		}
	})
	t.Run("oversized body", func(t *testing.T) {
		r := e.postLogoutToken(t, strings.Repeat("a", 100<<10))
		if r.status != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413", r.status)
		}
	})
}

// TestFrontchannelLogout: the IdP loads the receiver in an iframe with iss
// and sid; the matching session ends, whether or not the iframe carries
// the browser's cookies.
func TestFrontchannelLogout(t *testing.T) {
	t.Run("iframe without cookies", func(t *testing.T) {
		var (
			mu     sync.Mutex
			events []LogoutEvent
		)
		e := newEnv(t, logoutEvents(&events, &mu))
		b := e.browser()
		b.signIn()
		login, _ := e.idp.LastLogin()
		other := e.browser()
		other.signIn()

		r := e.browser().get("/api/auth/frontchannel-logout?" + url.Values{"iss": {e.idp.Issuer}, "sid": {login.SID}}.Encode())
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		for h, want := range map[string]string{
			"Cache-Control":           "no-store",
			"Content-Security-Policy": "default-src 'none'; frame-ancestors 'self' " + e.idp.URL,
		} {
			if got := r.header.Get(h); got != want {
				t.Errorf("%s = %q, want %q", h, got, want)
			}
		}
		if s := b.session(); s != nil {
			t.Errorf("session survived front-channel logout: %v", s)
		}
		if other.session() == nil {
			t.Error("another sid's session ended")
		}
		mu.Lock()
		defer mu.Unlock()
		if len(events) != 1 || events[0].Channel != "frontchannel" || events[0].SID != login.SID {
			t.Errorf("events = %+v", events)
		}
	})
	t.Run("iframe with the browser's cookies", func(t *testing.T) {
		e := newEnv(t)
		b := e.browser()
		b.signIn()
		login, _ := e.idp.LastLogin()
		r := b.get("/api/auth/frontchannel-logout?" + url.Values{"iss": {e.idp.Issuer}, "sid": {login.SID}}.Encode())
		if c := r.setCookie("signet.session-token"); c == nil || c.MaxAge >= 0 {
			t.Errorf("session cookie not cleared at once: %v", c)
		}
	})
	t.Run("another sid", func(t *testing.T) {
		e := newEnv(t)
		b := e.browser()
		b.signIn()
		b.get("/api/auth/frontchannel-logout?" + url.Values{"iss": {e.idp.Issuer}, "sid": {"sid-other"}}.Encode())
		if b.session() == nil {
			t.Error("a logout for another sid ended the session")
		}
	})
	// A bare link (no iss or sid) must not sign anyone out: that would be a
	// logout CSRF any site could trigger.
	for name, q := range map[string]url.Values{
		"no sid":         {"iss": {""}},
		"no iss nor sid": {},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			b := e.browser()
			b.signIn()
			if iss, ok := q["iss"]; ok && iss[0] == "" {
				q = url.Values{"iss": {e.idp.Issuer}}
			}
			r := b.get("/api/auth/frontchannel-logout?" + q.Encode())
			if r.status != http.StatusBadRequest {
				t.Errorf("status %d, want 400", r.status)
			}
			if b.session() == nil {
				t.Error("a front-channel request without sid ended the session")
			}
		})
	}
	t.Run("unknown issuer", func(t *testing.T) {
		e := newEnv(t)
		b := e.browser()
		b.signIn()
		login, _ := e.idp.LastLogin()
		r := b.get("/api/auth/frontchannel-logout?" + url.Values{"iss": {"https://evil.example"}, "sid": {login.SID}}.Encode())
		if r.status != http.StatusBadRequest {
			t.Errorf("status %d, want 400", r.status)
		}
		if b.session() == nil {
			t.Error("an unknown issuer ended the session")
		}
		e.wantLog(t, "front-channel logout refused")
	})
}

// TestSignInRightAfterLogoutBySub: a back-channel logout by sub ends the
// sessions signed in before it arrived; a sign-in a millisecond later,
// within the same second, survives, and so does the next one.
func TestSignInRightAfterLogoutBySub(t *testing.T) {
	for _, strategy := range []Strategy{StrategyCookie, StrategyServer} {
		t.Run(string(strategy), func(t *testing.T) {
			e := newEnv(t, withConfig(func(c *Config) { c.Session.Strategy = strategy }))
			e.clock.Advance(100 * time.Millisecond) // the clock starts on a whole second
			before := e.browser()
			before.signIn()
			login, _ := e.idp.LastLogin()

			e.clock.Advance(time.Millisecond)
			if r := e.postLogoutToken(t, e.idp.LogoutToken("", login.Subject, authtest.RS256, nil)); r.status != http.StatusOK {
				t.Fatalf("logout by sub: status %d: %s", r.status, r.body)
			}
			e.clock.Advance(time.Millisecond)
			after := e.browser()
			after.signIn()
			e.clock.Advance(time.Millisecond)
			again := e.browser()
			again.signIn()

			if s := before.get("/api/auth/session"); s.body != "null" {
				t.Errorf("the session signed in before the logout = %s, want null", s.body)
			}
			for name, b := range map[string]*browser{"right after": after, "the next": again} {
				if b.session() == nil {
					t.Errorf("%s sign-in, in the same second as the logout, was ended; log:\n%s", name, e.logs.String())
				}
			}
		})
	}
}

// TestFrontchannelLogoutStoresNothingUnknown: a front-channel logout needs
// no authentication, so one that names an IdP session no session of the
// app belongs to stores nothing, however many are sent; one that names a
// known session ends it on every copy of its cookie.
func TestFrontchannelLogoutStoresNothingUnknown(t *testing.T) {
	var st *memoryStore
	e := newEnv(t, withConfig(func(c *Config) {
		st = newMemoryStore(c.Now)
		c.Store = st
	}))
	b := e.browser()
	b.signIn()
	login, _ := e.idp.LastLogin()
	before := st.Len()
	visitor := e.browser()
	for i := range 200 {
		sid := fmt.Sprintf("made-up-%03d-%s", i, strings.Repeat("x", 200))
		r := visitor.get("/api/auth/frontchannel-logout?" + url.Values{"iss": {e.idp.Issuer}, "sid": {sid}}.Encode())
		if r.status != http.StatusOK {
			t.Fatalf("front-channel logout of an unknown sid: %d %s", r.status, r.body)
		}
	}
	if after := st.Len(); after != before {
		t.Fatalf("200 front-channel logouts of unknown sids grew the store from %d to %d entries", before, after)
	}
	if b.session() == nil {
		t.Fatal("an unknown sid's logout ended a session")
	}
	// A copy of the cookie elsewhere (another client) ends with the IdP session.
	copied := e.browser()
	copied.setCookie("signet.session-token", b.cookie("signet.session-token"))
	visitor.get("/api/auth/frontchannel-logout?" + url.Values{"iss": {e.idp.Issuer}, "sid": {login.SID}}.Encode())
	if copied.session() != nil || b.session() != nil {
		t.Error("the known sid's front-channel logout left a copy of the session alive")
	}
}
