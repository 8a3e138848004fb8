package auth

import (
	"net/url"
	"strings"
)

// Preset builds a provider for one identity provider product, with its
// quirks: claim mapping, scopes, logout endpoint. ConfigFromEnv enables a
// preset when AUTH_<ID>_ID is set (ID upper-cased, "-" → "_"), with
// AUTH_<ID>_SECRET and AUTH_<ID>_ISSUER.
type Preset struct {
	// ID names the provider in URLs (/api/auth/signin/{ID}) and in its
	// environment variables.
	ID string
	// Name is shown on the sign-in page.
	Name string
	// New returns the provider for the given issuer and client. An empty
	// issuer means DefaultIssuer.
	New func(issuer, clientID, clientSecret string) *Provider
	// DefaultIssuer is the issuer used when AUTH_<ID>_ISSUER is not set;
	// "" when the issuer must be given.
	DefaultIssuer string
	// IssuerExample shows the shape of the IdP's issuer in configuration
	// messages.
	IssuerExample string
	// PublicClient is true when the IdP can register public clients
	// (authorization code with PKCE, no client secret): AUTH_<ID>_SECRET
	// may then be empty, and Signet signs in as a public client. A
	// confidential client (with a secret) is still the better choice for a
	// server-side app.
	PublicClient bool

	// issuerAdvice returns advice when issuer does not look like this IdP's
	// issuer (a common mistake), or "".
	issuerAdvice func(issuer *url.URL) string
}

// Issuers of the presets that have a fixed or default one.
const (
	GoogleIssuer = "https://accounts.google.com"
	// EntraCommonIssuer lets work, school and personal Microsoft accounts
	// of any tenant sign in (Auth.js's default for Microsoft Entra ID).
	EntraCommonIssuer = "https://login.microsoftonline.com/common/v2.0"
)

// Presets lists the built-in presets, in the order the sign-in page lists
// the providers configured from the environment.
func Presets() []Preset {
	return []Preset{
		{ID: "oidc", Name: "OpenID Connect", New: OIDC, PublicClient: true,
			IssuerExample: "https://idp.example.com"},
		{ID: "asgardeo", Name: "Asgardeo", New: Asgardeo, PublicClient: true,
			IssuerExample: "https://api.asgardeo.io/t/{organization}/oauth2/token",
			issuerAdvice:  asgardeoIssuerAdvice},
		{ID: "keycloak", Name: "Keycloak", New: Keycloak, PublicClient: true,
			IssuerExample: "https://keycloak.example.com/realms/{realm}",
			issuerAdvice:  keycloakIssuerAdvice},
		{ID: "auth0", Name: "Auth0", New: Auth0, PublicClient: true,
			IssuerExample: "https://{tenant}.us.auth0.com/"},
		{ID: "okta", Name: "Okta", New: Okta, PublicClient: true,
			IssuerExample: "https://{org}.okta.com/oauth2/default"},
		{ID: "microsoft-entra-id", Name: "Microsoft Entra ID", New: MicrosoftEntraID,
			DefaultIssuer: EntraCommonIssuer,
			IssuerExample: "https://login.microsoftonline.com/{tenant-id}/v2.0",
			issuerAdvice:  entraIssuerAdvice},
		{ID: "google", Name: "Google", New: Google,
			DefaultIssuer: GoogleIssuer, IssuerExample: GoogleIssuer,
			issuerAdvice: googleIssuerAdvice},
		{ID: "zitadel", Name: "ZITADEL", New: Zitadel, PublicClient: true,
			IssuerExample: "https://{instance}.zitadel.cloud"},
		{ID: "dex", Name: "Dex", New: Dex, PublicClient: true,
			IssuerExample: "https://dex.example.com"},
		{ID: "cognito", Name: "Cognito", New: Cognito, PublicClient: true,
			IssuerExample: "https://cognito-idp.{region}.amazonaws.com/{user-pool-id}",
			issuerAdvice:  cognitoIssuerAdvice},
		{ID: "authentik", Name: "Authentik", New: Authentik, PublicClient: true,
			IssuerExample: "https://authentik.example.com/application/o/{slug}/",
			issuerAdvice:  authentikIssuerAdvice},
	}
}

