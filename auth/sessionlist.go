package auth

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"slices"
	"time"
)

// SessionInfo describes one of the signed-in user's sessions, as GET
// {base}/list-sessions lists them (Better Auth's route, with its names
// where they fit).
type SessionInfo struct {
	// ID names the session for RevokeSession. It is opaque and not a
	// credential: knowing it lets no one use the session.
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"createdAt"`
	// UpdatedAt is when the session was last seen, to the minute.
	UpdatedAt time.Time `json:"updatedAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	// Device is a short label from the User-Agent, such as "Chrome on
	// Linux".
	Device string `json:"device"`
	// Provider is the id of the provider the user signed in with.
	Provider string `json:"provider"`
	// Current is true for the session of the request.
	Current bool `json:"current"`
}

// current returns the request's session record and store id, or an
// *Error: SessionRequired when signed out, Unavailable when the store is
// down.
func (a *Auth) current(w http.ResponseWriter, r *http.Request) (*Record, string, error) {
	l, ok := r.Context().Value(ctxKey{}).(*loaded)
	if !ok {
		l = a.load(w, r)
	}
	switch {
	case l != nil && l.unavailable:
		return nil, "", &Error{Code: CodeUnavailable, Err: errStoreUnavailable}
	case l == nil || l.rec == nil:
		return nil, "", &Error{Code: CodeSessionRequired, Err: errors.New("no session")}
	}
	return l.rec, l.id, nil
}

// ListSessions lists the signed-in user's sessions that the store's
// session index holds, the current one first, then the most recently
// seen. The error is an *Error: SessionRequired or Unavailable.
func (a *Auth) ListSessions(w http.ResponseWriter, r *http.Request) ([]SessionInfo, error) {
	rec, _, err := a.current(w, r)
	if err != nil {
		return nil, err
	}
	entries, err := a.state.sessionsOf(r.Context(), rec.Issuer, rec.Subject)
	if err != nil {
		return nil, storeError(err, "list sessions")
	}
	out := make([]SessionInfo, 0, len(entries))
	for h, e := range entries {
		out = append(out, SessionInfo{
			ID: h, CreatedAt: e.Created, UpdatedAt: e.LastSeen.Truncate(time.Minute), ExpiresAt: e.Expires,
			Device: e.Device, Provider: e.Provider, Current: h == rec.Handle,
		})
	}
	slices.SortFunc(out, func(x, y SessionInfo) int {
		if x.Current != y.Current {
			if x.Current {
				return -1
			}
			return 1
		}
		return cmp.Or(y.UpdatedAt.Compare(x.UpdatedAt), y.CreatedAt.Compare(x.CreatedAt), cmp.Compare(x.ID, y.ID))
	})
	return out, nil
}

// Which sessions a revoke ends.
type revokeScope int

const (
	revokeOne revokeScope = iota
	revokeOthers
	revokeAll
)

// revoke ends the user's sessions that scope and id select, on every
// instance: their open pages hear of it, a server session is deleted, a
// cookie session is refused by its record, and its refresh token is
// revoked at the IdP (at once when the store holds it, else when the
// ended session's cookie is next seen). The IdP's own session is left
// alone. It reports whether the request's own session ended; its cookie is
// then cleared.
func (a *Auth) revoke(w http.ResponseWriter, r *http.Request, scope revokeScope, id string) (bool, error) {
	ctx := r.Context()
	rec, curID, err := a.current(w, r)
	if err != nil {
		return false, err
	}
	entries, err := a.state.sessionsOf(ctx, rec.Issuer, rec.Subject)
	if err != nil {
		return false, storeError(err, "list sessions")
	}
	var ends []string
	switch scope {
	case revokeOne:
		if _, ok := entries[id]; !ok || id == "" {
			return false, &Error{Code: CodeUnknownSession, Err: errors.New("not one of the user's sessions")}
		}
		ends = []string{id}
	default:
		for h := range entries {
			if scope == revokeAll || h != rec.Handle {
				ends = append(ends, h)
			}
		}
		if scope == revokeAll && rec.Handle != "" && !slices.Contains(ends, rec.Handle) {
			ends = append(ends, rec.Handle)
		}
	}
	self := false
	for _, h := range ends {
		if h == rec.Handle {
			self = true
			if err := a.state.endSession(ctx, rec, curID); err != nil {
				return false, storeError(err, "end session")
			}
			a.revokeTokensOf(ctx, rec)
			continue
		}
		e := entries[h]
		if e.ServerID != "" {
			a.revokeStoredTokens(ctx, e.ServerID)
		}
		if err := a.state.endHandle(ctx, h, e); err != nil {
			return false, storeError(err, "end session")
		}
		a.state.publish(ctx, endedEvent{Handle: h})
	}
	if self {
		a.sessions.clear(w, r, a.cookiesFor(r), curID)
	}
	a.log.InfoContext(ctx, "sessions revoked", "provider", rec.Provider, "sub", rec.Subject, "count", len(ends), "current", self)
	return self, nil
}

