package devidp

import (
	"context"
	"errors"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// setUserClaims fills info with the claims of user that scopes allow:
// sub always; name, given_name, family_name, preferred_username and
// username (the username, as Asgardeo sends it) with "profile"; email and
// email_verified with "email".
func setUserClaims(info *oidc.UserInfo, u User, scopes []string) {
	info.Subject = u.ID
	if slices.Contains(scopes, oidc.ScopeProfile) {
		info.Name = u.Name()
		info.GivenName = u.GivenName
		info.FamilyName = u.FamilyName
		info.PreferredUsername = u.Username
		info.AppendClaims("username", u.Username)
	}
	if slices.Contains(scopes, oidc.ScopeEmail) && u.Email != "" {
		info.Email = u.Email
		info.EmailVerified = true
	}
}

// SetUserinfoFromScopes is deprecated in op and left empty;
// SetUserinfoFromRequest does the work.
func (s *store) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's user claims, plus sid, the
// SSO session the token belongs to.
func (s *store) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	u, ok := s.users.byID[req.GetSubject()]
	if !ok {
		return oidc.ErrInvalidGrant().WithDescription("unknown user")
	}
	setUserClaims(info, u, scopes)
	var sid string
	switch r := req.(type) {
	case *authRequest:
		sid = r.sessionID
	case *refreshTokenRequest:
		sid = r.sessionID
	}
	if sid != "" {
		info.AppendClaims("sid", sid)
	}
	return nil
}

// errInactiveToken is a token that is unknown, expired or revoked.
var errInactiveToken = errors.New("access token is not active")

// SetUserinfoFromToken fills the userinfo response for access token
// tokenID, with the claims its scopes allow.
func (s *store) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	t, ok := s.accessToken(tokenID)
	if !ok || t.subject != subject {
		return errInactiveToken
	}
	u, ok := s.users.byID[t.subject]
	if !ok {
		return errInactiveToken
	}
	setUserClaims(info, u, t.scopes)
	return nil
}

// SetIntrospectionFromToken answers the introspection endpoint.
func (s *store) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, _ string) error {
	t, ok := s.accessToken(tokenID)
	if !ok || t.subject != subject {
		return nil // active: false
	}
	u, ok := s.users.byID[t.subject]
	if !ok {
		return nil
	}
	info := new(oidc.UserInfo)
	setUserClaims(info, u, t.scopes)
	resp.SetUserInfo(info)
	resp.Active = true
	resp.Scope = t.scopes
	resp.ClientID = t.clientID
	resp.TokenType = oidc.BearerToken
	resp.Expiration = oidc.FromTime(t.expires)
	resp.IssuedAt = oidc.FromTime(t.issued)
	resp.AuthTime = oidc.FromTime(t.authTime)
	resp.Audience = oidc.Audience{t.clientID}
	resp.Subject = t.subject
	resp.Username = u.Username
	return nil
}

// GetPrivateClaimsFromScopes adds nothing: access tokens are opaque.
func (s *store) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}
