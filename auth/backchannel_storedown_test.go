package auth

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/authtest"
	"github.com/signet-auth/signet/auth/store"
)

// opFailStore fails the calls named in down, as a store that cannot be
// reached (or stops being reachable halfway through a logout) does.
type opFailStore struct {
	store.Store
	mu   sync.Mutex
	down map[string]bool
}

func (f *opFailStore) set(ops ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = map[string]bool{}
	for _, op := range ops {
		f.down[op] = true
	}
}

func (f *opFailStore) fails(op string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down[op]
}

func (f *opFailStore) Add(ctx context.Context, k string, v []byte, exp time.Time) (bool, error) {
	if f.fails("Add") {
		return false, errDown
	}
	return f.Store.Add(ctx, k, v, exp)
}

func (f *opFailStore) Max(ctx context.Context, k string, n int64, exp time.Time) error {
	if f.fails("Max") {
		return errDown
	}
	return f.Store.Max(ctx, k, n, exp)
}

// TestBackchannelLogoutStoreDown: a logout token that arrives while the
// store cannot record it is answered 503 with Retry-After, not 400 (which
// tells the IdP never to send it again), and the same token sent again
// once the store is back ends the session — also when the store failed
// after the token's jti was recorded.
func TestBackchannelLogoutStoreDown(t *testing.T) {
	for _, tc := range []struct {
		name string
		down []string
	}{
		{"jti not recorded", []string{"Add"}},
		{"revocation not recorded", []string{"Max"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var fs *opFailStore
			e := newEnv(t, withConfig(func(c *Config) {
				fs = &opFailStore{Store: newMemoryStore(c.Now)}
				c.Store = fs
			}))
			b := e.browser()
			b.signIn()
			login, _ := e.idp.LastLogin()
			token := e.idp.LogoutToken(login.SID, "", authtest.RS256, nil)

			fs.set(tc.down...)
			r := e.postLogoutToken(t, token)
			if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "temporarily_unavailable") {
				t.Fatalf("logout token while the store is down: %d %s, want 503 temporarily_unavailable; log:\n%s", r.status, r.body, e.logs.String())
			}
			if r.header.Get("Retry-After") == "" {
				t.Errorf("503 without Retry-After")
			}

			fs.set()
			if r := e.postLogoutToken(t, token); r.status != http.StatusOK {
				t.Fatalf("the same token once the store is back: %d %s, want 200; log:\n%s", r.status, r.body, e.logs.String())
			}
			if s := b.get("/api/auth/session"); s.body != "null" {
				t.Errorf("session after the logout was sent again = %s, want null", s.body)
			}
			// Sent a third time, it is a replay.
			if r := e.postLogoutToken(t, token); r.status != http.StatusBadRequest {
				t.Errorf("the token replayed after it was recorded: %d, want 400", r.status)
			}
		})
	}
}
