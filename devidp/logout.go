package devidp

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// handleEndSession is RP-initiated logout (OpenID Connect RP-Initiated
// Logout 1.0), GET or POST, with id_token_hint, client_id,
// post_logout_redirect_uri and state.
//
// A valid id_token_hint (expired is fine) signs the user out at once; a
// missing or invalid one (say, from before a restart, which makes a new
// key) first shows a "Sign out of the development IdP?" page. Signing out
// ends the browser's SSO session and the one the hint names, revokes
// their tokens, sends back-channel logout tokens to their clients, clears
// the cookie, and redirects to post_logout_redirect_uri with state — or,
// without one, shows a "You are signed out" page. A
// post_logout_redirect_uri must be registered for the client that
// client_id or the hint names; anything wrong is an error page, never a
// redirect.
func (s *Server) handleEndSession(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		s.renderProblem(w, r, problemMethod)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.renderProblem(w, r, problemBadForm)
		return
	}
	confirmed := r.Method == http.MethodPost && r.PostForm.Get("confirm") == "yes"
	if confirmed && !s.csrfCookieMatches(r, r.PostForm.Get("csrf_token")) {
		s.renderProblem(w, r, problem{
			status:  http.StatusForbidden,
			heading: "This sign-out form has expired",
			message: "The form was sent from another page or another browser. Go back to the application and sign out again.",
		})
		return
	}
	var (
		hint        = r.Form.Get("id_token_hint")
		clientID    = r.Form.Get("client_id")
		redirectURI = r.Form.Get("post_logout_redirect_uri")
		state       = r.Form.Get("state")
	)
	var claims *oidc.IDTokenClaims
	if hint != "" && !confirmed {
		claims = s.verifyIDTokenHint(r.Context(), hint)
	}
	if claims != nil {
		azp := claims.AuthorizedParty
		if azp == "" && len(claims.Audience) == 1 {
			azp = claims.Audience[0]
		}
		if clientID != "" && clientID != azp {
			s.renderProblem(w, r, problem{
				status:  http.StatusBadRequest,
				heading: "This sign-out request is not valid",
				message: "The client_id does not match the client the id_token_hint was issued to.",
				detail:  "client_id " + clientID,
			})
			return
		}
		clientID = azp
	}
	var c *client
	if clientID != "" {
		var ok bool
		if c, ok = s.clients[clientID]; !ok {
			s.renderProblem(w, r, problem{
				status:  http.StatusBadRequest,
				heading: "This sign-out request is not valid",
				message: "The application that sent you here is not registered with the development identity provider.",
				detail:  "client_id " + clientID,
			})
			return
		}
	}
	if redirectURI != "" {
		if c == nil {
			s.renderProblem(w, r, problem{
				status:  http.StatusBadRequest,
				heading: "This sign-out request is not valid",
				message: "A post_logout_redirect_uri needs a client_id or an id_token_hint to check it against.",
			})
			return
		}
		if !slices.Contains(c.PostLogoutRedirectURIs(), redirectURI) {
			s.renderProblem(w, r, problem{
				status:  http.StatusBadRequest,
				heading: "This sign-out request is not valid",
				message: "The post_logout_redirect_uri is not registered for this application, so the development identity provider will not send you there.",
				detail:  redirectURI,
			})
			return
		}
	}
	if claims == nil && !confirmed {
		d := pageData{
			Title:                 "Sign out?",
			Action:                s.basePath + pathEndSession,
			CSRFToken:             s.browserID(w, r),
			ClientID:              clientID,
			ClientName:            s.clientName(clientID),
			PostLogoutRedirectURI: redirectURI,
			State:                 state,
		}
		if ss := s.currentSession(r); ss != nil {
			u := s.users.byID[ss.userID]
			d.User = &u
		}
		s.render(w, r, s.pages.logout, http.StatusOK, d)
		return
	}

	var sids []string
	if ss := s.currentSession(r); ss != nil {
		sids = append(sids, ss.id)
	}
	if claims != nil {
		if ss, ok := s.store.sessionByID(claims.SessionID); ok && ss.userID == claims.Subject {
			sids = append(sids, ss.id)
		}
	}
	s.endSessions(r.Context(), sids...)
	s.setCookie(w, SessionCookie, "", -1)

	if redirectURI == "" {
		s.render(w, r, s.pages.signedOut, http.StatusOK, pageData{Title: "Signed out"})
		return
	}
	target, _ := url.Parse(redirectURI) // registered, so it parses
	if state != "" {
		q := target.Query()
		q.Set("state", state)
		target.RawQuery = q.Encode()
	}
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	http.Redirect(w, r, target.String(), status)
}

// verifyIDTokenHint returns the claims of an ID token this IdP signed,
// expired or not, or nil when hint is not one.
func (s *Server) verifyIDTokenHint(ctx context.Context, hint string) *oidc.IDTokenClaims {
	ctx = op.ContextWithIssuer(ctx, s.issuer)
	claims, err := op.VerifyIDTokenHint[*oidc.IDTokenClaims](ctx, hint, s.provider.IDTokenHintVerifier(ctx))
	if err != nil && !errors.As(err, &op.IDTokenHintExpiredError{}) {
		s.log.InfoContext(ctx, "id_token_hint ignored: not a valid ID token from this IdP", "reason", err.Error())
		return nil
	}
	return claims
}

// csrfCookieMatches reports whether token equals the browser's CSRF
// cookie (a double-submit check: another site can neither read the cookie
// nor, with SameSite=Lax, send it on a POST).
func (s *Server) csrfCookieMatches(r *http.Request, token string) bool {
	c, err := r.Cookie(CSRFCookie)
	return err == nil && token != "" && subtle.ConstantTimeCompare([]byte(c.Value), []byte(token)) == 1
}

// endSessions ends the SSO sessions sids (ignoring repeats and sessions
// already gone) and sends their back-channel logouts.
func (s *Server) endSessions(ctx context.Context, sids ...string) {
	seen := make(map[string]bool, len(sids))
	for _, sid := range sids {
		if seen[sid] {
			continue
		}
		seen[sid] = true
		ss, ok := s.store.endSession(sid)
		if !ok {
			continue
		}
		s.log.InfoContext(ctx, "signed out", "username", s.users.byID[ss.userID].Username, "sid", ss.id, "clients", ss.clientIDs())
		s.backchannelLogout(ctx, ss)
	}
}
