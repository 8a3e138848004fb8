package auth

import (
	"sync"
	"time"
)

// revocations remembers logouts that identity providers asked for
// (back-channel and front-channel), so that a session cookie the browser
// still holds is refused on its next use. An entry is kept as long as a
// session could live.
type revocations struct {
	mu     sync.Mutex
	sids   map[string]time.Time // iss + " " + sid → when it was revoked
	subs   map[string]time.Time // iss + " " + sub → sessions issued before this are revoked
	jtis   map[string]time.Time // logout token ids seen → when to forget them
	now    func() time.Time
	maxAge time.Duration
	ops    int
}

func newRevocations(now func() time.Time, maxAge time.Duration) *revocations {
	return &revocations{
		sids: map[string]time.Time{}, subs: map[string]time.Time{}, jtis: map[string]time.Time{},
		now: now, maxAge: maxAge,
	}
}

// revoke records a logout of iss's session sid, or of every session of sub
// issued up to now.
func (v *revocations) revoke(iss, sid, sub string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.now()
	if sid != "" {
		v.sids[iss+" "+sid] = now
	} else if sub != "" {
		v.subs[iss+" "+sub] = now
	}
	v.sweep(now)
}

// seen records a logout token id and reports whether it was seen before.
func (v *revocations) seen(iss, jti string, until time.Time) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	k := iss + " " + jti
	if _, ok := v.jtis[k]; ok {
		return true
	}
	v.jtis[k] = until
	return false
}

// revoked reports whether rec was logged out by its identity provider.
func (v *revocations) revoked(rec *Record) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.sids) == 0 && len(v.subs) == 0 {
		return false
	}
	if rec.SID != "" {
		if _, ok := v.sids[rec.Issuer+" "+rec.SID]; ok {
			return true
		}
	}
	if at, ok := v.subs[rec.Issuer+" "+rec.Subject]; ok && !rec.IssuedAt.After(at) {
		return true
	}
	return false
}

func (v *revocations) sweep(now time.Time) {
	v.ops++
	if v.ops%256 != 0 {
		return
	}
	for k, at := range v.sids {
		if now.Sub(at) > v.maxAge {
			delete(v.sids, k)
		}
	}
	for k, at := range v.subs {
		if now.Sub(at) > v.maxAge {
			delete(v.subs, k)
		}
	}
	for k, until := range v.jtis {
		if now.After(until) {
			delete(v.jtis, k)
		}
	}
}
