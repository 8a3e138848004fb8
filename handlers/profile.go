package handlers

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/components"
)

// handleProfile serves the profile page: the profile card and the "Your
// sessions" card. It sits behind auth.Require, so the request has a
// session.
func handleProfile(sa sessionsAuth, assets components.Assets, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := perRequest(sa)
		s := auth.SessionFromContext(r.Context())
		if s == nil { // only when mounted without Require
			http.Redirect(w, r, a.SignInURL(r.URL.RequestURI()), http.StatusFound)
			return
		}
		sessions := sessionsCard(a, sa.ListSessions, w, r, log, time.Now())
		render(w, r, log, http.StatusOK, components.Profile(components.ProfileData{
			Shell: liveShell(a, components.Shell{
				Title:  "Profile",
				Assets: assets,
				Nav:    navData(a, w, r, s, pathProfile),
			}, s, pathSignedOutFragment),
			Card:     profileCard(a, w, r, s),
			Sessions: &sessions,
		}))
	})
}

// handleProfileFragment serves the profile card alone. It sits behind
// auth.Require, which answers an htmx request without a session with
// HX-Redirect to the sign-in page.
func handleProfileFragment(a formsAuth, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := perRequest(a)
		varyOnHXRequest(w)
		s := auth.SessionFromContext(r.Context())
		if s == nil { // only when mounted without Require
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("HX-Redirect", a.SignInURL(a.CurrentPath(r)))
			w.WriteHeader(http.StatusOK)
			return
		}
		card := profileCard(a, w, r, s)
		if serveNotModified(w, r, card.ETag()) {
			return
		}
		render(w, r, log, http.StatusOK, components.ProfileCard(card))
	})
}
