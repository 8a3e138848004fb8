package devidp

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// accessToken is an issued access token. The token the client holds is
// opaque: op encrypts "id:subject" with a key made at start-up.
type accessToken struct {
	id        string
	clientID  string
	subject   string
	sessionID string
	grantID   string // the auth request the grant started with
	scopes    []string
	issued    time.Time
	expires   time.Time
	authTime  time.Time
}

// refreshToken is an issued refresh token; token is both its value and
// its id. It is bound to its SSO session: ending the session revokes it.
// Each use rotates it.
type refreshToken struct {
	token     string
	clientID  string
	subject   string
	sessionID string
	grantID   string
	scopes    []string // the scopes granted at sign-in
	amr       []string
	authTime  time.Time
	expires   time.Time
}

// refreshTokenRequest is a refresh token being redeemed, as op sees it.
type refreshTokenRequest struct {
	refreshToken
	current []string // the scopes asked for now, a subset of scopes
}

var _ op.RefreshTokenRequest = (*refreshTokenRequest)(nil)

func (r *refreshTokenRequest) GetAMR() []string            { return r.amr }
func (r *refreshTokenRequest) GetAudience() []string       { return []string{r.clientID} }
func (r *refreshTokenRequest) GetAuthTime() time.Time      { return r.authTime }
func (r *refreshTokenRequest) GetClientID() string         { return r.clientID }
func (r *refreshTokenRequest) GetScopes() []string         { return r.current }
func (r *refreshTokenRequest) GetSubject() string          { return r.subject }
func (r *refreshTokenRequest) SetCurrentScopes(s []string) { r.current = slices.Clone(s) }

// grant is what every token issued from one sign-in shares.
type grant struct {
	clientID, subject, sessionID, grantID string
	granted, current                      []string
	amr                                   []string
	authTime                              time.Time
}

// grantOf extracts the grant from the requests op passes when issuing
// tokens: an auth request (code exchange) or a refresh token request.
func grantOf(req op.TokenRequest) (grant, error) {
	switch r := req.(type) {
	case *authRequest:
		return grant{
			clientID: r.clientID, subject: r.userID, sessionID: r.sessionID, grantID: r.id,
			granted: r.scopes, current: r.scopes, amr: r.GetAMR(), authTime: r.authTime,
		}, nil
	case *refreshTokenRequest:
		return grant{
			clientID: r.clientID, subject: r.subject, sessionID: r.sessionID, grantID: r.grantID,
			granted: r.scopes, current: r.current, amr: r.amr, authTime: r.authTime,
		}, nil
	default:
		return grant{}, oidc.ErrUnsupportedGrantType()
	}
}

// newAccessTokenLocked stores an access token for g. s.mu must be held.
func (s *store) newAccessTokenLocked(g grant, now time.Time) *accessToken {
	t := &accessToken{
		id: newID(), clientID: g.clientID, subject: g.subject, sessionID: g.sessionID, grantID: g.grantID,
		scopes: slices.Clone(g.current), issued: now, expires: now.Add(accessTokenLifetime), authTime: g.authTime,
	}
	s.accessTokens[t.id] = t
	return t
}

// sessionAliveLocked reports whether the grant's SSO session still
// exists. s.mu must be held.
func (s *store) sessionAliveLocked(g grant, now time.Time) bool {
	_, ok := s.sessionLocked(g.sessionID, now)
	return ok
}

// CreateAccessToken issues an access token without a refresh token.
func (s *store) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	g, err := grantOf(req)
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.sessionAliveLocked(g, now) {
		return "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("the sign-in session has ended")
	}
	t := s.newAccessTokenLocked(g, now)
	return t.id, t.expires, nil
}

