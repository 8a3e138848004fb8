package devidp

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Client is a registered relying party.
//
// A client with a Secret is confidential and authenticates at the token
// endpoint with client_secret_basic or client_secret_post; a client
// without one is public (token_endpoint_auth_method "none"). Either way
// the authorization code flow requires PKCE with S256. Redirect URIs are
// compared exactly; http URIs are allowed, this being a development IdP.
type Client struct {
	ID, Secret             string
	Name                   string // what the sign-in page calls the application ("continue to Signet"); "" means ID
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	BackchannelLogoutURI   string // optional: when set, end_session POSTs a logout_token (OIDC Back-Channel Logout 1.0) here
}

// displayName is how the pages name the client.
func (c Client) displayName() string {
	if c.Name != "" {
		return c.Name
	}
	return c.ID
}

// Lifetimes of what the IdP hands out.
const (
	idTokenLifetime     = time.Hour
	accessTokenLifetime = 15 * time.Minute
)

// client adapts a Client to op.Client.
type client struct {
	Client
	loginPath string   // the login form's path, e.g. "/dev-idp/login"
	extras    []string // the scopes beyond the standard ones that some user may be granted
}

var _ op.Client = (*client)(nil)

// checkClient reports what is wrong with c, if anything.
func checkClient(c Client) error {
	if c.ID == "" {
		return errors.New("empty ID")
	}
	if len(c.RedirectURIs) == 0 {
		return fmt.Errorf("client %q: no RedirectURIs", c.ID)
	}
	uris := append(append([]string{}, c.RedirectURIs...), c.PostLogoutRedirectURIs...)
	if c.BackchannelLogoutURI != "" {
		uris = append(uris, c.BackchannelLogoutURI)
	}
	for _, raw := range uris {
		u, err := url.Parse(raw)
		if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" {
			return fmt.Errorf("client %q: %q is not an absolute URL without a fragment", c.ID, raw)
		}
	}
	return nil
}

func (c *client) GetID() string                    { return c.ID }
func (c *client) RedirectURIs() []string           { return c.Client.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.Client.PostLogoutRedirectURIs }
func (c *client) ApplicationType() op.ApplicationType {
	return op.ApplicationTypeWeb
}

func (c *client) AuthMethod() oidc.AuthMethod {
	if c.Secret == "" {
		return oidc.AuthMethodNone
	}
	// Basic is the registered method; op also accepts the secret in the
	// form body because the provider enables client_secret_post.
	return oidc.AuthMethodBasic
}

func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}

func (c *client) LoginURL(authRequestID string) string {
	return c.loginPath + "?" + url.Values{"authRequestID": {authRequestID}}.Encode()
}

func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration      { return idTokenLifetime }

// DevMode allows http redirect URIs for public clients too.
func (c *client) DevMode() bool { return true }

func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(scopes []string) []string { return scopes }
}

func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(scopes []string) []string { return scopes }
}

// IsScopeAllowed allows, beyond the standard OpenID Connect scopes, those
// some user may be granted (User.Scopes); the sign-in keeps those of the
// user who signs in.
func (c *client) IsScopeAllowed(scope string) bool { return slices.Contains(c.extras, scope) }

// IDTokenUserinfoClaimsAssertion puts the profile and email claims in the
// ID token even though an access token is issued too, as most IdPs do.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }
