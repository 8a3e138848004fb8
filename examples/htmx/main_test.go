package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/signet-auth/signet/examples/internal/browse"
)

// start runs the example as main does, on 127.0.0.1:0 with no identity
// provider configured (so with the development IdP), and returns its URL.
func start(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	env := map[string]string{"ADDR": "127.0.0.1:0"}
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() {
		done <- run(ctx, func(k string) string { return env[k] }, slog.New(slog.DiscardHandler), ready)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	select {
	case u := <-ready:
		return u
	case err := <-done:
		t.Fatalf("run: %v", err)
		return ""
	}
}

var hx = http.Header{"Hx-Request": {"true"}}

// TestSignInAndOut walks the example as a person (and htmx) would: signed
// out, the panel offers Sign in and the scope-gated fragment answers htmx
// with HX-Redirect; signed in through the development IdP's form, the
// panel and nav swap to signed in, the profile opens, and the reports
// fragment opens for a user granted read:reports and is a 403 fragment for
// one who is not; Sign out's form ends the session and the panel swaps back.
func TestSignInAndOut(t *testing.T) {
	base := start(t)
	for _, tc := range []struct {
		user, password string
		reports        int
		want           string
	}{
		{"ada", "lovelace", http.StatusOK, `id="reports-table"`},
		{"grace", "hopper", http.StatusForbidden, "read:reports"},
	} {
		t.Run(tc.user, func(t *testing.T) {
			b := browse.New(t, base)

			home := b.Get("/", nil)
			if !strings.Contains(home.Body, `data-state="signed-out"`) || !strings.Contains(home.Body, `id="sign-in"`) {
				t.Fatalf("home signed out:\n%s", home.Body)
			}
			if css := browse.Attr(t, home.Body, `rel="stylesheet"`, "href"); b.Get(css, nil).Status != http.StatusOK {
				t.Errorf("the stylesheet %s is not served", css)
			}
			if got := b.Get("/fragments/reports", hx); got.Status != http.StatusOK || !strings.Contains(got.Header.Get("HX-Redirect"), "/api/auth/signin") {
				t.Errorf("signed-out reports fragment: %d HX-Redirect %q, want 200 and the sign-in page", got.Status, got.Header.Get("HX-Redirect"))
			}

			home = b.SignIn(home, "/", tc.user, tc.password)
			if home.URL.Path != "/" || !strings.Contains(home.Body, `id="welcome"`) || !strings.Contains(home.Body, `id="nav-profile"`) {
				t.Fatalf("after sign-in: %d at %s, want the signed-in home:\n%s", home.Status, home.URL, home.Body)
			}
			fragment := b.Get("/fragments/panel", hx)
			if !strings.HasPrefix(fragment.Body, `<div id="panel" data-state="signed-in"`) || fragment.Header.Get("Vary") != "HX-Request" {
				t.Errorf("panel fragment signed in (Vary %q):\n%s", fragment.Header.Get("Vary"), fragment.Body)
			}
			if profile := b.Get("/profile", nil); profile.Status != http.StatusOK || !strings.Contains(profile.Body, tc.user+"@example.com") {
				t.Errorf("/profile: %d:\n%s", profile.Status, profile.Body)
			}
			reports := b.Get("/fragments/reports", hx)
			if reports.Status != tc.reports || !strings.Contains(reports.Body, tc.want) || strings.Contains(reports.Body, "<html") {
				t.Errorf("reports fragment: %d, want %d, a fragment with %q:\n%s", reports.Status, tc.reports, tc.want, reports.Body)
			}

			out := b.Post("/api/auth/signout", url.Values{"csrfToken": {browse.Field(t, home.Body, "csrfToken")}})
			if out.URL.Path != "/auth/sign-out" || out.Status != http.StatusOK {
				t.Errorf("sign-out ended at %s (%d), want the post-logout page", out.URL, out.Status)
			}
			if fragment := b.Get("/fragments/panel", hx); !strings.Contains(fragment.Body, `data-state="signed-out"`) {
				t.Errorf("panel fragment after sign-out:\n%s", fragment.Body)
			}
			if got := b.Get("/profile", nil); got.URL.Path != "/api/auth/signin" {
				t.Errorf("/profile after sign-out ended at %s, want the sign-in page", got.URL)
			}
		})
	}
}
