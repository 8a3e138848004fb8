package auth

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
)

// The bounds on what a request may send to the auth routes. A request over
// one is refused before anything parses it: 413 for the body, 414 for the
// query string.
const (
	// MaxBodyBytes bounds a request body: a form (csrfToken, callbackUrl,
	// the IdP's form_post of code and state) or a logout token.
	MaxBodyBytes = 64 << 10
	// MaxQueryBytes bounds a query string.
	MaxQueryBytes = 8 << 10
)

// limitInput refuses a request whose query string or body is over the
// bounds and hands next a body it has read whole, so that no form parser
// ever reads more than MaxBodyBytes.
func limitInput(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.RawQuery) > MaxQueryBytes {
			refuse(w, http.StatusRequestURITooLong)
			return
		}
		if r.ContentLength > MaxBodyBytes {
			refuse(w, http.StatusRequestEntityTooLarge)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				refuse(w, http.StatusRequestEntityTooLarge)
				return
			}
			if err != nil {
				refuse(w, http.StatusBadRequest)
				return
			}
			if len(body) > MaxBodyBytes {
				refuse(w, http.StatusRequestEntityTooLarge)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, r)
	})
}

// refuse answers status with its text, never cached, and closes the
// connection: the rest of an oversized request is not read.
func refuse(w http.ResponseWriter, status int) {
	w.Header().Set("Connection", "close")
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, http.StatusText(status), status)
}

// probeMethods are the methods a 405's Allow header may list.
var probeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// allowedMethods lists the methods mux serves r's path with through a
// pattern other than fallback (the catch-all that answers 404), in the
// order of an Allow header. It is empty when the path is not served at all.
func allowedMethods(mux *http.ServeMux, r *http.Request, fallback string) []string {
	var out []string
	for _, m := range probeMethods {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, p := mux.Handler(probe); p != "" && p != fallback {
			out = append(out, m)
		}
	}
	return out
}

// methodNotAllowed answers 405 with an Allow header when mux serves r's
// path with other methods, and reports whether it did.
func methodNotAllowed(w http.ResponseWriter, r *http.Request, mux *http.ServeMux, fallback string) bool {
	allowed := allowedMethods(mux, r, fallback)
	if len(allowed) == 0 || slices.Contains(allowed, r.Method) {
		return false
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
	return true
}
