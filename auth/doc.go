// Package auth signs users in with OpenID Connect and signs them out of
// both the app and the identity provider (IdP). It has the shape of Auth.js
// (next-auth v5) — the same routes under /api/auth, the same environment
// variable names, the jwt and session callbacks as Go funcs — and does the
// logout Auth.js leaves to its users.
//
// # Setup
//
//	providers, err := auth.ProvidersFromEnv(os.Getenv) // AUTH_OIDC_ISSUER, AUTH_OIDC_ID, …
//	a, err := auth.New(auth.Config{
//		Providers: providers,
//		Secrets:   auth.ParseSecrets(os.Getenv("AUTH_SECRET")),
//		URL:       os.Getenv("AUTH_URL"),
//	})
//	mux.Handle(a.BasePath()+"/", a.Handler())
//	mux.Handle("GET "+a.SignOutPath(), a.PostLogoutHandler())
//	mux.Handle("GET /profile", a.Require(profilePage))
//	http.ListenAndServe(addr, a.Middleware(mux))
//
// # Sign-in
//
// A POST to /api/auth/signin/{provider} with the csrfToken field (from
// GET /api/auth/csrf or CSRFToken) starts the authorization code flow with
// PKCE (S256), state and nonce. Each is random, sealed with the provider id
// into its own encrypted, 15-minute cookie, and cleared when the IdP calls
// back. /api/auth/callback/{provider} checks state against its cookie,
// exchanges the code with the verifier, and verifies the ID token: go-oidc
// checks the signature against the IdP's JWKS (refetched when keys rotate),
// iss, aud and exp; Signet adds iat, sub, azp, nonce and at_hash, and
// accepts only asymmetric algorithms. The SignIn callback may refuse the
// user; the JWT callback shapes the stored Token from the Account and
// Profile. The session is then written and the browser goes to
// callbackUrl, which must be on the app's origin.
//
// # Sessions
//
// With the cookie strategy (the default) the whole session Record (the
// Token, the ID token kept for logout, the access and refresh tokens) is
// encrypted and authenticated with gorilla/securecookie under keys derived
// from AUTH_SECRET by HKDF; a session too large for one small cookie goes
// to the Store and its cookie holds only an opaque id, so that no response
// outgrows a proxy's 4 KB header buffer (SessionConfig.Chunked splits it
// into name.0, name.1, … cookies instead, as Auth.js does). With the
// server strategy every session is in the Store. AUTH_SECRET may list
// several secrets, comma-separated: the first encrypts, all decrypt.
// Sessions last MaxAge (30 days) and are re-issued at most once per
// UpdateAge (24 hours) while in use. Middleware reads the session once per
// request; SessionFromContext and Session return it, shaped by the Session
// callback; Require guards pages and htmx fragments.
//
// # State, and many instances
//
// Everything that outlives a request is in one store.Store (Config.Store;
// auth/store): stored sessions (sealed like cookies), the session index
// (each session's handle, device, sign-in and last-seen time, by user and
// by IdP session), revocations (by issuer and sid or sub, with a cutoff to
// the nanosecond: a sign-in after a logout survives it), sessions ended
// by handle, the logout-token jti set, the refresh lock and its result,
// and the "session ended" events. Instances that share a store (Redis:
// auth/store/redisstore) behave as one: a logout at any instance ends the
// session everywhere, and one refresh grant serves a session however many
// instances need it. A store that cannot be reached gives 503 and changes
// nothing: a session whose revocation cannot be checked is neither trusted
// nor destroyed.
//
// # Live sign-out and the sessions list
//
// GET {base}/session/stream sends the event "signout" when the session
// ends anywhere (sign-out, revoke, back- or front-channel logout, a
// refresh refused for good, expiry). ListSessions, RevokeSession,
// RevokeOtherSessions and RevokeAllSessions, and Better Auth's routes
// list-sessions, revoke-session, revoke-other-sessions and revoke-sessions,
// let a user see and end their other sessions; a revoked session's refresh
// token is revoked at the IdP (RFC 7009).
//
// # Access tokens and scopes
//
// A session read whose access token has expired, or expires within
// RefreshSkew (60 s, at most a quarter of the token's lifetime), is
// refreshed with the refresh token before the request goes on, and the
// session is saved again. Concurrent requests of one session make one call
// to the token endpoint and share its result, which is also kept for 60 s
// for a request that still carries the old cookie: a rotated refresh token
// is never replayed. A refreshed ID token must verify and keep the
// session's iss and sub (OIDC Core 12.2); the JWT callback runs with
// Trigger "refresh". When the refresh token is refused, the IdP sends
// another user's ID token, or the IdP cannot be reached after the access
// token expired, the session carries Error "RefreshTokenError": Require
// and RequireScopes treat it as signed out, pages ask the user to sign in
// again, and no refresh is tried again. An IdP that is down while the
// token still works leaves the session as it is.
//
// The access token's scopes are learned at sign-in and after each
// refresh, and kept in the session (Session.Scopes): from the scope or scp
// claim of a JWT access token that verifies with the IdP's keys, else by
// token introspection (RFC 7662, cached until the token's exp; Introspect
// exposes it), else from the token response. RequireScopes guards pages
// and htmx fragments by scope and answers 403 with a page that names the
// missing permission. AccessToken returns the (refreshed) token for calls
// to APIs, and Endpoints the IdP's endpoints, such as userinfo.
//
// # Sign-out
//
// A POST to /api/auth/signout with csrfToken clears the local session first,
// then sends the browser to the IdP's end_session_endpoint (from discovery,
// or the Provider's LogoutURL) with id_token_hint, client_id,
// post_logout_redirect_uri (the app's SignOutPath, /auth/sign-out) and a
// state sealed into a cookie; an ID token too large for a URL that must fit
// a proxy's 4 KB header buffer is left out, and client_id stands in for
// it. The IdP ends its own session and returns to
// /auth/sign-out, which checks state, clears every Signet cookie left, shows
// "You’re signed out" with a link home (no timed redirect). Without an IdP logout endpoint the sign-out
// is local and lands on the same page. Tokens never travel in the app's own
// URLs. IdPs may also end sessions themselves: /api/auth/backchannel-logout
// (Back-Channel Logout 1.0) and /api/auth/frontchannel-logout (Front-Channel
// Logout 1.0) revoke the sessions of the named sid or sub.
//
// # Errors
//
// Every failed flow ends in one place: the cause is logged with slog and the
// browser sees only a client-safe ErrorCode on the error page. Tokens,
// codes and secrets are typed (Secret, Token, Profile) so that logging them
// prints "[redacted]".
//
// # Where things live
//
//	the Auth and its routes   auth.go config.go handler.go middleware.go require.go
//	sign-in                   signin.go checks.go callback.go verify.go record.go
//	sessions and state        session.go sessions.go sessioncache.go state.go ttlcache.go
//	sessions list, live       sessionlist.go stream.go device.go
//	sign-out and logout       signout.go postlogout.go backchannel.go frontchannel.go issuer.go tokenrevoke.go
//	tokens                    tokens.go refresh.go introspect.go scopes.go
//	providers                 provider.go presets.go discovery.go keyset.go httpclient.go env.go envscope.go
//	browser-facing rules      cookies.go csrf.go keys.go origin.go redirect.go limits.go
//	pages and errors          pages.go render.go errors.go
//	the store                 store/ (interface, memory, conformance suite), store/filestore, store/redisstore
package auth
