package auth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
)

// verifiedIDToken is an ID token that passed every check.
type verifiedIDToken struct {
	token  *oidc.IDToken
	claims Profile
}

// verifyIDToken checks raw as OpenID Connect Core 3.1.3.7 asks: go-oidc
// checks the signature against the provider's JWKS (refetched on an unknown
// key), iss, aud and exp; Signet adds iat and sub presence, azp, nonce and
// at_hash.
func verifyIDToken(ctx context.Context, m *metadata, clientID, raw, nonce, accessToken string) (*verifiedIDToken, error) {
	tok, err := m.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("verify id token: %w", err)
	}
	var claims Profile
	if err := tok.Claims(&claims); err != nil {
		return nil, fmt.Errorf("id token claims: %w", err)
	}
	if err := checkIDTokenClaims(claims, tok, clientID); err != nil {
		return nil, err
	}
	if m.issuerTemplate {
		if err := checkIssuerTemplate(m.Issuer, tok.Issuer, claims); err != nil {
			return nil, err
		}
	}
	if nonce != "" || tok.Nonce != "" {
		if subtle.ConstantTimeCompare([]byte(tok.Nonce), []byte(nonce)) != 1 {
			return nil, errors.New("id token nonce does not match")
		}
	}
	if tok.AccessTokenHash != "" && accessToken != "" {
		if err := tok.VerifyAccessToken(accessToken); err != nil {
			return nil, fmt.Errorf("id token at_hash: %w", err)
		}
	}
	return &verifiedIDToken{token: tok, claims: claims}, nil
}

// checkIDTokenClaims enforces the claims go-oidc leaves to the caller.
func checkIDTokenClaims(claims Profile, tok *oidc.IDToken, clientID string) error {
	if _, ok := claims["iat"].(float64); !ok {
		return errors.New("id token has no iat")
	}
	if sub, _ := claims["sub"].(string); sub == "" {
		return errors.New("id token has no sub")
	}
	azp, hasAZP := claims["azp"]
	if len(tok.Audience) > 1 && !hasAZP {
		return errors.New("id token has several audiences and no azp")
	}
	if hasAZP {
		if s, _ := azp.(string); s != clientID {
			return fmt.Errorf("id token azp %q is not the client id", azp)
		}
	}
	if !slices.Contains(tok.Audience, clientID) {
		return errors.New("id token audience does not contain the client id")
	}
	return nil
}

// checkIssuerTemplate checks iss when go-oidc's issuer check is skipped
// (Provider.SkipIssuerCheck): iss must equal the discovery document's
// issuer, in which "{tenantid}" stands for the token's tid claim, as in
// Microsoft Entra ID's multi-tenant "https://login.microsoftonline.com/{tenantid}/v2.0".
func checkIssuerTemplate(template, iss string, claims Profile) error {
	want := template
	if strings.Contains(template, "{tenantid}") {
		tid := claims.String("tid")
		if tid == "" || strings.ContainsAny(tid, "/?#{}") {
			return fmt.Errorf("id token tid %q cannot fill the issuer template %q", tid, template)
		}
		want = strings.ReplaceAll(template, "{tenantid}", tid)
	}
	if iss != want {
		return fmt.Errorf("id token issuer %q does not match %q", iss, want)
	}
	return nil
}

// jsonNumberClaims decodes a JWT payload into a Profile.
func decodeClaims(payload []byte) (Profile, error) {
	var p Profile
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, err
	}
	return p, nil
}
