package auth

import (
	"net/http"
	"slices"
	"strings"
)

// RequireScopes returns middleware that lets a request through to the next
// handler only when its session holds every one of scopes (the access
// token's scopes, see Session.Scopes). A signed-out visitor, or one whose
// session can no longer be refreshed (RefreshTokenError), is treated as
// Require does: a page is redirected to the sign-in page, an htmx request
// gets 200 with HX-Redirect. A signed-in visitor without a scope gets the
// error page with status 403 and code Forbidden; its Message and
// MissingScopes name the missing permissions.
//
// htmx requests get the 403 too, rendered with ErrorPage.Fragment set (the
// message without the layout). htmx does not swap 4xx responses by default:
// configure it to, for example
//
//	htmx.config.responseHandling = [
//		{code: "204", swap: false},
//		{code: "[23]..", swap: true},
//		{code: "403", swap: true, error: false},
//		{code: "[45]..", swap: false, error: true},
//	]
//
// or target an element for errors with hx-target-403 (response-targets).
func (a *Auth) RequireScopes(scopes ...string) func(http.Handler) http.Handler {
	want := slices.Clone(scopes)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Vary", "HX-Request")
			l := a.loadedFor(w, r)
			if !l.usable() {
				a.requireSignIn(w, r)
				return
			}
			if missing := missingScopes(strings.Fields(l.rec.Scope), want); len(missing) > 0 {
				a.log.InfoContext(r.Context(), "permission missing", "path", r.URL.Path, "sub", l.rec.Subject, "missing", strings.Join(missing, " "))
				a.renderForbidden(w, r, missing)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// loadedFor returns the session Middleware loaded for r, or loads it.
func (a *Auth) loadedFor(w http.ResponseWriter, r *http.Request) *loaded {
	if l, ok := r.Context().Value(ctxKey{}).(*loaded); ok {
		return l
	}
	return a.load(w, r)
}

// usable reports whether l is a signed-in session that still works: one
// whose refresh failed for good counts as signed out.
func (l *loaded) usable() bool {
	return l != nil && l.session != nil && l.rec != nil && l.rec.Error != RefreshTokenError
}

// signedIn reports whether r comes with a usable session (see usable).
func (a *Auth) signedIn(w http.ResponseWriter, r *http.Request) bool {
	return a.loadedFor(w, r).usable()
}

// missingScopes returns the scopes of want that have lacks, in want's order.
func missingScopes(have, want []string) []string {
	var missing []string
	for _, s := range want {
		if !slices.Contains(have, s) && !slices.Contains(missing, s) {
			missing = append(missing, s)
		}
	}
	return missing
}

// renderForbidden serves the Forbidden error page (403) naming missing.
func (a *Auth) renderForbidden(w http.ResponseWriter, r *http.Request, missing []string) {
	noun, it := "permission", "it"
	if len(missing) > 1 {
		noun, it = "permissions", "them"
	}
	data := ErrorPage{
		Code:   CodeForbidden,
		Status: CodeForbidden.Status(),
		Title:  CodeForbidden.Title(),
		Message: "You are signed in, but this page needs the " + noun + " " + quoteList(missing) +
			", which your account does not have. Ask an administrator to grant " + it + ", then sign in again.",
		SignInURL:     a.basePath + "/signin",
		HomeURL:       "/",
		MissingScopes: missing,
		Fragment:      wantsHTMX(r),
	}
	if !data.Fragment {
		// Signing in with another account, which the IdP must ask for
		// (prompt=login), then back to this page.
		data.SignInURL = a.SignInURL(r.URL.RequestURI()) + "&prompt=login"
	}
	pageFn := a.cfg.Pages.Error
	if pageFn == nil {
		pageFn = defaultErrorPage
	}
	a.render(w, r, data.Status, pageFn(data))
}
