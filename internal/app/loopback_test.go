package app

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/signet-auth/signet/internal/testlog"
)

func TestSameLoopbackOrigin(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	for _, tc := range []struct {
		name, origin, host, target string
		want                       string // Location, or "" when next serves the request
	}{
		{"127.0.0.1 to localhost", "http://localhost:3000", "127.0.0.1:3000", "/profile?x=1", "http://localhost:3000/profile?x=1"},
		{"::1 to localhost", "http://localhost:3000", "[::1]:3000", "/", "http://localhost:3000/"},
		{"another 127/8 address", "http://localhost:3000", "127.0.0.2:3000", "/", "http://localhost:3000/"},
		{"a name under .localhost", "http://localhost:3000", "app.localhost:3000", "/", "http://localhost:3000/"},
		{"localhost to 127.0.0.1", "http://127.0.0.1:3000", "localhost:3000", "/api/auth/signin", "http://127.0.0.1:3000/api/auth/signin"},
		{"the origin itself", "http://localhost:3000", "localhost:3000", "/", ""},
		{"the origin, other case", "http://localhost:3000", "LocalHost:3000", "/", ""},
		{"another port: a proxy in front", "http://localhost:3000", "127.0.0.1:8080", "/", ""},
		{"no port", "http://localhost:3000", "127.0.0.1", "/", ""},
		{"another machine", "http://localhost:3000", "192.168.1.5:3000", "/", ""},
		{"a public name", "http://localhost:3000", "app.example.com:3000", "/", ""},
		{"health check", "http://localhost:3000", "127.0.0.1:3000", "/healthz", ""},
		{"a public origin is left alone", "https://app.example.com", "127.0.0.1:443", "/", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := sameLoopbackOrigin(tc.origin, []string{"/healthz"}, next)
			r := httptest.NewRequest(http.MethodGet, tc.target, nil)
			r.Host = tc.host
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if tc.want == "" {
				if w.Code != http.StatusTeapot {
					t.Errorf("status %d, want the request passed on", w.Code)
				}
				return
			}
			if w.Code != http.StatusTemporaryRedirect || w.Header().Get("Location") != tc.want {
				t.Errorf("%d to %q, want 307 to %q", w.Code, w.Header().Get("Location"), tc.want)
			}
			if w.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q, want no-store (the redirect must not outlive this run)", w.Header().Get("Cache-Control"))
			}
		})
	}
}

// TestZeroConfigStart: with nothing configured the app runs the
// development IdP on http://localhost:PORT, says so at INFO (no WARN: a
// newcomer reads warnings as trouble), and sends a browser that opened
// http://127.0.0.1:PORT to the localhost origin, so that the sign-in
// starts and ends on the one origin the IdP knows.
func TestZeroConfigStart(t *testing.T) {
	getenv, environ := mapEnv(map[string]string{"PORT": "3123"})
	var logs testlog.Buffer
	app, err := testConfigure(t, getenv, environ, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if app.PublicURL != "http://localhost:3123" || !app.Dev {
		t.Errorf("publicURL %q, dev %v; want http://localhost:3123, true", app.PublicURL, app.Dev)
	}
	if strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("a zero-configuration start warns:\n%s", logs.String())
	}
	for _, want := range []string{"development IdP", "ada=lovelace", "AUTH_SECRET is not set"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the start log lacks %q:\n%s", want, logs.String())
		}
	}
	for _, tc := range []struct {
		host, path string
		status     int
		location   string
	}{
		{"127.0.0.1:3123", "/", http.StatusTemporaryRedirect, "http://localhost:3123/"},
		{"127.0.0.1:3123", "/api/auth/signin?callbackUrl=%2Fprofile", http.StatusTemporaryRedirect, "http://localhost:3123/api/auth/signin?callbackUrl=%2Fprofile"},
		{"127.0.0.1:3123", "/healthz", http.StatusOK, ""},
		{"localhost:3123", "/", http.StatusOK, ""},
	} {
		r := httptest.NewRequest(http.MethodGet, tc.path, nil)
		r.Host = tc.host
		w := httptest.NewRecorder()
		app.Handler.ServeHTTP(w, r)
		if w.Code != tc.status || w.Header().Get("Location") != tc.location {
			t.Errorf("GET http://%s%s: %d to %q, want %d to %q", tc.host, tc.path, w.Code, w.Header().Get("Location"), tc.status, tc.location)
		}
	}
}

// TestDevIdPOnPublicOriginWarns: the development IdP on an origin that is
// not this machine's is a misconfiguration, and is logged as a warning.
func TestDevIdPOnPublicOriginWarns(t *testing.T) {
	getenv, environ := mapEnv(map[string]string{"AUTH_URL": "https://app.example.com"})
	var logs testlog.Buffer
	app, err := testConfigure(t, getenv, environ, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `level=WARN msg="no identity provider configured`) ||
		!strings.Contains(logs.String(), `level=WARN msg="AUTH_SECRET is not set`) {
		t.Errorf("no warning for the development IdP on a public origin:\n%s", logs.String())
	}
	// AUTH_URL is the origin: no redirect between loopback names.
	r := httptest.NewRequest(http.MethodGet, "/healthz", nil)
	r.Host = "127.0.0.1:443"
	w := httptest.NewRecorder()
	app.Handler.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Errorf("GET /healthz: %d", w.Code)
	}
}
