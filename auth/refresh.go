package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"time"

	"golang.org/x/oauth2"
)

// RefreshTokenError is the Session.Error of a session whose access token
// could not be refreshed: the refresh token was revoked or expired, the IdP
// refused it, sent an ID token for another user, or could not be reached
// once the access token had expired. Require and RequireScopes treat such a
// session as signed out; pages should ask the user to sign in again, which
// replaces the session.
const RefreshTokenError = "RefreshTokenError"

// RefreshEvent describes one call to the token endpoint that refreshed a
// session's access token. Concurrent requests of one session share one
// refresh, and so one event.
type RefreshEvent struct {
	Provider, Subject string
	// Rotated is true when the IdP sent a new refresh token.
	Rotated bool
	// Err is why the refresh failed; nil when it succeeded.
	Err error
	// Permanent is true when Err ends the session's refreshes
	// (RefreshTokenError); false for a passing failure such as an IdP that
	// cannot be reached, which is tried again on a later request.
	Permanent bool
}

// refreshResult is the outcome of one refresh, shared by every request of
// the session that was waiting for it and kept for the grace period.
type refreshResult struct {
	provider, issuer, subject string

	accessToken, refreshToken, idToken Secret
	issued, expires                    time.Time
	scope                              string
	token                              Token // nil: keep the session's
	signOut                            bool  // the JWT callback returned no token

	err       error
	permanent bool
	cancelled bool // this request gave up waiting; nothing is known
}

// refreshOutcome tells load what a refresh did to the record.
type refreshOutcome int

const (
	refreshNone    refreshOutcome = iota // nothing changed
	refreshChanged                       // rec was refreshed or marked failed: save it
	refreshSignOut                       // the JWT callback ended the session
)

// refreshIfDue refreshes rec in place when its access token is due (see
// refreshDue). Concurrent requests of one session share one call to the
// IdP; a request that comes with the old refresh token shortly after gets
// the same result without calling the IdP again.
func (a *Auth) refreshIfDue(ctx context.Context, rec *Record) refreshOutcome {
	if !a.refreshDue(rec, a.now()) {
		return refreshNone
	}
	res := a.sharedRefresh(ctx, rec)
	return a.applyRefresh(ctx, rec, res)
}

// sharedRefresh returns the result of refreshing rec's refresh token: a
// recent one, the one in flight, or a new one.
func (a *Auth) sharedRefresh(ctx context.Context, rec *Record) *refreshResult {
	key := tokenKey("refresh", rec.Provider, rec.RefreshToken)
	if res, ok := a.tokens.recent.get(key); ok {
		return res
	}
	snap := *rec
	snap.Token = maps.Clone(rec.Token)
	ch := a.tokens.flights.DoChan(key, func() (any, error) {
		// A flight that ended just before this one started left its result.
		if res, ok := a.tokens.recent.get(key); ok {
			return res, nil
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
		defer cancel()
		res := a.refreshTokens(fctx, &snap)
		keep := refreshGrace
		if res.err != nil && !res.permanent {
			keep = refreshRetryAfter
		}
		a.tokens.recent.set(key, res, a.now().Add(keep))
		if res.err != nil {
			level := "passing"
			if res.permanent {
				level = "permanent"
			}
			a.log.WarnContext(fctx, "refresh failed", "provider", snap.Provider, "sub", snap.Subject, "failure", level, "reason", res.err.Error())
		} else {
			a.log.InfoContext(fctx, "access token refreshed", "provider", snap.Provider, "sub", snap.Subject, "expires", res.expires)
		}
		if a.cfg.Events.Refresh != nil {
			a.cfg.Events.Refresh(fctx, RefreshEvent{
				Provider: snap.Provider, Subject: snap.Subject, Err: res.err, Permanent: res.permanent,
				Rotated: res.err == nil && res.refreshToken != snap.RefreshToken,
			})
		}
		return res, nil
	})
	select {
	case r := <-ch:
		return r.Val.(*refreshResult)
	case <-ctx.Done():
		return &refreshResult{cancelled: true, err: ctx.Err()}
	}
}

// applyRefresh puts res into rec.
func (a *Auth) applyRefresh(ctx context.Context, rec *Record, res *refreshResult) refreshOutcome {
	switch {
	case res.cancelled:
		return refreshNone
	case res.signOut:
		return refreshSignOut
	case res.err == nil:
		if res.provider != rec.Provider || res.subject != rec.Subject || res.issuer != rec.Issuer {
			// Cannot happen unless two sessions share a refresh token.
			a.log.ErrorContext(ctx, "refresh result is for another session: not applied", "provider", rec.Provider, "sub", rec.Subject)
			a.markRefreshFailed(rec)
			return refreshChanged
		}
		rec.AccessToken = res.accessToken
		rec.AccessTokenIssued = res.issued
		rec.AccessTokenExpires = res.expires
		rec.RefreshToken = res.refreshToken
		rec.IDToken = res.idToken
		rec.Scope = res.scope
		if res.token != nil {
			rec.Token = maps.Clone(res.token)
		}
		rec.Error = ""
		return refreshChanged
	case res.permanent || !a.now().Before(rec.AccessTokenExpires):
		a.markRefreshFailed(rec)
		return refreshChanged
	default:
		// The IdP is unreachable but the access token still works: keep the
		// session as it is and try again on a later request.
		return refreshNone
	}
}

// markRefreshFailed puts rec in the RefreshTokenError state: the tokens that
// no longer work are dropped (the ID token stays, as logout's
// id_token_hint), and no refresh is tried again.
func (a *Auth) markRefreshFailed(rec *Record) {
	rec.Error = RefreshTokenError
	rec.AccessToken = ""
	rec.AccessTokenIssued = time.Time{}
	rec.AccessTokenExpires = time.Time{}
	rec.RefreshToken = ""
	rec.Scope = ""
}

// refreshTokens calls the token endpoint with rec's refresh token, checks a
// new ID token, learns the new access token's scopes and runs the JWT
// callback.
func (a *Auth) refreshTokens(ctx context.Context, rec *Record) *refreshResult {
	fail := func(permanent bool, err error) *refreshResult {
		return &refreshResult{err: err, permanent: permanent}
	}
	p, ok := a.providers[rec.Provider]
	if !ok {
		return fail(true, fmt.Errorf("provider %q is no longer configured", rec.Provider))
	}
	m, err := a.metadataFor(ctx, p)
	if err != nil {
		return fail(false, err)
	}
	now := a.now()
	old := &oauth2.Token{RefreshToken: rec.RefreshToken.Reveal(), Expiry: time.Unix(1, 0)}
	tok, err := m.oauth2.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, a.client), old).Token()
	if err != nil {
		return fail(permanentTokenError(err), fmt.Errorf("refresh token grant: %w", err))
	}
	res := &refreshResult{
		provider:     rec.Provider,
		issuer:       rec.Issuer,
		subject:      rec.Subject,
		accessToken:  Secret(tok.AccessToken),
		refreshToken: rec.RefreshToken,
		idToken:      rec.IDToken,
		issued:       now,
		expires:      tokenExpiry(tok, now),
	}
	if tok.RefreshToken != "" {
		res.refreshToken = Secret(tok.RefreshToken)
	}
	var profile Profile
	if rawID, _ := tok.Extra("id_token").(string); rawID != "" {
		if profile, err = a.verifyRefreshedIDToken(ctx, p, m, rec, rawID, tok.AccessToken); err != nil {
			return fail(true, err)
		}
		res.idToken = Secret(rawID)
	}
	scope, exp := a.accessTokenScope(ctx, p, m, tok.AccessToken, responseScope(tok, rec.Scope), rec.Subject)
	res.scope = scope
	if res.expires.IsZero() {
		res.expires = exp
	}
	if cb := a.cfg.Callbacks.JWT; cb != nil {
		account := &Account{
			Provider:          rec.Provider,
			Type:              "oidc",
			ProviderAccountID: rec.Subject,
			AccessToken:       res.accessToken,
			TokenType:         tok.TokenType,
			RefreshToken:      res.refreshToken,
			IDToken:           res.idToken,
			ExpiresAt:         res.expires,
			Scope:             res.scope,
		}
		t, err := cb(ctx, JWTParams{Token: rec.Token, Account: account, Profile: profile, Trigger: TriggerRefresh})
		switch {
		case err != nil:
			// The IdP has rotated the refresh token already: keep the new
			// tokens, and the stored token as it was.
			a.log.ErrorContext(ctx, "JWT callback failed on refresh: keeping the stored token", "err", err)
		case t == nil:
			res.signOut = true
		default:
			res.token = t
		}
	}
	return res
}

