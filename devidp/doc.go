// Package devidp is the embedded development identity provider: a real
// OpenID Provider inside the binary, used only when no identity provider is
// configured, so that a newcomer can sign in and out in a browser without
// an account anywhere.
//
// It is for development only — never use it in production. Its demo
// accounts and their passwords are public (its own sign-in page lists
// them), everything lives in memory and is forgotten on restart, and a new
// signing key is made at every start.
//
// # Demo users
//
// DefaultUsers, used when Config.Users is nil:
//
//	username  password  name
//	ada       lovelace  Ada Lovelace   ada@example.com    may also be granted read:reports
//	alan      turing    Alan Turing    alan@example.com
//	grace     hopper    Grace Hopper   grace@example.com
//
// Beyond the standard OpenID Connect scopes, a user is granted the scopes
// of User.Scopes that the client asks for, and no others: a client that
// asks for read:reports gets it in Ada's access tokens (as the
// introspection endpoint reports) and not in Grace's.
//
// # What it serves
//
// It is built on zitadel/oidc's op package, a certified OpenID Provider
// framework, with its own in-memory storage. Under the issuer URL, e.g.
// http://localhost:3000/dev-idp:
//
//	/.well-known/openid-configuration  discovery
//	/keys                              JWKS (RS256)
//	/authorize                         authorization endpoint (code flow)
//	/login                             the sign-in form /authorize sends the browser to
//	/authorize/callback                back from the form to op, which redirects to the client with the code
//	/oauth/token                       token endpoint: authorization_code (PKCE S256 required), refresh_token
//	/userinfo                          userinfo endpoint
//	/end_session                       RP-initiated logout
//	/oauth/introspect, /revoke         token introspection and revocation
//	/                                  a page describing the IdP and its users
//
// Mount the Server on the issuer's path with a trailing slash, without
// stripping the prefix:
//
//	mux.Handle("/dev-idp/", srv)
//
// # Tokens
//
// ID tokens are RS256 JWTs with sub, name, given_name, family_name,
// email, email_verified, preferred_username, username (the username, as
// Asgardeo sends it), sid (the IdP session), nonce, at_hash, auth_time
// and amr. Access tokens are opaque. A refresh token is issued when the
// scope includes offline_access; each refresh rotates it. Clients
// authenticate with client_secret_basic or client_secret_post, or are
// public (no Secret) and rely on PKCE, which every client must use.
//
// # Sessions, single sign-on and sign-out
//
// Signing in starts an SSO session, kept in the devidp.session cookie
// (HttpOnly, SameSite=Lax, Path = the issuer's path). While it lives, a
// new authorization request from the same browser completes without the
// form; prompt=login or max_age asks for the password again, and
// prompt=none without a session returns login_required.
//
// end_session ends that session: its access and refresh tokens stop
// working, the next authorization request shows the form again, and each
// client that signed in through it and registered a BackchannelLogoutURI
// gets an OpenID Connect Back-Channel Logout 1.0 logout token (typ
// logout+jwt, with iss, aud, iat, exp, jti, events, sub and sid) before
// the browser is redirected to the registered post_logout_redirect_uri,
// with state. A valid id_token_hint signs out at once; without one, the
// IdP asks "Sign out of the development IdP?" first.
//
// # Start-up
//
// New returns in about a millisecond. The 2048-bit RSA key takes 50 to
// 300 ms of CPU, so it is made in a goroutine started by the IdP's first
// request or 300 ms after New, whichever comes first — not during the
// app's start-up, which it would slow down — and the first request that
// needs it (the JWKS, a token) waits for it.
//
// # Logging
//
// Everything this package logs goes to Config.Logger. It never replaces
// slog's default logger; op itself, in the version used, logs its own
// protocol errors (a bad token request, say) through slog's default
// logger, having no logger option that takes effect.
package devidp
