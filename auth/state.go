package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/signet-auth/signet/auth/store"
)

// What Signet keeps in its Store, under which keys. Every key made from a
// visitor's or an IdP's input carries a hash of it, so keys stay short
// whatever was sent.
const (
	keySession   = "sess:"           // + server id: a session record (server strategy, cookie overflow)
	keyRevSID    = "rev:sid:"        // + digest(iss, sid): revocation cutoff, Unix nanoseconds
	keyRevSub    = "rev:sub:"        // + digest(iss, sub): revocation cutoff, Unix nanoseconds
	keyEnded     = "ended:"          // + handle: the session was ended by record
	keyJTI       = "jti:"            // + digest(iss, jti): a logout token already used
	keyLock      = "refresh:lock:"   // + token key: who is refreshing a refresh token
	keyRefresh   = "refresh:result:" // + token key: the sealed result of that refresh
	keyRTRevoked = "rt-revoked:"     // + token key: a refresh token already revoked at the IdP
	groupUser    = "user:"           // + digest(iss, sub): the user's sessions, by handle
	groupSID     = "sid:"            // + digest(iss, sid): the sessions of one IdP session, by handle
	topicEnded   = "ended"           // endedEvent, JSON
)

// digest is a short, fixed-length stand-in for parts of a key.
func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// errStoreUnavailable means the Store could not be reached: the state a
// request needs is unknown. Signet then answers 503 and changes nothing;
// it never treats an unknown state as "not revoked" or "no session".
var errStoreUnavailable = errors.New("auth: session store unavailable")

// storeHealth logs the store's failures once, not per request, and its
// recovery.
type storeHealth struct {
	down atomic.Bool
	log  *slog.Logger
}

// check turns err from the store into nil, store.ErrNotFound, or an error
// wrapping ErrStoreUnavailable, logging the first of a run of failures.
func (h *storeHealth) check(ctx context.Context, op string, err error) error {
	switch {
	case err == nil || errors.Is(err, store.ErrNotFound):
		if h.down.CompareAndSwap(true, false) {
			h.log.InfoContext(ctx, "session store available again")
		}
		return err
	case errors.Is(err, store.ErrInvalid):
		return err
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return err // the visitor left; the store is fine
	}
	if h.down.CompareAndSwap(false, true) {
		h.log.ErrorContext(ctx, "session store unavailable: requests that need it get 503 until it is back", "op", op, "err", err)
	}
	return fmt.Errorf("%w: %s: %v", errStoreUnavailable, op, err)
}

// indexEntry is what the session index keeps of one session, under its
// handle, in its user's group and its IdP session's group.
type indexEntry struct {
	Created  time.Time `json:"c"`
	LastSeen time.Time `json:"l"`
	Expires  time.Time `json:"e"`
	Device   string    `json:"d,omitempty"`
	Provider string    `json:"p"`
	Issuer   string    `json:"i"`
	Subject  string    `json:"u"`
	SID      string    `json:"s,omitempty"`
	ServerID string    `json:"k,omitempty"` // the record's id in the store, if it is there
}

// endedEvent is published when sessions end: one session (Handle), or
// those of an IdP session or a user signed in up to Cutoff.
type endedEvent struct {
	Handle  string `json:"h,omitempty"`
	Issuer  string `json:"i,omitempty"`
	SID     string `json:"s,omitempty"`
	Subject string `json:"u,omitempty"`
	Cutoff  int64  `json:"t,omitempty"` // Unix nanoseconds
}

// ends reports whether e ends the session rec.
func (e endedEvent) ends(rec *Record) bool {
	if e.Handle != "" {
		return e.Handle == rec.Handle
	}
	if sameIssuer(e.Issuer, rec.Issuer) && rec.IssuedAt.UnixNano() <= e.Cutoff {
		return e.SID != "" && e.SID == rec.SID || e.SID == "" && e.Subject != "" && e.Subject == rec.Subject
	}
	return false
}

// state is the Auth's view of its Store: sessions, the index, revocations,
// replay and refresh coordination, and the ended events.
type state struct {
	st     store.Store
	now    func() time.Time
	maxAge time.Duration
	health *storeHealth
	log    *slog.Logger
	seen   *ttlCache[time.Time] // handle → when its last-seen time was last written here
}