// CreateAccessAndRefreshTokens issues an access token and a refresh
// token. op asks for one when the scope includes offline_access, and on
// every refresh; with currentRefreshToken set, that token is rotated: it
// stops working and the new one replaces it.
func (s *store) CreateAccessAndRefreshTokens(_ context.Context, req op.TokenRequest, currentRefreshToken string) (string, string, time.Time, error) {
	g, err := grantOf(req)
	if err != nil {
		return "", "", time.Time{}, err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if currentRefreshToken != "" {
		old, ok := s.refreshTokens[currentRefreshToken]
		if !ok || old.clientID != g.clientID {
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("refresh token already used or revoked")
		}
		delete(s.refreshTokens, currentRefreshToken)
	}
	if !s.sessionAliveLocked(g, now) {
		return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("the sign-in session has ended")
	}
	at := s.newAccessTokenLocked(g, now)
	rt := &refreshToken{
		token: newRefreshTokenValue(), clientID: g.clientID, subject: g.subject, sessionID: g.sessionID,
		grantID: g.grantID, scopes: slices.Clone(g.granted), amr: slices.Clone(g.amr),
		authTime: g.authTime, expires: now.Add(refreshTokenLifetime),
	}
	s.refreshTokens[rt.token] = rt
	return at.id, rt.token, at.expires, nil
}

// newRefreshTokenValue returns 256 random bits, base32-encoded.
func newRefreshTokenValue() string { return rand.Text() + rand.Text() }

// TokenRequestByRefreshToken looks a live refresh token up.
func (s *store) TokenRequestByRefreshToken(_ context.Context, token string) (op.RefreshTokenRequest, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	rt, ok := s.refreshTokens[token]
	if !ok {
		return nil, errors.New("unknown refresh token")
	}
	if now.After(rt.expires) {
		delete(s.refreshTokens, token)
		return nil, errors.New("refresh token expired")
	}
	c := *rt
	c.scopes = slices.Clone(rt.scopes)
	c.amr = slices.Clone(rt.amr)
	return &refreshTokenRequest{refreshToken: c, current: slices.Clone(rt.scopes)}, nil
}

// accessToken returns a copy of the live access token id.
func (s *store) accessToken(id string) (*accessToken, bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.accessTokens[id]
	if !ok {
		return nil, false
	}
	if now.After(t.expires) {
		delete(s.accessTokens, id)
		return nil, false
	}
	c := *t
	c.scopes = slices.Clone(t.scopes)
	return &c, true
}

// revokeGrantLocked revokes every token issued from auth request grantID.
// s.mu must be held.
func (s *store) revokeGrantLocked(grantID string) {
	for id, t := range s.accessTokens {
		if t.grantID == grantID {
			delete(s.accessTokens, id)
		}
	}
	for id, t := range s.refreshTokens {
		if t.grantID == grantID {
			delete(s.refreshTokens, id)
		}
	}
}

// RevokeToken revokes an access token (by id) or a refresh token (by
// value) at the revocation endpoint. Revoking a refresh token revokes the
// access tokens of its grant too (RFC 7009 section 2.1). Unknown tokens
// are not an error.
func (s *store) RevokeToken(_ context.Context, tokenOrID, _ string, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rt, ok := s.refreshTokens[tokenOrID]; ok {
		if rt.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was issued to another client")
		}
		s.revokeGrantLocked(rt.grantID)
		return nil
	}
	if at, ok := s.accessTokens[tokenOrID]; ok {
		if at.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was issued to another client")
		}
		delete(s.accessTokens, tokenOrID)
	}
	return nil
}

// GetRefreshTokenInfo tells the revocation endpoint whether token is one
// of our refresh tokens.
func (s *store) GetRefreshTokenInfo(_ context.Context, clientID, token string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt, ok := s.refreshTokens[token]
	if !ok || rt.clientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return rt.subject, rt.token, nil
}

// TerminateSession ends every SSO session of userID. op calls it from its
// own end_session handler, which this IdP replaces with handleEndSession;
// it is here for completeness and sends back-channel logouts too.
func (s *store) TerminateSession(ctx context.Context, userID, _ string) error {
	for _, sid := range s.sessionsOf(userID) {
		if ss, ok := s.endSession(sid); ok && s.onEnd != nil {
			s.onEnd(ctx, ss)
		}
	}
	return nil
}
