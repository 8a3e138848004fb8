package auth

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/signet-auth/signet/auth/store"
)

// Config configures Signet. The zero value of every optional field is a
// sensible default; FromEnv builds one from Auth.js's environment variables.
type Config struct {
	// Providers are the identity providers users can sign in with. At least one.
	Providers []*Provider
	// Secrets key the cookies: the first encrypts, all decrypt (AUTH_SECRET,
	// comma-separated). Required.
	Secrets []string
	// URL is the app's public URL (AUTH_URL), e.g. "https://app.example.com".
	// When set, every absolute URL Signet makes (redirect_uri,
	// post_logout_redirect_uri, redirects) uses its origin and request
	// headers are not consulted. A path other than "/" or "/api/auth" sets
	// BasePath.
	URL string
	// TrustHost lets Signet take the origin from X-Forwarded-Proto and
	// X-Forwarded-Host (AUTH_TRUST_HOST) when URL is empty. Turn it on only
	// behind a proxy that sets those headers.
	TrustHost bool
	// BasePath is where the /api/auth routes live. Default "/api/auth".
	BasePath string
	// SignOutPath is the post-logout page, registered at the IdP as
	// post_logout_redirect_uri. Default "/auth/sign-out".
	SignOutPath string
	// CookiePrefix starts every cookie name. Default "signet".
	CookiePrefix string
	// Session sets the session's lifetime and where it is kept.
	Session SessionConfig
	// Store keeps every piece of state that outlives a request: server
	// sessions and large cookie sessions, the session index, revocations,
	// the logout-token replay set, the refresh lock and its result, and
	// the "session ended" events. Share one store between instances (see
	// auth/store/redisstore) and they behave as one. Nil means an
	// in-memory store: one instance, forgotten at restart.
	Store store.Store
	// Streams bounds the session streams (GET {base}/session/stream).
	Streams StreamConfig
	// RefreshSkew is how long before its access token expires a session is
	// refreshed (with its refresh token) when it is read. Default 60 s; it
	// is never more than a quarter of the token's lifetime, so short-lived
	// tokens are not refreshed on every request. Negative: refresh only once
	// the access token has expired.
	RefreshSkew time.Duration
	// Callbacks shape sign-in, redirects, the stored token and the session.
	Callbacks Callbacks
	// Events are told about sign-ins, sign-outs and logouts, for audit logs.
	Events Events
	// Pages render the sign-in, sign-out, error and signing-out pages. Nil
	// fields use Signet's plain built-in pages.
	Pages Pages
	// Logger receives Signet's logs. Nil discards them.
	Logger *slog.Logger
	// HTTPClient makes every call to identity providers. Nil means a client
	// with a 10-second timeout that reuses no connection idle for 4 s or
	// more (servers such as Node.js close them after 5 s, and a request sent
	// as they do fails).
	HTTPClient *http.Client
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// SessionConfig sets the session's lifetime and strategy.
type SessionConfig struct {
	// MaxAge is how long an idle session lives. Default 30 days.
	MaxAge time.Duration
	// UpdateAge is how often at most a used session's expiry is pushed
	// forward (sliding expiry). Default 24 hours.
	UpdateAge time.Duration
	// Strategy is where sessions are kept: StrategyCookie (the default)
	// or StrategyServer. Both keep their index, revocations and the rest
	// in Config.Store.
	Strategy Strategy
	// Chunked, with the cookie strategy, splits a session too large for
	// one small cookie into several cookies of up to 4 KB each, as Auth.js
	// does. By default such a session goes to the Store instead and its
	// cookie holds only an opaque id: that keeps each response's headers
	// under 4 KB, the default proxy_buffer_size of nginx, which answers a
	// larger header block from the app with 502 ("upstream sent too big
	// header"), and the Cookie header well under nginx's 8 KB per header
	// line. A sealed session over 2560 bytes (as a large ID token makes) is
	// too large.
	Chunked bool
}

// Callbacks are Auth.js's callbacks as Go funcs. Every field is optional.
type Callbacks struct {
	// SignIn decides whether a user who authenticated at the provider may
	// sign in. Returning false (or an error) ends on the AccessDenied page.
	SignIn func(ctx context.Context, p SignInParams) (bool, error)
	// Redirect picks where a flow lands; it receives the requested URL and
	// the app's origin. Default: DefaultRedirect (same origin only).
	Redirect func(ctx context.Context, p RedirectParams) (string, error)
	// JWT shapes the stored token. On sign-in (Trigger "signIn") it gets the
	// Account and Profile; after the access token was refreshed (Trigger
	// "refresh") it gets the Account with the new tokens, and the Profile
	// when the IdP sent a new ID token; on other reads it is not called.
	// Returning a nil Token signs the user out.
	JWT func(ctx context.Context, p JWTParams) (Token, error)
	// Session shapes what pages and GET /api/auth/session see, from the
	// default session and the stored token. It runs on every session read.
	Session func(ctx context.Context, p SessionParams) (*Session, error)
}

// SignInParams are the SignIn callback's inputs.
type SignInParams struct {
	Account *Account
	Profile Profile
}

// Trigger says why the JWT callback runs.
type Trigger string

// JWT callback triggers.
const (
	TriggerSignIn  Trigger = "signIn"
	TriggerRefresh Trigger = "refresh"
)

// JWTParams are the JWT callback's inputs.
type JWTParams struct {
	// Token is the token so far: on sign-in, sub, name, email and picture
	// from the provider's profile mapping.
	Token Token
	// Account is set on sign-in and refresh.
	Account *Account
	// Profile is set on sign-in: the ID token's claims (and userinfo's).
	Profile Profile
	Trigger Trigger
}

// SessionParams are the Session callback's inputs.
type SessionParams struct {
	// Session is the default session: user name, email and image from the
	// token, and its expiry.
	Session *Session
	Token   Token
}

// Events are called after the fact; they cannot change the outcome. Every
// field is optional.
type Events struct {
	SignIn  func(ctx context.Context, e SignInEvent)
	SignOut func(ctx context.Context, e SignOutEvent)
	// IdPLogout is called when an identity provider ends a session through
	// back-channel or front-channel logout.
	IdPLogout func(ctx context.Context, e LogoutEvent)
	// Refresh is called after each call to the token endpoint that
	// refreshed (or failed to refresh) a session's access token.
	Refresh func(ctx context.Context, e RefreshEvent)
}

// SignInEvent describes a completed sign-in.
type SignInEvent struct {
	Provider, Subject string
	Profile           Profile
}

// SignOutEvent describes a sign-out started by the user.
type SignOutEvent struct {
	Provider, Subject string
	// IdPLogout is true when the browser was sent to the IdP's logout
	// endpoint, false for a local-only sign-out.
	IdPLogout bool
}

// LogoutEvent describes a logout requested by an identity provider
// (back-channel or front-channel).
type LogoutEvent struct {
	Provider, Issuer, Subject, SID string
	Channel                        string // "backchannel" or "frontchannel"
}

// Page is something that renders HTML: templ.Component satisfies it.
type Page interface {
	Render(ctx context.Context, w io.Writer) error
}

// Pages render the pages Signet serves. Any nil field uses the built-in page.
type Pages struct {
	SignIn     func(SignInPage) Page
	SignOut    func(SignOutPage) Page
	Error      func(ErrorPage) Page
	SigningOut func(SigningOutPage) Page
}

// ProviderInfo describes a provider to pages and GET /api/auth/providers.
type ProviderInfo struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	SignInURL   string `json:"signinUrl"`
	CallbackURL string `json:"callbackUrl"`
}

