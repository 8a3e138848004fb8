// Package components holds the app's templ components: the layout, the
// nav, the pages (home, profile, the sign-in, sign-out, signing-out, error
// and not-found pages) and the HTMX fragments (nav state, home panel,
// profile card).
//
// SignInButton, SignOutButton, UserMenu and SessionSwap (controls.templ)
// are made for other apps too: examples/htmx builds a small app from them.
//
// Components take plain values and do no I/O: handlers look up the session,
// the CSRF token and the asset URLs and pass them in. Regenerate the Go code
// with `go tool templ generate` and commit the *_templ.go files; golden tests
// (`go test ./components -update` to rewrite) pin the HTML.
package components

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/a-h/templ"

	"github.com/signet-auth/signet/auth"
)

// Assets are the content-hashed URLs of the static files pages link to.
type Assets struct {
	CSS     string
	Logo    string
	Favicon string
	// HTMX is "" when htmx was not vendored; pages then work without their
	// HTMX updates.
	HTMX string
	// SSE is htmx's Server-Sent Events extension, loaded only by pages
	// that listen to a session stream (Shell.SessionStream).
	SSE string
}

// Shell is what every full page shares: its title, the asset URLs and the
// nav.
type Shell struct {
	// Title is the page's title; " · Signet" is appended unless it is empty.
	Title  string
	Assets Assets
	Nav    NavData
	// SessionStream, on a signed-in page, is the URL of the session's
	// Server-Sent Events (GET /api/auth/session/stream). The page then
	// listens to it with htmx's SSE extension: on its signout event the
	// nav and the home panel fetch themselves again (signed out), and the
	// stream is closed, so it is not opened again. Ignored without
	// Assets.HTMX and Assets.SSE; the focus refresh stays as the fallback.
	SessionStream string
	// SignedOutURL, with SessionStream, is the fragment that replaces the
	// content of #main on signout: the pages whose content is for a
	// signed-in user only (profile, account, reports).
	SignedOutURL string
}

// live reports whether the page listens to its session stream.
func (s Shell) live() bool {
	return s.SessionStream != "" && s.Assets.HTMX != "" && s.Assets.SSE != ""
}

// NavData is the nav's state.
type NavData struct {
	SignedIn bool
	// Name is the signed-in user's display name.
	Name       string
	ProfileURL string
	SignIn     SignInAction
	SignOut    SignOutAction
	// HideActions hides the sign-in and sign-out controls, on pages that
	// are themselves about signing in or out.
	HideActions bool
	// FragmentURL, when set, makes the nav refresh itself from there (an
	// htmx GET) when the tab becomes visible again, so a sign-out in another
	// tab shows.
	FragmentURL string
}

// SignInAction is a Sign in control. With Action and CSRFToken set it is a
// button that POSTs straight to the provider's sign-in URL; otherwise it
// links to PageURL, the sign-in page that lists the providers.
type SignInAction struct {
	Action       string
	CSRFToken    string
	CallbackURL  string
	PageURL      string
	ProviderName string
}

// Direct reports whether the control posts straight to a provider.
func (s SignInAction) Direct() bool { return s.Action != "" && s.CSRFToken != "" }

// SignOutAction is a Sign out control: a button that POSTs to Action with
// CSRFToken, or, without a token, a link to Action (GET), the sign-out
// confirmation page.
type SignOutAction struct {
	Action      string
	CSRFToken   string
	CallbackURL string
}

// DevUser is a demo user of the embedded development identity provider.
type DevUser struct {
	Username, Password, Name string
}

// HomeData is the home page.
type HomeData struct {
	Shell Shell
	Panel HomePanelData
}

// HomePanelData is the home page's panel, the part that swaps between
// signed in and signed out.
type HomePanelData struct {
	SignedIn bool
	// Name is the user's display name ("Given Family").
	Name  string
	Email string
	// SessionJSON is the session, indented, exactly as GET
	// /api/auth/session returns it.
	SessionJSON string
	ProfileURL  string
	SignIn      SignInAction
	SignOut     SignOutAction
	// FragmentURL, when set, makes the panel refresh itself (htmx) when
	// the tab becomes visible again.
	FragmentURL string
	// DevUsers, when any, adds the development identity provider banner
	// with the demo users to the signed-out panel.
	DevUsers []DevUser
	// AccountURL, when set, adds a link to the account page (the access
	// token's scopes and expiry) to the signed-in panel.
	AccountURL string
	// SessionError, when set on a signed-in panel (the session's Error,
	// e.g. "RefreshTokenError"), shows "Please sign in again" with SignIn
	// instead of the welcome.
	SessionError string
}

