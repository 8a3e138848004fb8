package handlers

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/components"
)

// TestSessionsCardOnProfile: two browsers signed in as the same user; each
// one's profile lists both sessions, its own first with "This device" and
// the normal sign-out, the other with a revoke form that carries the CSRF
// token of the page's cookie. A revoke over htmx answers with the trigger
// the card listens to, the fragment then lists one session, and the
// revoked browser's profile asks it to sign in.
func TestSessionsCardOnProfile(t *testing.T) {
	app := newTestApp(t, testAppOptions{})
	laptop, phone := app.browser(), app.browser()
	app.signIn(laptop)
	app.signIn(phone)

	resp0, page := app.get(laptop, "/profile", nil)
	if !strings.Contains(page, `id="sessions-card"`) {
		t.Fatalf("no sessions card on /profile (%d):\n%s", resp0.StatusCode, page)
	}
	card := page[strings.Index(page, `id="sessions-card"`):]
	if got := strings.Count(card, `class="session-row"`); got != 2 {
		t.Fatalf("%d session rows on the profile, want 2:\n%s", got, card)
	}
	if first := card[strings.Index(card, `class="session-row"`):]; !strings.HasPrefix(first, `class="session-row" data-current`) {
		t.Errorf("the first row is not this device's:\n%.400s", first)
	}
	if strings.Count(card, "This device") != 1 || !strings.Contains(card, `id="sessions-sign-out"`) {
		t.Errorf(`want one "This device" row with the normal sign-out`)
	}
	if !strings.Contains(card, "via Test IdP") {
		t.Errorf("the rows do not name the provider")
	}
	csrf := hiddenValue(t, page, "csrfToken")
	if n := strings.Count(card, `name="csrfToken" value="`+csrf+`"`); n != 3 {
		t.Errorf("%d forms of the card carry the page's CSRF token, want 3 (revoke, this device's sign-out, revoke others)", n)
	}
	id := hiddenValue(t, card, "id")
	for _, want := range []string{`hx-post="/api/auth/revoke-session"`, `id="sessions-revoke-others"`, `sse-connect="/api/auth/session/stream"`, `hx-get="/fragments/signed-out"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the profile page lacks %s", want)
		}
	}

	hx := map[string]string{"HX-Request": "true", "Origin": app.srv.URL}
	resp, body := app.do(laptop, http.MethodPost, "/api/auth/revoke-session", hx, map[string][]string{"csrfToken": {csrf}, "id": {id}})
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("HX-Trigger") != "signet:sessions-changed" || resp.Header.Get("HX-Redirect") != "" {
		t.Fatalf("revoke the phone's session: %d HX-Trigger=%q HX-Redirect=%q %s", resp.StatusCode, resp.Header.Get("HX-Trigger"), resp.Header.Get("HX-Redirect"), body)
	}
	resp, frag := app.get(laptop, "/fragments/sessions", map[string]string{"HX-Request": "true"})
	if resp.StatusCode != http.StatusOK || strings.Count(frag, `class="session-row"`) != 1 || strings.Contains(frag, "sessions-revoke-others") {
		t.Errorf("the card after the revoke: %d, want this device alone:\n%s", resp.StatusCode, frag)
	}
	if resp, _ := app.get(phone, "/profile", nil); resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		t.Errorf("the revoked browser's /profile answered %d, want a redirect to sign in", resp.StatusCode)
	}
	if resp, _ := app.get(laptop, "/fragments/sessions", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("the laptop's card: %d", resp.StatusCode)
	}
}

// TestSignedOutFragment: signed out, the notice with Sign in back to the
// page the request came from; signed in (again), a reload.
func TestSignedOutFragment(t *testing.T) {
	app := newTestApp(t, testAppOptions{})
	c := app.browser()
	hx := map[string]string{"HX-Request": "true", "HX-Current-URL": app.srv.URL + "/account"}
	resp, body := app.get(c, "/fragments/signed-out", hx)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="signed-out-notice"`) || !strings.Contains(body, `name="callbackUrl" value="/account"`) {
		t.Errorf("signed out: %d, want the notice with Sign in back to /account:\n%s", resp.StatusCode, body)
	}
	app.signIn(c)
	resp, body = app.get(c, "/fragments/signed-out", hx)
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("HX-Refresh") != "true" || body != "" {
		t.Errorf("signed in: %d HX-Refresh=%q %q, want 204 and a reload", resp.StatusCode, resp.Header.Get("HX-Refresh"), body)
	}
}

// TestLivePages: every signed-in page that shows the nav listens to the
// session stream and loads the SSE extension; signed out, none does.
func TestLivePages(t *testing.T) {
	app := newTestApp(t, testAppOptions{})
	c := app.browser()
	for _, p := range []string{"/", "/api/auth/signin"} {
		if _, body := app.get(c, p, nil); strings.Contains(body, "sse-connect") || strings.Contains(body, "htmx-ext-sse") {
			t.Errorf("%s signed out listens to a session stream", p)
		}
	}
	app.signIn(c)
	for p, notice := range map[string]bool{"/": false, "/profile": true, "/account": true} {
		_, body := app.get(c, p, nil)
		if !strings.Contains(body, `sse-connect="/api/auth/session/stream"`) || !strings.Contains(body, `sse-close="signout"`) {
			t.Errorf("%s signed in does not listen to the session stream", p)
		}
		if got := strings.Contains(body, `hx-get="/fragments/signed-out" hx-trigger="sse:signout"`); got != notice {
			t.Errorf("%s: #main swaps to the signed-out notice = %v, want %v", p, got, notice)
		}
	}
}

