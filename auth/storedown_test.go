package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/store"
)

var errDown = errors.New("connection refused")

// flakyStore fails every call while down, as a store that cannot be
// reached does.
type flakyStore struct {
	store.Store
	down atomic.Bool
}

func (f *flakyStore) err() error {
	if f.down.Load() {
		return errDown
	}
	return nil
}

func (f *flakyStore) Get(ctx context.Context, k string) ([]byte, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.Store.Get(ctx, k)
}

func (f *flakyStore) Set(ctx context.Context, k string, v []byte, exp time.Time) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Store.Set(ctx, k, v, exp)
}

func (f *flakyStore) Max(ctx context.Context, k string, n int64, exp time.Time) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Store.Max(ctx, k, n, exp)
}

func (f *flakyStore) Members(ctx context.Context, g string) (map[string][]byte, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.Store.Members(ctx, g)
}

func (f *flakyStore) PutMember(ctx context.Context, g, m string, v []byte, exp time.Time) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Store.PutMember(ctx, g, m, v, exp)
}

func (f *flakyStore) Delete(ctx context.Context, k string) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Store.Delete(ctx, k)
}

// TestStoreDown: while the store cannot be reached, a signed-in request
// gets 503 (the Unavailable page; htmx is told to show it), no cookie is
// cleared and no session is lost, the log says so once; when the store is
// back, the same browser is signed in without anything else happening.
func TestStoreDown(t *testing.T) {
	for _, strategy := range []Strategy{StrategyCookie, StrategyServer} {
		t.Run(string(strategy), func(t *testing.T) {
			var fs *flakyStore
			e := newEnv(t, withConfig(func(c *Config) {
				fs = &flakyStore{Store: newMemoryStore(c.Now)}
				c.Store, c.Session.Strategy = fs, strategy
			}))
			b := e.browser()
			b.signIn()
			csrf := b.csrf()
			fs.down.Store(true)

			checks := []struct {
				name string
				resp func() response
			}{
				{"a page", func() response { return b.get("/profile") }},
				{"the session", func() response { return b.get("/api/auth/session") }},
				{"an htmx fragment", func() response { return b.get("/fragment", "HX-Request", "true") }},
				{"the sessions list", func() response { return b.get("/api/auth/list-sessions") }},
				{"a revoke", func() response { return b.revoke("revoke-other-sessions", map[string][]string{"csrfToken": {csrf}}) }},
				{"sign-out", func() response { return b.post("/api/auth/signout", map[string][]string{"csrfToken": {csrf}}) }},
				{"the stream", func() response { return b.get("/api/auth/session/stream") }},
			}
			for _, c := range checks {
				r := c.resp()
				if r.status != http.StatusServiceUnavailable {
					t.Errorf("%s while the store is down: %d, want 503: %.200s", c.name, r.status, r.body)
				}
				for _, ck := range r.cookies {
					if strings.HasPrefix(ck.Name, "signet.session-token") {
						t.Errorf("%s while the store is down touched the session cookie: %v", c.name, ck)
					}
				}
				if c.name == "an htmx fragment" && r.header.Get("HX-Retarget") == "" {
					t.Errorf("the htmx request got no HX-Retarget: %v", r.header)
				}
				if c.name == "a page" && !strings.Contains(r.body, "Temporarily unavailable") {
					t.Errorf("the page does not say what happened: %.300s", r.body)
				}
			}
			if n := strings.Count(e.logs.String(), "session store unavailable"); n != 1 {
				t.Errorf("the outage was logged %d times, want once:\n%s", n, e.logs.String())
			}

			fs.down.Store(false)
			if b.session() == nil {
				t.Fatalf("signed out after the store came back; log:\n%s", e.logs.String())
			}
			if r := b.get("/profile"); r.status != http.StatusOK {
				t.Errorf("/profile after the store came back: %d", r.status)
			}
			e.wantLog(t, "session store available again")
		})
	}
}
