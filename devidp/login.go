package devidp

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// maxFormBytes bounds the body of the sign-in and sign-out forms.
const maxFormBytes = 64 << 10

// handleLogin is the sign-in step of /authorize: op sends the browser
// here with ?authRequestID=...; GET shows the form (or, with a live SSO
// session, completes the request without it), POST checks the password.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.showLogin(w, r)
	case http.MethodPost:
		s.submitLogin(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		s.renderProblem(w, r, problemMethod)
	}
}

// showLogin decides between single sign-on and the form:
//   - a live SSO session completes the request at once, unless prompt=login,
//     max_age has passed since the user typed their password, or an
//     id_token_hint names another user;
//   - otherwise prompt=none fails with login_required;
//   - otherwise the form is shown.
func (s *Server) showLogin(w http.ResponseWriter, r *http.Request) {
	req, ok := s.store.authRequest(r.URL.Query().Get("authRequestID"))
	if !ok {
		s.renderProblem(w, r, problemUnknownRequest)
		return
	}
	if req.done {
		s.renderProblem(w, r, problemRequestDone)
		return
	}
	ss := s.currentSession(r)
	if ss != nil && req.hintSubject != "" && ss.userID != req.hintSubject {
		ss = nil
	}
	if ss != nil && !s.mustReauthenticate(req, ss) {
		s.complete(w, r, req, ss)
		return
	}
	if req.hasPrompt(oidc.PromptNone) {
		s.redirectError(w, r, req, oidc.ErrLoginRequired().WithDescription("the user is not signed in at the IdP"))
		return
	}
	username := req.loginHint
	if ss != nil {
		username = s.users.byID[ss.userID].Username
	} else if u, ok := s.users.byID[req.hintSubject]; ok {
		username = u.Username
	}
	s.renderLogin(w, r, req, http.StatusOK, username, "")
}

// mustReauthenticate reports whether req asks for a fresh password even
// though ss is live: prompt=login, or max_age seconds have passed since
// the user last typed it (op turns prompt=login into max_age=0).
func (s *Server) mustReauthenticate(req *authRequest, ss *ssoSession) bool {
	if req.hasPrompt(oidc.PromptLogin) {
		return true
	}
	return req.maxAge != nil && s.now().Sub(ss.authTime) >= time.Duration(*req.maxAge)*time.Second
}

// renderLogin shows the form for req, bound to this browser.
func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, req *authRequest, status int, username, errMsg string) {
	token, ok := s.store.setLoginBinding(req.id, newID(), s.browserID(w, r))
	if !ok {
		s.renderProblem(w, r, problemUnknownRequest)
		return
	}
	s.render(w, r, s.pages.login, status, pageData{
		Title:      "Sign in",
		Action:     s.basePath + pathLogin,
		RequestID:  req.id,
		CSRFToken:  token,
		ClientID:   req.clientID,
		ClientName: s.clientName(req.clientID),
		Username:   username,
		Error:      errMsg,
		Users:      s.users.list,
	})
}

// submitLogin checks the form: the request, then CSRF, then the password.
// A wrong password shows the form again with the username kept.
func (s *Server) submitLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.renderProblem(w, r, problemBadForm)
		return
	}
	id := r.PostForm.Get("authRequestID")
	req, ok := s.store.authRequest(id)
	if !ok {
		s.renderProblem(w, r, problemUnknownRequest)
		return
	}
	if req.done {
		s.renderProblem(w, r, problemRequestDone)
		return
	}
	if !s.loginFormAuthentic(r, req) {
		s.log.WarnContext(r.Context(), "sign-in form refused: CSRF check failed", "client_id", req.clientID)
		s.renderProblem(w, r, problem{
			status:   http.StatusForbidden,
			heading:  "This sign-in form has expired",
			message:  "The form was sent from another page or another browser, or it was opened again elsewhere. Show it again and sign in.",
			link:     s.basePath + pathLogin + "?" + url.Values{"authRequestID": {id}}.Encode(),
			linkText: "Show the sign-in form again",
		})
		return
	}
	username := r.PostForm.Get("username")
	u, ok := s.users.authenticate(username, r.PostForm.Get("password"))
	if !ok {
		s.log.InfoContext(r.Context(), "sign-in failed: wrong username or password", "username", username, "client_id", req.clientID)
		s.renderLogin(w, r, req, http.StatusUnauthorized, username, "Wrong username or password. The demo users and their passwords are listed below.")
		return
	}
	ss := s.currentSession(r)
	switch {
	case ss != nil && ss.userID == u.ID:
		ss, ok = s.store.reauthenticate(ss.id)
		if !ok {
			ss = s.store.startSession(u.ID)
		}
	default:
		if ss != nil {
			// Another user signs in in this browser: the previous user's
			// session ends, as on a shared computer.
			s.endSessions(r.Context(), ss.id)
		}
		ss = s.store.startSession(u.ID)
	}
	s.setCookie(w, SessionCookie, ss.secret, 0)
	s.log.InfoContext(r.Context(), "signed in", "username", u.Username, "client_id", req.clientID, "sid", ss.id)
	s.complete(w, r, req, ss)
}

// loginFormAuthentic reports whether the POST carries the form's token and
// comes from the browser the form was shown to.
func (s *Server) loginFormAuthentic(r *http.Request, req *authRequest) bool {
	c, err := r.Cookie(CSRFCookie)
	return err == nil && req.csrfToken != "" && req.browser != "" &&
		subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf_token")), []byte(req.csrfToken)) == 1 &&
		subtle.ConstantTimeCompare([]byte(c.Value), []byte(req.browser)) == 1
}

// complete marks req as signed in through ss and sends the browser to
// op's callback, which issues the code and redirects to the client.
func (s *Server) complete(w http.ResponseWriter, r *http.Request, req *authRequest, ss *ssoSession) {
	if _, err := s.store.completeAuthRequest(req.id, ss.id); err != nil {
		s.renderProblem(w, r, problemUnknownRequest)
		return
	}
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	http.Redirect(w, r, s.basePath+pathCallback+"?"+url.Values{"id": {req.id}}.Encode(), status)
}

// redirectError ends req with an OAuth error sent to the client's
// redirect_uri, with the request's state.
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, req *authRequest, e *oidc.Error) {
	_ = s.store.DeleteAuthRequest(r.Context(), req.id)
	e.State = req.state
	target, err := op.AuthResponseURL(req.redirectURI, req.responseType, req.responseMode, e, s.provider.Encoder())
	if err != nil {
		s.log.ErrorContext(r.Context(), "build error redirect", "err", err)
		s.renderProblem(w, r, problem{status: http.StatusBadRequest, heading: "Sign-in failed", message: "The development identity provider could not send you back to the application.", detail: string(e.ErrorType)})
		return
	}
	http.Redirect(w, r, target, http.StatusFound)
}
