package auth

import (
	"fmt"
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

// TestReturnPathBounded: a protected page asked with a long URI sends the
// browser to sign in with "/" as its return path, not the URI: the
// Location header stays small. A return path within the bound is kept.
func TestReturnPathBounded(t *testing.T) {
	e := newEnv(t, func(s *setup) { s.noServer = true })
	long := "/profile?q=" + strings.Repeat("a", 900<<10)
	tests := []struct {
		name, uri, header, want string
	}{
		{"long URI", long, "", "/api/auth/signin?callbackUrl=%2F"},
		{"long htmx current URL", "/fragment", "http://example.com" + long, "/api/auth/signin?callbackUrl=%2F"},
		{"short URI", "/profile?tab=1", "", "/api/auth/signin?callbackUrl=" + url.QueryEscape("/profile?tab=1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tt.uri, nil)
			header := "Location"
			if tt.header != "" {
				req.Host = "example.com"
				req.Header.Set("HX-Request", "true")
				req.Header.Set("HX-Current-URL", tt.header)
				header = "HX-Redirect"
			}
			w := e.serve(req)
			if got := w.Header().Get(header); got != tt.want {
				t.Errorf("%s = %.200q (%d bytes), want %q", header, got, len(got), tt.want)
			}
		})
	}
	for p, want := range map[string]string{
		"/a?b=c":                        "/a?b=c",
		"//evil.example":                "/",
		`/\evil.example`:                "/",
		"https://evil.example/":         "/",
		"/" + strings.Repeat("a", 2047): "/" + strings.Repeat("a", 2047),
		"/" + strings.Repeat("a", 2048): "/",
		"/a\nb":                         "/",
		"":                              "/",
	} {
		if got := ReturnPath(p); got != want {
			t.Errorf("ReturnPath(%.40q) = %.40q, want %.40q", p, got, want)
		}
	}
	if got := e.auth.SignInURL("https://app.example/" + strings.Repeat("a", 3000)); got != "/api/auth/signin" {
		t.Errorf("SignInURL(a long URL) = %.80q, want the bare sign-in page", got)
	}
}

// TestBogusChunkCookies: a request carrying session-token.0 … .2900 gets
// its session refused with at most one expiring Set-Cookie per chunk that
// can exist, not one per name it made up.
func TestBogusChunkCookies(t *testing.T) {
	e := newEnv(t, func(s *setup) { s.noServer = true })
	var sb strings.Builder
	for i := range 2901 {
		if i > 0 {
			sb.WriteString("; ")
		}
		fmt.Fprintf(&sb, "signet.session-token.%d=x", i)
	}
	sb.WriteString("; signet.session-token.007=x; signet.session-token.3=y")
	for _, path := range []string{"/api/auth/session", "/", "/profile", "/auth/sign-out"} {
		t.Run(path, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.Header.Set("Cookie", sb.String())
			w := e.serve(req)
			set := w.Header().Values("Set-Cookie")
			// The middleware and the post-logout page may each expire
			// the session's chunks.
			if limit := 2*maxChunks + len(e.auth.jars[0].names.all()); len(set) > limit {
				t.Errorf("%d Set-Cookie headers, want at most %d", len(set), limit)
			}
			size := 0
			for k, vs := range w.Header() {
				for _, v := range vs {
					size += len(k) + len(v) + 4
				}
			}
			if size > 8<<10 {
				t.Errorf("response headers of %d bytes, want at most 8 KB", size)
			}
		})
	}
}