// OIDC is the generic OpenID Connect provider, id "oidc": discovery's
// endpoints, scopes "openid profile email", Auth.js's default profile
// mapping, and discovery's end_session_endpoint for sign-out (local-only
// without one).
func OIDC(issuer, clientID, clientSecret string) *Provider {
	return NewProvider("oidc", "OpenID Connect", issuer, clientID, clientSecret)
}

// Asgardeo is WSO2 Asgardeo, id "asgardeo" (WSO2 Identity Server works the
// same). Its issuer is the token URL,
// https://api.asgardeo.io/t/{org}/oauth2/token. Its ID tokens carry
// username and often no email: the profile maps username to email, as
// Asgardeo's own Next.js guides do in their jwt callback, and keeps
// username. Logout is discovery's end_session_endpoint (/t/{org}/oidc/logout),
// whose post_logout_redirect_uri must be one of the app's authorized
// redirect URLs.
func Asgardeo(issuer, clientID, clientSecret string) *Provider {
	p := NewProvider("asgardeo", "Asgardeo", issuer, clientID, clientSecret)
	p.Profile = func(c Profile) Token {
		t := DefaultProfile(c)
		if u := c.String("username"); u != "" {
			t["username"] = u
			if _, ok := t["email"]; !ok {
				t["email"] = u
			}
		}
		return t
	}
	return p
}

// Keycloak is Keycloak, id "keycloak". The issuer is the realm's URL,
// https://{host}/realms/{realm} (https://{host}/auth/realms/{realm} before
// Keycloak 17). The profile adds username from preferred_username. Logout
// is discovery's end_session_endpoint
// (/realms/{realm}/protocol/openid-connect/logout); since Keycloak 18 it
// needs id_token_hint or client_id with post_logout_redirect_uri (both are
// sent), which must be one of the client's "Valid post logout redirect
// URIs".
func Keycloak(issuer, clientID, clientSecret string) *Provider {
	p := NewProvider("keycloak", "Keycloak", issuer, clientID, clientSecret)
	p.Profile = profileWithUsername("preferred_username")
	return p
}

// Auth0 is Auth0, id "auth0". The issuer is https://{tenant}.auth0.com/
// (or the custom domain), with a trailing slash. Logout is discovery's
// end_session_endpoint (/oidc/logout, RP-Initiated Logout) when the tenant
// publishes it — the default for tenants created since 14 November 2023,
// else the "RP-Initiated Logout End Session Endpoint Discovery" setting —
// and Auth0's own https://{tenant}/v2/logout?client_id=…&returnTo=…
// otherwise, which returns no state. Either way the post-logout URL must be
// among the application's Allowed Logout URLs.
func Auth0(issuer, clientID, clientSecret string) *Provider {
	p := NewProvider("auth0", "Auth0", issuer, clientID, clientSecret)
	p.LogoutURL = auth0LogoutURL
	return p
}

func auth0LogoutURL(r LogoutRequest) string {
	if r.EndSessionEndpoint != "" {
		return StandardLogoutURL(r)
	}
	if r.AuthorizationEndpoint == "" {
		return "" // discovery failed: the tenant is out of reach
	}
	u, err := url.Parse(r.Issuer)
	if err != nil || u.Host == "" {
		return ""
	}
	q := url.Values{}
	q.Set("client_id", r.ClientID)
	q.Set("returnTo", r.PostLogoutRedirectURI)
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/v2/logout", RawQuery: q.Encode()}).String()
}

// Okta is Okta, id "okta". The issuer is the org authorization server,
// https://{org}.okta.com, or a custom one such as
// https://{org}.okta.com/oauth2/default (needed for access tokens your own
// APIs accept). The profile adds username from preferred_username (the Okta
// login). Logout is discovery's end_session_endpoint (/oauth2/v1/logout or
// /oauth2/{server}/v1/logout), which requires id_token_hint; the post-logout
// URL must be one of the app's "Sign-out redirect URIs".
func Okta(issuer, clientID, clientSecret string) *Provider {
	p := NewProvider("okta", "Okta", issuer, clientID, clientSecret)
	p.Profile = profileWithUsername("preferred_username")
	return p
}

