package static

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestURLs(t *testing.T) {
	t.Parallel()
	a := New()
	for _, name := range []string{CSS, Logo} {
		u := a.URL(name)
		if !strings.HasPrefix(u, Prefix+name+"?v=") || len(u) != len(Prefix+name+"?v=")+16 {
			t.Errorf("URL(%q) = %q, want %s%s?v=<16 hex digits>", name, u, Prefix, name)
		}
	}
	if u := a.URL("css/missing.css"); u != "" {
		t.Errorf("URL of a missing file = %q, want empty", u)
	}
	if got, want := a.URL(HTMX) != "", HasHTMX(); got != want {
		t.Errorf("URL(HTMX) set = %v, HasHTMX = %v", got, want)
	}
	// The SSE extension is vendored with htmx, by the same copy script.
	if got, want := a.URL(SSE) != "", HasHTMX(); got != want {
		t.Errorf("URL(SSE) set = %v, HasHTMX = %v: npm run vendor copies both", got, want)
	}
	for _, name := range a.Names() {
		if strings.HasSuffix(name, ".mjs") {
			t.Errorf("the vendor copy script %s is served", name)
		}
	}
}

func TestHashFollowsContent(t *testing.T) {
	t.Parallel()
	a, b := New(), New()
	if a.URL(CSS) != b.URL(CSS) {
		t.Errorf("the CSS hash is not stable: %s, %s", a.URL(CSS), b.URL(CSS))
	}
	hash := func(u string) string { return u[strings.LastIndex(u, "=")+1:] }
	if hash(a.URL(CSS)) == hash(a.URL(Logo)) {
		t.Error("two files share a hash")
	}
}

func TestHandler(t *testing.T) {
	t.Parallel()
	a := New()
	h := a.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "custom not found", http.StatusNotFound)
	}))
	css := a.URL(CSS)
	etag := `"` + strings.TrimPrefix(css, Prefix+CSS+"?v=") + `"`
	for _, tc := range []struct {
		name, method, target string
		headers              map[string]string
		status               int
		cacheControl, ctype  string
		encoding, body       string
	}{
		{"hashed URL is immutable", "GET", css, nil, 200, "public, max-age=31536000, immutable", "text/css; charset=utf-8", "", "--brand"},
		{"HEAD", "HEAD", css, nil, 200, "public, max-age=31536000, immutable", "text/css; charset=utf-8", "", ""},
		{"no hash revalidates", "GET", Prefix + CSS, nil, 200, "public, no-cache", "text/css; charset=utf-8", "", "--brand"},
		{"stale hash revalidates", "GET", Prefix + CSS + "?v=0000000000000000", nil, 200, "public, no-cache", "text/css; charset=utf-8", "", "--brand"},
		{"ETag match", "GET", css, map[string]string{"If-None-Match": etag}, 304, "public, max-age=31536000, immutable", "", "", ""},
		{"gzip", "GET", css, map[string]string{"Accept-Encoding": "br, gzip"}, 200, "public, max-age=31536000, immutable", "text/css; charset=utf-8", "gzip", "--brand"},
		{"gzip refused", "GET", css, map[string]string{"Accept-Encoding": "gzip;q=0"}, 200, "public, max-age=31536000, immutable", "text/css; charset=utf-8", "", "--brand"},
		{"svg", "GET", a.URL(Logo), nil, 200, "public, max-age=31536000, immutable", "image/svg+xml", "", "<svg"},
		{"missing file", "GET", Prefix + "css/missing.css", nil, 404, "", "", "", "custom not found"},
		{"directory", "GET", Prefix + "css/", nil, 404, "", "", "", "custom not found"},
		{"traversal", "GET", Prefix + "../static.go", nil, 404, "", "", "", "custom not found"},
		{"copy script is not served", "GET", Prefix + "vendor.mjs", nil, 404, "", "", "", "custom not found"},
		{"POST", "POST", css, nil, 405, "", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.target, nil)
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			res := rec.Result()
			if res.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d", res.StatusCode, tc.status)
			}
			if tc.cacheControl != "" && res.Header.Get("Cache-Control") != tc.cacheControl {
				t.Errorf("Cache-Control = %q, want %q", res.Header.Get("Cache-Control"), tc.cacheControl)
			}
			if tc.ctype != "" && res.Header.Get("Content-Type") != tc.ctype {
				t.Errorf("Content-Type = %q, want %q", res.Header.Get("Content-Type"), tc.ctype)
			}
			if got := res.Header.Get("Content-Encoding"); got != tc.encoding {
				t.Errorf("Content-Encoding = %q, want %q", got, tc.encoding)
			}
			if tc.status == 200 && res.Header.Get("ETag") == "" {
				t.Error("no ETag")
			}
			body := rec.Body.Bytes()
			if tc.encoding == "gzip" {
				if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
					t.Errorf("Vary = %q, want Accept-Encoding", res.Header.Get("Vary"))
				}
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Contains(body, []byte(tc.body)) {
				t.Errorf("body lacks %q", tc.body)
			}
		})
	}
}

// TestHTMX checks the vendored htmx when npm has run: a real htmx 2.x.
func TestHTMX(t *testing.T) {
	t.Parallel()
	if !HasHTMX() {
		t.Skip("htmx not vendored: run `npm ci && npm run vendor`")
	}
	b, err := files.ReadFile(HTMX)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`version:"2.`)) {
		t.Errorf("%s is not htmx 2.x", HTMX)
	}
}
