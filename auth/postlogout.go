package auth

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// handlePostLogout serves the post-logout page (the post_logout_redirect_uri).
// With the state the sign-out sealed into a cookie it clears every Signet
// cookie that is left and shows "You’re signed out" with a link home. A missing
// or wrong state while a live session exists is refused (a forged logout
// link must not sign anyone out); with no live session it only tidies up,
// since some IdPs (Auth0's /v2/logout, Cognito) do not return state.
func (a *Auth) handlePostLogout(w http.ResponseWriter, r *http.Request) {
	cw := a.cookiesFor(r)
	home := "/"
	valid, idpLogout, noSession := false, false, false
	if v, err := a.readFlow(r, cw.names.logoutState, sealLogoutState, ""); err == nil {
		parts := strings.SplitN(v, " ", 3)
		got := r.URL.Query().Get("state")
		if len(parts) == 3 && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(parts[0])) == 1 {
			valid, idpLogout, noSession = true, parts[1] == "1", parts[1] == "n"
			if target := parts[2]; target != "" {
				home = target
			}
		}
	}
	if !valid {
		if _, _, err := a.sessions.load(r, cw); err == nil {
			a.log.WarnContext(r.Context(), "post-logout page without matching state while signed in")
			a.renderError(w, r, CodeVerification)
			return
		}
	}
	_, id, _ := a.sessions.load(r, cw)
	for _, n := range cw.names.all() {
		if n == cw.names.session {
			a.sessions.clear(w, r, cw, id)
			continue
		}
		if _, err := r.Cookie(n); err == nil {
			cw.clear(w, n)
		}
	}
	pageFn := a.cfg.Pages.SigningOut
	if pageFn == nil {
		pageFn = defaultSigningOutPage
	}
	w.Header().Set("Clear-Site-Data", `"cache"`)
	a.render(w, r, http.StatusOK, pageFn(SigningOutPage{HomeURL: home, IdPLogout: idpLogout, Verified: valid, AlreadySignedOut: noSession}))
}
