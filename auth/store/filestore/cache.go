package filestore

import (
	"bytes"
	"sync"
	"sync/atomic"
)

// maxCached bounds the keys the read cache holds; a full cache is
// emptied and fills again with the keys read most.
const maxCached = 8192

// readCache keeps what Get read, so that the reads every signed-in request
// makes (the revocation checks: mostly keys that do not exist) cost a map
// lookup instead of a bbolt read transaction, whose two round trips on
// bbolt's one metadata mutex were the most contended lock of a page view
// under load. It never changes what Get returns: the file is this Store's
// alone (Open locks it), every write of a key goes through this Store and
// drops the key's entry before it returns, an entry keeps the key's
// expiry and is not served past it, and a read that raced a write is not
// kept (gen).
type readCache struct {
	m   sync.Map      // key → *cached
	n   atomic.Int64  // entries, about
	gen atomic.Uint64 // bumped by every write before it drops its key
}

// cached is what Get found under a key: a value live until expires
// (Unix nanoseconds), or nothing (found false).
type cached struct {
	value   []byte
	expires int64
	found   bool
}

// get returns what the cache knows of key at now: ok false when it knows
// nothing, else the value and whether it is there.
func (c *readCache) get(key string, now int64) (value []byte, found, ok bool) {
	v, hit := c.m.Load(key)
	if !hit {
		return nil, false, false
	}
	e := v.(*cached)
	if !e.found || now >= e.expires {
		return nil, false, true
	}
	return bytes.Clone(e.value), true, true
}

// start returns the write generation to pass to put after reading.
func (c *readCache) start() uint64 { return c.gen.Load() }

// put keeps e for key, read from the file while the generation was gen,
// unless a write happened since.
func (c *readCache) put(key string, gen uint64, e *cached) {
	if c.gen.Load() != gen {
		return
	}
	if c.n.Load() >= maxCached {
		c.clear()
	}
	if _, loaded := c.m.Swap(key, e); !loaded {
		c.n.Add(1)
	}
	if c.gen.Load() != gen && c.m.CompareAndDelete(key, e) {
		c.n.Add(-1) // a write came between the read and now
	}
}

// drop forgets key: every write calls it once its transaction is over,
// committed or not.
func (c *readCache) drop(key string) {
	c.gen.Add(1)
	if _, loaded := c.m.LoadAndDelete(key); loaded {
		c.n.Add(-1)
	}
}

func (c *readCache) clear() {
	c.m.Range(func(k, _ any) bool {
		if _, loaded := c.m.LoadAndDelete(k); loaded {
			c.n.Add(-1)
		}
		return true
	})
}
