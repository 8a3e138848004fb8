package auth

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sessionCacheSize bounds the sessions remembered decoded, and
// maxCachedCookie the cookie values they are remembered by (one cookie,
// not chunked): at most about 8 KB each with the record, 8 MB in all.
const (
	sessionCacheSize = 1024
	maxCachedCookie  = chunkSize
)

// sessionCache remembers decoded session cookies, so that the session read
// on every request costs a hash and a map lookup instead of base64, HMAC,
// AES, DEFLATE and JSON. It never changes what a request gets: an entry is
// keyed by a cookie value, compared in full, and holds the record decoding
// that value gave, and a hit is checked as a decode is: the cookie's age
// against the keyring's maxAge (on securecookie's clock), the record's
// expiry (sessionStorage.load) and revocation (Auth.load, on every
// request). A session kept in the store (the server strategy, or a large
// session of the cookie strategy) is still read from the store on every
// request: the entry holds the id the cookie names and the stored bytes the
// record was decoded from, and is used only while the store returns those
// same bytes (a deleted session is gone, a changed one is decoded again).
type sessionCache struct {
	mu     sync.RWMutex
	m      map[string]cachedSession
	max    int
	maxAge int64            // seconds: the session keyring's
	now    func() time.Time // securecookie's clock
}

type cachedSession struct {
	rec    *Record // never handed out: a hit gets a copy
	sealed int64   // when the cookie was sealed (securecookie's timestamp)
	// id is the session's id in the store, "" when the cookie holds the
	// session itself; stored is what the store held under it.
	id     string
	stored []byte
}

func newSessionCache(max int, maxAge time.Duration) *sessionCache {
	return &sessionCache{m: map[string]cachedSession{}, max: max, maxAge: int64(maxAge / time.Second), now: time.Now}
}

// get returns the entry cached for the cookie value key, unless there is
// none or the cookie is older than securecookie accepts. Its record is
// shared: the caller hands out a copy (cachedSession.copy).
func (c *sessionCache) get(key string) (cachedSession, bool) {
	c.mu.RLock()
	e, ok := c.m[key]
	c.mu.RUnlock()
	if !ok {
		return cachedSession{}, false
	}
	if c.now().Unix() > e.sealed+c.maxAge {
		c.mu.Lock()
		delete(c.m, key)
		c.mu.Unlock()
		return cachedSession{}, false
	}
	return e, true
}

// copy is a copy of the entry's record, for one request.
func (e cachedSession) copy() *Record { return e.rec.clone() }

// put caches a copy of rec, which the cookie value key decoded to: the
// session itself, or for id != "" the id of a session the store held as
// stored. When the cache is full an arbitrary entry makes room.
func (c *sessionCache) put(key string, rec *Record, id string, stored []byte) {
	sealed, ok := sealedAt(key)
	if !ok || len(key) > maxCachedCookie {
		return
	}
	e := cachedSession{rec: rec.clone(), sealed: sealed}
	if id != "" {
		e.id, e.stored = id, bytes.Clone(stored)
	}
	key = strings.Clone(key) // not the whole Cookie header it was cut from
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, exists := c.m[key]; !exists && len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[key] = e
}

func (c *sessionCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

// sealedAt reads the timestamp securecookie put at the start of value:
// base64url("<unix seconds>|…").
func sealedAt(value string) (int64, bool) {
	if len(value) < 24 {
		return 0, false
	}
	var head [18]byte
	if _, err := base64.URLEncoding.Decode(head[:], []byte(value[:24])); err != nil {
		return 0, false
	}
	ts, _, ok := bytes.Cut(head[:], []byte("|"))
	if !ok {
		return 0, false
	}
	t, err := strconv.ParseInt(string(ts), 10, 64)
	return t, err == nil
}

// clone copies r deeply enough that changing the copy, its Token included,
// leaves r as it was.
func (r *Record) clone() *Record {
	c := *r
	if r.Token != nil {
		c.Token = cloneJSON(map[string]any(r.Token)).(map[string]any)
	}
	return &c
}

// cloneJSON copies the maps and slices of a decoded JSON value; its other
// values (strings, numbers, booleans, nil) cannot change.
func cloneJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = cloneJSON(x)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, x := range v {
			s[i] = cloneJSON(x)
		}
		return s
	default:
		return v
	}
}
