package handlers

import (
	"log/slog"
	"net/http"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/components"
)

// handleHome serves the home page: signed out, the hero and Sign in;
// signed in, the welcome line and the session JSON.
func handleHome(a formsAuth, assets components.Assets, dev []components.DevUser, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := perRequest(a)
		s := auth.SessionFromContext(r.Context())
		panel, err := homePanel(a, w, r, s, dev)
		if err != nil {
			serverError(w, r, log, err)
			return
		}
		render(w, r, log, http.StatusOK, components.Home(components.HomeData{
			Shell: liveShell(a, components.Shell{
				Title:  "Signet",
				Assets: assets,
				Nav:    navData(a, w, r, s, pathHome),
			}, s, ""),
			Panel: panel,
		}))
	})
}

// handleHomeFragment serves the home panel alone, signed in or signed out.
func handleHomeFragment(a formsAuth, dev []components.DevUser, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := perRequest(a)
		varyOnHXRequest(w)
		panel, err := homePanel(a, w, r, auth.SessionFromContext(r.Context()), dev)
		if err != nil {
			serverError(w, r, log, err)
			return
		}
		if serveNotModified(w, r, panel.ETag()) {
			return
		}
		render(w, r, log, http.StatusOK, components.HomePanel(panel))
	})
}

// handleNavFragment serves the nav alone, signed in or signed out.
func handleNavFragment(a formsAuth, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := perRequest(a)
		varyOnHXRequest(w)
		nav := navData(a, w, r, auth.SessionFromContext(r.Context()), a.CurrentPath(r))
		if serveNotModified(w, r, nav.ETag()) {
			return
		}
		render(w, r, log, http.StatusOK, components.Nav(nav))
	})
}
