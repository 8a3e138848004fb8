package auth

import (
	"encoding/json"
	"net/http"
)

// Handler serves the routes under BasePath (Auth.js's REST API):
//
//	GET        {base}/signin                  the default sign-in page
//	GET, POST  {base}/signin/{provider}       start a sign-in (POST needs csrfToken)
//	GET, POST  {base}/callback/{provider}     finish a sign-in
//	GET        {base}/session                 the session as JSON, or null
//	GET        {base}/csrf                    {"csrfToken": "..."}
//	GET        {base}/providers               the providers as JSON
//	GET, POST  {base}/signout                 confirmation page; POST signs out
//	GET        {base}/error                   the error page
//	POST       {base}/backchannel-logout      OIDC Back-Channel Logout receiver
//	GET        {base}/frontchannel-logout     OIDC Front-Channel Logout receiver
//	GET        {base}/session/stream          Server-Sent Events: "signout" when the session ends
//	GET        {base}/list-sessions           the user's sessions (Better Auth's route)
//	POST       {base}/revoke-session          end one of them (id, csrfToken)
//	POST       {base}/revoke-other-sessions   end all but this one (csrfToken)
//	POST       {base}/revoke-sessions         end all, this one too (csrfToken)
//
// A request to a known route with another method gets 405 with an Allow
// header; a body over MaxBodyBytes gets 413 and a query string over
// MaxQueryBytes 414, before anything parses them.
//
// Mount it at BasePath + "/" without stripping the prefix.
func (a *Auth) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range a.routes() {
		mux.HandleFunc(rt.pattern, rt.handler)
	}
	fallback := a.basePath + "/"
	mux.HandleFunc(fallback, func(w http.ResponseWriter, r *http.Request) {
		if methodNotAllowed(w, r, mux, fallback) {
			return
		}
		a.renderError(w, r, CodeUnknownAction)
	})
	return limitInput(mux)
}

// Routes lists the patterns Handler serves, in http.ServeMux's syntax
// ("POST /api/auth/signout"), without its catch-all for unknown actions.
func (a *Auth) Routes() []string {
	rts := a.routes()
	out := make([]string, len(rts))
	for i, rt := range rts {
		out[i] = rt.pattern
	}
	return out
}

type route struct {
	pattern string
	handler http.HandlerFunc
}

// routes is the one table of the routes under BasePath.
func (a *Auth) routes() []route {
	b := a.basePath
	return []route{
		{"GET " + b + "/signin", a.handleSignInPage},
		{"GET " + b + "/signin/{provider}", a.handleSignIn},
		{"POST " + b + "/signin/{provider}", a.handleSignIn},
		{"GET " + b + "/callback/{provider}", a.handleCallback},
		{"POST " + b + "/callback/{provider}", a.handleCallback},
		{"GET " + b + "/session", a.handleSession},
		{"GET " + b + "/csrf", a.handleCSRF},
		{"GET " + b + "/providers", a.handleProviders},
		{"GET " + b + "/signout", a.handleSignOutPage},
		{"POST " + b + "/signout", a.handleSignOut},
		{"GET " + b + "/error", a.handleErrorPage},
		{"POST " + b + "/backchannel-logout", a.handleBackchannelLogout},
		{"GET " + b + "/frontchannel-logout", a.handleFrontchannelLogout},
		{"GET " + b + "/session/stream", a.handleSessionStream},
		{"GET " + b + "/list-sessions", a.handleListSessions},
		{"POST " + b + "/revoke-session", a.handleRevoke(revokeOne)},
		{"POST " + b + "/revoke-other-sessions", a.handleRevoke(revokeOthers)},
		{"POST " + b + "/revoke-sessions", a.handleRevoke(revokeAll)},
	}
}

// PostLogoutHandler serves the post-logout page at SignOutPath (GET).
func (a *Auth) PostLogoutHandler() http.Handler {
	return limitInput(http.HandlerFunc(a.handlePostLogout))
}

func (a *Auth) provider(w http.ResponseWriter, r *http.Request) (*Provider, bool) {
	p, ok := a.providers[r.PathValue("provider")]
	if !ok {
		a.renderError(w, r, CodeUnknownProvider)
		return nil, false
	}
	return p, true
}

func (a *Auth) handleCSRF(w http.ResponseWriter, r *http.Request) {
	token := a.CSRFToken(w, r)
	writeJSON(w, http.StatusOK, map[string]string{"csrfToken": token})
}

func (a *Auth) handleProviders(w http.ResponseWriter, r *http.Request) {
	out := map[string]ProviderInfo{}
	for _, p := range a.Providers(r) {
		out[p.ID] = p
	}
	writeJSON(w, http.StatusOK, out)
}

// writeJSON writes v as JSON, never cached.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"internal"}`, http.StatusInternalServerError)
		return
	}
	writeRawJSON(w, status, b)
}

// writeRawJSON writes b, which is JSON, never cached.
func writeRawJSON(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// redirect sends the browser to target: a 303 for POSTs, a 302 otherwise,
// or {"url": target} for Auth.js clients that send X-Auth-Return-Redirect.
func redirect(w http.ResponseWriter, r *http.Request, target string) {
	w.Header().Set("Cache-Control", "no-store")
	if r.Header.Get("X-Auth-Return-Redirect") != "" {
		writeJSON(w, http.StatusOK, map[string]string{"url": target})
		return
	}
	code := http.StatusFound
	if r.Method == http.MethodPost {
		code = http.StatusSeeOther
	}
	http.Redirect(w, r, target, code)
}

// wantsHTMX reports whether r is an htmx request that is not a boosted
// navigation: such a request must get HX-Redirect, never a 302 that htmx
// would swap into the page.
func wantsHTMX(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Boosted") != "true"
}
