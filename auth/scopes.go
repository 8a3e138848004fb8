package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// accessTokenScope learns which scopes an access token carries, at sign-in
// and after each refresh, so that reading a session costs nothing:
//
//  1. a JWT access token that verifies with the provider's keys (iss and
//     exp checked, typ at+jwt when typed, any audience, since it is meant
//     for an API): its scope claim (space-separated) or scp claim (array
//     or string);
//  2. otherwise, when discovery lists an introspection_endpoint, token
//     introspection (RFC 7662); an inactive token has no scopes;
//  3. otherwise fallback: the token response's scope.
//
// exp is the token's expiry when 1 or 2 told it, else zero.
func (a *Auth) accessTokenScope(ctx context.Context, p *Provider, m *metadata, accessToken, fallback, subject string) (scope string, exp time.Time) {
	if accessToken == "" {
		return fallback, time.Time{}
	}
	if claims, ok := a.verifyJWTAccessToken(ctx, p, m, accessToken); ok {
		if s, found := scopeClaim(claims); found {
			return s, claimTime(claims["exp"])
		}
	}
	if m.IntrospectionEndpoint == "" {
		return fallback, time.Time{}
	}
	in, err := a.introspect(ctx, p, m, Secret(accessToken))
	switch {
	case err != nil:
		a.log.WarnContext(ctx, "token introspection failed: using the token response's scope", "provider", p.ID, "err", err)
		return fallback, time.Time{}
	case !in.Active:
		a.log.WarnContext(ctx, "token introspection says the access token is not active: no scopes", "provider", p.ID, "sub", subject)
		return "", time.Time{}
	case in.Subject != "" && subject != "" && in.Subject != subject:
		a.log.WarnContext(ctx, "token introspection names another subject: no scopes", "provider", p.ID, "sub", subject)
		return "", time.Time{}
	}
	return strings.Join(strings.Fields(in.Scope), " "), in.Expires
}

// verifyJWTAccessToken returns the claims of accessToken when it is a JWT
// signed by the provider's keys, issued by the provider and not expired.
// The audience is not checked: an access token is meant for an API, not for
// this client. RFC 9068 tokens are typed at+jwt; the typ JWT of older IdPs
// (Keycloak, Entra ID, Auth0) is accepted too, any other typ (an ID token's
// or a logout token's) is not.
func (a *Auth) verifyJWTAccessToken(ctx context.Context, p *Provider, m *metadata, accessToken string) (Profile, bool) {
	parts := strings.Split(accessToken, ".")
	if len(parts) != 3 {
		return nil, false
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, false
	}
	var hdr struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
	}
	if json.Unmarshal(hb, &hdr) != nil || hdr.Alg == "" {
		return nil, false
	}
	switch strings.TrimPrefix(strings.ToLower(hdr.Typ), "application/") {
	case "", "at+jwt", "jwt":
	default:
		a.log.DebugContext(ctx, "access token is a JWT of another type", "provider", p.ID, "typ", hdr.Typ)
		return nil, false
	}
	v := m.tokenVerifier(&oidc.Config{
		SkipClientIDCheck:    true,
		SkipIssuerCheck:      p.SkipIssuerCheck,
		SupportedSigningAlgs: asymmetricAlgs,
		Now:                  a.now,
	})
	tok, err := v.Verify(ctx, accessToken)
	if err != nil {
		a.log.DebugContext(ctx, "access token is not a JWT this provider signed", "provider", p.ID, "reason", err.Error())
		return nil, false
	}
	var claims Profile
	if err := tok.Claims(&claims); err != nil {
		return nil, false
	}
	return claims, true
}

// scopeClaim reads a JWT's scope (space-separated string) or scp (array of
// strings, or a string) claim. found is false when it has neither.
func scopeClaim(claims Profile) (scope string, found bool) {
	if s, ok := claims["scope"].(string); ok {
		return strings.Join(strings.Fields(s), " "), true
	}
	switch v := claims["scp"].(type) {
	case string:
		return strings.Join(strings.Fields(v), " "), true
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok && s != "" && !strings.ContainsAny(s, " \t") {
				out = append(out, s)
			}
		}
		return strings.Join(out, " "), true
	}
	return "", false
}

// claimTime reads a NumericDate claim.
func claimTime(v any) time.Time {
	switch n := v.(type) {
	case float64:
		if n > 0 {
			return time.Unix(int64(n), 0)
		}
	case json.Number:
		if i, err := n.Int64(); err == nil && i > 0 {
			return time.Unix(i, 0)
		}
	}
	return time.Time{}
}

// unverifiedClaims decodes a JWT's payload without checking it: only for
// tokens Signet verified before and kept in the sealed session.
func unverifiedClaims(raw string) Profile {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return Profile{}
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return Profile{}
	}
	p, err := decodeClaims(b)
	if err != nil || p == nil {
		return Profile{}
	}
	return p
}