// revokeStoredTokens revokes, at the IdP, the refresh token of the
// session the store keeps under id.
func (a *Auth) revokeStoredTokens(ctx context.Context, id string) {
	b, err := a.state.get(ctx, keySession+id)
	if err != nil {
		return
	}
	if b, err = a.sessions.openStored(b); err != nil {
		return
	}
	if rec, err := decodeRecord(b); err == nil {
		a.revokeTokensOf(ctx, rec)
	}
}

// RevokeSession ends one of the signed-in user's sessions, by its
// SessionInfo.ID. It reports whether that was the request's own session
// (its cookie is then cleared). The error is an *Error: SessionRequired,
// UnknownSession (not one of the user's) or Unavailable.
func (a *Auth) RevokeSession(w http.ResponseWriter, r *http.Request, id string) (bool, error) {
	return a.revoke(w, r, revokeOne, id)
}

// RevokeOtherSessions ends every session of the signed-in user but the
// request's own.
func (a *Auth) RevokeOtherSessions(w http.ResponseWriter, r *http.Request) error {
	_, err := a.revoke(w, r, revokeOthers, "")
	return err
}

// RevokeAllSessions ends every session of the signed-in user, the
// request's own included (its cookie is cleared). The IdP's session stays:
// to end that too, sign out.
func (a *Auth) RevokeAllSessions(w http.ResponseWriter, r *http.Request) error {
	_, err := a.revoke(w, r, revokeAll, "")
	return err
}

// handleListSessions serves GET {base}/list-sessions: the user's sessions
// as a JSON array, 401 when signed out.
func (a *Auth) handleListSessions(w http.ResponseWriter, r *http.Request) {
	list, err := a.ListSessions(w, r)
	if err != nil {
		a.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// revokeRequest is the body of the revoke routes: a form or JSON, with
// the CSRF token and, for revoke-session, the id (Better Auth calls it
// token).
type revokeRequest struct {
	CSRFToken string `json:"csrfToken"`
	ID        string `json:"id"`
	Token     string `json:"token"`
}

// readRevokeRequest reads and checks a revoke route's body: same origin,
// and a CSRF token that matches the cookie.
func (a *Auth) readRevokeRequest(r *http.Request) (revokeRequest, error) {
	var req revokeRequest
	if err := a.crossOrigin.Check(r); err != nil {
		return req, &Error{Code: CodeMissingCSRF, Err: err}
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			return req, &Error{Code: CodeVerification, Err: errors.New("body is not a JSON object")}
		}
	} else {
		req = revokeRequest{CSRFToken: r.PostFormValue("csrfToken"), ID: r.PostFormValue("id"), Token: r.PostFormValue("token")}
	}
	if req.ID == "" {
		req.ID = req.Token
	}
	return req, a.checkCSRFToken(r, req.CSRFToken)
}

// handleRevoke serves the POST revoke routes. JSON clients get
// {"status": true}; htmx requests get 204 with HX-Trigger
// "signet:sessions-changed" (and HX-Redirect home when their own session
// ended), so that a sessions list can refresh itself.
func (a *Auth) handleRevoke(scope revokeScope) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := a.readRevokeRequest(r)
		if err != nil {
			a.apiError(w, r, err)
			return
		}
		self, err := a.revoke(w, r, scope, req.ID)
		if err != nil {
			a.apiError(w, r, err)
			return
		}
		if wantsHTMX(r) {
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("HX-Trigger", "signet:sessions-changed")
			if self {
				w.Header().Set("HX-Redirect", "/")
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"status": true})
	}
}

// apiError answers a JSON route's failure: the client-safe code and its
// status (401 for SessionRequired), the cause only in the log.
func (a *Auth) apiError(w http.ResponseWriter, r *http.Request, err error) {
	code := codeOf(err)
	status := code.Status()
	switch code {
	case CodeSessionRequired:
		status = http.StatusUnauthorized
	case CodeUnavailable:
		w.Header().Set("Retry-After", "5")
	}
	a.log.InfoContext(r.Context(), "request refused", "path", r.URL.Path, "code", string(code), "reason", err.Error())
	writeJSON(w, status, map[string]string{"error": string(code), "message": code.Message()})
}
