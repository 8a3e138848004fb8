package handlers

import (
	"log/slog"
	"net/http"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/components"
)

// handleNotFound serves the 404 page for every path no route claims.
func handleNotFound(a formsAuth, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := perRequest(a)
		page := components.NotFound(components.Shell{
			Title:  "Page not found",
			Assets: appInfoFrom(r.Context()).assets,
			Nav:    navData(a, w, r, auth.SessionFromContext(r.Context()), pathHome),
		}, pathHome)
		render(w, r, log, http.StatusNotFound, page)
	})
}

// handleHealth answers liveness probes.
func handleHealth() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte("ok"))
	})
}

// serverError logs err and renders the error page with code Configuration.
func serverError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	log.ErrorContext(r.Context(), "handler failed", "path", r.URL.Path, "err", err)
	info := appInfoFrom(r.Context())
	render(w, r, log, http.StatusInternalServerError, errorPage(info, nil, auth.ErrConfiguration))
}
