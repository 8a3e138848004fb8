package auth

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// eventually polls cond for up to 5 s, for what happens in the background.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s: not %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// listSessions GETs the list as b sees it.
func (b *browser) listSessions() ([]SessionInfo, response) {
	b.t.Helper()
	r := b.get("/api/auth/list-sessions")
	var out []SessionInfo
	if r.status == http.StatusOK {
		if err := json.Unmarshal([]byte(r.body), &out); err != nil {
			b.t.Fatalf("list-sessions: %v: %s", err, r.body)
		}
	}
	return out, r
}

func (b *browser) revoke(route string, form url.Values, header ...string) response {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrfToken"]; !ok {
		form.Set("csrfToken", b.csrf())
	}
	return b.post("/api/auth/"+route, form, header...)
}

// TestSessionsList: every strategy lists the user's sessions (the current
// one first and marked, a device label, the provider) and ends one, the
// others or all of them, on the routes' own terms: CSRF, same origin, an id
// that is not the user's answered as an unknown one.
func TestSessionsList(t *testing.T) {
	for _, strategy := range []Strategy{StrategyCookie, StrategyServer} {
		t.Run(string(strategy), func(t *testing.T) {
			e := newEnv(t, withConfig(func(c *Config) { c.Session.Strategy = strategy }))
			laptop, phone, tablet := e.browser(), e.browser(), e.browser()
			laptop.signIn()
			phone.signIn()
			tablet.signIn()
			e.idp.SetUser(map[string]any{"sub": "user-grace", "name": "Grace Hopper", "email": "grace@example.com"})
			other := e.browser()
			other.signIn()

			list, r := laptop.listSessions()
			if r.status != http.StatusOK || len(list) != 3 {
				t.Fatalf("list-sessions: %d %s; want Ada's 3 sessions", r.status, r.body)
			}
			if !list[0].Current || list[1].Current || list[2].Current {
				t.Errorf("current flags: %+v", list)
			}
			for _, s := range list {
				if s.ID == "" || s.Provider != "oidc" || s.Device != "Go HTTP client on unknown system" || s.CreatedAt.IsZero() || s.ExpiresAt.IsZero() {
					t.Errorf("session %+v", s)
				}
			}
			if cookie := laptop.cookie("signet.session-token"); strings.Contains(r.body, cookie) {
				t.Error("the list holds the session cookie")
			}
			graces, _ := other.listSessions()
			if len(graces) != 1 {
				t.Fatalf("Grace sees %d sessions, want her own 1", len(graces))
			}

			phoneID := ""
			for _, s := range list {
				if !s.Current {
					phoneID = s.ID
					break
				}
			}
			// Refusals change nothing.
			refusals := []struct {
				name   string
				resp   func() response
				status int
			}{
				{"no CSRF token", func() response {
					return laptop.revoke("revoke-session", url.Values{"id": {phoneID}, "csrfToken": {""}})
				}, http.StatusForbidden},
				{"a wrong CSRF token", func() response {
					return laptop.revoke("revoke-session", url.Values{"id": {phoneID}, "csrfToken": {"0123"}})
				}, http.StatusForbidden},
				{"cross-origin", func() response {
					return laptop.revoke("revoke-session", url.Values{"id": {phoneID}}, "Sec-Fetch-Site", "cross-site")
				}, http.StatusForbidden},
				{"someone else's id", func() response {
					return laptop.revoke("revoke-session", url.Values{"id": {graces[0].ID}})
				}, http.StatusNotFound},
				{"an unknown id", func() response {
					return laptop.revoke("revoke-session", url.Values{"id": {"no-such-session"}})
				}, http.StatusNotFound},
				{"no id", func() response { return laptop.revoke("revoke-session", nil) }, http.StatusNotFound},
				{"signed out", func() response { return e.browser().revoke("revoke-sessions", nil) }, http.StatusUnauthorized},
			}
			var unknownBody string
			for _, tt := range refusals {
				r := tt.resp()
				if r.status != tt.status {
					t.Errorf("%s: status %d, want %d: %s", tt.name, r.status, tt.status, r.body)
				}
				if tt.name == "an unknown id" {
					unknownBody = r.body
				}
				if tt.name == "someone else's id" && unknownBody != "" && r.body != unknownBody {
					t.Errorf("someone else's id answers %q, an unknown one %q", r.body, unknownBody)
				}
			}
			if s := other.session(); s == nil {
				t.Fatal("a refused revoke ended Grace's session")
			}
			if l, _ := laptop.listSessions(); len(l) != 3 {
				t.Fatalf("after refusals Ada has %d sessions, want 3", len(l))
			}

			// One session, by id, as JSON.
			body := `{"id":"` + phoneID + `","csrfToken":"` + laptop.csrf() + `"}`
			req, _ := http.NewRequest(http.MethodPost, e.url("/api/auth/revoke-session"), strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if r := laptop.do(req); r.status != http.StatusOK || r.body != `{"status":true}` {
				t.Fatalf("revoke-session: %d %s", r.status, r.body)
			}
			ended := phone
			if phone.session() != nil {
				ended = tablet
			}
			if ended.session() != nil {
				t.Fatal("the revoked session still works")
			}
			if l, _ := laptop.listSessions(); len(l) != 2 {
				t.Errorf("after one revoke: %d sessions, want 2", len(l))
			}
			// The same id again: gone, like an unknown one.
			if r := laptop.revoke("revoke-session", url.Values{"id": {phoneID}}); r.status != http.StatusNotFound {
				t.Errorf("revoking an ended session: %d, want 404", r.status)
			}

			// The others, from htmx: 204 and the trigger.
			if r := laptop.revoke("revoke-other-sessions", nil, "HX-Request", "true"); r.status != http.StatusNoContent ||
				r.header.Get("HX-Trigger") != "signet:sessions-changed" {
				t.Fatalf("revoke-other-sessions: %d %v", r.status, r.header)
			}
			if phone.session() != nil || tablet.session() != nil {
				t.Error("another session survived revoke-other-sessions")
			}
			if laptop.session() == nil {
				t.Fatal("revoke-other-sessions ended the current one")
			}

			// All, this one included: its cookie is cleared.
			r = laptop.revoke("revoke-sessions", nil)
			if r.status != http.StatusOK {
				t.Fatalf("revoke-sessions: %d %s", r.status, r.body)
			}
			if c := r.setCookie("signet.session-token"); c == nil || c.MaxAge >= 0 {
				t.Errorf("revoke-sessions left the cookie: %v", c)
			}
			if other.session() == nil {
				t.Error("Ada's revoke ended Grace's session")
			}
		})
	}
}

// TestRevokeRevokesRefreshToken: a revoked session's refresh token is
// revoked at the IdP (RFC 7009) — at once for a server session, when its
// cookie is next seen for a cookie session — and the IdP's session stays.
func TestRevokeRevokesRefreshToken(t *testing.T) {
	for _, strategy := range []Strategy{StrategyCookie, StrategyServer} {
		t.Run(string(strategy), func(t *testing.T) {
			e := newEnv(t, withConfig(func(c *Config) { c.Session.Strategy = strategy }))
			a, b := e.browser(), e.browser()
			a.signIn()
			b.signIn()
			if err := e.revokeOthersFrom(a); err != nil {
				t.Fatal(err)
			}
			if strategy == StrategyCookie {
				// The ended cookie shows up, and a copy of it again and
				// again: one revocation all the same.
				cookie := b.cookie("signet.session-token")
				b.get("/")
				for range 5 {
					copied := e.browser()
					copied.setCookie("signet.session-token", cookie)
					copied.get("/")
				}
			}
			eventually(t, "the refresh token revoked at the IdP", func() bool { return len(e.idp.Revoked()) >= 1 })
			time.Sleep(100 * time.Millisecond) // a second call, were there one, would be under way
			if n := len(e.idp.Revoked()); n != 1 {
				t.Errorf("the refresh token was revoked %d times, want once", n)
			}
			if got := len(e.idp.Logouts()); got != 0 {
				t.Errorf("the IdP was asked to log out %d times, want 0", got)
			}
		})
	}
}

func (e *env) revokeOthersFrom(b *browser) error {
	if r := b.revoke("revoke-other-sessions", nil); r.status != http.StatusOK {
		return &Error{Code: CodeCallback}
	}
	return nil
}

// TestStoredSessionsSealed: a session the store keeps (the server
// strategy, or a cookie session too large for its cookie) is sealed with
// AUTH_SECRET, so a copy of the store holds no token and no claim.
func TestStoredSessionsSealed(t *testing.T) {
	var st *memoryStore
	e := newEnv(t, withConfig(func(c *Config) {
		st = newMemoryStore(c.Now)
		c.Store, c.Session.Strategy = st, StrategyServer
	}))
	b := e.browser()
	b.signIn()
	keys := st.Keys(keySession)
	if len(keys) != 1 {
		t.Fatalf("store holds %d sessions, want 1", len(keys))
	}
	v, err := st.Get(t.Context(), keys[0])
	if err != nil {
		t.Fatal(err)
	}
	// Strings long enough, or with characters base64 lacks, that a sealed
	// value cannot hold them by chance.
	for _, plain := range []string{"Ada Lovelace", "ada@example.com", "user-ada"} {
		if strings.Contains(string(v), plain) {
			t.Errorf("the stored session shows %q in the clear", plain)
		}
	}
	if b.session() == nil {
		t.Fatal("the sealed session does not read back")
	}
}
