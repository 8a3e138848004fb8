package auth

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Provider is an OpenID Connect identity provider. Build one with
// NewProvider or a preset (Asgardeo, Keycloak, …); the exported fields may be
// adjusted before the Config is passed to New.
type Provider struct {
	// ID names the provider in URLs: /api/auth/signin/{ID}, /callback/{ID}.
	ID string
	// Name is shown on the sign-in page.
	Name string
	// Issuer is the issuer URL; discovery is fetched from
	// Issuer + "/.well-known/openid-configuration" unless DiscoveryURL is set.
	Issuer       string
	DiscoveryURL string
	ClientID     string
	ClientSecret string
	// Scopes requested. Default "openid profile email".
	Scopes []string
	// AuthParams are added to every authorization request.
	AuthParams url.Values
	// Profile maps the IdP's claims to the initial token. Default: sub,
	// name (name, nickname or preferred_username), email, picture.
	Profile func(Profile) Token
	// LogoutURL builds the IdP's logout URL when discovery has no
	// end_session_endpoint or the IdP's is non-standard. It returns "" for a
	// local-only sign-out. Nil means: discovery's end_session_endpoint with
	// the standard RP-Initiated Logout parameters, or local-only without one.
	LogoutURL func(LogoutRequest) string
	// Userinfo fetches the userinfo endpoint at sign-in and merges its claims
	// into the profile (after checking its sub matches the ID token's).
	Userinfo bool
	// SkipIssuerCheck accepts a discovery document whose issuer differs from
	// Issuer (multi-tenant issuers such as Entra ID's "common"); the ID
	// token's iss must then match the document's issuer template.
	SkipIssuerCheck bool

	mu        sync.Mutex
	meta      *metadata
	lastErr   error
	lastTry   time.Time
	discovery chan struct{} // closed when an in-flight discovery ends
}

// LogoutRequest is what a LogoutURL func gets to build the IdP's logout URL.
type LogoutRequest struct {
	// EndSessionEndpoint is discovery's end_session_endpoint, or "".
	EndSessionEndpoint string
	// AuthorizationEndpoint is discovery's authorization_endpoint, or ""
	// when discovery failed: IdPs such as Cognito serve their logout page
	// on the authorization endpoint's host, not the issuer's.
	AuthorizationEndpoint string
	IDTokenHint           string
	ClientID              string
	// PostLogoutRedirectURI is the app's post-logout page.
	PostLogoutRedirectURI string
	State                 string
	// Issuer is the provider's issuer URL.
	Issuer string
}

// NewProvider returns a generic OpenID Connect provider.
func NewProvider(id, name, issuer, clientID, clientSecret string) *Provider {
	return &Provider{ID: id, Name: name, Issuer: issuer, ClientID: clientID, ClientSecret: clientSecret}
}

func (p *Provider) scopes() []string {
	if len(p.Scopes) == 0 {
		return []string{"openid", "profile", "email"}
	}
	return p.Scopes
}

func (p *Provider) profile(claims Profile) Token {
	if p.Profile != nil {
		return p.Profile(claims)
	}
	return DefaultProfile(claims)
}

// DefaultProfile is Auth.js's default OIDC profile mapping: sub, name (name,
// nickname or preferred_username), email and picture.
func DefaultProfile(c Profile) Token {
	t := Token{"sub": c.String("sub")}
	name := c.String("name")
	if name == "" {
		name = c.String("nickname")
	}
	if name == "" {
		name = c.String("preferred_username")
	}
	set := func(k, v string) {
		if v != "" {
			t[k] = v
		}
	}
	set("name", name)
	set("email", c.String("email"))
	set("picture", c.String("picture"))
	return t
}

// StandardLogoutURL builds an OpenID Connect RP-Initiated Logout 1.0 URL:
// the end_session_endpoint with id_token_hint, client_id,
// post_logout_redirect_uri and state. It returns "" when there is no
// endpoint.
func StandardLogoutURL(r LogoutRequest) string {
	if r.EndSessionEndpoint == "" {
		return ""
	}
	u, err := url.Parse(r.EndSessionEndpoint)
	if err != nil {
		return ""
	}
	q := u.Query()
	if r.IDTokenHint != "" {
		q.Set("id_token_hint", r.IDTokenHint)
	}
	q.Set("client_id", r.ClientID)
	q.Set("post_logout_redirect_uri", r.PostLogoutRedirectURI)
	if r.State != "" {
		q.Set("state", r.State)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func (p *Provider) logoutURL(r LogoutRequest) string {
	if p.LogoutURL != nil {
		return p.LogoutURL(r)
	}
	return StandardLogoutURL(r)
}

// metadataFor returns the provider's discovery metadata, fetching it on
// first use. Discovery is lazy and retried: a failure is remembered for a
// second so a down IdP is not hammered, then the next caller tries again.
// Concurrent callers share one fetch.
func (a *Auth) metadataFor(ctx context.Context, p *Provider) (*metadata, error) {
	for {
		p.mu.Lock()
		if p.meta != nil {
			m := p.meta
			p.mu.Unlock()
			return m, nil
		}
		if p.discovery != nil {
			ch := p.discovery
			p.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return nil, errorf(CodeProviderUnavailable, "discovery for %q: %w", p.ID, ctx.Err())
			}
		}
		if p.lastErr != nil && a.now().Sub(p.lastTry) < time.Second {
			err := p.lastErr
			p.mu.Unlock()
			return nil, err
		}
		ch := make(chan struct{})
		p.discovery = ch
		p.mu.Unlock()

		m, err := a.discover(ctx, p)

		p.mu.Lock()
		p.discovery = nil
		p.lastTry = a.now()
		if err != nil {
			p.lastErr = errorf(CodeProviderUnavailable, "discovery for %q: %w", p.ID, err)
			err = p.lastErr
		} else {
			p.meta, p.lastErr = m, nil
		}
		p.mu.Unlock()
		close(ch)
		return m, err
	}
}

func (p *Provider) discoveryURL() string {
	if p.DiscoveryURL != "" {
		return p.DiscoveryURL
	}
	return strings.TrimSuffix(p.Issuer, "/") + "/.well-known/openid-configuration"
}
