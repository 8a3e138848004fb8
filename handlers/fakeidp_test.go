package handlers

import (
	"maps"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/authtest"
)

// newFakeIdP starts auth's fake OpenID Provider for the app's tests: the
// user "user-1" with claims, 5-minute access tokens, no refresh token and
// a userinfo endpoint only if userinfo.
func newFakeIdP(t *testing.T, claims map[string]any, userinfo bool) *authtest.IdP {
	t.Helper()
	user := map[string]any{"sub": "user-1"}
	maps.Copy(user, claims)
	return authtest.New(t, authtest.Options{
		User:       user,
		NoUserinfo: !userinfo,
		Tokens:     authtest.Tokens{AccessTokenTTL: 5 * time.Minute, NoRefreshToken: true},
	})
}

// issued returns every code, state, nonce and token of the IdP's completed
// sign-ins.
func issued(idp *authtest.IdP) []string {
	var out []string
	for _, l := range idp.Logins() {
		for _, s := range []string{l.Code, l.State, l.Nonce, l.AccessToken, l.IDToken, l.RefreshToken} {
			if s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}
