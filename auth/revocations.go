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
	sids   map[string]time.Time // iss + " " + sid → sessions issued up to this time are revoked
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

// revoke records a logout of the sessions of iss's session sid (or, without
// sid, of sub) that were issued up to cutoff. Sessions signed in later are
// not affected, even when the IdP reuses the sid (an IdP session that
// outlived a local-only sign-out).
func (v *revocations) revoke(iss, sid, sub string, cutoff time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	m, k := v.subs, iss+" "+sub
	if sid != "" {
		m, k = v.sids, iss+" "+sid
	} else if sub == "" {
		return
	}
	if cutoff.After(m[k]) {
		m[k] = cutoff
	}
	v.sweep(v.now())
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
	// Issue times are kept to the second in the session record, so the
	// comparison is made in whole seconds.
	if rec.SID != "" {
		if at, ok := v.sids[rec.Issuer+" "+rec.SID]; ok && rec.IssuedAt.Unix() <= at.Unix() {
			return true
		}
	}
	if at, ok := v.subs[rec.Issuer+" "+rec.Subject]; ok && rec.IssuedAt.Unix() <= at.Unix() {
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
