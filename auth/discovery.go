package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// metadata is what Signet uses of a provider's discovery document, with the
// go-oidc provider built from it (for userinfo) and the provider's key set
// (which caches the JWKS and refetches it, rate-limited, when it meets an
// unknown key id).
type metadata struct {
	Issuer                   string   `json:"issuer"`
	AuthorizationEndpoint    string   `json:"authorization_endpoint"`
	TokenEndpoint            string   `json:"token_endpoint"`
	UserinfoEndpoint         string   `json:"userinfo_endpoint"`
	JWKSURI                  string   `json:"jwks_uri"`
	EndSessionEndpoint       string   `json:"end_session_endpoint"`
	IntrospectionEndpoint    string   `json:"introspection_endpoint"`
	RevocationEndpoint       string   `json:"revocation_endpoint"`
	SigningAlgs              []string `json:"id_token_signing_alg_values_supported"`
	TokenAuthMethods         []string `json:"token_endpoint_auth_methods_supported"`
	CodeChallengeMethods     []string `json:"code_challenge_methods_supported"`
	BackchannelLogout        bool     `json:"backchannel_logout_supported"`
	FrontchannelLogout       bool     `json:"frontchannel_logout_supported"`
	IntrospectionAuthMethods []string `json:"introspection_endpoint_auth_methods_supported"`

	// issuerTemplate is set when the provider skips the issuer check:
	// Issuer is then a template the ID token's iss must match.
	issuerTemplate bool

	oidc     *oidc.Provider
	keys     *keySet
	verifier *oidc.IDTokenVerifier
	oauth2   oauth2.Config
}

// asymmetricAlgs are the ID token algorithms Signet accepts: never "none",
// never an HMAC keyed with the client secret (algorithm confusion).
var asymmetricAlgs = []string{
	oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512,
	oidc.PS256, oidc.PS384, oidc.PS512, oidc.EdDSA,
}

const maxDiscoveryBytes = 1 << 20

// discover fetches p's discovery document and checks it.
func (a *Auth) discover(ctx context.Context, p *Provider) (*metadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.discoveryURL(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch discovery: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDiscoveryBytes))
	if err != nil {
		return nil, fmt.Errorf("read discovery: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch discovery: status %s", resp.Status)
	}
	var m metadata
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("decode discovery: %w", err)
	}
	if m.Issuer == "" || m.AuthorizationEndpoint == "" || m.TokenEndpoint == "" || m.JWKSURI == "" {
		return nil, errors.New("discovery lacks issuer, authorization_endpoint, token_endpoint or jwks_uri")
	}
	if !p.SkipIssuerCheck && !sameIssuer(m.Issuer, p.Issuer) {
		return nil, fmt.Errorf("discovery issuer %q does not match the configured issuer %q", m.Issuer, p.Issuer)
	}
	algs := []string{}
	for _, alg := range m.SigningAlgs {
		if slices.Contains(asymmetricAlgs, alg) {
			algs = append(algs, alg)
		}
	}
	if len(algs) == 0 {
		algs = []string{oidc.RS256}
	}
	m.issuerTemplate = p.SkipIssuerCheck
	// The go-oidc provider keeps this context for its JWKS fetches, so it
	// must outlive the request: it carries only the HTTP client.
	keyCtx := oidc.ClientContext(context.Background(), a.client)
	cfg := oidc.ProviderConfig{
		IssuerURL:   m.Issuer,
		AuthURL:     m.AuthorizationEndpoint,
		TokenURL:    m.TokenEndpoint,
		UserInfoURL: m.UserinfoEndpoint,
		JWKSURL:     m.JWKSURI,
		Algorithms:  algs,
	}
	m.oidc = cfg.NewProvider(keyCtx)
	m.keys = newKeySet(m.JWKSURI, m.Issuer, a.client, a.now, a.log)
	m.verifier = m.tokenVerifier(&oidc.Config{
		ClientID:             p.ClientID,
		SupportedSigningAlgs: algs,
		SkipIssuerCheck:      p.SkipIssuerCheck,
		Now:                  a.now,
	})
	style := oauth2.AuthStyleInHeader
	if len(m.TokenAuthMethods) > 0 && !slices.Contains(m.TokenAuthMethods, "client_secret_basic") &&
		slices.Contains(m.TokenAuthMethods, "client_secret_post") {
		style = oauth2.AuthStyleInParams
	}
	if p.ClientSecret == "" {
		// A public client (token_endpoint_auth_method "none") sends only
		// client_id in the body; Basic auth with an empty password is
		// refused by several IdPs.
		style = oauth2.AuthStyleInParams
	}
	m.oauth2 = oauth2.Config{
		ClientID:     p.ClientID,
		ClientSecret: p.ClientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   m.AuthorizationEndpoint,
			TokenURL:  m.TokenEndpoint,
			AuthStyle: style,
		},
		Scopes: p.scopes(),
	}
	return &m, nil
}

// tokenVerifier verifies JWTs signed with the provider's keys (m.keys, not
// go-oidc's own key set, which refetches on every unknown key id).
func (m *metadata) tokenVerifier(cfg *oidc.Config) *oidc.IDTokenVerifier {
	return oidc.NewVerifier(m.Issuer, m.keys, cfg)
}