// verifyRefreshedIDToken checks an ID token from a refresh as OpenID Connect
// Core 12.2 asks: signature, aud and exp as at sign-in, the same iss and sub
// as the session's, the same auth_time when both carry one, and a nonce, if
// any, equal to the original's.
func (a *Auth) verifyRefreshedIDToken(ctx context.Context, p *Provider, m *metadata, rec *Record, raw, accessToken string) (Profile, error) {
	tok, err := m.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("verify refreshed id token: %w", err)
	}
	var claims Profile
	if err := tok.Claims(&claims); err != nil {
		return nil, fmt.Errorf("refreshed id token claims: %w", err)
	}
	if err := checkIDTokenClaims(claims, tok, p.ClientID); err != nil {
		return nil, fmt.Errorf("refreshed id token: %w", err)
	}
	if !sameIssuer(tok.Issuer, rec.Issuer) {
		return nil, fmt.Errorf("refreshed id token iss %q differs from the session's %q", tok.Issuer, rec.Issuer)
	}
	if tok.Subject != rec.Subject {
		return nil, errors.New("refreshed id token is for another subject")
	}
	orig := unverifiedClaims(rec.IDToken.Reveal())
	if tok.Nonce != "" && subtle.ConstantTimeCompare([]byte(tok.Nonce), []byte(orig.String("nonce"))) != 1 {
		return nil, errors.New("refreshed id token nonce differs from the original's")
	}
	if at, ok := claims["auth_time"].(float64); ok {
		if was, ok := orig["auth_time"].(float64); ok && at != was {
			return nil, errors.New("refreshed id token auth_time differs from the original's")
		}
	}
	if tok.AccessTokenHash != "" {
		if err := tok.VerifyAccessToken(accessToken); err != nil {
			return nil, fmt.Errorf("refreshed id token at_hash: %w", err)
		}
	}
	return claims, nil
}

// permanentTokenError reports whether a token endpoint error means the
// refresh token will never work again (invalid_grant, invalid_client, …),
// rather than a passing failure (network, 5xx, 429, a garbled answer).
func permanentTokenError(err error) bool {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return false
	}
	switch re.ErrorCode {
	case "temporarily_unavailable", "server_error", "slow_down":
		return false
	}
	if re.Response != nil {
		s := re.Response.StatusCode
		if s >= 500 || s == http.StatusTooManyRequests || s == http.StatusRequestTimeout {
			return false
		}
	}
	return true
}
