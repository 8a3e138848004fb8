package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"github.com/signet-auth/signet/auth"
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
	secrets := append(issued(app.idp), "SECRETCODE123", "SECRETSTATE456", "COOKIEVALUE789", "csrfToken=", "?code=", "state=")
	for _, c := range c.Jar.Cookies(mustURL(t, app.srv.URL)) {
		secrets = append(secrets, c.Value)
	}
	if len(issued(app.idp)) < 5 {
		t.Fatalf("the IdP issued %d secrets; the journey did not run", len(issued(app.idp)))
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
	}), slog.New(slog.NewTextHandler(&buf, nil)), "/api/auth/error", false)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/profile", nil))
	if !strings.Contains(buf.String(), "level=ERROR msg=request method=GET path=/profile status=500") {
		t.Errorf("a 500 elsewhere is not logged at ERROR:\n%s", buf.String())
	}
}

// TestRequestLogModes: RequestLog selects the requests that get a line — all,
// those with an error status, or none — whatever the handler answers.
func TestRequestLogModes(t *testing.T) {
	statuses := []int{200, 302, 404, 500}
	tests := []struct {
		mode RequestLog
		want []int // the statuses that get a line
	}{
		{"", statuses},
		{RequestLogAll, statuses},
		{RequestLogErrors, []int{404, 500}},
		{RequestLogOff, nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			for _, status := range statuses {
				var buf bytes.Buffer
				a, err := auth.New(auth.Config{
					Providers: []*auth.Provider{auth.NewProvider("oidc", "IdP", "http://127.0.0.1:1", "id", "secret")},
					Secrets:   []string{"request-log-test-secret-0123456789abcdef"},
					URL:       "http://app.test",
				})
				if err != nil {
					t.Fatal(err)
				}
				h := New(Deps{Auth: a, Logger: slog.New(slog.NewTextHandler(&buf, nil)), RequestLog: tt.mode})
				path := map[int]string{200: "/", 302: "/profile", 404: "/no-such-page", 500: "/api/auth/error?error=Configuration"}[status]
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
				if rec.Code != status {
					t.Fatalf("GET %s = %d, want %d", path, rec.Code, status)
				}
				logged := strings.Contains(buf.String(), fmt.Sprintf("msg=request method=GET path=%s status=%d", strings.Split(path, "?")[0], status))
				if want := slices.Contains(tt.want, status); logged != want {
					t.Errorf("status %d logged = %v, want %v:\n%s", status, logged, want, buf.String())
				}
			}
		})
	}
}
