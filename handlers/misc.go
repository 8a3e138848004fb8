package handlers

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/components"
	"github.com/signet-auth/signet/static"
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

// handleFavicon serves the logo at /favicon.ico, where browsers and other
// clients look for an icon when a page names none.
func handleFavicon(files *static.Assets, notFound http.Handler) http.Handler {
	h := files.Handler(notFound)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Path = static.Prefix + static.Logo
		r2.URL.RawQuery = ""
		h.ServeHTTP(w, r2)
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
	render(w, r, log, http.StatusInternalServerError, errorPage(info, nil, auth.CodeConfiguration))
}

// probeMethods are the methods a 405's Allow header may list.
var probeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// methodNotAllowed answers 405 with an Allow header when mux serves the
// request's path with other methods than through fallback (the catch-all
// pattern), and hands the request to next otherwise.
func methodNotAllowed(mux *http.ServeMux, fallback string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allowed []string
		for _, m := range probeMethods {
			probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
			if _, p := mux.Handler(probe); p != "" && p != fallback {
				allowed = append(allowed, m)
			}
		}
		if len(allowed) == 0 || slices.Contains(allowed, r.Method) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
	})
}

// The bounds on any request to the app: a query string over maxQueryBytes
// gets 414 and a body over maxBodyBytes 413 (no page of the app reads a
// body; the auth routes read forms within auth.MaxBodyBytes).
const (
	maxQueryBytes = auth.MaxQueryBytes
	maxBodyBytes  = auth.MaxBodyBytes
)

// limitInput refuses a request over the bounds before any handler runs.
func limitInput(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := 0
		switch {
		case len(r.URL.RawQuery) > maxQueryBytes:
			status = http.StatusRequestURITooLong
		case r.ContentLength > maxBodyBytes:
			status = http.StatusRequestEntityTooLarge
		}
		if status == 0 {
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
			}
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Connection", "close")
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, http.StatusText(status), status)
	})
}
