package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

type ctxKey struct{}

// loaded is a request's session, read once.
type loaded struct {
	session *Session
	rec     *Record
	id      string
	// unavailable is set when the store could not say whether the
	// session is still valid: nothing was cleared, and pages that need a
	// session answer 503.
	unavailable bool
}

// SessionFromContext returns the session that Middleware put in ctx, or nil
// when the visitor is signed out.
func SessionFromContext(ctx context.Context) *Session {
	if l, ok := ctx.Value(ctxKey{}).(*loaded); ok && l != nil {
		return l.session
	}
	return nil
}

// Middleware reads the request's session once and puts it in the request's
// context (SessionFromContext), re-issuing the cookie when the sliding
// expiry is due and clearing it when it is unusable (tampered, expired,
// logged out by the identity provider).
//
// When the store cannot be reached and the request carries a session,
// Middleware answers 503 (the Unavailable error page; for htmx requests
// the same page with HX-Retarget to the body) and clears nothing: a
// session whose revocation cannot be checked is neither trusted nor
// destroyed.
func (a *Auth) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := a.load(w, r)
		if l != nil && l.unavailable {
			a.unavailable(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, l)))
	})
}

// unavailable answers a request that needs the store while it is down.
func (a *Auth) unavailable(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "5")
	if wantsHTMX(r) {
		w.Header().Set("HX-Retarget", "body")
		w.Header().Set("HX-Reswap", "innerHTML")
	}
	a.renderError(w, r, CodeUnavailable)
}

// Session returns the request's session, or nil when signed out: Auth.js's
// auth(). It uses the session Middleware loaded when there is one.
//
// A session that cannot be checked because the store is down is nil here;
// Middleware answers such requests with 503 before they get this far.
func (a *Auth) Session(w http.ResponseWriter, r *http.Request) *Session {
	if l, ok := r.Context().Value(ctxKey{}).(*loaded); ok {
		if l == nil {
			return nil
		}
		return l.session
	}
	if l := a.load(w, r); l != nil {
		return l.session
	}
	return nil
}

// load reads, checks, refreshes the access token when it is due (see
// refreshIfDue) and if due re-issues the session. It returns nil when the
// visitor is signed out.
func (a *Auth) load(w http.ResponseWriter, r *http.Request) *loaded {
	ctx := r.Context()
	cw := a.cookiesFor(r)
	rec, id, err := a.sessions.load(r, cw)
	if err != nil {
		switch {
		case errors.Is(err, errStoreUnavailable):
			return &loaded{unavailable: true}
		case !errors.Is(err, errNoSession):
			a.log.InfoContext(ctx, "session cookie rejected", "reason", err.Error())
			a.sessions.clear(w, r, cw, "")
		}
		return nil
	}
	revoked, err := a.state.revoked(ctx, rec)
	if err != nil {
		return &loaded{unavailable: true}
	}
	if revoked {
		a.log.InfoContext(ctx, "session ended elsewhere (sign-out, revoke or identity provider logout)", "provider", rec.Provider, "sub", rec.Subject)
		a.sessions.clear(w, r, cw, id)
		a.revokeTokensOf(ctx, rec)
		return nil
	}
	dirty := false
	wasUsable := rec.Error == ""
	switch a.refreshIfDue(ctx, rec) {
	case refreshChanged:
		dirty = true
		if wasUsable && rec.Error == RefreshTokenError {
			// The session's refreshes ended for good: its open pages
			// show it signed out.
			a.state.publish(ctx, endedEvent{Handle: rec.Handle})
		}
	case refreshSignOut:
		a.log.InfoContext(ctx, "JWT callback ended the session on refresh", "provider", rec.Provider, "sub", rec.Subject)
		_ = a.state.endSession(ctx, rec, id)
		a.sessions.clear(w, r, cw, id)
		return nil
	}
	now := a.now()
	if now.Sub(rec.UpdatedAt) >= a.cfg.Session.UpdateAge {
		rec.UpdatedAt = now
		rec.Expires = now.Add(a.cfg.Session.MaxAge)
		dirty = true
	}
	if dirty {
		newID, err := a.sessions.save(w, r, cw, rec, id)
		if err != nil {
			a.log.ErrorContext(ctx, "re-issue session", "err", err)
		} else {
			id = newID
		}
	}
	// The index's last-seen time, at most once a minute. A failure is
	// logged by the store's health and does not fail the request.
	_ = a.state.index(ctx, rec, id, r.UserAgent(), dirty)
	s, err := a.buildSession(ctx, rec)
	if err != nil {
		a.log.ErrorContext(ctx, "session callback failed", "err", err)
		return nil
	}
	return &loaded{session: s, rec: rec, id: id}
}

// buildSession makes the default session from rec and passes it through
// the Session callback.
func (a *Auth) buildSession(ctx context.Context, rec *Record) (*Session, error) {
	s := &Session{
		User: User{
			Name:  rec.Token.String("name"),
			Email: rec.Token.String("email"),
			Image: rec.Token.String("picture"),
		},
		Expires: rec.Expires,
		Error:   rec.Error,
	}
	if rec.Scope != "" {
		s.Scopes = strings.Fields(rec.Scope)
	}
	if cb := a.cfg.Callbacks.Session; cb != nil {
		out, err := cb(ctx, SessionParams{Session: s, Token: rec.Token})
		if err != nil {
			return nil, err
		}
		if out == nil {
			return nil, errors.New("Session callback returned nil")
		}
		s = out
	}
	return s, nil
}

// Require lets signed-in requests through to next. A signed-out browser is
// sent to the sign-in page and back to where it was; an htmx request gets
// 200 with HX-Redirect instead of a redirect htmx would swap into the page.
// A session whose access token can no longer be refreshed
// (RefreshTokenError) counts as signed out.
func (a *Auth) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "HX-Request")
		if !a.signedIn(w, r) {
			a.requireSignIn(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireSignIn sends a signed-out visitor to the sign-in page.
func (a *Auth) requireSignIn(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	back := a.CurrentPath(r)
	if wantsHTMX(r) {
		w.Header().Set("HX-Redirect", a.SignInURL(back))
		w.WriteHeader(http.StatusOK)
		return
	}
	http.Redirect(w, r, a.SignInURL(back), http.StatusFound)
}

// handleSession serves GET /api/auth/session: the session as JSON, or
// null, never cached.
func (a *Auth) handleSession(w http.ResponseWriter, r *http.Request) {
	s := a.Session(w, r)
	if s == nil {
		writeJSON(w, http.StatusOK, nil)
		return
	}
	// Session.MarshalJSON's output is compact JSON already: json.Marshal
	// would look the method up by reflection, then check and copy it again.
	b, err := s.MarshalJSON()
	if err != nil {
		http.Error(w, `{"error":"internal"}`, http.StatusInternalServerError)
		return
	}
	writeRawJSON(w, http.StatusOK, b)
}
