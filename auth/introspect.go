package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Introspection is an OAuth 2.0 Token Introspection (RFC 7662) response.
type Introspection struct {
	// Active is false for a token that is expired, revoked or unknown; the
	// other fields are then empty.
	Active    bool
	Scope     string // space-separated
	ClientID  string
	Username  string
	TokenType string
	Subject   string
	Issuer    string
	Expires   time.Time // zero when the IdP did not say
	IssuedAt  time.Time
	// Claims is the whole response, for members not listed above.
	Claims map[string]any
}

// Scopes splits Scope.
func (i *Introspection) Scopes() []string {
	if i == nil {
		return nil
	}
	return strings.Fields(i.Scope)
}

// ErrNoIntrospection is returned by Introspect for a provider whose
// discovery document has no introspection_endpoint.
var ErrNoIntrospection = errors.New("auth: provider has no introspection endpoint")

// introspectionNoExpiry is how long a response without exp (or an inactive
// one) is cached.
const introspectionNoExpiry = time.Minute

const maxIntrospectionBytes = 256 << 10

// Introspect asks the provider providerID whether token is active and what
// it allows (RFC 7662), authenticating as the client the way the IdP
// requires: client_secret_basic, or client_secret_post when discovery's
// introspection_endpoint_auth_methods_supported lists it and not basic.
// Results are cached in memory (bounded) until the token's exp, so asking
// twice about one token calls the IdP once; a response without exp, or an
// inactive one, is cached for a minute.
func (a *Auth) Introspect(ctx context.Context, providerID string, token Secret) (*Introspection, error) {
	p, ok := a.providers[providerID]
	if !ok {
		return nil, errorf(CodeUnknownProvider, "no provider %q", providerID)
	}
	m, err := a.metadataFor(ctx, p)
	if err != nil {
		return nil, err
	}
	return a.introspect(ctx, p, m, token)
}

func (a *Auth) introspect(ctx context.Context, p *Provider, m *metadata, token Secret) (*Introspection, error) {
	if m.IntrospectionEndpoint == "" {
		return nil, ErrNoIntrospection
	}
	key := tokenKey("introspect", p.ID, token)
	if in, ok := a.tokens.introspected.get(key); ok {
		c := *in
		return &c, nil
	}
	in, err := a.callIntrospection(ctx, p, m, token)
	if err != nil {
		return nil, err
	}
	now := a.now()
	until := now.Add(introspectionNoExpiry)
	if in.Active && !in.Expires.IsZero() {
		until = in.Expires
	}
	c := *in
	a.tokens.introspected.set(key, &c, until)
	return in, nil
}

// introspectionAuthStyle picks how to authenticate at the introspection
// endpoint: "basic" unless the IdP lists its methods without
// client_secret_basic, then "post".
func introspectionAuthStyle(m *metadata) string {
	if len(m.IntrospectionAuthMethods) > 0 && !slices.Contains(m.IntrospectionAuthMethods, "client_secret_basic") {
		return "post"
	}
	return "basic"
}

// postAsClient POSTs form to one of p's endpoints that takes the client's
// credentials (introspection, revocation): with HTTP Basic unless the IdP
// lists its methods without client_secret_basic, else in the form.
func (a *Auth) postAsClient(ctx context.Context, p *Provider, m *metadata, endpoint string, form url.Values) (*http.Response, error) {
	basic := introspectionAuthStyle(m) == "basic" && p.ClientSecret != ""
	if !basic {
		form.Set("client_id", p.ClientID)
		if p.ClientSecret != "" {
			form.Set("client_secret", p.ClientSecret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if basic {
		// RFC 6749 section 2.3.1: the id and secret are form-encoded first.
		req.SetBasicAuth(url.QueryEscape(p.ClientID), url.QueryEscape(p.ClientSecret))
	}
	return a.client.Do(req)
}

func (a *Auth) callIntrospection(ctx context.Context, p *Provider, m *metadata, token Secret) (*Introspection, error) {
	form := url.Values{"token": {token.Reveal()}, "token_type_hint": {"access_token"}}
	resp, err := a.postAsClient(ctx, p, m, m.IntrospectionEndpoint, form)
	if err != nil {
		return nil, fmt.Errorf("introspection: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxIntrospectionBytes))
	if err != nil {
		return nil, fmt.Errorf("introspection: read: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		return nil, fmt.Errorf("introspection: status %s %.100q", resp.Status, e.Error)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil || claims == nil {
		return nil, errors.New("introspection: response is not a JSON object")
	}
	active, ok := claims["active"].(bool)
	if !ok {
		return nil, errors.New("introspection: response has no boolean active member")
	}
	if !active {
		return &Introspection{Active: false, Claims: claims}, nil
	}
	str := func(k string) string { s, _ := claims[k].(string); return s }
	in := &Introspection{
		Active:    true,
		Scope:     str("scope"),
		ClientID:  str("client_id"),
		Username:  str("username"),
		TokenType: str("token_type"),
		Subject:   str("sub"),
		Issuer:    str("iss"),
		Expires:   claimTime(claims["exp"]),
		IssuedAt:  claimTime(claims["iat"]),
		Claims:    claims,
	}
	if !in.Expires.IsZero() && !a.now().Before(in.Expires) {
		return &Introspection{Active: false, Claims: claims}, nil
	}
	return in, nil
}
