package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"
)

// DefaultRefreshSkew is how long before its access token expires a session
// is refreshed, when Config.RefreshSkew is zero.
const DefaultRefreshSkew = 60 * time.Second

const (
	// refreshGrace is how long the result of a refresh is kept, keyed by
	// the refresh token it used, so that a request that still carries the
	// old session cookie gets the new tokens instead of replaying the
	// rotated refresh token (Auth.js issues #11240, #7558).
	refreshGrace = 60 * time.Second
	// refreshRetryAfter is how long a refresh that failed for a passing
	// reason (IdP down) is not tried again for the same session.
	refreshRetryAfter = 10 * time.Second
	// refreshTimeout bounds one refresh: token endpoint, ID token keys,
	// introspection.
	refreshTimeout = 30 * time.Second
	// refreshLockTTL is how long the store's refresh lock lives: a holder
	// that died is taken over after it. It outlasts refreshTimeout.
	refreshLockTTL = refreshTimeout + 5*time.Second
	// refreshPoll is how often a request waiting for another instance's
	// refresh looks for its result.
	refreshPoll = 25 * time.Millisecond
	// Bounds of the in-memory caches.
	maxRecentRefreshes = 10000
	maxIntrospections  = 10000
)

// tokenState is what Auth keeps in memory about access tokens: the
// refreshes in flight (one per session), their recent results, and
// introspection results.
type tokenState struct {
	flights      singleflight.Group
	recent       *ttlCache[*refreshResult]
	introspected *ttlCache[*Introspection]
}

func newTokenState(now func() time.Time) *tokenState {
	return &tokenState{
		recent:       newTTLCache[*refreshResult](maxRecentRefreshes, now),
		introspected: newTTLCache[*Introspection](maxIntrospections, now),
	}
}

// tokenKey is the cache key of a token: a hash, so that the caches never
// hold a credential.
func tokenKey(kind, provider string, token Secret) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + provider + "\x00" + string(token)))
	return hex.EncodeToString(sum[:])
}

// AccessTokenInfo is the session's access token, for calling an API on the
// user's behalf. Token is a Secret: pass Token.Reveal() in the
// Authorization header, never to a page or a log.
type AccessTokenInfo struct {
	Token Secret
	// Expires is when the token expires; zero when the IdP did not say.
	Expires time.Time
	// Scopes are the token's scopes (see Session.Scopes).
	Scopes []string
	// Provider is the id of the provider that issued it.
	Provider string
}

// AccessToken returns the access token of the session Middleware loaded
// for r, already refreshed when it was due. ok is false when there is no
// usable token: signed out, no Middleware, a session whose refresh failed
// (Session.Error "RefreshTokenError"), an IdP that issued none, or a token
// that has expired and could not be refreshed (no refresh token).
func (a *Auth) AccessToken(r *http.Request) (info AccessTokenInfo, ok bool) {
	l, _ := r.Context().Value(ctxKey{}).(*loaded)
	if l == nil || l.rec == nil {
		return AccessTokenInfo{}, false
	}
	rec := l.rec
	if rec.Error != "" || rec.AccessToken == "" {
		return AccessTokenInfo{}, false
	}
	if !rec.AccessTokenExpires.IsZero() && !a.now().Before(rec.AccessTokenExpires) {
		return AccessTokenInfo{}, false
	}
	return AccessTokenInfo{
		Token:    rec.AccessToken,
		Expires:  rec.AccessTokenExpires,
		Scopes:   strings.Fields(rec.Scope),
		Provider: rec.Provider,
	}, true
}

// ProviderEndpoints are a provider's endpoints from its discovery document;
// an endpoint the IdP does not offer is "".
type ProviderEndpoints struct {
	Issuer        string
	Authorization string
	Token         string
	Userinfo      string
	Introspection string
	Revocation    string
	EndSession    string
	JWKS          string
}

// Endpoints returns the endpoints of the provider providerID, fetching its
// discovery document on first use, so that the app can call, for example,
// the userinfo endpoint with the user's access token. The error is an
// *Error with code UnknownProvider or ProviderUnavailable.
func (a *Auth) Endpoints(ctx context.Context, providerID string) (ProviderEndpoints, error) {
	p, ok := a.providers[providerID]
	if !ok {
		return ProviderEndpoints{}, errorf(CodeUnknownProvider, "no provider %q", providerID)
	}
	m, err := a.metadataFor(ctx, p)
	if err != nil {
		return ProviderEndpoints{}, err
	}
	return ProviderEndpoints{
		Issuer:        m.Issuer,
		Authorization: m.AuthorizationEndpoint,
		Token:         m.TokenEndpoint,
		Userinfo:      m.UserinfoEndpoint,
		Introspection: m.IntrospectionEndpoint,
		Revocation:    m.RevocationEndpoint,
		EndSession:    m.EndSessionEndpoint,
		JWKS:          m.JWKSURI,
	}, nil
}

// refreshSkew is how long before rec's access token expires it is
// refreshed: Config.RefreshSkew (default 60 s), but at most a quarter of
// the token's lifetime when that is known.
func (a *Auth) refreshSkew(rec *Record) time.Duration {
	skew := a.cfg.RefreshSkew
	switch {
	case skew == 0:
		skew = DefaultRefreshSkew
	case skew < 0:
		skew = 0
	}
	if !rec.AccessTokenIssued.IsZero() {
		if life := rec.AccessTokenExpires.Sub(rec.AccessTokenIssued); life > 0 && skew > life/4 {
			skew = life / 4
		}
	}
	return skew
}

// refreshDue reports whether rec's access token has expired or will within
// the skew, and rec can be refreshed: it has a refresh token, a known
// expiry, and no refresh has failed for good.
func (a *Auth) refreshDue(rec *Record, now time.Time) bool {
	if rec.Error != "" || rec.RefreshToken == "" || rec.AccessTokenExpires.IsZero() {
		return false
	}
	return !now.Before(rec.AccessTokenExpires.Add(-a.refreshSkew(rec)))
}

// tokenExpiry is when tok expires, on Auth's clock: the token response's
// expires_in counted from now (oauth2 counts Expiry on the wall clock).
func tokenExpiry(tok *oauth2.Token, now time.Time) time.Time {
	switch {
	case tok.ExpiresIn > 0:
		return now.Add(time.Duration(tok.ExpiresIn) * time.Second)
	case !tok.Expiry.IsZero():
		return now.Add(time.Until(tok.Expiry)).Truncate(time.Second)
	default:
		return time.Time{}
	}
}

// responseScope is the token response's scope; when the IdP left it out,
// RFC 6749 section 5.1 says it is the scope requested (fallback).
func responseScope(tok *oauth2.Token, fallback string) string {
	if s, _ := tok.Extra("scope").(string); strings.TrimSpace(s) != "" {
		return strings.Join(strings.Fields(s), " ")
	}
	return fallback
}

// quoteList renders scopes for a message: "a", "a" and "b", "a", "b" and "c".
func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}
