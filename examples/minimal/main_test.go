package main

import (
	"context"
	"log/slog"
	"net/http"
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

// TestSignInAndOut walks the example as a person would: signed out, the
// protected page sends them to sign in; signed in through the development
// IdP's form they land on it; the page that needs read:reports opens for a
// user granted it and answers 403 to one who is not; signing out with the
// form's CSRF token ends the session.
func TestSignInAndOut(t *testing.T) {
	base := start(t)
	for _, tc := range []struct {
		user, password string
		reports        int
	}{
		{"ada", "lovelace", http.StatusOK},
		{"grace", "hopper", http.StatusForbidden},
	} {
		t.Run(tc.user, func(t *testing.T) {
			b := browse.New(t, base)

			home := b.Get("/", nil)
			if !strings.Contains(home.Body, "You are signed out.") {
				t.Fatalf("home signed out:\n%s", home.Body)
			}
			if got := b.Get("/profile", nil); got.URL.Path != "/api/auth/signin" {
				t.Errorf("signed-out /profile ended at %s, want the sign-in page", got.URL)
			}

			profile := b.SignIn(home, "/profile", tc.user, tc.password)
			if profile.URL.Path != "/profile" || profile.Status != http.StatusOK || !strings.Contains(profile.Body, tc.user+"@example.com") {
				t.Fatalf("after sign-in: %d at %s, want /profile with %s@example.com:\n%s", profile.Status, profile.URL, tc.user, profile.Body)
			}

			reports := b.Get("/reports", nil)
			if reports.Status != tc.reports {
				t.Errorf("/reports: %d, want %d:\n%s", reports.Status, tc.reports, reports.Body)
			}
			if tc.reports == http.StatusOK && !strings.Contains(reports.Body, `id="reports"`) {
				t.Errorf("/reports lacks the reports:\n%s", reports.Body)
			}

			home = b.Get("/", nil)
			if !strings.Contains(home.Body, `id="welcome"`) {
				t.Fatalf("home signed in:\n%s", home.Body)
			}
			out := b.Post("/api/auth/signout", map[string][]string{"csrfToken": {browse.Field(t, home.Body, "csrfToken")}})
			if out.URL.Path != "/auth/sign-out" || out.Status != http.StatusOK {
				t.Errorf("sign-out ended at %s (%d), want the post-logout page", out.URL, out.Status)
			}
			if home := b.Get("/", nil); !strings.Contains(home.Body, "You are signed out.") {
				t.Errorf("home after sign-out:\n%s", home.Body)
			}
			if got := b.Get("/profile", nil); got.URL.Path != "/api/auth/signin" {
				t.Errorf("/profile after sign-out ended at %s, want the sign-in page", got.URL)
			}
		})
	}
}
