package devidp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// BackchannelLogoutEvent is the event a logout token carries (OpenID
// Connect Back-Channel Logout 1.0, section 2.4).
const BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// logoutTokenLifetime is how long a logout token may be presented.
const logoutTokenLifetime = 2 * time.Minute

// logoutTokenClaims are the claims of a logout token.
type logoutTokenClaims struct {
	Issuer    string              `json:"iss"`
	Audience  string              `json:"aud"`
	IssuedAt  int64               `json:"iat"`
	Expires   int64               `json:"exp"`
	JWTID     string              `json:"jti"`
	Events    map[string]struct{} `json:"events"`
	Subject   string              `json:"sub"`
	SessionID string              `json:"sid"`
}

// logoutToken signs a logout token for clientID about session ss: RS256
// with the IdP's key, typ "logout+jwt".
func (s *Server) logoutToken(ctx context.Context, clientID string, ss *ssoSession) (string, error) {
	priv, kid, err := s.store.keys.get(ctx)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: priv, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("logout+jwt"),
	)
	if err != nil {
		return "", fmt.Errorf("logout token signer: %w", err)
	}
	now := s.now()
	payload, err := json.Marshal(logoutTokenClaims{
		Issuer:    s.issuer,
		Audience:  clientID,
		IssuedAt:  now.Unix(),
		Expires:   now.Add(logoutTokenLifetime).Unix(),
		JWTID:     newID(),
		Events:    map[string]struct{}{BackchannelLogoutEvent: {}},
		Subject:   ss.userID,
		SessionID: ss.id,
	})
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign logout token: %w", err)
	}
	return jws.CompactSerialize()
}

// backchannelLogout tells every client that signed in through ss and
// registered a BackchannelLogoutURI that the session has ended. It is best
// effort: the requests go out in parallel, each limited to
// backchannelTimeout, and failures are logged, not returned. It returns
// when all have answered or timed out, so that a client's session is gone
// by the time the browser gets back to it.
func (s *Server) backchannelLogout(ctx context.Context, ss *ssoSession) {
	ctx = context.WithoutCancel(ctx) // the browser leaving must not cut these short
	var wg sync.WaitGroup
	for _, id := range ss.clientIDs() {
		c, ok := s.clients[id]
		if !ok || c.BackchannelLogoutURI == "" {
			continue
		}
		wg.Go(func() { s.sendLogoutToken(ctx, c, ss) })
	}
	wg.Wait()
}

// sendLogoutToken POSTs one logout token, as the form field logout_token.
func (s *Server) sendLogoutToken(ctx context.Context, c *client, ss *ssoSession) {
	ctx, cancel := context.WithTimeout(ctx, backchannelTimeout)
	defer cancel()
	log := s.log.With("client_id", c.ID, "uri", c.BackchannelLogoutURI, "sid", ss.id)
	token, err := s.logoutToken(ctx, c.ID, ss)
	if err != nil {
		log.WarnContext(ctx, "back-channel logout not sent", "err", err)
		return
	}
	body := url.Values{"logout_token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BackchannelLogoutURI, strings.NewReader(body))
	if err != nil {
		log.WarnContext(ctx, "back-channel logout not sent", "err", err)
		return
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.http.Do(req)
	if err != nil {
		log.WarnContext(ctx, "back-channel logout failed", "err", err)
		return
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		log.WarnContext(ctx, "back-channel logout refused", "status", resp.StatusCode)
		return
	}
	log.InfoContext(ctx, "back-channel logout delivered")
}
