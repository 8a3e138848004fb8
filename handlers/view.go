package handlers

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/a-h/templ"
	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/components"
)

// formsAuth is what a handler needs from auth to build the sign-in and
// sign-out forms of a page.
type formsAuth interface {
	// CSRFToken sets the CSRF cookie when needed: call it before writing.
	CSRFToken(w http.ResponseWriter, r *http.Request) string
	Providers(r *http.Request) []auth.ProviderInfo
	SignInURL(callbackURL string) string
	BasePath() string
	// CurrentPath is the page the request is about, as a return path.
	CurrentPath(r *http.Request) string
}

// csrfOnce asks auth for the CSRF token once per request, so that every
// form of a response carries the token of the one CSRF cookie it sets.
// (auth.CSRFToken mints a new token on each call while the request's own
// CSRF cookie is stale, e.g. after AUTH_SECRET changed.) Make one per
// request with perRequest.
type csrfOnce struct {
	formsAuth
	token string
}

func (c *csrfOnce) CSRFToken(w http.ResponseWriter, r *http.Request) string {
	if c.token == "" {
		c.token = c.formsAuth.CSRFToken(w, r)
	}
	return c.token
}

// perRequest wraps a for one request.
func perRequest(a formsAuth) formsAuth { return &csrfOnce{formsAuth: a} }

// signInAction is the Sign in control returning to callbackURL: a POST
// straight to the provider when there is exactly one, else a link to the
// sign-in page.
func signInAction(a formsAuth, w http.ResponseWriter, r *http.Request, callbackURL string) components.SignInAction {
	act := components.SignInAction{CallbackURL: callbackURL, PageURL: a.SignInURL(callbackURL)}
	if ps := a.Providers(r); len(ps) == 1 {
		act.Action = ps[0].SignInURL
		act.ProviderName = ps[0].Name
		act.CSRFToken = a.CSRFToken(w, r)
	}
	return act
}

// signOutAction is the Sign out control: a POST with the CSRF token.
func signOutAction(a formsAuth, w http.ResponseWriter, r *http.Request) components.SignOutAction {
	return components.SignOutAction{Action: a.BasePath() + "/signout", CSRFToken: a.CSRFToken(w, r)}
}

// navData is the nav for session s (nil when signed out), with working
// forms. Sign in returns to callbackURL.
func navData(a formsAuth, w http.ResponseWriter, r *http.Request, s *auth.Session, callbackURL string) components.NavData {
	n := components.NavData{ProfileURL: pathProfile, FragmentURL: pathNavFragment}
	if s != nil {
		n.SignedIn = true
		n.Name = s.User.DisplayName()
		n.SignOut = signOutAction(a, w, r)
		return n
	}
	n.SignIn = signInAction(a, w, r, callbackURL)
	return n
}

// homePanel is the home page's panel for session s.
func homePanel(a formsAuth, w http.ResponseWriter, r *http.Request, s *auth.Session, dev []components.DevUser) (components.HomePanelData, error) {
	p := components.HomePanelData{ProfileURL: pathProfile, FragmentURL: pathHomeFragment}
	if s == nil {
		p.SignIn = signInAction(a, w, r, pathHome)
		p.DevUsers = dev
		return p, nil
	}
	b, err := sessionJSON(s)
	if err != nil {
		return p, err
	}
	p.SignedIn = true
	p.AccountURL = pathAccount
	if s.Error != "" { // e.g. RefreshTokenError: the home page asks to sign in again
		p.SessionError = s.Error
		p.SignIn = signInAction(a, w, r, pathHome)
	}
	p.Name = s.User.DisplayName()
	p.Email = s.User.Email
	p.SessionJSON = string(b)
	p.SignOut = signOutAction(a, w, r)
	return p, nil
}

// sessionJSON is s as GET /api/auth/session sends it, indented.
// Session.MarshalJSON's output is compact JSON: json.MarshalIndent would
// look the method up by reflection and check and copy its output before
// indenting it.
func sessionJSON(s *auth.Session) ([]byte, error) {
	raw, err := s.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// profileCard is the profile card for session s (never nil: the profile
// routes are behind Require).
func profileCard(a formsAuth, w http.ResponseWriter, r *http.Request, s *auth.Session) components.ProfileCardData {
	u := s.User
	return components.ProfileCardData{
		Name:        u.DisplayName(),
		Email:       u.Email,
		Username:    u.Username,
		GivenName:   u.GivenName,
		FamilyName:  u.FamilyName,
		HomeURL:     pathHome,
		SignOut:     signOutAction(a, w, r),
		FragmentURL: pathProfileFragment,
	}
}

// render writes c with status. It renders into a buffer first so an error
// never sends half a page, and marks the response no-store: every page and
// fragment depends on the session and carries a CSRF token.
func render(w http.ResponseWriter, r *http.Request, log *slog.Logger, status int, c templ.Component) {
	buf := pageBuffers.Get().(*bytes.Buffer)
	defer releasePageBuffer(buf)
	if err := c.Render(r.Context(), buf); err != nil {
		w.Header().Set("Cache-Control", "no-store")
		if r.Context().Err() != nil {
			// The visitor left before the page was ready: not a fault,
			// and no one reads the page. The status is the one the page
			// had, for the request log.
			log.DebugContext(r.Context(), "render page: the visitor left", "path", r.URL.Path, "err", err)
			w.WriteHeader(status)
			return
		}
		log.ErrorContext(r.Context(), "render page", "path", r.URL.Path, "err", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// pageBuffers hold rendered pages until they are written: growing a new
// buffer to a page's few kilobytes for every response was the largest
// allocation of a page view.
var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func releasePageBuffer(b *bytes.Buffer) {
	if b.Cap() > 64<<10 {
		return // an unusually large page: let it go
	}
	b.Reset()
	pageBuffers.Put(b)
}

// varyOnHXRequest adds HX-Request to the response's Vary header (once), so
// that caches keep a URL's htmx fragment apart from its full page.
func varyOnHXRequest(w http.ResponseWriter) {
	for _, v := range w.Header().Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), "HX-Request") {
				return
			}
		}
	}
	w.Header().Add("Vary", "HX-Request")
}

// serveNotModified answers 304 Not Modified, and returns true, when the request's
// If-None-Match names etag, the version of the fragment the handler would
// render: htmx then leaves the element on the page as it is. Otherwise it
// sets ETag for the fragment about to be rendered and returns false.
func serveNotModified(w http.ResponseWriter, r *http.Request, etag string) bool {
	h := w.Header()
	h["Etag"] = []string{etag}
	for rest := r.Header.Get("If-None-Match"); rest != ""; {
		var v string
		v, rest, _ = strings.Cut(rest, ",")
		// RFC 9110 section 13.1.2: "*" matches any current fragment, and
		// the comparison is weak.
		v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
		if v == "*" || v == etag {
			h.Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusNotModified)
			return true
		}
	}
	return false
}
