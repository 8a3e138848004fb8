package auth

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// render writes page with status. It renders into a buffer first, so an
// error never sends half a page.
func (a *Auth) render(w http.ResponseWriter, r *http.Request, status int, page Page) {
	var buf bytes.Buffer
	if err := page.Render(r.Context(), &buf); err != nil {
		if r.Context().Err() != nil {
			// The visitor left: not a fault, and no one reads the page.
			// The status is the one the page had, for the request log.
			a.log.DebugContext(r.Context(), "render page: the visitor left", "err", err)
			w.WriteHeader(status)
			return
		}
		a.log.ErrorContext(r.Context(), "render page", "err", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// fail is the one place a failed flow ends: it logs the cause (never shown
// to the visitor) and sends the browser to the error page with the
// client-safe code only.
func (a *Auth) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := codeOf(err)
	level := slog.LevelWarn
	var e *Error
	if !errors.As(err, &e) || code == CodeConfiguration {
		level = slog.LevelError
	}
	a.log.Log(r.Context(), level, "auth flow failed", "code", string(code), "path", r.URL.Path, "reason", err.Error())
	if wantsHTMX(r) {
		w.Header().Set("HX-Redirect", a.basePath+"/error?error="+string(code))
		w.WriteHeader(http.StatusOK)
		return
	}
	redirect(w, r, a.basePath+"/error?error="+string(code))
}

// renderError renders the error page for code in place, with its status.
func (a *Auth) renderError(w http.ResponseWriter, r *http.Request, code ErrorCode) {
	data := ErrorPage{
		Code:      code,
		Status:    code.Status(),
		Title:     code.Title(),
		Message:   code.Message(),
		SignInURL: a.basePath + "/signin",
		HomeURL:   "/",
	}
	if code == CodeUnavailable {
		data.SignInURL, data.RetryURL = "", a.CurrentPath(r)
	}
	pageFn := a.cfg.Pages.Error
	if pageFn == nil {
		pageFn = defaultErrorPage
	}
	a.render(w, r, data.Status, pageFn(data))
}

func (a *Auth) handleErrorPage(w http.ResponseWriter, r *http.Request) {
	a.renderError(w, r, knownCode(r.URL.Query().Get("error")))
}

// storeError gives a store failure its client-safe code, Unavailable.
func storeError(err error, what string) error {
	if errors.Is(err, errStoreUnavailable) {
		return &Error{Code: CodeUnavailable, Err: fmt.Errorf("%s: %w", what, err)}
	}
	return fmt.Errorf("%s: %w", what, err)
}