// lastSeenEvery is how often at most a session's last-seen time is
// written to the index.
const lastSeenEvery = time.Minute

func newState(st store.Store, now func() time.Time, maxAge time.Duration, log *slog.Logger) *state {
	return &state{
		st: st, now: now, maxAge: maxAge, log: log,
		health: &storeHealth{log: log},
		seen:   newTTLCache[time.Time](maxRecentRefreshes, now),
	}
}

func (s *state) get(ctx context.Context, key string) ([]byte, error) {
	v, err := s.st.Get(ctx, key)
	return v, s.health.check(ctx, "get", err)
}

// revoked reports whether rec was ended: by record (its handle), by its
// IdP session, or by a logout of its user, since it signed in.
func (s *state) revoked(ctx context.Context, rec *Record) (bool, error) {
	if rec.Handle != "" {
		if _, err := s.get(ctx, keyEnded+rec.Handle); err == nil {
			return true, nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return false, err
		}
	}
	iss := normalIssuer(rec.Issuer)
	keys := []string{keyRevSub + digest(iss, rec.Subject)}
	if rec.SID != "" {
		keys = append(keys, keyRevSID+digest(iss, rec.SID))
	}
	for _, k := range keys {
		v, err := s.get(ctx, k)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		cutoff, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return false, s.health.check(ctx, "parse cutoff", err)
		}
		if rec.IssuedAt.UnixNano() <= cutoff {
			return true, nil
		}
	}
	return false, nil
}

// revoke ends the sessions of iss's IdP session sid (or, without sid, of
// its user sub) that signed in up to cutoff, on every instance: server
// sessions are deleted, cookie sessions refused by the record, and the
// ended event tells open pages. Sessions signed in after cutoff are not
// touched, even when the IdP reuses the sid.
func (s *state) revoke(ctx context.Context, iss, sid, sub string, cutoff time.Time) error {
	iss = normalIssuer(iss)
	key, group := keyRevSub+digest(iss, sub), groupUser+digest(iss, sub)
	if sid != "" {
		key, group = keyRevSID+digest(iss, sid), groupSID+digest(iss, sid)
	} else if sub == "" {
		return nil
	}
	if err := s.health.check(ctx, "revoke", s.st.Max(ctx, key, cutoff.UnixNano(), s.now().Add(s.maxAge))); err != nil {
		return err
	}
	members, err := s.st.Members(ctx, group)
	if err = s.health.check(ctx, "members", err); err != nil {
		return err
	}
	for handle, b := range members {
		var e indexEntry
		if json.Unmarshal(b, &e) != nil || e.Created.After(cutoff) {
			continue
		}
		if err := s.endHandle(ctx, handle, e); err != nil {
			return err
		}
	}
	s.publish(ctx, endedEvent{Issuer: iss, SID: sid, Subject: sub, Cutoff: cutoff.UnixNano()})
	return nil
}

// endHandle ends one indexed session: marks its handle ended, deletes its
// server record and takes it out of the index.
func (s *state) endHandle(ctx context.Context, handle string, e indexEntry) error {
	exp := e.Expires
	if exp.IsZero() {
		exp = s.now().Add(s.maxAge)
	}
	if err := s.health.check(ctx, "end", s.st.Set(ctx, keyEnded+handle, []byte("1"), exp)); err != nil {
		return err
	}
	if e.ServerID != "" {
		_ = s.health.check(ctx, "delete", s.st.Delete(ctx, keySession+e.ServerID))
	}
	iss := normalIssuer(e.Issuer)
	_ = s.health.check(ctx, "unindex", s.st.DeleteMember(ctx, groupUser+digest(iss, e.Subject), handle))
	if e.SID != "" {
		_ = s.health.check(ctx, "unindex", s.st.DeleteMember(ctx, groupSID+digest(iss, e.SID), handle))
	}
	return nil
}

// endSession ends rec's own session (a sign-out, a revoke from the
// sessions list, a refresh that failed for good) and tells its open pages.
func (s *state) endSession(ctx context.Context, rec *Record, serverID string) error {
	if rec.Handle == "" {
		if serverID != "" {
			return s.health.check(ctx, "delete", s.st.Delete(ctx, keySession+serverID))
		}
		return nil
	}
	e := s.entry(rec, serverID, "")
	if err := s.endHandle(ctx, rec.Handle, e); err != nil {
		return err
	}
	s.publish(ctx, endedEvent{Handle: rec.Handle})
	return nil
}