// MicrosoftEntraID is Microsoft Entra ID (Azure AD) on the v2.0 endpoint,
// id "microsoft-entra-id". The issuer defaults to EntraCommonIssuer; set
// https://login.microsoftonline.com/{tenant-id}/v2.0 to admit one
// organization only.
//
// The "common", "organizations" and "consumers" endpoints (any tenant
// segment that is not a tenant id) publish the issuer
// https://login.microsoftonline.com/{tenantid}/v2.0 — a template, not the
// configured URL — so the provider sets SkipIssuerCheck: the discovery
// document's issuer is taken as is, and each ID token's iss must equal that
// template with {tenantid} replaced by the token's own tid claim.
//
// Entra ID's sub is pairwise (it differs per app); the profile sets sub
// from oid, the user's object id, the same across the tenant's apps and in
// Microsoft Graph, and keeps tid. email is often absent for work accounts:
// the profile then takes preferred_username when it is an email address,
// and keeps it as username. Logout is discovery's end_session_endpoint
// (/{tenant}/oauth2/v2.0/logout); Entra ID requires the post-logout URL to
// be one of the app registration's redirect URIs.
func MicrosoftEntraID(issuer, clientID, clientSecret string) *Provider {
	if issuer == "" {
		issuer = EntraCommonIssuer
	}
	p := NewProvider("microsoft-entra-id", "Microsoft Entra ID", issuer, clientID, clientSecret)
	p.SkipIssuerCheck = !isGUID(entraTenant(issuer))
	p.Profile = entraProfile
	return p
}

func entraProfile(c Profile) Token {
	t := DefaultProfile(c)
	if oid := c.String("oid"); oid != "" {
		t["sub"] = oid
	}
	if tid := c.String("tid"); tid != "" {
		t["tid"] = tid
	}
	if u := c.String("preferred_username"); u != "" {
		t["username"] = u
		if _, ok := t["email"]; !ok && strings.Contains(u, "@") {
			t["email"] = u
		}
	}
	return t
}

// entraTenant returns the tenant segment of an Entra ID issuer:
// "common" for https://login.microsoftonline.com/common/v2.0.
func entraTenant(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil {
		return ""
	}
	tenant, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	return tenant
}

// isGUID reports whether s is a GUID such as a tenant id.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

// Google is Google, id "google", issuer https://accounts.google.com.
// Google has no RP-initiated logout (its discovery document has no
// end_session_endpoint, only a token revocation endpoint): sign-out is
// local only, and the user stays signed in to their Google account. The
// profile keeps hd, the Google Workspace domain, when present. Google's ID
// tokens may carry iss "accounts.google.com" without the scheme, which
// go-oidc accepts for this issuer.
func Google(issuer, clientID, clientSecret string) *Provider {
	if issuer == "" {
		issuer = GoogleIssuer
	}
	p := NewProvider("google", "Google", issuer, clientID, clientSecret)
	p.Profile = func(c Profile) Token {
		t := DefaultProfile(c)
		if hd := c.String("hd"); hd != "" {
			t["hd"] = hd
		}
		return t
	}
	p.LogoutURL = func(LogoutRequest) string { return "" }
	return p
}

// Zitadel is ZITADEL, id "zitadel". The issuer is the instance's domain,
// e.g. https://{instance}.zitadel.cloud. ZITADEL leaves the profile and
// email claims out of the ID token whenever it also issues an access token
// (unless "User Info inside ID Token" is set on the app), so the provider
// reads the userinfo endpoint at sign-in. Its ID tokens list the project
// id in aud besides the client id; azp names the client. The profile adds
// username from preferred_username (the login name). Logout is discovery's
// end_session_endpoint, /oidc/v1/end_session on the issuer; the post-logout
// URL must be one of the app's post logout URIs.
func Zitadel(issuer, clientID, clientSecret string) *Provider {
	p := NewProvider("zitadel", "ZITADEL", issuer, clientID, clientSecret)
	p.Userinfo = true
	p.Profile = profileWithUsername("preferred_username")
	p.LogoutURL = func(r LogoutRequest) string {
		if r.EndSessionEndpoint == "" && r.AuthorizationEndpoint != "" {
			r.EndSessionEndpoint = strings.TrimSuffix(r.Issuer, "/") + "/oidc/v1/end_session"
		}
		return StandardLogoutURL(r)
	}
	return p
}

// Dex is Dex, id "dex". Dex has no RP-initiated logout (dexidp/dex#1697):
// its discovery document has no end_session_endpoint, so sign-out is local
// only and the session at Dex's upstream connector stays. Should a Dex
// version publish one, it is used. The profile adds username from
// preferred_username.
func Dex(issuer, clientID, clientSecret string) *Provider {
	p := NewProvider("dex", "Dex", issuer, clientID, clientSecret)
	p.Profile = profileWithUsername("preferred_username")
	return p
}

