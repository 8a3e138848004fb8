package auth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/signet-auth/signet/auth/store"
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
		// Waiting for another instance's refresh may take up to a lock's
		// life; the refresh itself has refreshTimeout.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout+refreshLockTTL)
		defer cancel()
		res, keep := a.coordinatedRefresh(fctx, key, &snap)
		if !res.cancelled {
			a.tokens.recent.set(key, res, a.now().Add(keep))
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

// coordinatedRefresh makes sure one refresh grant is made for a refresh
// token however many requests on however many instances need it: the
// first to take the store's lock calls the IdP and leaves the sealed
// result in the store for refreshGrace; the others wait for that result.
// A lock whose holder died expires after refreshLockTTL and is taken over.
// It returns the result and how long this instance may reuse it.
func (a *Auth) coordinatedRefresh(ctx context.Context, key string, snap *Record) (*refreshResult, time.Duration) {
	owner := []byte(randomString(12))
	for {
		res, err := a.storedRefresh(ctx, key)
		if err != nil {
			return &refreshResult{cancelled: true, err: err}, 0
		}
		if res != nil {
			return res, refreshGrace
		}
		took, err := a.state.st.Add(ctx, keyLock+key, owner, a.now().Add(refreshLockTTL))
		if err = a.state.health.check(ctx, "refresh lock", err); err != nil {
			return &refreshResult{cancelled: true, err: err}, 0
		}
		if took {
			break
		}
		select {
		case <-ctx.Done():
			return &refreshResult{cancelled: true, err: ctx.Err()}, 0
		case <-time.After(refreshPoll):
		}
	}
	defer func() {
		_, _ = a.state.st.DeleteIf(context.WithoutCancel(ctx), keyLock+key, owner)
	}()
	// The holder before us may have finished between our look and our lock.
	if res, err := a.storedRefresh(ctx, key); err != nil || res != nil {
		if err != nil {
			return &refreshResult{cancelled: true, err: err}, 0
		}
		return res, refreshGrace
	}
	rctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	res := a.refreshTokens(rctx, snap)
	keep := refreshGrace
	if res.err != nil && !res.permanent {
		keep = refreshRetryAfter
	}
	if b, err := a.sealRefresh(res); err == nil {
		err = a.state.st.Set(ctx, keyRefresh+key, []byte(b), a.now().Add(keep))
		if err = a.state.health.check(ctx, "refresh result", err); err != nil {
			a.log.WarnContext(ctx, "refresh result not shared with other instances", "err", err)
		}
	}
	if res.err != nil {
		level := "passing"
		if res.permanent {
			level = "permanent"
		}
		a.log.WarnContext(rctx, "refresh failed", "provider", snap.Provider, "sub", snap.Subject, "failure", level, "reason", res.err.Error())
	} else {
		a.log.InfoContext(rctx, "access token refreshed", "provider", snap.Provider, "sub", snap.Subject, "expires", res.expires)
	}
	if a.cfg.Events.Refresh != nil {
		a.cfg.Events.Refresh(rctx, RefreshEvent{
			Provider: snap.Provider, Subject: snap.Subject, Err: res.err, Permanent: res.permanent,
			Rotated: res.err == nil && res.refreshToken != snap.RefreshToken,
		})
	}
	return res, keep
}

// storedRefresh returns the result another request left for key, nil when
// there is none, or an error when the store cannot say.
func (a *Auth) storedRefresh(ctx context.Context, key string) (*refreshResult, error) {
	b, err := a.state.get(ctx, keyRefresh+key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	res, err := a.openRefresh(string(b))
	if err != nil {
		// Sealed with a secret this instance does not have: treat it as
		// absent rather than trust it.
		a.log.WarnContext(ctx, "refresh result from the store unreadable", "err", err)
		return nil, nil
	}
	return res, nil
}

// wireRefresh is a refreshResult as the store keeps it, sealed.
type wireRefresh struct {
	Provider     string    `json:"p"`
	Issuer       string    `json:"i"`
	Subject      string    `json:"u"`
	AccessToken  string    `json:"a,omitempty"`
	RefreshToken string    `json:"r,omitempty"`
	IDToken      string    `json:"d,omitempty"`
	Issued       time.Time `json:"t"`
	Expires      time.Time `json:"e"`
	Scope        string    `json:"s,omitempty"`
	Token        Token     `json:"k,omitempty"`
	SignOut      bool      `json:"o,omitempty"`
	Err          string    `json:"x,omitempty"`
	Permanent    bool      `json:"m,omitempty"`
}

const sealRefreshName = "refresh-result"

func (a *Auth) sealRefresh(res *refreshResult) (string, error) {
	w := wireRefresh{
		Provider: res.provider, Issuer: res.issuer, Subject: res.subject,
		AccessToken: res.accessToken.Reveal(), RefreshToken: res.refreshToken.Reveal(), IDToken: res.idToken.Reveal(),
		Issued: res.issued, Expires: res.expires, Scope: res.scope, Token: res.token,
		SignOut: res.signOut, Permanent: res.permanent,
	}
	if res.err != nil {
		w.Err = res.err.Error()
	}
	b, err := json.Marshal(w)
	if err != nil {
		return "", err
	}
	return a.sessionKeys.seal(sealRefreshName, b)
}

func (a *Auth) openRefresh(v string) (*refreshResult, error) {
	b, err := a.sessionKeys.open(sealRefreshName, v)
	if err != nil {
		return nil, err
	}
	var w wireRefresh
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, err
	}
	res := &refreshResult{
		provider: w.Provider, issuer: w.Issuer, subject: w.Subject,
		accessToken: Secret(w.AccessToken), refreshToken: Secret(w.RefreshToken), idToken: Secret(w.IDToken),
		issued: w.Issued, expires: w.Expires, scope: w.Scope, token: w.Token,
		signOut: w.SignOut, permanent: w.Permanent,
	}
	if w.Err != "" {
		res.err = errors.New(w.Err)
	}
	return res, nil
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