// TestSessionsCardStoreDown: a list that fails is a sentence on the card,
// never an error page, and its cause is logged.
func TestSessionsCardStoreDown(t *testing.T) {
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))
	fail := func(http.ResponseWriter, *http.Request) ([]auth.SessionInfo, error) {
		return nil, errors.New("store: connection refused")
	}
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/fragments/sessions", nil)
	d := sessionsCard(perRequest(stubForms{}), fail, w, r, log, time.Now())
	if d.Problem == "" || len(d.Sessions) != 0 || !strings.Contains(logs.String(), "connection refused") {
		t.Errorf("card = %+v, log %q; want a problem sentence and the cause logged", d, logs.String())
	}
}

// TestSessionsCardRows: the rows keep the list's order and say when in
// words, with the exact time in UTC.
func TestSessionsCardRows(t *testing.T) {
	now := time.Date(2026, 12, 2, 20, 14, 30, 0, time.UTC)
	list := func(http.ResponseWriter, *http.Request) ([]auth.SessionInfo, error) {
		return []auth.SessionInfo{
			{ID: "a", Device: "Chrome on Linux", Provider: "test", CreatedAt: now.Add(-2 * time.Hour), UpdatedAt: now.Add(-20 * time.Second), Current: true},
			{ID: "b", Device: "Safari on iOS", Provider: "gone", CreatedAt: now.Add(-50 * time.Hour), UpdatedAt: now.Add(-5 * time.Minute)},
		}, nil
	}
	d := sessionsCard(perRequest(stubForms{}), list, httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/profile", nil), slog.New(slog.DiscardHandler), now)
	if len(d.Sessions) != 2 || !d.Sessions[0].Current || d.Sessions[1].ID != "b" {
		t.Fatalf("rows = %+v", d.Sessions)
	}
	a, b := d.Sessions[0], d.Sessions[1]
	for _, c := range []struct{ got, want string }{
		{a.Provider, "Test IdP"}, {b.Provider, "gone"},
		{a.SignedIn, "2 h ago"}, {a.LastSeen, "just now"}, {b.SignedIn, "2 days ago"}, {b.LastSeen, "5 min ago"},
		{a.SignedInISO, "2026-12-02T18:14:30Z"}, {b.LastSeenTitle, "2 Dec 2026, 20:09 UTC"},
		{d.CSRFToken, "stub-csrf"}, {d.SignOut.CSRFToken, "stub-csrf"}, {d.RevokeURL, "/api/auth/revoke-session"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestAgoText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "just now", 59 * time.Second: "just now", time.Minute: "1 min ago", 59 * time.Minute: "59 min ago",
		time.Hour: "1 h ago", 23 * time.Hour: "23 h ago", 24 * time.Hour: "yesterday", 47 * time.Hour: "yesterday",
		48 * time.Hour: "2 days ago", 13 * 24 * time.Hour: "13 days ago", 14 * 24 * time.Hour: "2 weeks ago",
		-time.Minute: "just now", // a clock a little ahead of this one
	} {
		if got := agoText(d); got != want {
			t.Errorf("agoText(%v) = %q, want %q", d, got, want)
		}
	}
}

// stubForms is a formsAuth with one provider and a fixed CSRF token.
type stubForms struct{}

func (stubForms) CSRFToken(http.ResponseWriter, *http.Request) string { return "stub-csrf" }
func (stubForms) Providers(*http.Request) []auth.ProviderInfo {
	return []auth.ProviderInfo{{ID: "test", Name: "Test IdP", SignInURL: "/api/auth/signin/test"}}
}
func (stubForms) SignInURL(cb string) string         { return "/api/auth/signin?callbackUrl=" + cb }
func (stubForms) BasePath() string                   { return "/api/auth" }
func (stubForms) CurrentPath(r *http.Request) string { return auth.ReturnPath(r.URL.RequestURI()) }

// TestLiveShell: only a signed-in session whose tokens are still good
// listens to its stream; one whose refresh failed for good (its stream
// would say signout at once) and a signed-out page do not.
func TestLiveShell(t *testing.T) {
	for _, tc := range []struct {
		name      string
		s         *auth.Session
		signedOut string
		want      components.Shell
	}{
		{"signed in", &auth.Session{}, "/fragments/signed-out", components.Shell{SessionStream: "/api/auth/session/stream", SignedOutURL: "/fragments/signed-out"}},
		{"home", &auth.Session{}, "", components.Shell{SessionStream: "/api/auth/session/stream"}},
		{"refresh failed", &auth.Session{Error: "RefreshTokenError"}, "/fragments/signed-out", components.Shell{}},
		{"signed out", nil, "/fragments/signed-out", components.Shell{}},
	} {
		got := liveShell(stubForms{}, components.Shell{}, tc.s, tc.signedOut)
		if got.SessionStream != tc.want.SessionStream || got.SignedOutURL != tc.want.SignedOutURL {
			t.Errorf("%s: stream %q, signed-out %q; want %q, %q", tc.name, got.SessionStream, got.SignedOutURL, tc.want.SessionStream, tc.want.SignedOutURL)
		}
	}
}
