package auth

import (
	"sync"
	"time"
)

// ttlCache is a small, bounded map whose entries expire. It backs the
// refresh grace period and the introspection cache. It never starts a
// goroutine: expired entries are dropped when they are met and by a sweep
// when the map is full; if it is still full after the sweep, the entry that
// expires first is evicted.
type ttlCache[V any] struct {
	mu  sync.Mutex
	m   map[string]ttlEntry[V]
	max int
	now func() time.Time
}

type ttlEntry[V any] struct {
	v       V
	expires time.Time
}

func newTTLCache[V any](max int, now func() time.Time) *ttlCache[V] {
	return &ttlCache[V]{m: map[string]ttlEntry[V]{}, max: max, now: now}
}

// get returns the value under k unless it is missing or expired.
func (c *ttlCache[V]) get(k string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		var zero V
		return zero, false
	}
	if !c.now().Before(e.expires) {
		delete(c.m, k)
		var zero V
		return zero, false
	}
	return e.v, true
}

// add stores v under k until expires unless k holds a live value, and
// reports whether it stored it: of concurrent callers, one wins.
func (c *ttlCache[V]) add(k string, v V, expires time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k]; ok && c.now().Before(e.expires) {
		return false
	}
	c.setLocked(k, v, expires)
	return true
}

// set stores v under k until expires.
func (c *ttlCache[V]) set(k string, v V, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(k, v, expires)
}

func (c *ttlCache[V]) setLocked(k string, v V, expires time.Time) {
	now := c.now()
	if !now.Before(expires) {
		delete(c.m, k)
		return
	}
	if _, exists := c.m[k]; !exists && len(c.m) >= c.max {
		for key, e := range c.m {
			if !now.Before(e.expires) {
				delete(c.m, key)
			}
		}
		if len(c.m) >= c.max {
			var first string
			var at time.Time
			for key, e := range c.m {
				if first == "" || e.expires.Before(at) {
					first, at = key, e.expires
				}
			}
			delete(c.m, first)
		}
	}
	c.m[k] = ttlEntry[V]{v: v, expires: expires}
}

// len reports how many entries the cache holds, expired ones included.
func (c *ttlCache[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
