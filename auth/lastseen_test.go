package auth

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/store"
)

// countingStore counts PutMember calls and fails them while failing is set.
type countingStore struct {
	store.Store
	puts    atomic.Int64
	failing atomic.Bool
}

func (c *countingStore) PutMember(ctx context.Context, g, m string, v []byte, exp time.Time) error {
	c.puts.Add(1)
	if c.failing.Load() {
		return errors.New("down")
	}
	return c.Store.PutMember(ctx, g, m, v, exp)
}

// TestLastSeenWrittenOnce: of the concurrent requests of a session that
// find its last-seen time due, one writes it; a write that failed is tried
// again by the next request; a minute later it is due again.
func TestLastSeenWrittenOnce(t *testing.T) {
	clock := newTestClock()
	st := &countingStore{Store: store.NewMemory(clock.Now)}
	s := newState(st, clock.Now, time.Hour, slog.New(slog.DiscardHandler))
	rec := &Record{Handle: "h1", Issuer: "https://idp.example", Subject: "ada", Expires: clock.Now().Add(time.Hour)}
	ctx := context.Background()

	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = s.index(ctx, rec, "", "", false)
		}()
	}
	wg.Wait()
	if got := st.puts.Load(); got != 1 {
		t.Fatalf("16 concurrent requests wrote the last-seen time %d times, want 1", got)
	}

	clock.Advance(lastSeenEvery)
	st.failing.Store(true)
	_ = s.index(ctx, rec, "", "", false)
	st.failing.Store(false)
	_ = s.index(ctx, rec, "", "", false)
	_ = s.index(ctx, rec, "", "", false)
	if got := st.puts.Load(); got != 3 {
		t.Errorf("after a failed write: %d writes in all, want 3 (the failed one, its retry, nothing more)", got)
	}
}
