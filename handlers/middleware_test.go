package handlers

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"github.com/signet-auth/signet/components"
)

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/auth/frontchannel-logout" {
			w.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'self' https://idp.example")
		}
		_, _ = w.Write([]byte("ok"))
	})
	h := securityHeaders(next, "/api/auth/frontchannel-logout")
	for _, tc := range []struct{ path, mode string }{
		{"/", "app"},
		{"/profile", "app"},
		{"/fragments/nav", "app"},
		{"/api/auth/signin", "app"},
		{"/api/auth/session", "app"},
		{"/static/css/app.css", "app"},
		{"/nope", "app"},
		{"/api/auth/frontchannel-logout", "auth"},
		{"/dev-idp/login", "none"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
			checkSecurityHeaders(t, rec.Result(), tc.mode)
		})
	}
}

func TestRecoverPanics(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		status  int
		page    bool
	}{
		{"panic before writing", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "/somewhere")
			panic("secret detail 42")
		}, 500, true},
		{"panic with an error", func(w http.ResponseWriter, r *http.Request) {
			panic(errors.New("secret detail 42"))
		}, 500, true},
		{"panic after writing", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("partial"))
			panic("secret detail 42")
		}, 200, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			h := withAppInfo(recoverPanics(tc.handler, log), appInfo{basePath: "/api/auth", assets: components.Assets{CSS: "/static/css/app.css?v=1"}})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/boom", nil))
			res := rec.Result()
			body := rec.Body.String()
			if res.StatusCode != tc.status {
				t.Errorf("status = %d, want %d", res.StatusCode, tc.status)
			}
			if tc.page {
				if !strings.Contains(body, `<code id="error-code">Configuration</code>`) {
					t.Errorf("not the Configuration error page:\n%s", body)
				}
				if got := res.Header.Get("Cache-Control"); got != "no-store" {
					t.Errorf("Cache-Control = %q", got)
				}
				if got := res.Header.Get("Location"); got != "" {
					t.Errorf("Location = %q survived the panic", got)
				}
			}
			if strings.Contains(body, "secret detail") || strings.Contains(body, "goroutine") {
				t.Errorf("the panic reached the browser:\n%s", body)
			}
			if !strings.Contains(logs.String(), "secret detail 42") || !strings.Contains(logs.String(), "stack=") {
				t.Errorf("the panic was not logged with its stack:\n%s", logs.String())
			}
		})
	}

	t.Run("ErrAbortHandler is re-raised", func(t *testing.T) {
		h := recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }), slog.New(slog.DiscardHandler))
		defer func() {
			if v := recover(); v != http.ErrAbortHandler {
				t.Errorf("recovered %v, want http.ErrAbortHandler", v)
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	})
}

// TestRenderBuffered: a component that fails halfway sends no half page.
func TestRenderBuffered(t *testing.T) {
	t.Parallel()
	broken := templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, _ = io.WriteString(w, "<html><body>half a page")
		return errors.New("boom")
	})
	var logs bytes.Buffer
	rec := httptest.NewRecorder()
	render(rec, httptest.NewRequest("GET", "/", nil), slog.New(slog.NewTextHandler(&logs, nil)), http.StatusOK, broken)
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", rec.Code)
	}
	if strings.Contains(rec.Body.String(), "half a page") {
		t.Error("half a page was sent")
	}
	if !strings.Contains(logs.String(), "boom") {
		t.Error("the render error was not logged")
	}
}

// TestRequestLog: one line per request with method, path, status and
// duration; never a query string, a cookie or a token.
func TestRequestLog(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testAppOptions{})
	c := app.browser()
	app.signIn(c)
	_, _ = app.get(c, "/profile", nil)
	_, profile := app.get(c, "/profile", nil)
	resp, body := app.do(c, "POST", "/api/auth/signout", nil, url.Values{"csrfToken": {hiddenValue(t, profile, "csrfToken")}})
	app.follow(c, resp, body)
	_, _ = app.get(c, "/api/auth/callback/test?code=SECRETCODE123&state=SECRETSTATE456", map[string]string{"Cookie": "signet.session-token=COOKIEVALUE789"})

	logs := app.logs.String()
	for _, want := range []string{
		"msg=request method=GET path=/ status=200",
		"msg=request method=GET path=/profile status=200",
		"msg=request method=POST path=/api/auth/signin/test status=303",
		"msg=request method=GET path=/api/auth/callback/test status=302",
		"msg=request method=POST path=/api/auth/signout status=303",
		"msg=request method=GET path=/auth/sign-out status=200",
		"duration=",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	secrets := append(app.idp.issued(), "SECRETCODE123", "SECRETSTATE456", "COOKIEVALUE789", "csrfToken=", "?code=", "state=")
	for _, c := range c.Jar.Cookies(mustURL(t, app.srv.URL)) {
		secrets = append(secrets, c.Value)
	}
	if len(app.idp.issued()) < 5 {
		t.Fatalf("the IdP issued %d secrets; the journey did not run", len(app.idp.issued()))
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("the log contains %q:\n%s", s, logs)
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestErrorPageVisitLogLevel: the error page shows a failure that was
// logged where it happened; visiting it, even with Configuration (500),
// logs no ERROR, and a real server error still does.
func TestErrorPageVisitLogLevel(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testAppOptions{})
	c := app.browser()
	resp, body := app.get(c, "/api/auth/error?error=Configuration", nil)
	if resp.StatusCode != 500 || !strings.Contains(body, `<code id="error-code">Configuration</code>`) {
		t.Fatalf("GET /api/auth/error?error=Configuration: %d\n%s", resp.StatusCode, body)
	}
	if strings.Contains(body, "has been logged") {
		t.Errorf("the page claims the problem was logged:\n%s", body)
	}
	logs := app.logs.String()
	if !strings.Contains(logs, "level=INFO msg=request method=GET path=/api/auth/error status=500") || strings.Contains(logs, "level=ERROR") {
		t.Errorf("visiting the error page is logged at ERROR, or not at all:\n%s", logs)
	}

	var buf bytes.Buffer
	h := logRequests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}), slog.New(slog.NewTextHandler(&buf, nil)), "/api/auth/error")
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/profile", nil))
	if !strings.Contains(buf.String(), "level=ERROR msg=request method=GET path=/profile status=500") {
		t.Errorf("a 500 elsewhere is not logged at ERROR:\n%s", buf.String())
	}
}
