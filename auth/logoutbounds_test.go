package auth

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/authtest"
)

// TestLogoutTokenReplayWindow: a logout token's jti is remembered for as
// long as the token would be accepted (until its exp, plus the leeway),
// not a fixed time: a captured token with a far exp replayed hours later
// is refused and ends no session signed in since.
func TestLogoutTokenReplayWindow(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	login, _ := e.idp.LastLogin()
	captured := e.idp.LogoutToken(login.SID, "", authtest.RS256, func(c map[string]any) {
		c["exp"] = e.clock.Now().Add(3 * time.Hour).Unix()
	})
	if r := e.postLogoutToken(t, captured); r.status != http.StatusOK {
		t.Fatalf("first use: %d %s", r.status, r.body)
	}
	e.clock.Advance(2 * time.Hour)
	// Enough other logouts that any periodic sweep of the remembered ids
	// has run since.
	for i := range 300 {
		tok := e.idp.LogoutToken(fmt.Sprintf("sid-other-%d", i), "", authtest.RS256, nil)
		if r := e.postLogoutToken(t, tok); r.status != http.StatusOK {
			t.Fatalf("logout %d: %d %s", i, r.status, r.body)
		}
	}
	// The same IdP session signs in again (the sid is reused) after the
	// first logout: the replay must not end it.
	e.idp.SetClaims(func(c map[string]any) { c["sid"] = login.SID })
	later := e.browser()
	later.signIn()
	if later.session() == nil {
		t.Fatal("not signed in")
	}
	r := e.postLogoutToken(t, captured)
	if r.status != http.StatusBadRequest {
		t.Errorf("replay 2 h later: status %d, want 400", r.status)
	}
	e.wantLog(t, "jti replayed")
	if later.session() == nil {
		t.Error("the replayed token ended a session signed in after its first use")
	}
}

// TestLogoutTokenTimeBounds: a logout token whose exp lies more than a day
// ahead (of now or of its iat), or that was issued in the future, is
// refused: its jti would have to be kept that long.
func TestLogoutTokenTimeBounds(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	login, _ := e.idp.LastLogin()
	now := e.clock.Now()
	tests := []struct {
		name   string
		edit   func(c map[string]any)
		ok     bool
		logWhy string
	}{
		{"exp in 2 days", func(c map[string]any) { c["exp"] = now.Add(48 * time.Hour).Unix() }, false, "exp more than"},
		{"exp 25 h after iat", func(c map[string]any) {
			c["iat"] = now.Add(-23 * time.Hour).Unix()
			c["exp"] = now.Add(2 * time.Hour).Unix()
		}, false, "exp more than"},
		{"iat in an hour", func(c map[string]any) {
			c["iat"] = now.Add(time.Hour).Unix()
			delete(c, "exp")
		}, false, "issued in the future"},
		{"exp in 23 h", func(c map[string]any) { c["exp"] = now.Add(23 * time.Hour).Unix() }, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.postLogoutToken(t, e.idp.LogoutToken("sid-"+strings.ReplaceAll(tt.name, " ", "-"), "", authtest.RS256, tt.edit))
			if got := r.status == http.StatusOK; got != tt.ok {
				t.Fatalf("status %d, want accepted %v: %s", r.status, tt.ok, r.body)
			}
			if !tt.ok {
				e.wantLog(t, tt.logWhy)
			}
		})
	}
	if b.session() == nil {
		t.Errorf("session %s ended", login.SID)
	}
}

// TestFrontchannelIssuerSpelling: the front-channel logout's iss may spell
// the issuer with or without a trailing slash, and the configured issuer
// may too: the session ends either way (the revocation is keyed by the
// provider's issuer, never the query's), even when the iframe carries no
// cookie, and the event names the provider's issuer.
func TestFrontchannelIssuerSpelling(t *testing.T) {
	for _, tt := range []struct{ name, configured, query string }{
		{"query with a slash", "", "/"},
		{"configured with a slash", "/", ""},
		{"query with two slashes", "", "//"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu     sync.Mutex
				events []LogoutEvent
			)
			e := newEnv(t, logoutEvents(&events, &mu), withProvider(func(p *Provider) { p.Issuer += tt.configured }))
			b := e.browser()
			b.signIn()
			login, _ := e.idp.LastLogin()
			r := e.browser().get("/api/auth/frontchannel-logout?" + url.Values{"iss": {e.idp.Issuer + tt.query}, "sid": {login.SID}}.Encode())
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if s := b.session(); s != nil {
				t.Errorf("session survived: %v", s)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(events) != 1 || events[0].Issuer != e.idp.Issuer {
				t.Errorf("events = %+v, want one with issuer %q", events, e.idp.Issuer)
			}
		})
	}
}

// TestFrontchannelBounds: an iss or sid over its bound is refused with 400
// and ends nothing.
func TestFrontchannelBounds(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	login, _ := e.idp.LastLogin()
	for name, q := range map[string]url.Values{
		"long sid":           {"iss": {e.idp.Issuer}, "sid": {strings.Repeat("s", maxSIDBytes+1)}},
		"long iss":           {"iss": {e.idp.Issuer + strings.Repeat("/", maxIssuerBytes)}, "sid": {login.SID}},
		"long sid, same one": {"iss": {e.idp.Issuer}, "sid": {login.SID + strings.Repeat("s", 1000)}},
	} {
		t.Run(name, func(t *testing.T) {
			r := e.browser().get("/api/auth/frontchannel-logout?" + q.Encode())
			if r.status != http.StatusBadRequest {
				t.Errorf("status %d, want 400", r.status)
			}
			e.wantLog(t, "iss or sid too long")
		})
	}
	if b.session() == nil {
		t.Error("a refused front-channel logout ended the session")
	}
}
