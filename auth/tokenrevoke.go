package auth

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// revokeTokensOf revokes an ended session's refresh token at its IdP
// (RFC 7009), when discovery advertises a revocation_endpoint, so that
// the token dies with the session. It runs in the background: the request
// that found the session ended does not wait for the IdP. The IdP's own
// session (its cookie in the browser) is left alone.
func (a *Auth) revokeTokensOf(ctx context.Context, rec *Record) {
	if rec.RefreshToken == "" {
		return
	}
	p, ok := a.providers[rec.Provider]
	if !ok {
		return
	}
	token := rec.RefreshToken
	// Once per token, on every instance: a copy of an ended cookie sent
	// again and again must not make the app call the IdP each time.
	first, err := a.state.st.Add(ctx, keyRTRevoked+tokenKey("revoke", rec.Provider, token), []byte("1"), a.now().Add(a.cfg.Session.MaxAge))
	if a.state.health.check(ctx, "claim revocation", err) != nil || !first {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := a.revokeToken(ctx, p, token, "refresh_token"); err != nil {
			a.log.WarnContext(ctx, "refresh token not revoked at the identity provider", "provider", p.ID, "err", err)
			return
		}
		a.log.InfoContext(ctx, "refresh token revoked at the identity provider", "provider", p.ID, "sub", rec.Subject)
	}()
}

// revokeToken calls p's revocation endpoint. No endpoint is not an error.
func (a *Auth) revokeToken(ctx context.Context, p *Provider, token Secret, hint string) error {
	m, err := a.metadataFor(ctx, p)
	if err != nil {
		return err
	}
	if m.RevocationEndpoint == "" {
		return nil
	}
	form := url.Values{"token": {token.Reveal()}, "token_type_hint": {hint}}
	resp, err := a.postAsClient(ctx, p, m, m.RevocationEndpoint, form)
	if err != nil {
		return fmt.Errorf("revocation: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("revocation: status %d", resp.StatusCode)
	}
	return nil
}