// SignInPage is the data of the default sign-in page: one POST form per
// provider, each with CSRFToken and CallbackURL as hidden fields.
type SignInPage struct {
	Providers   []ProviderInfo
	CSRFToken   string
	CallbackURL string
	// Error is set when a sign-in failed (?error=); Message explains it.
	Error ErrorCode
}

// SignOutPage is the data of the sign-out confirmation page: a POST form to
// Action with CSRFToken and CallbackURL as hidden fields.
type SignOutPage struct {
	Action      string
	CSRFToken   string
	CallbackURL string
	// SignedIn is false when the visitor has no session (for instance, Back
	// after signing out): the page should say they are signed out rather
	// than ask to confirm a sign-out.
	SignedIn bool
}

// ErrorPage is the data of the error page.
type ErrorPage struct {
	Code      ErrorCode
	Status    int
	Title     string
	Message   string
	SignInURL string
	HomeURL   string
	// RetryURL, set for a passing failure (Unavailable), is the page to
	// try again: the one the visitor was on. Such a page offers no sign-in,
	// since the visitor may well be signed in.
	RetryURL string
	// MissingScopes are the permissions the visitor lacks, for a Forbidden
	// page served by RequireScopes.
	MissingScopes []string
	// Fragment is true when the page answers an htmx request: render the
	// message alone, without the layout, as it is swapped into the page.
	Fragment bool
}

// SigningOutPage is the data of the post-logout page: it says "Signing
// out…" and sends the browser to HomeURL.
type SigningOutPage struct {
	HomeURL string
	// IdPLogout is false when the identity provider has no logout endpoint
	// and only the app's session was ended.
	IdPLogout bool
	// Verified is true when the page was reached from this browser's own
	// sign-out (its state matched). False means a direct visit, or an IdP
	// that does not return state: only leftover cookies were cleared.
	Verified bool
	// AlreadySignedOut is true when that sign-out found no session (the
	// visitor was signed out already, e.g. confirmed the sign-out page
	// again after Back): there was nothing to end at the identity provider,
	// whether or not it offers sign-out.
	AlreadySignedOut bool
}
