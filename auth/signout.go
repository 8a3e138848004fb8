package auth

import (
	"context"
	"errors"
	"net/http"
)

// handleSignOutPage serves the confirmation page: a POST form with the CSRF
// token, like Auth.js's GET /signout.
func (a *Auth) handleSignOutPage(w http.ResponseWriter, r *http.Request) {
	l := a.loadedFor(w, r)
	data := SignOutPage{
		Action:      a.basePath + "/signout",
		CSRFToken:   a.CSRFToken(w, r),
		CallbackURL: relativeTo(a.redirectTarget(r.Context(), r, r.URL.Query().Get("callbackUrl")), a.origin(r)),
		SignedIn:    l != nil && l.rec != nil,
	}
	pageFn := a.cfg.Pages.SignOut
	if pageFn == nil {
		pageFn = defaultSignOutPage
	}
	a.render(w, r, http.StatusOK, pageFn(data))
}

// handleSignOut signs out: it checks the CSRF token, clears the local
// session first, then sends the browser to the IdP's logout endpoint
// (RP-Initiated Logout: id_token_hint, client_id, post_logout_redirect_uri
// and state) or, when the IdP has none, straight to the post-logout page.
// The state travels in a sealed cookie, never a token in the app's URLs.
func (a *Auth) handleSignOut(w http.ResponseWriter, r *http.Request) {
	if err := a.checkCSRF(r); err != nil {
		a.fail(w, r, err)
		return
	}
	ctx := r.Context()
	cw := a.cookiesFor(r)
	rec, id, err := a.sessions.load(r, cw)
	if errors.Is(err, errStoreUnavailable) {
		// The session cannot be ended everywhere: keep it, and say so.
		a.unavailable(w, r)
		return
	}
	if err != nil {
		rec = nil
	}
	if rec != nil {
		// A copy of this cookie (the cookie strategy cannot delete it) must
		// not outlive the sign-out, and the session's other tabs hear of it.
		if err := a.endSignedOut(ctx, rec, id); err != nil {
			a.unavailable(w, r)
			return
		}
	}
	a.sessions.clear(w, r, cw, id)

	target := relativeTo(a.redirectTarget(ctx, r, r.PostFormValue("callbackUrl")), a.origin(r))
	state := randomString(32)
	postLogout := a.origin(r) + a.cfg.SignOutPath
	dest := postLogout + "?state=" + state
	idpLogout := false
	if rec != nil {
		if p, ok := a.providers[rec.Provider]; ok {
			if u := a.idpLogoutURL(ctx, p, rec, postLogout, state); u != "" {
				dest, idpLogout = u, true
			}
		}
		a.log.InfoContext(ctx, "signed out", "provider", rec.Provider, "sub", rec.Subject, "idp_logout", idpLogout)
		if a.cfg.Events.SignOut != nil {
			a.cfg.Events.SignOut(ctx, SignOutEvent{Provider: rec.Provider, Subject: rec.Subject, IdPLogout: idpLogout})
		}
	}
	// The flag tells the post-logout page what happened: "1" the IdP's
	// session was ended too, "0" only the app's, "n" there was no session.
	flag := "0"
	switch {
	case idpLogout:
		flag = "1"
	case rec == nil:
		flag = "n"
	}
	if err := a.setFlow(w, cw, cw.names.logoutState, sealLogoutState, "", state+" "+flag+" "+target); err != nil {
		a.fail(w, r, err)
		return
	}
	redirect(w, r, dest)
}

// endSignedOut ends the session rec that its user signs out of. A session
// from before the session index (no handle) is ended through its IdP
// session: sessions issued up to this one's sign-in are revoked, since the
// IdP may keep the sid (a local-only sign-out, a cancelled IdP logout) and
// a later sign-in with it must work.
func (a *Auth) endSignedOut(ctx context.Context, rec *Record, id string) error {
	if rec.Handle == "" && rec.SID != "" {
		return a.state.revoke(ctx, rec.Issuer, rec.SID, "", rec.IssuedAt)
	}
	return a.state.endSession(ctx, rec, id)
}

// idpLogoutURL builds the provider's logout URL, or "" for a local-only
// sign-out (no endpoint, or the IdP cannot be reached: the local session is
// gone either way).
func (a *Auth) idpLogoutURL(ctx context.Context, p *Provider, rec *Record, postLogout, state string) string {
	req := LogoutRequest{
		IDTokenHint:           rec.IDToken.Reveal(),
		ClientID:              p.ClientID,
		PostLogoutRedirectURI: postLogout,
		State:                 state,
		Issuer:                p.Issuer,
	}
	m, err := a.metadataFor(ctx, p)
	if err != nil {
		a.log.WarnContext(ctx, "sign-out is local only: identity provider unavailable", "provider", p.ID, "err", err)
		if p.LogoutURL == nil {
			return ""
		}
	} else {
		req.EndSessionEndpoint = m.EndSessionEndpoint
		req.AuthorizationEndpoint = m.AuthorizationEndpoint
	}
	u := p.logoutURL(req)
	if len(u) > maxLogoutURL && req.IDTokenHint != "" {
		// A large ID token in the URL would push the redirect's headers past
		// a proxy's 4 KB buffer (nginx answers 502, "upstream sent too big
		// header") and the URL past the 8 KB request line most servers
		// accept. RP-Initiated Logout 1.0 lets client_id, which is sent
		// anyway, stand in for id_token_hint; the IdP may then ask the user
		// to confirm the sign-out.
		a.log.InfoContext(ctx, "sign-out without id_token_hint: the ID token is too large for a URL",
			"provider", p.ID, "id_token_bytes", len(req.IDTokenHint))
		req.IDTokenHint = ""
		u = p.logoutURL(req)
	}
	return u
}

// maxLogoutURL is the longest IdP logout URL sent with id_token_hint. Like
// maxCookieSession, it leaves 1.5 KB of a 4 KB response header block for
// the sign-out response's cookies and security headers.
const maxLogoutURL = 2560
