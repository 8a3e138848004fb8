package auth

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// sessionStorage reads and writes the session for a request, in the cookie
// itself (store == nil) or in a server Store keyed by an id in the cookie.
type sessionStorage struct {
	keys  *keyring
	store Store
	now   func() time.Time
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
	b, err := s.keys.open(sessionSealName, v)
	if err != nil {
		return nil, "", fmt.Errorf("open session cookie: %w", err)
	}
	id := ""
	if s.store != nil {
		id = string(b)
		if b, err = s.store.Get(r.Context(), id); err != nil {
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
	return rec, id, nil
}

// save writes rec. For a server store, id "" makes a new id (on sign-in,
// so a session id is never reused across users).
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
	v, err := s.keys.seal(sessionSealName, b)
	if err != nil {
		return fmt.Errorf("seal session: %w", err)
	}
	jar.setChunked(w, r, jar.names.session, v, rec.Expires)
	return nil
}

// clear expires the session cookie (every chunk) and deletes the stored
// session.
func (s sessionStorage) clear(w http.ResponseWriter, r *http.Request, jar cookieJar, id string) {
	if s.store != nil && id != "" {
		_ = s.store.Delete(r.Context(), id)
	}
	jar.clearChunked(w, r, jar.names.session)
}
