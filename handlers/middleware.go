package handlers

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/signet-auth/signet/auth"
)

// contentSecurityPolicy is the app's CSP: same-origin scripts and styles
// only (htmx is configured to need no inline styles or eval). form-action
// is not set: the sign-in and sign-out POSTs redirect to the identity
// provider's origin, which form-action would block.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'self'; frame-ancestors 'none'"

// securityHeaders sets the security headers on every response. Two paths
// are framed or styled by others: the front-channel logout receiver, which
// the identity provider loads in an iframe (the auth handler sets its CSP
// and frame-ancestors), and the development IdP's own pages under /dev-idp/.
func securityHeaders(next http.Handler, frontchannelPath string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		switch {
		case r.URL.Path == frontchannelPath:
		case strings.HasPrefix(r.URL.Path, pathDevIdP):
			h.Set("X-Frame-Options", "DENY")
		default:
			h.Set("Content-Security-Policy", contentSecurityPolicy)
			h.Set("X-Frame-Options", "DENY")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
		}
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status and size of a response.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests logs one line per request: method, path, status, size and
// duration, at ERROR for a 5xx status. It never logs query strings (the
// callback's carries the code and state), headers or cookies. errorPage is
// the auth error page's path: it shows a failure that was logged where it
// happened (or a code typed by hand), so its 5xx is logged at INFO. With
// errorsOnly, only responses with a status of 400 or more are logged.
func logRequests(next http.Handler, log *slog.Logger, errorPage string, errorsOnly bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			if errorsOnly && status < 400 {
				return
			}
			level := slog.LevelInfo
			switch {
			case status >= 500 && r.URL.Path != errorPage:
				level = slog.LevelError
			case r.URL.Path == pathHealth || strings.HasPrefix(r.URL.Path, "/static/"):
				level = slog.LevelDebug
			}
			log.LogAttrs(r.Context(), level, "request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Int("bytes", rec.bytes),
				slog.Duration("duration", time.Since(start)),
			)
		}()
		next.ServeHTTP(rec, r)
	})
}

// recoverPanics turns a panic into the error page with code Configuration
// (when nothing was written yet) and logs it with its stack. The visitor
// never sees the panic's value.
func recoverPanics(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			log.ErrorContext(r.Context(), "panic serving request",
				"method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if rec.status != 0 {
				return // the response has begun: nothing more can be sent
			}
			info := appInfoFrom(r.Context())
			h := w.Header()
			for _, k := range []string{"Content-Length", "Content-Encoding", "ETag", "Last-Modified", "HX-Redirect", "Location"} {
				h.Del(k)
			}
			render(w, r, log, auth.CodeConfiguration.Status(), errorPage(info, nil, auth.CodeConfiguration))
		}()
		next.ServeHTTP(rec, r)
	})
}
