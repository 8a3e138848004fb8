package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/signet-auth/signet/auth/store"
)

// Strategy says where a session is kept.
type Strategy string

// The session strategies.
const (
	// StrategyCookie keeps the whole session, encrypted, in the cookie
	// (Auth.js's "jwt" strategy). A session too large for one small cookie
	// goes to the Store, and its cookie holds only an id, unless
	// SessionConfig.Chunked.
	StrategyCookie Strategy = "cookie"
	// StrategyServer keeps every session in the Store; the cookie holds
	// only an encrypted, opaque id (Auth.js's "database" strategy).
	StrategyServer Strategy = "server"
)

// sessionStorage reads and writes the session for a request: in the
// cookie itself, or in the Store under an id the cookie holds (every
// session with server, the large ones with overflow).
type sessionStorage struct {
	keys     *keyring
	state    *state
	server   bool // StrategyServer
	overflow bool // StrategyCookie: large sessions go to the Store
	now      func() time.Time
	cache    *sessionCache // decoded cookie sessions; nil: none
}

// maxCookieSession is the longest session cookie value written when
// sessions overflow to the store. It leaves 1.5 KB of a 4 KB response
// header block for the status line, Location, the flow cookies the
// callback clears and the security headers: nginx's default
// proxy_buffer_size is 4 KB (one memory page), and an upstream header
// block larger than that is a 502, "upstream sent too big header".
const maxCookieSession = 2560

// sessionRefSealName seals the id of a session kept in the store by the
// cookie strategy, so that a cookie says by its seal which of the two it
// holds.
const sessionRefSealName = "session-ref"

// sessionCookieName is the logical name the session is sealed under; the
// __Secure- prefix is not part of it, so a session survives neither a
// scheme change nor a renamed cookie.
const sessionSealName = "session-token"

// errNoSession means the request carries no session cookie at all.
var errNoSession = errors.New("auth: no session")

// load returns the request's session record and, when it is kept in the
// store, its id there. It returns errNoSession when there is no cookie,
// an error wrapping errStoreUnavailable when the store cannot say, and
// another error when the cookie cannot be used (tampered, truncated, a
// missing chunk, a retired secret, expired, unknown id).
func (s sessionStorage) load(r *http.Request, cw cookieWriter) (*Record, string, error) {
	v, ok := readChunked(r, cw.names.session)
	if !ok {
		if len(chunkNames(r, cw.names.session)) > 0 {
			return nil, "", errors.New("session cookie chunks incomplete")
		}
		return nil, "", errNoSession
	}
	var hit cachedSession
	if s.cache != nil {
		if e, ok := s.cache.get(v); ok {
			if e.id == "" && !s.server {
				rec := e.copy()
				if !s.now().Before(rec.Expires) {
					return nil, "", errors.New("session expired")
				}
				return rec, "", nil
			}
			if e.id != "" {
				hit = e
			}
		}
	}
	var b []byte
	var err error
	inStore := s.server
	if hit.id != "" {
		b, inStore = []byte(hit.id), true
	} else {
		b, err = s.keys.open(sessionSealName, v)
		if err != nil && !s.server {
			if ref, refErr := s.keys.open(sessionRefSealName, v); refErr == nil {
				b, err, inStore = ref, nil, true
			}
		}
		if err != nil {
			return nil, "", fmt.Errorf("open session cookie: %w", err)
		}
	}
	id := ""
	var stored []byte
	if inStore {
		id = string(b)
		if b, err = s.state.get(r.Context(), keySession+id); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, "", errors.New("session not found in the store (ended or expired)")
			}
			return nil, "", err
		}
		stored = b
	}
	var rec *Record
	if hit.id != "" && bytes.Equal(stored, hit.stored) {
		// The store holds what the cached record was decoded from.
		rec = hit.copy()
	} else if inStore {
		if b, err = s.openStored(stored); err != nil {
			return nil, "", err
		}
		if rec, err = decodeRecord(b); err != nil {
			return nil, "", err
		}
		if s.cache != nil {
			s.cache.put(v, rec, id, stored)
		}
	} else if rec, err = decodeRecord(b); err != nil {
		return nil, "", err
	} else if s.cache != nil {
		s.cache.put(v, rec, id, stored)
	}
	if !s.now().Before(rec.Expires) {
		return nil, "", errors.New("session expired")
	}
	return rec, id, nil
}

// save writes rec. With the server strategy, id "" makes a new id (on
// sign-in, so a session id is never reused across users). With the cookie
// strategy, id is the session's id in the store ("" when it is in the
// cookie). It returns the id the session is now kept under, "" for the
// cookie.
func (s sessionStorage) save(w http.ResponseWriter, r *http.Request, cw cookieWriter, rec *Record, id string) (string, error) {
	ctx := r.Context()
	b, err := encodeRecord(rec)
	if err != nil {
		return "", err
	}
	if s.server {
		if id == "" {
			id = randomString(32)
		}
		if err := s.storeRecord(ctx, id, b, rec.Expires); err != nil {
			return "", err
		}
		v, err := s.keys.seal(sessionSealName, []byte(id))
		if err != nil {
			return "", fmt.Errorf("seal session: %w", err)
		}
		cw.setChunked(w, r, cw.names.session, v, rec.Expires)
		return id, nil
	}
	v, err := s.keys.seal(sessionSealName, bytes.Clone(b)) // seal encrypts in place; b may go to the store
	if err != nil {
		return "", fmt.Errorf("seal session: %w", err)
	}
	switch {
	case s.overflow && len(v) > maxCookieSession:
		if id == "" {
			id = randomString(32)
		}
		if err := s.storeRecord(ctx, id, b, rec.Expires); err != nil {
			return "", err
		}
		if v, err = s.keys.seal(sessionRefSealName, []byte(id)); err != nil {
			return "", fmt.Errorf("seal session: %w", err)
		}
	case id != "":
		s.forget(ctx, id) // it fits in the cookie again
		id = ""
	}
	cw.setChunked(w, r, cw.names.session, v, rec.Expires)
	return id, nil
}

// storedRecordSealName seals the session records kept in the store, as
// the cookie's are: a copy of the store (a Redis dump, a backup of the
// file) holds no token anyone can use without AUTH_SECRET.
const storedRecordSealName = "session-record"

// storeRecord seals the encoded record b and keeps it under id until
// expires.
func (s sessionStorage) storeRecord(ctx context.Context, id string, b []byte, expires time.Time) error {
	sealed, err := s.keys.seal(storedRecordSealName, bytes.Clone(b))
	if err != nil {
		return fmt.Errorf("seal session: %w", err)
	}
	return s.state.health.check(ctx, "save", s.state.st.Set(ctx, keySession+id, []byte(sealed), expires))
}

// openStored opens a record the store kept.
func (s sessionStorage) openStored(b []byte) ([]byte, error) {
	plain, err := s.keys.open(storedRecordSealName, string(b))
	if err != nil {
		return nil, fmt.Errorf("open stored session: %w", err)
	}
	return plain, nil
}

// clear expires the session cookie (every chunk) and deletes the stored
// session.
func (s sessionStorage) clear(w http.ResponseWriter, r *http.Request, cw cookieWriter, id string) {
	s.forget(r.Context(), id)
	cw.clearChunked(w, r, cw.names.session)
}

// forget deletes the stored session id, if any.
func (s sessionStorage) forget(ctx context.Context, id string) {
	if id != "" {
		_ = s.state.health.check(ctx, "delete", s.state.st.Delete(ctx, keySession+id))
	}
}
