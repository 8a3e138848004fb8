package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
)

// The CSRF cookie holds "token|hmac", Auth.js's double-submit format with an
// HMAC keyed from AUTH_SECRET in place of a plain hash. A POST is accepted
// when the cookie's HMAC is valid under one of the secrets and the form's
// csrfToken equals its token.

// csrfFromCookie returns the token in r's CSRF cookie when the cookie is
// valid.
func (a *Auth) csrfFromCookie(r *http.Request, cw cookieWriter) (string, bool) {
	c, err := r.Cookie(cw.names.csrf)
	if err != nil {
		return "", false
	}
	token, mac, ok := strings.Cut(c.Value, "|")
	if !ok || len(token) != 64 {
		return "", false
	}
	got, err := hex.DecodeString(mac)
	if err != nil {
		return "", false
	}
	for _, key := range a.sessionKeys.csrf {
		if hmac.Equal(got, csrfMAC(key, token)) {
			return token, true
		}
	}
	return "", false
}

func csrfMAC(key []byte, token string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(token))
	return h.Sum(nil)
}

// CSRFToken returns the CSRF token for forms that POST to /api/auth (the
// csrfToken field), setting the CSRF cookie when the request has no valid
// one. Call it before writing the response body.
func (a *Auth) CSRFToken(w http.ResponseWriter, r *http.Request) string {
	cw := a.cookiesFor(r)
	if t, ok := a.csrfFromCookie(r, cw); ok {
		return t
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token := hex.EncodeToString(b)
	value := token + "|" + hex.EncodeToString(csrfMAC(a.sessionKeys.csrf[0], token))
	cw.set(w, cw.names.csrf, value, timeZero)
	// Later reads in this request see the new cookie, not the stale one, so
	// a page with several forms gets one token.
	replaceRequestCookie(r, cw.names.csrf, value)
	return token
}

var errCSRF = &Error{Code: CodeMissingCSRF, Err: errors.New("csrf token missing or invalid")}

// checkCSRF verifies a state-changing POST: it must not be a cross-origin
// browser request, and its csrfToken field must match a valid CSRF cookie.
func (a *Auth) checkCSRF(r *http.Request) error {
	if err := a.crossOrigin.Check(r); err != nil {
		return &Error{Code: CodeMissingCSRF, Err: err}
	}
	return a.checkCSRFToken(r, r.PostFormValue("csrfToken"))
}

// checkCSRFToken checks a csrfToken the request sent (in a form or a JSON
// body) against its CSRF cookie.
func (a *Auth) checkCSRFToken(r *http.Request, sent string) error {
	token, ok := a.csrfFromCookie(r, a.cookiesFor(r))
	if !ok {
		return errCSRF
	}
	if subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
		return errCSRF
	}
	return nil
}

// replaceRequestCookie makes r carry value as its only cookie called name.
// The Cookie header is rebuilt in one piece: adding the cookies one by one
// (Request.AddCookie) would copy the growing header for each, quadratic in
// a request that carries thousands of cookies.
func replaceRequestCookie(r *http.Request, name, value string) {
	var sb strings.Builder
	for _, c := range r.Cookies() {
		if c.Name == name {
			continue
		}
		sb.WriteString(c.Name)
		sb.WriteByte('=')
		if c.Quoted {
			sb.WriteByte('"')
			sb.WriteString(c.Value)
			sb.WriteByte('"')
		} else {
			sb.WriteString(c.Value)
		}
		sb.WriteString("; ")
	}
	sb.WriteString((&http.Cookie{Name: name, Value: value}).String())
	r.Header.Set("Cookie", sb.String())
}
