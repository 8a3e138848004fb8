package store_test

import (
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/store"
	"github.com/signet-auth/signet/auth/store/storetest"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestMemoryConformance(t *testing.T) {
	c := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	storetest.Run(t, storetest.Harness{
		New:     func(t *testing.T) store.Store { return store.NewMemory(c.now) },
		Clock:   c.now,
		Advance: c.advance,
	})
}
