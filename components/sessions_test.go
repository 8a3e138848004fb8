package components

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/a-h/templ"
)

// sessionsCard is a card with this browser's session and two others.
func sessionsCard() SessionsCardData {
	return SessionsCardData{
		Sessions: []SessionRow{
			{ID: "h-current", Device: "Chrome on Linux", Provider: "Development IdP", Current: true,
				SignedIn: "2 h ago", SignedInISO: "2026-12-02T18:14:00Z", SignedInTitle: "2 Dec 2026, 18:14 UTC",
				LastSeen: "just now", LastSeenISO: "2026-12-02T20:14:00Z", LastSeenTitle: "2 Dec 2026, 20:14 UTC"},
			{ID: "h-phone", Device: "Safari on iOS", Provider: "Development IdP",
				SignedIn: "3 days ago", SignedInISO: "2026-11-29T09:00:00Z", SignedInTitle: "29 Nov 2026, 09:00 UTC",
				LastSeen: "5 min ago", LastSeenISO: "2026-12-02T20:09:00Z", LastSeenTitle: "2 Dec 2026, 20:09 UTC"},
			{ID: "h-\"odd\"", Provider: "Asgardeo",
				SignedIn: "yesterday", SignedInISO: "2026-12-01T10:00:00Z", SignedInTitle: "1 Dec 2026, 10:00 UTC",
				LastSeen: "yesterday", LastSeenISO: "2026-12-01T10:00:00Z", LastSeenTitle: "1 Dec 2026, 10:00 UTC"},
		},
		RevokeURL:       "/api/auth/revoke-session",
		RevokeOthersURL: "/api/auth/revoke-other-sessions",
		CSRFToken:       "csrf-token-1",
		SignOut:         testSignOut,
		FragmentURL:     "/fragments/sessions",
	}
}

func sessionsGoldenCases() []struct {
	name string
	c    templ.Component
} {
	alone := sessionsCard()
	alone.Sessions = alone.Sessions[:1]
	down := sessionsCard()
	down.Sessions, down.Problem = nil, "Your sessions cannot be listed right now. Please try again in a moment."
	live := shell("Profile", navSignedIn)
	live.Assets.SSE = "/static/vendor/htmx-ext-sse.min.js?v=0011223344556677"
	live.SessionStream = "/api/auth/session/stream"
	live.SignedOutURL = "/fragments/signed-out"
	liveHome := live
	liveHome.SignedOutURL = ""
	card := profileCardData()
	sessions := sessionsCard()
	return []struct {
		name string
		c    templ.Component
	}{
		{"fragment-sessions", SessionsCard(sessionsCard())},
		{"fragment-sessions-alone", SessionsCard(alone)},
		{"fragment-sessions-unavailable", SessionsCard(down)},
		{"fragment-signed-out", SignedOutNotice(SignedOutData{SignIn: testSignIn, HomeURL: "/"})},
		{"profile-live", Profile(ProfileData{Shell: live, Card: card, Sessions: &sessions})},
		{"home-signed-in-live", Home(HomeData{Shell: liveHome, Panel: signedInPanel()})},
	}
}

func TestSessionsGolden(t *testing.T) {
	for _, tc := range sessionsGoldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			got := render(t, tc.c)
			if m := inlineCode.FindString(got); m != "" {
				t.Errorf("inline code a strict CSP blocks: %q", m)
			}
			path := filepath.Join("testdata", tc.name+".golden.html")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run: go test ./components -update)", err)
			}
			if got != string(want) {
				i := 0
				for i < len(got) && i < len(want) && got[i] == want[i] {
					i++
				}
				t.Errorf("%s differs at byte %d (run `go test ./components -update` if the change is intended):\n got: …%s…\nwant: …%s…",
					path, i, excerpt(got, i), excerpt(string(want), i))
			}
		})
	}
}

// TestSessionsCard: the rows in the order given with the current one
// marked, one revoke form per other session carrying its id and the CSRF
// token, the normal sign-out for this device, and "Sign out all other
// sessions" only when there is another.
func TestSessionsCard(t *testing.T) {
	d := sessionsCard()
	html := render(t, SessionsCard(d))
	if got := strings.Count(html, `class="session-row"`); got != 3 {
		t.Errorf("%d rows, want 3", got)
	}
	if i, j := strings.Index(html, "data-current"), strings.Index(html, "Safari on iOS"); i < 0 || i > j {
		t.Errorf("the current row is not first")
	}
	if got := strings.Count(html, "This device"); got != 1 {
		t.Errorf(`"This device" %d times, want once`, got)
	}
	if got := strings.Count(html, `hx-post="/api/auth/revoke-session"`); got != 2 {
		t.Errorf("%d revoke forms, want 2 (one per other session)", got)
	}
	for _, want := range []string{
		`<input type="hidden" name="id" value="h-phone">`,
		`<input type="hidden" name="id" value="h-&#34;odd&#34;">`,
		`<input type="hidden" name="csrfToken" value="csrf-token-1">`,
		`id="sessions-sign-out"`, `action="/api/auth/signout"`,
		`id="sessions-revoke-others"`, `hx-post="/api/auth/revoke-other-sessions"`,
		`hx-trigger="signet:sessions-changed from:body"`,
		`Unknown device`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the card lacks %s", want)
		}
	}
	if strings.Count(html, `name="csrfToken" value="csrf-token-1"`) != 4 {
		t.Errorf("every form (2 revokes, this device's sign-out, revoke others) must carry the CSRF token")
	}

	alone := d
	alone.Sessions = d.Sessions[:1]
	if html := render(t, SessionsCard(alone)); strings.Contains(html, "sessions-revoke-others") || strings.Contains(html, "data-revoke") {
		t.Errorf("a card with only this device offers to sign out others")
	}
}

// TestLiveLayout: only a page with a session stream loads the SSE
// extension and connects; #main fetches the signed-out notice only where
// SignedOutURL is set.
func TestLiveLayout(t *testing.T) {
	live := shell("Profile", navSignedIn)
	live.Assets.SSE = "/sse.js"
	live.SessionStream = "/api/auth/session/stream"
	noExt := live
	noExt.Assets.SSE = ""
	home := live
	live.SignedOutURL = "/fragments/signed-out"
	for _, tc := range []struct {
		name             string
		s                Shell
		connects, notice bool
	}{
		{"live", live, true, true},
		{"live home", home, true, false},
		{"no extension", noExt, false, false},
		{"signed out", shell("Signet", navSignedOut), false, false},
	} {
		html := render(t, Layout(tc.s))
		if got := strings.Contains(html, `sse-connect="/api/auth/session/stream"`) && strings.Contains(html, `<script src="/sse.js" defer>`) && strings.Contains(html, `sse-close="signout"`); got != tc.connects {
			t.Errorf("%s: connects = %v, want %v", tc.name, got, tc.connects)
		}
		if got := strings.Contains(html, `hx-get="/fragments/signed-out" hx-trigger="sse:signout"`); got != tc.notice {
			t.Errorf("%s: #main fetches the notice = %v, want %v", tc.name, got, tc.notice)
		}
		if !tc.connects && (strings.Contains(html, "sse-") || strings.Contains(html, "sse.js")) {
			t.Errorf("%s: a page without a stream has SSE attributes or the extension", tc.name)
		}
	}
}