// Cognito is Amazon Cognito user pools, id "cognito". The issuer is
// https://cognito-idp.{region}.amazonaws.com/{user-pool-id}, while the
// authorize, token and userinfo endpoints live on the pool's hosted-UI
// (managed login) domain. Scopes are "openid email": Cognito refuses scopes
// the app client does not allow, and profile often is not, while the ID
// token carries every attribute the app client may read whatever the
// scopes. The profile adds username from cognito:username.
//
// Cognito's logout is not RP-Initiated Logout: the provider sends the
// browser to /logout on the hosted-UI domain (the authorization endpoint's
// host, not the issuer's) with client_id and logout_uri, which must be one
// of the app client's allowed sign-out URLs. Cognito returns no state.
func Cognito(issuer, clientID, clientSecret string) *Provider {
	p := NewProvider("cognito", "Cognito", issuer, clientID, clientSecret)
	p.Scopes = []string{"openid", "email"}
	p.Profile = func(c Profile) Token {
		t := DefaultProfile(c)
		if u := c.String("preferred_username"); u != "" {
			t["username"] = u
		} else if u := c.String("cognito:username"); u != "" {
			t["username"] = u
		}
		return t
	}
	p.LogoutURL = cognitoLogoutURL
	return p
}

func cognitoLogoutURL(r LogoutRequest) string {
	u, err := url.Parse(r.AuthorizationEndpoint)
	if err != nil || u.Host == "" {
		return ""
	}
	q := url.Values{}
	q.Set("client_id", r.ClientID)
	q.Set("logout_uri", r.PostLogoutRedirectURI)
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/logout", RawQuery: q.Encode()}).String()
}

// Authentik is authentik, id "authentik". The issuer is the application's,
// https://{host}/application/o/{slug}/, with a trailing slash. The profile
// adds username from preferred_username. Logout is discovery's
// end_session_endpoint (/application/o/{slug}/end-session/), which runs the
// provider's invalidation flow and returns to post_logout_redirect_uri with
// state when that URL is registered on the provider as a post-logout
// redirect URI.
func Authentik(issuer, clientID, clientSecret string) *Provider {
	p := NewProvider("authentik", "Authentik", issuer, clientID, clientSecret)
	p.Profile = profileWithUsername("preferred_username")
	return p
}

// profileWithUsername is DefaultProfile plus username from claim.
func profileWithUsername(claim string) func(Profile) Token {
	return func(c Profile) Token {
		t := DefaultProfile(c)
		if u := c.String(claim); u != "" {
			t["username"] = u
		}
		return t
	}
}

func asgardeoIssuerAdvice(u *url.URL) string {
	if !strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/oauth2/token") {
		return "Asgardeo's issuer is the token URL, https://api.asgardeo.io/t/{organization}/oauth2/token"
	}
	return ""
}

func keycloakIssuerAdvice(u *url.URL) string {
	if !strings.Contains(u.Path, "/realms/") {
		return "Keycloak's issuer is the realm's URL, https://{host}/realms/{realm}"
	}
	return ""
}

func entraIssuerAdvice(u *url.URL) string {
	if u.Host == "sts.windows.net" || !strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/v2.0") {
		return "Microsoft Entra ID's v2.0 issuer is https://login.microsoftonline.com/{tenant-id}/v2.0 (or .../common/v2.0)"
	}
	return ""
}

func googleIssuerAdvice(u *url.URL) string {
	if u.String() != GoogleIssuer {
		return "Google's issuer is " + GoogleIssuer + " (AUTH_GOOGLE_ISSUER can be left unset)"
	}
	return ""
}

func cognitoIssuerAdvice(u *url.URL) string {
	if strings.HasSuffix(u.Hostname(), ".amazoncognito.com") {
		return "Cognito's issuer is https://cognito-idp.{region}.amazonaws.com/{user-pool-id}, not the hosted-UI domain"
	}
	return ""
}

func authentikIssuerAdvice(u *url.URL) string {
	if !strings.Contains(u.Path, "/application/o/") {
		return "authentik's issuer is the application's, https://{host}/application/o/{slug}/"
	}
	return ""
}
