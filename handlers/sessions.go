package handlers

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/components"
)

// The session list's fragment and the signed-out notice.
const (
	pathSessionsFragment  = "/fragments/sessions"
	pathSignedOutFragment = "/fragments/signed-out"
)

// sessionsAuth is what the "Your sessions" card needs from auth.
type sessionsAuth interface {
	formsAuth
	ListSessions(w http.ResponseWriter, r *http.Request) ([]auth.SessionInfo, error)
}

// liveShell makes shell listen to the session stream of s: a page that
// shows s, signed in, hears at once when s ends anywhere. signedOut is the
// fragment that replaces #main then ("" on pages that swap their own
// fragments, such as home). A session that can no longer be refreshed
// (s.Error) ends its stream at once: its page does not listen.
func liveShell(a formsAuth, shell components.Shell, s *auth.Session, signedOut string) components.Shell {
	if s == nil || s.Error != "" {
		return shell
	}
	shell.SessionStream = a.BasePath() + "/session/stream"
	shell.SignedOutURL = signedOut
	return shell
}

// handleSessionsFragment serves the "Your sessions" card alone, which
// fetches itself again after a revoke. It sits behind auth.Require.
func handleSessionsFragment(a sessionsAuth, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		forms := perRequest(a)
		varyOnHXRequest(w)
		render(w, r, log, http.StatusOK, components.SessionsCard(sessionsCard(forms, a.ListSessions, w, r, log, time.Now())))
	})
}

// sessionsCard is the card of the request's sessions, as list gives them,
// at now. A store that cannot be reached is a sentence on the card, the
// cause in the log.
func sessionsCard(a formsAuth, list func(http.ResponseWriter, *http.Request) ([]auth.SessionInfo, error),
	w http.ResponseWriter, r *http.Request, log *slog.Logger, now time.Time) components.SessionsCardData {
	base := a.BasePath()
	d := components.SessionsCardData{
		RevokeURL:       base + "/revoke-session",
		RevokeOthersURL: base + "/revoke-other-sessions",
		CSRFToken:       a.CSRFToken(w, r),
		SignOut:         signOutAction(a, w, r),
		FragmentURL:     pathSessionsFragment,
	}
	sessions, err := list(w, r)
	if err != nil {
		log.WarnContext(r.Context(), "list sessions", "err", err)
		d.Problem = "Your sessions cannot be listed right now. Please try again in a moment."
		return d
	}
	for _, s := range sessions {
		d.Sessions = append(d.Sessions, components.SessionRow{
			ID:            s.ID,
			Device:        s.Device,
			Provider:      providerName(a, r, s.Provider),
			SignedIn:      agoText(now.Sub(s.CreatedAt)),
			SignedInISO:   s.CreatedAt.UTC().Format(time.RFC3339),
			SignedInTitle: s.CreatedAt.UTC().Format(timeTitle),
			LastSeen:      agoText(now.Sub(s.UpdatedAt)),
			LastSeenISO:   s.UpdatedAt.UTC().Format(time.RFC3339),
			LastSeenTitle: s.UpdatedAt.UTC().Format(timeTitle),
			Current:       s.Current,
		})
	}
	return d
}

// timeTitle is the layout of a time's title on the sessions card.
const timeTitle = "2 Jan 2006, 15:04 UTC"

// agoText says how long ago d was, for people: "just now", "5 min ago",
// "3 h ago", "yesterday", "4 days ago", "7 weeks ago".
func agoText(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < day:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	case d < 2*day:
		return "yesterday"
	case d < 14*day:
		return fmt.Sprintf("%d days ago", int(d/day))
	default:
		return fmt.Sprintf("%d weeks ago", int(d/(7*day)))
	}
}

// handleSignedOutFragment serves the notice that replaces a signed-in
// page's content when the page's session stream says the session ended.
// If the browser is signed in again by then (in another tab), the page
// reloads instead, to show the new session.
func handleSignedOutFragment(a formsAuth, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := perRequest(a)
		varyOnHXRequest(w)
		if s := auth.SessionFromContext(r.Context()); s != nil && s.Error == "" {
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("HX-Refresh", "true")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		render(w, r, log, http.StatusOK, components.SignedOutNotice(components.SignedOutData{
			SignIn:  signInAction(a, w, r, a.CurrentPath(r)),
			HomeURL: pathHome,
		}))
	})
}
