package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestRequire: signed out, a page is redirected to sign in and an htmx
// request gets 200 + HX-Redirect; both vary on HX-Request.
func TestRequire(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name     string
		path     string
		header   []string
		status   int
		location string // Location or HX-Redirect
		hx       bool
	}{
		{"page", "/profile?tab=2", nil, http.StatusFound, "/api/auth/signin?callbackUrl=%2Fprofile%3Ftab%3D2", false},
		{"htmx fragment", "/fragment", []string{"HX-Request", "true"}, http.StatusOK, "/api/auth/signin?callbackUrl=%2F", true},
		{"htmx fragment on a page", "/fragment", []string{"HX-Request", "true", "HX-Current-URL", "CURRENT/profile?tab=2"},
			http.StatusOK, "/api/auth/signin?callbackUrl=%2Fprofile%3Ftab%3D2", true},
		{"htmx fragment, current URL of another site", "/fragment", []string{"HX-Request", "true", "HX-Current-URL", "https://evil.example/x"},
			http.StatusOK, "/api/auth/signin?callbackUrl=%2F", true},
		{"boosted navigation", "/profile", []string{"HX-Request", "true", "HX-Boosted", "true"}, http.StatusFound, "/api/auth/signin?callbackUrl=%2Fprofile", false},
		{"HX-Request false", "/fragment", []string{"HX-Request", "false"}, http.StatusFound, "/api/auth/signin?callbackUrl=%2Ffragment", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range tt.header {
				tt.header[i] = strings.ReplaceAll(tt.header[i], "CURRENT", e.app.URL)
			}
			b := e.browser()
			r := b.get(tt.path, tt.header...)
			if got := r.status; got != tt.status {
				t.Fatalf("status %d, want %d", got, tt.status)
			}
			if tt.hx {
				if got := r.header.Get("HX-Redirect"); got != tt.location {
					t.Errorf("HX-Redirect = %q, want %q", got, tt.location)
				}
				if r.header.Get("Location") != "" {
					t.Error("an htmx request got a Location header")
				}
				if r.body != "" {
					t.Errorf("body = %q, want empty", r.body)
				}
			} else if got := r.header.Get("Location"); got != tt.location {
				t.Errorf("Location = %q, want %q", got, tt.location)
			}
			if !slices.Contains(r.header.Values("Vary"), "HX-Request") {
				t.Errorf("Vary = %q, want HX-Request", r.header.Values("Vary"))
			}
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
		})
	}
	t.Run("signed in", func(t *testing.T) {
		b := e.browser()
		b.signIn()
		for _, hdr := range [][]string{nil, {"HX-Request", "true"}} {
			r := b.get("/fragment", hdr...)
			if r.status != http.StatusOK || r.body != "<div>fragment</div>" {
				t.Errorf("%v: %d %q", hdr, r.status, r.body)
			}
			if !slices.Contains(r.header.Values("Vary"), "HX-Request") {
				t.Errorf("Vary = %q, want HX-Request", r.header.Values("Vary"))
			}
		}
	})
}

// TestRequireThenSignIn: a signed-out visit to /profile goes through the
// sign-in page and back to /profile.
func TestRequireThenSignIn(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	r := b.get("/profile")
	page := b.get(r.location(t).String())
	fields := url.Values{}
	for _, m := range regexp.MustCompile(`name="(\w+)" value="([^"]*)"`).FindAllStringSubmatch(page.body, -1) {
		fields.Set(m[1], htmlUnescape(m[2]))
	}
	if got, want := fields.Get("callbackUrl"), "/profile"; got != want {
		t.Fatalf("sign-in page callbackUrl = %q, want %q", got, want)
	}
	action := regexp.MustCompile(`action="([^"]*)"`).FindStringSubmatch(page.body)[1]
	cb := b.callback(b.toIdP(b.post(action, fields)))
	if got, want := cb.header.Get("Location"), e.app.URL+"/profile"; got != want {
		t.Fatalf("lands on %q, want %q", got, want)
	}
	if got := b.get("/profile"); got.status != http.StatusOK || !strings.Contains(got.body, "Ada Lovelace") {
		t.Errorf("/profile: %d %q", got.status, got.body)
	}
}

// TestFailHTMX: a failed flow step requested by htmx gets HX-Redirect to
// the error page, never a redirect swapped into the page.
func TestFailHTMX(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	r := b.post("/api/auth/signout", url.Values{}, "HX-Request", "true")
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200", r.status)
	}
	if got, want := r.header.Get("HX-Redirect"), "/api/auth/error?error=MissingCSRF"; got != want {
		t.Errorf("HX-Redirect = %q, want %q", got, want)
	}
}

// TestSessionWithoutMiddleware: Session reads the cookie itself when the
// handler is not behind Middleware, and Middleware reads it once.
func TestSessionWithoutMiddleware(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	var cookies []*http.Cookie
	for _, c := range b.cookies() {
		cookies = append(cookies, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	calls := 0
	e.cfg.Callbacks.Session = func(_ context.Context, p SessionParams) (*Session, error) {
		calls++
		return p.Session, nil
	}
	a := e.restart(nil)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := a.Session(w, r)
		s2 := a.Session(w, r)
		if s == nil || s2 == nil {
			fmt.Fprint(w, "nil")
			return
		}
		fmt.Fprint(w, s.User.Name)
	})
	for _, tt := range []struct {
		name      string
		h         http.Handler
		wantCalls int
	}{
		{"bare", h, 2},
		{"behind Middleware", a.Middleware(h), 1},
	} {
		calls = 0
		req := httptest.NewRequest(http.MethodGet, e.app.URL+"/", nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		w := httptest.NewRecorder()
		tt.h.ServeHTTP(w, req)
		if got := w.Body.String(); got != "Ada Lovelace" {
			t.Errorf("%s: Session gave %q", tt.name, got)
		}
		if calls != tt.wantCalls {
			t.Errorf("%s: Session callback ran %d times, want %d", tt.name, calls, tt.wantCalls)
		}
	}
	if SessionFromContext(context.Background()) != nil {
		t.Error("SessionFromContext of a bare context is not nil")
	}
}

func TestSessionCallbackFailure(t *testing.T) {
	for _, tt := range []struct {
		name string
		cb   func(context.Context, SessionParams) (*Session, error)
		log  string
	}{
		{"error", func(context.Context, SessionParams) (*Session, error) { return nil, errors.New("db down") }, "db down"},
		{"nil", func(context.Context, SessionParams) (*Session, error) { return nil, nil }, "Session callback returned nil"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			b := e.browser()
			b.signIn()
			e.cfg.Callbacks.Session = tt.cb
			e.restart(nil)
			r := b.get("/api/auth/session")
			if r.status != http.StatusOK || r.body != "null" {
				t.Errorf("session: %d %q, want 200 null", r.status, r.body)
			}
			if strings.Contains(r.body, "db down") {
				t.Error("the cause reached the browser")
			}
			e.wantLog(t, "session callback failed", tt.log)
		})
	}
}
