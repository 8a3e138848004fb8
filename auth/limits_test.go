package auth

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// endlessReader yields n bytes of a form field without ever holding them.
type endlessReader struct{ n int }

func (r *endlessReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n)
	for i := range p[:k] {
		p[i] = 'a'
	}
	r.n -= k
	return k, nil
}

// TestInputBounds: a POST body over MaxBodyBytes (declared or chunked) and
// a query string over MaxQueryBytes are refused with 413 and 414 on every
// auth route before any form parsing, with or without the CSRF cookie; a
// body within the bound reaches the handler as before.
func TestInputBounds(t *testing.T) {
	e := newEnv(t, func(s *setup) { s.noServer = true })
	csrfReq := httptest.NewRequest(http.MethodGet, "/api/auth/csrf", nil)
	csrfResp := e.serve(csrfReq)
	var csrfCookie *http.Cookie
	for _, c := range csrfResp.Result().Cookies() {
		if c.Name == "signet.csrf-token" {
			csrfCookie = c
		}
	}
	if csrfCookie == nil {
		t.Fatal("no CSRF cookie")
	}
	big := 10 << 20
	posts := []string{"/api/auth/callback/oidc", "/api/auth/signin/oidc", "/api/auth/signout", "/api/auth/backchannel-logout"}
	for _, path := range posts {
		for _, chunked := range []bool{false, true} {
			name := path + " declared"
			if chunked {
				name = path + " chunked"
			}
			t.Run(name, func(t *testing.T) {
				body := &endlessReader{n: big}
				req := httptest.NewRequest(http.MethodPost, path, io.NopCloser(body))
				req.ContentLength = int64(big)
				if chunked {
					req.ContentLength = -1
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.AddCookie(csrfCookie)
				w := e.serve(req)
				if w.Code != http.StatusRequestEntityTooLarge {
					t.Errorf("status %d, want 413", w.Code)
				}
				if read := big - body.n; read > MaxBodyBytes+1 {
					t.Errorf("read %d bytes of the body, want at most %d", read, MaxBodyBytes+1)
				}
			})
		}
	}
	t.Run("multipart", func(t *testing.T) {
		// A multipart form would otherwise be parsed with 32 MB of memory
		// and temporary files.
		body := "--x\r\nContent-Disposition: form-data; name=\"csrfToken\"\r\n\r\n" + strings.Repeat("a", MaxBodyBytes) + "\r\n--x--\r\n"
		req := httptest.NewRequest(http.MethodPost, "/api/auth/signin/oidc", strings.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
		req.AddCookie(csrfCookie)
		if w := e.serve(req); w.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413", w.Code)
		}
	})
	for _, path := range []string{"/api/auth/signin", "/api/auth/callback/oidc", "/api/auth/frontchannel-logout", "/api/auth/error", "/api/auth/signout", "/auth/sign-out"} {
		t.Run(path+" query", func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, path+"?callbackUrl="+strings.Repeat("a", MaxQueryBytes), nil)
			if w := e.serve(req); w.Code != http.StatusRequestURITooLong {
				t.Errorf("status %d, want 414", w.Code)
			}
		})
	}
	t.Run("within the bound", func(t *testing.T) {
		form := url.Values{"logout_token": {strings.Repeat("a", MaxBodyBytes-100)}}
		req := httptest.NewRequest(http.MethodPost, "/api/auth/backchannel-logout", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := e.serve(req)
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "invalid_request") {
			t.Errorf("status %d %s, want the handler's own 400", w.Code, w.Body)
		}
	})
}