// entry is rec's index entry.
func (s *state) entry(rec *Record, serverID, device string) indexEntry {
	return indexEntry{
		Created: rec.IssuedAt, LastSeen: s.now(), Expires: rec.Expires, Device: device,
		Provider: rec.Provider, Issuer: rec.Issuer, Subject: rec.Subject, SID: rec.SID, ServerID: serverID,
	}
}

// index puts rec in its user's and its IdP session's groups, so that it
// can be listed and ended by handle. It writes at most once a minute per
// session and instance unless force; the device label is made from
// userAgent only when it writes.
func (s *state) index(ctx context.Context, rec *Record, serverID, userAgent string, force bool) error {
	if rec.Handle == "" {
		return nil
	}
	now := s.now()
	// One request of those that find the write due makes it: the others
	// of a page's burst would write the same thing.
	if !force && !s.seen.add(rec.Handle, now, now.Add(lastSeenEvery)) {
		return nil
	}
	written := false
	defer func() {
		if !written {
			s.seen.set(rec.Handle, now, now) // not written: the next request tries
		}
	}()
	b, err := json.Marshal(s.entry(rec, serverID, deviceLabel(userAgent)))
	if err != nil {
		return err
	}
	iss := normalIssuer(rec.Issuer)
	if err := s.health.check(ctx, "index", s.st.PutMember(ctx, groupUser+digest(iss, rec.Subject), rec.Handle, b, rec.Expires)); err != nil {
		return err
	}
	if rec.SID != "" {
		if err := s.health.check(ctx, "index", s.st.PutMember(ctx, groupSID+digest(iss, rec.SID), rec.Handle, b, rec.Expires)); err != nil {
			return err
		}
	}
	s.seen.set(rec.Handle, now, now.Add(lastSeenEvery))
	written = true
	return nil
}

// sessionsOf lists the indexed sessions of iss's user sub.
func (s *state) sessionsOf(ctx context.Context, iss, sub string) (map[string]indexEntry, error) {
	m, err := s.st.Members(ctx, groupUser+digest(normalIssuer(iss), sub))
	if err = s.health.check(ctx, "members", err); err != nil {
		return nil, err
	}
	out := make(map[string]indexEntry, len(m))
	for h, b := range m {
		var e indexEntry
		if json.Unmarshal(b, &e) == nil {
			out[h] = e
		}
	}
	return out, nil
}

// hasSID reports whether any indexed session belongs to iss's IdP session
// sid: a front-channel logout for one that has none stores nothing.
func (s *state) hasSID(ctx context.Context, iss, sid string) (bool, error) {
	m, err := s.st.Members(ctx, groupSID+digest(normalIssuer(iss), sid))
	if err = s.health.check(ctx, "members", err); err != nil {
		return false, err
	}
	return len(m) > 0, nil
}

// claimJTI records a logout token's id until until and reports whether it
// is new: the same token is accepted once, on any instance.
func (s *state) claimJTI(ctx context.Context, iss, jti string, until time.Time) (bool, error) {
	ok, err := s.st.Add(ctx, keyJTI+digest(normalIssuer(iss), jti), []byte("1"), until)
	return ok, s.health.check(ctx, "claim jti", err)
}

// releaseJTI forgets a logout token's id that claimJTI recorded, when
// the logout it came with could not be recorded: the IdP's retry of the
// same token is then not refused as a replay. A failure is only logged by
// the store's health.
func (s *state) releaseJTI(ctx context.Context, iss, jti string) {
	_ = s.health.check(ctx, "release jti", s.st.Delete(ctx, keyJTI+digest(normalIssuer(iss), jti)))
}

// publish tells every instance that sessions ended. A lost message is
// not fatal: every request checks the store, and open pages re-check on
// reconnect.
func (s *state) publish(ctx context.Context, e endedEvent) {
	b, err := json.Marshal(e)
	if err == nil {
		err = s.st.Publish(ctx, topicEnded, b)
	}
	if err != nil {
		s.log.WarnContext(ctx, "could not announce an ended session", "err", err)
	}
}