// ProfileData is the profile page.
type ProfileData struct {
	Shell Shell
	Card  ProfileCardData
	// Sessions, when set, adds the "Your sessions" card below the profile.
	Sessions *SessionsCardData
}

// ProfileCardData is the profile card, also served alone as a fragment.
type ProfileCardData struct {
	Name string
	// Email is shown when set; Username otherwise (Asgardeo sends only
	// username).
	Email      string
	Username   string
	GivenName  string
	FamilyName string
	HomeURL    string
	SignOut    SignOutAction
	// FragmentURL, when set, makes the card refresh itself (htmx) when the
	// tab becomes visible again; without a session it gets HX-Redirect.
	FragmentURL string
}

// htmxConfig configures htmx for a strict Content-Security-Policy: no
// inline indicator styles, no eval, no script tags in swapped content, and
// no history snapshots (pages carry session data). Its responseHandling is
// htmx's default plus three rules: a 304 (the fragment's ETag still
// matches, see etag.go) leaves the element as it is; a 403 is swapped
// in like a 200, because auth.RequireScopes answers a fragment request
// from a user without the permission with a 403 fragment that says which
// one is missing; and a 503 is swapped in, because auth answers a
// fragment request it cannot check while its store is down with the
// "Temporarily unavailable" page and HX-Retarget: body.
const htmxConfig = `{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"selfRequestsOnly":true,"historyCacheSize":0,` +
	`"responseHandling":[{"code":"204","swap":false},{"code":"304","swap":false},{"code":"403","swap":true,"error":false},{"code":"503","swap":true,"error":false},{"code":"[23]..","swap":true},{"code":"[45]..","swap":false,"error":true},{"code":"...","swap":false}]}`

// htmxConfigMeta is the <meta name="htmx-config"> element, escaped once:
// the same markup as <meta name="htmx-config" content={ htmxConfig }/>,
// which escapes the constant again on every page.
var htmxConfigMeta = templ.Raw(`<meta name="htmx-config" content="` + html.EscapeString(htmxConfig) + `">`)

// visibleAgain is the hx-trigger that refreshes a fragment when the
// window gets the focus back (the tab is shown again, the visitor returns
// from another window), so a sign-out in another tab shows here. It is not
// visibilitychange, which also fires as a page is left and would start a
// request the browser then abandons; a filter on document.visibilityState
// would need htmx's eval, which the CSP forbids.
const visibleAgain = "focus from:window"

// liveAgain is visibleAgain plus the session stream's signout event
// (Shell.SessionStream): a signed-in fragment also fetches itself again,
// signed out, the moment its session ends anywhere. Without a stream the
// event never comes and the focus refresh remains.
const liveAgain = visibleAgain + ", sse:signout"

func pageTitle(title string) string {
	if title == "" || title == "Signet" {
		return "Signet"
	}
	return title + " · Signet"
}

// knownErrorCode reports whether code is one the error page names: not
// "" and not Auth.js's "Default", which stands for any unknown code.
func knownErrorCode(code auth.ErrorCode) bool {
	return code != "" && code != "Default"
}

// initials are up to two capital letters for an avatar: "Ada Lovelace" →
// "AL", "ada@example.com" → "A".
func initials(name string) string {
	name, _, _ = strings.Cut(name, "@")
	var out []rune
	for _, word := range strings.FieldsFunc(name, func(r rune) bool {
		return unicode.IsSpace(r) || r == '.' || r == '_' || r == '-'
	}) {
		r, _ := utf8.DecodeRuneInString(word)
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			out = append(out, unicode.ToUpper(r))
		}
	}
	switch len(out) {
	case 0:
		return "?"
	case 1:
		return string(out)
	default:
		return string([]rune{out[0], out[len(out)-1]})
	}
}

// emailOrUsername is what the profile shows as the email, and its label.
func (c ProfileCardData) emailOrUsername() (label, value string) {
	if c.Email != "" || c.Username == "" {
		return "Email", c.Email
	}
	return "Username", c.Username
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
