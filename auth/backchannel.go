package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

const backchannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// The time bounds of a logout token.
const (
	// maxLogoutTokenAge bounds how old a logout token without exp may be.
	maxLogoutTokenAge = 10 * time.Minute
	// maxLogoutTokenLifetime bounds how far a logout token's exp may lie
	// ahead of now and of its iat: one that claims to be valid longer is
	// refused, so that its jti need not be kept longer.
	maxLogoutTokenLifetime = 24 * time.Hour
	// logoutTokenLeeway is the clock skew allowed on exp and iat.
	logoutTokenLeeway = time.Minute
)

// handleBackchannelLogout is the OpenID Connect Back-Channel Logout 1.0
// receiver: the IdP POSTs a logout_token (a signed JWT naming sid and/or
// sub); Signet verifies it and ends the matching sessions, which are
// refused from their next request on. It answers 200 on success and 400
// with an OAuth error otherwise, never cached.
func (a *Auth) handleBackchannelLogout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	raw := r.PostFormValue("logout_token")
	lt, err := a.verifyLogoutToken(ctx, raw)
	if errors.Is(err, errStoreUnavailable) {
		// The token's jti could not be recorded: the token may be good,
		// and the IdP may send it again.
		a.log.WarnContext(ctx, "back-channel logout not recorded", "err", err)
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable"})
		return
	}
	if err != nil {
		a.log.WarnContext(ctx, "back-channel logout refused", "reason", err.Error())
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "invalid logout token"})
		return
	}
	if err := a.state.revoke(ctx, lt.issuer, lt.sid, lt.sub, a.now()); err != nil {
		// The IdP may retry a logout that was not answered with 200: the
		// jti is let go (if the store allows), so that the retry is not
		// refused as a replay.
		a.state.releaseJTI(context.WithoutCancel(ctx), lt.issuer, lt.jti)
		a.log.WarnContext(ctx, "back-channel logout not recorded", "err", err)
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable"})
		return
	}
	a.log.InfoContext(ctx, "back-channel logout", "provider", lt.provider.ID, "sub", lt.sub, "sid", lt.sid)
	if a.cfg.Events.IdPLogout != nil {
		a.cfg.Events.IdPLogout(ctx, LogoutEvent{Provider: lt.provider.ID, Issuer: lt.issuer, Subject: lt.sub, SID: lt.sid, Channel: "backchannel"})
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

type logoutToken struct {
	provider      *Provider
	issuer        string
	sub, sid, jti string
}

// verifyLogoutToken checks a logout token as Back-Channel Logout 1.0
// section 2.6 asks. It does not use go-oidc's VerifyLogout, which refuses
// a token without exp: Ory Hydra v2.3.0, a certified provider, sends its
// logout tokens without one, so such a token is accepted while its iat is
// at most maxLogoutTokenAge old. go-oidc checks the signature (with an
// asymmetric algorithm, by the provider's key set), iss and aud; on top:
// a known issuer, iat, exp when present, the backchannel-logout event, sub
// or sid, no nonce, typ logout+jwt when typed, and a jti not seen before
// on any instance.
func (a *Auth) verifyLogoutToken(ctx context.Context, raw string) (*logoutToken, error) {
	if raw == "" {
		return nil, errors.New("no logout_token")
	}
	algs := make([]jose.SignatureAlgorithm, len(asymmetricAlgs))
	for i, alg := range asymmetricAlgs {
		algs[i] = jose.SignatureAlgorithm(alg)
	}
	jws, err := jose.ParseSignedCompact(raw, algs)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("not exactly one signature")
	}
	if typ, ok := jws.Signatures[0].Header.ExtraHeaders["typ"].(string); ok &&
		!strings.EqualFold(typ, "logout+jwt") && !strings.EqualFold(typ, "application/logout+jwt") && !strings.EqualFold(typ, "JWT") {
		return nil, fmt.Errorf("typ %q", typ)
	}
	unverified, err := decodeClaims(jws.UnsafePayloadWithoutVerification())
	if err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	iss := unverified.String("iss")
	var p *Provider
	var m *metadata
	for _, cand := range a.order {
		if !sameIssuer(cand.Issuer, iss) && !cand.SkipIssuerCheck {
			continue
		}
		if cm, err := a.metadataFor(ctx, cand); err == nil &&
			(cm.Issuer == iss || cand.SkipIssuerCheck && checkIssuerTemplate(cm.Issuer, iss, unverified) == nil) {
			p, m = cand, cm
			break
		}
	}
	if p == nil {
		return nil, fmt.Errorf("unknown issuer %q", iss)
	}
	v := m.tokenVerifier(&oidc.Config{
		ClientID:             p.ClientID,
		SupportedSigningAlgs: asymmetricAlgs,
		SkipExpiryCheck:      true,
		SkipIssuerCheck:      p.SkipIssuerCheck,
		Now:                  a.now,
	})
	tok, err := v.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	var c Profile
	if err := tok.Claims(&c); err != nil {
		return nil, err
	}
	iat, ok := c["iat"].(float64)
	if !ok {
		return nil, errors.New("no iat")
	}
	now := a.now()
	exp, hasExp := c["exp"].(float64)
	until, err := logoutTokenKeep(now, time.Unix(int64(iat), 0), time.Unix(int64(exp), 0), hasExp)
	if err != nil {
		return nil, err
	}
	events, _ := c["events"].(map[string]any)
	if _, ok := events[backchannelEvent].(map[string]any); !ok {
		return nil, errors.New("no back-channel logout event")
	}
	if _, has := c["nonce"]; has {
		return nil, errors.New("has a nonce")
	}
	lt := &logoutToken{provider: p, issuer: tok.Issuer, sub: c.String("sub"), sid: c.String("sid"), jti: c.String("jti")}
	if lt.sub == "" && lt.sid == "" {
		return nil, errors.New("neither sub nor sid")
	}
	if lt.jti == "" {
		return nil, errors.New("no jti")
	}
	fresh, err := a.state.claimJTI(ctx, lt.issuer, lt.jti, until)
	if err != nil {
		return nil, err
	}
	if !fresh {
		return nil, errors.New("jti replayed")
	}
	return lt, nil
}

// logoutTokenKeep checks a logout token's iat and exp against now and
// returns until when its jti must be remembered, so that a replay is
// refused for as long as the token itself would be accepted: until exp
// (plus the leeway), or for a token without exp until it is too old.
// A token issued in the future, expired, too old, or whose exp lies more
// than maxLogoutTokenLifetime ahead of now or of its iat is refused.
func logoutTokenKeep(now, iat, exp time.Time, hasExp bool) (until time.Time, err error) {
	if iat.After(now.Add(logoutTokenLeeway)) {
		return time.Time{}, errors.New("issued in the future")
	}
	if !hasExp {
		if now.Sub(iat) > maxLogoutTokenAge {
			return time.Time{}, errors.New("too old")
		}
		return iat.Add(maxLogoutTokenAge + logoutTokenLeeway), nil
	}
	if now.After(exp.Add(logoutTokenLeeway)) {
		return time.Time{}, errors.New("expired")
	}
	if exp.Sub(now) > maxLogoutTokenLifetime || exp.Sub(iat) > maxLogoutTokenLifetime {
		return time.Time{}, fmt.Errorf("exp more than %v ahead", maxLogoutTokenLifetime)
	}
	return exp.Add(logoutTokenLeeway), nil
}
