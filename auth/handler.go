package auth

import (
	"encoding/json"
	"net/http"
	"strings"
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
//
// Mount it at BasePath + "/" without stripping the prefix.
func (a *Auth) Handler() http.Handler {
	mux := http.NewServeMux()
	b := a.basePath
	mux.HandleFunc("GET "+b+"/signin", a.handleSignInPage)
	mux.HandleFunc("GET "+b+"/signin/{provider}", a.handleSignIn)
	mux.HandleFunc("POST "+b+"/signin/{provider}", a.handleSignIn)
	mux.HandleFunc("GET "+b+"/callback/{provider}", a.handleCallback)
	mux.HandleFunc("POST "+b+"/callback/{provider}", a.handleCallback)
	mux.HandleFunc("GET "+b+"/session", a.handleSession)
	mux.HandleFunc("GET "+b+"/csrf", a.handleCSRF)
	mux.HandleFunc("GET "+b+"/providers", a.handleProviders)
	mux.HandleFunc("GET "+b+"/signout", a.handleSignOutPage)
	mux.HandleFunc("POST "+b+"/signout", a.handleSignOut)
	mux.HandleFunc("GET "+b+"/error", a.handleErrorPage)
	mux.HandleFunc("POST "+b+"/backchannel-logout", a.handleBackchannelLogout)
	mux.HandleFunc("GET "+b+"/frontchannel-logout", a.handleFrontchannelLogout)
	mux.HandleFunc(b+"/", func(w http.ResponseWriter, r *http.Request) {
		a.renderError(w, r, ErrUnknownAction)
	})
	return mux
}

// PostLogoutHandler serves the post-logout page at SignOutPath (GET).
func (a *Auth) PostLogoutHandler() http.Handler {
	return http.HandlerFunc(a.handlePostLogout)
}

func (a *Auth) provider(w http.ResponseWriter, r *http.Request) (*Provider, bool) {
	p, ok := a.providers[r.PathValue("provider")]
	if !ok {
		a.renderError(w, r, ErrUnknownProvider)
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

// relativeTo returns u's path and query when u is on origin, else "/".
// A path that starts with "//" or "/\" is "/" too: on its own it would be
// read as a protocol-relative URL to another host.
func relativeTo(u, origin string) string {
	if rest, ok := strings.CutPrefix(u, origin); ok && strings.HasPrefix(rest, "/") &&
		!strings.HasPrefix(rest, "//") && !strings.HasPrefix(rest, `/\`) {
		return rest
	}
	return "/"
}
