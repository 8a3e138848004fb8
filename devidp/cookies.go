package devidp

import (
	"net/http"
)

// Cookie names. Both are HttpOnly, SameSite=Lax and scoped to the issuer's
// path, so they never reach the application mounted beside the IdP.
const (
	// SessionCookie holds the secret of the IdP's SSO session.
	SessionCookie = "devidp.session"
	// CSRFCookie ties the sign-in and sign-out forms to the browser that
	// was shown them.
	CSRFCookie = "devidp.csrf"
)

// cookiePath is the issuer's path, or "/" for an issuer at the root.
func (s *Server) cookiePath() string {
	if s.basePath == "" {
		return "/"
	}
	return s.basePath
}

// setCookie sets a browser-session cookie (no expiry) for the issuer's
// path; maxAge < 0 deletes it.
func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     s.cookiePath(),
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.secure,
		SameSite: http.SameSiteLaxMode,
	})
}

// currentSession returns the live SSO session the browser's cookie names,
// or nil.
func (s *Server) currentSession(r *http.Request) *ssoSession {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil
	}
	ss, ok := s.store.sessionBySecret(c.Value)
	if !ok {
		return nil
	}
	return ss
}

// browserID returns the value of the browser's CSRF cookie, setting a new
// one when there is none.
func (s *Server) browserID(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(CSRFCookie); err == nil && len(c.Value) >= 26 {
		return c.Value
	}
	v := newID()
	s.setCookie(w, CSRFCookie, v, 0)
	return v
}
