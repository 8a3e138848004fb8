package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// sessionStorage reads and writes the session for a request, in the cookie
// itself (store == nil) or in a server Store keyed by an id in the cookie.
// With store nil and overflow set, a session whose cookie would be longer
// than maxCookieSession goes to overflow and its cookie holds only an id.
type sessionStorage struct {
	keys     *keyring
	store    Store
	overflow Store
	now      func() time.Time
	cache    *sessionCache // decoded cookie sessions; nil: none
}

// maxCookieSession is the longest session cookie value written when an
// overflow store is configured. It leaves 1.5 KB of a 4 KB response header
// block for the status line, Location, the flow cookies the callback
// clears and the security headers: nginx's default proxy_buffer_size is
// 4 KB (one memory page), and an upstream header block larger than that is
// a 502, "upstream sent too big header".
const maxCookieSession = 2560

// sessionRefSealName seals the id of a session kept in the overflow store,
// so that a cookie says by its seal which of the two it holds.
const sessionRefSealName = "session-ref"

// server is the store that ids in session cookies refer to, if any.
func (s sessionStorage) server() Store {
	if s.store != nil {
		return s.store
	}
	return s.overflow
}

// sessionCookieName is the logical name the session is sealed under; the
// __Secure- prefix is not part of it, so a session survives neither a
// scheme change nor a renamed cookie.
const sessionSealName = "session-token"

// errNoSession means the request carries no session cookie at all.
var errNoSession = errors.New("auth: no session")

// load returns the request's session record and, for a server store, its
// id. It returns errNoSession when there is no cookie, and another error
// when there is one that cannot be used (tampered, truncated, a missing
// chunk, a retired secret, expired, unknown id).
func (s sessionStorage) load(r *http.Request, jar cookieJar) (*Record, string, error) {
	v, ok := readChunked(r, jar.names.session)
	if !ok {
		if len(chunkNames(r, jar.names.session)) > 0 {
			return nil, "", errors.New("session cookie chunks incomplete")
		}
		return nil, "", errNoSession
	}
	if s.cache != nil && s.store == nil {
		if rec, ok := s.cache.get(v); ok {
			if !s.now().Before(rec.Expires) {
				return nil, "", errors.New("session expired")
			}
			return rec, "", nil
		}
	}
	b, err := s.keys.open(sessionSealName, v)
	store := s.store
	if err != nil && s.store == nil && s.overflow != nil {
		if ref, refErr := s.keys.open(sessionRefSealName, v); refErr == nil {
			b, err, store = ref, nil, s.overflow
		}
	}
	if err != nil {
		return nil, "", fmt.Errorf("open session cookie: %w", err)
	}
	id := ""
	if store != nil {
		id = string(b)
		if b, err = store.Get(r.Context(), id); err != nil {
			return nil, "", fmt.Errorf("session store: %w", err)
		}
	}
	rec, err := decodeRecord(b)
	if err != nil {
		return nil, "", err
	}
	if !s.now().Before(rec.Expires) {
		return nil, "", errors.New("session expired")
	}
	if s.cache != nil && store == nil {
		s.cache.put(v, rec)
	}
	return rec, id, nil
}

// save writes rec. For a server store, id "" makes a new id (on sign-in,
// so a session id is never reused across users). With an overflow store,
// id is the session's id there ("" when it is in the cookie).
func (s sessionStorage) save(w http.ResponseWriter, r *http.Request, jar cookieJar, rec *Record, id string) error {
	b, err := encodeRecord(rec)
	if err != nil {
		return err
	}
	if s.store != nil {
		if id == "" {
			id = randomString(32)
		}
		if err := s.store.Set(r.Context(), id, b, rec.Expires); err != nil {
			return fmt.Errorf("session store: %w", err)
		}
		b = []byte(id)
	}
	sealed := b
	if s.store == nil && s.overflow != nil {
		sealed = bytes.Clone(b) // seal encrypts in place; b may go to the store
	}
	v, err := s.keys.seal(sessionSealName, sealed)
	if err != nil {
		return fmt.Errorf("seal session: %w", err)
	}
	if s.store == nil && s.overflow != nil {
		switch {
		case len(v) > maxCookieSession:
			if id == "" {
				id = randomString(32)
			}
			if err := s.overflow.Set(r.Context(), id, b, rec.Expires); err != nil {
				return fmt.Errorf("session store: %w", err)
			}
			if v, err = s.keys.seal(sessionRefSealName, []byte(id)); err != nil {
				return fmt.Errorf("seal session: %w", err)
			}
		case id != "":
			_ = s.overflow.Delete(r.Context(), id) // it fits in the cookie again
		}
	}
	jar.setChunked(w, r, jar.names.session, v, rec.Expires)
	return nil
}

// clear expires the session cookie (every chunk) and deletes the stored
// session.
func (s sessionStorage) clear(w http.ResponseWriter, r *http.Request, jar cookieJar, id string) {
	s.forget(r.Context(), id)
	jar.clearChunked(w, r, jar.names.session)
}

// forget deletes the stored session id, if any.
func (s sessionStorage) forget(ctx context.Context, id string) {
	if st := s.server(); st != nil && id != "" {
		_ = st.Delete(ctx, id)
	}
}
