package components

import (
	"strconv"
	"strings"
)

// SessionsCardData is the "Your sessions" card: the signed-in user's
// sessions, the current one first.
type SessionsCardData struct {
	// Sessions are the rows, in the order shown.
	Sessions []SessionRow
	// RevokeURL is where a row's Sign out posts (htmx) the row's ID and
	// CSRFToken: POST /api/auth/revoke-session.
	RevokeURL string
	// RevokeOthersURL is where "Sign out all other sessions" posts
	// CSRFToken: POST /api/auth/revoke-other-sessions. Shown when there
	// is another session.
	RevokeOthersURL string
	// CSRFToken goes with both POSTs.
	CSRFToken string
	// SignOut is the current row's Sign out: the app's normal sign-out,
	// which ends the identity provider's session too.
	SignOut SignOutAction
	// FragmentURL, when set, makes the card fetch itself again from there
	// (htmx) when a revoke answers with the signet:sessions-changed
	// trigger.
	FragmentURL string
	// Problem, when set, is shown instead of the list (the store cannot
	// be reached, say).
	Problem string
}

// SessionRow is one session of the list.
type SessionRow struct {
	// ID names the session for RevokeURL (opaque, not a credential).
	ID string
	// Device is a short label from the User-Agent, "Chrome on Linux".
	Device string
	// Provider is the name of the provider the user signed in with.
	Provider string
	// SignedIn and LastSeen say when, for people: "3 days ago",
	// "just now". The ISO forms (RFC 3339, UTC) go in <time datetime>,
	// the Title forms ("2 Dec 2026, 20:14 UTC") in its title.
	SignedIn, SignedInISO, SignedInTitle string
	LastSeen, LastSeenISO, LastSeenTitle string
	// Current marks the session of this browser: "This device".
	Current bool
}

// others reports whether any row is not the current session.
func (d SessionsCardData) others() bool {
	for _, s := range d.Sessions {
		if !s.Current {
			return true
		}
	}
	return false
}

// phone reports whether the device label names a phone or tablet system,
// for the row's icon.
func (r SessionRow) phone() bool {
	for _, os := range []string{"Android", "iOS", "iPhone", "iPad"} {
		if strings.Contains(r.Device, os) {
			return true
		}
	}
	return false
}

// deviceLabel is the row's device, or a neutral label when the
// User-Agent said nothing usable.
func (r SessionRow) deviceLabel() string {
	return orDefault(r.Device, "Unknown device")
}

// SignedOutData is the notice that replaces a signed-in page's content
// when its session ends while the page is open.
type SignedOutData struct {
	// SignIn signs in again and comes back to the page.
	SignIn  SignInAction
	HomeURL string
}

// sessionCount is "1 session", "3 sessions".
func sessionCount(n int) string {
	if n == 1 {
		return "1 session"
	}
	return strconv.Itoa(n) + " sessions"
}
