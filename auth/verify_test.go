package auth

import (
	"net/http"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/authtest"
)

// TestHostileIDTokens runs the real flow against an IdP that issues a bad
// ID token, one case per OpenID RP conformance test: each must end on the
// error page with a client-safe code, a log line that says why, and no
// session.
func TestHostileIDTokens(t *testing.T) {
	tests := []struct {
		name     string
		provider func(*Provider)
		script   func(idp *authtest.IdP)
		logWhy   string
	}{
		{
			name:   "alg none (rp-id_token-sig-none)",
			script: func(idp *authtest.IdP) { idp.SetSign(authtest.AlgNone) },
			logWhy: `unexpected signature algorithm \"none\"`,
		},
		{
			name: "alg none advertised in discovery",
			script: func(idp *authtest.IdP) {
				idp.AdvertiseAlgs("none")
				idp.SetSign(authtest.AlgNone)
			},
			logWhy: `unexpected signature algorithm \"none\"`,
		},
		{
			name:   "bad RS256 signature (rp-id_token-bad-sig-rs256)",
			script: func(idp *authtest.IdP) { idp.SetSign(authtest.BadSignature) },
			logWhy: "failed to verify signature",
		},
		{
			name:   "HS256 keyed with the client secret (algorithm confusion)",
			script: func(idp *authtest.IdP) { idp.SetSign(authtest.HS256ClientSecret) },
			logWhy: `unexpected signature algorithm \"HS256\"`,
		},
		{
			name: "HS256 advertised in discovery",
			script: func(idp *authtest.IdP) {
				idp.AdvertiseAlgs("HS256")
				idp.SetSign(authtest.HS256ClientSecret)
			},
			logWhy: `unexpected signature algorithm \"HS256\"`,
		},
		{
			name:   "wrong iss (rp-id_token-issuer-mismatch)",
			script: claims(func(c map[string]any) { c["iss"] = "https://evil.example" }),
			logWhy: "id token issued by a different provider",
		},
		{
			name:   "wrong aud (rp-id_token-aud)",
			script: claims(func(c map[string]any) { c["aud"] = "someone-else" }),
			logWhy: "expected audience",
		},
		{
			name:   "missing aud",
			script: claims(func(c map[string]any) { delete(c, "aud") }),
			logWhy: "expected audience",
		},
		{
			name:   "several audiences, no azp",
			script: claims(func(c map[string]any) { c["aud"] = []string{authtest.DefaultClientID, "other-client"} }),
			logWhy: "several audiences and no azp",
		},
		{
			name: "several audiences, wrong azp",
			script: claims(func(c map[string]any) {
				c["aud"] = []string{authtest.DefaultClientID, "other-client"}
				c["azp"] = "other-client"
			}),
			logWhy: `azp \"other-client\" is not the client id`,
		},
		{
			name:   "one audience, wrong azp",
			script: claims(func(c map[string]any) { c["azp"] = "other-client" }),
			logWhy: `azp \"other-client\" is not the client id`,
		},
		{
			name:   "several audiences without the client",
			script: claims(func(c map[string]any) { c["aud"] = []string{"a", "b"}; c["azp"] = "a" }),
			logWhy: "expected audience",
		},
		{
			name:   "expired exp",
			script: claims(func(c map[string]any) { c["exp"] = c["iat"].(int64) - 1 }),
			logWhy: "token is expired",
		},
		{
			name:   "no exp",
			script: claims(func(c map[string]any) { delete(c, "exp") }),
			logWhy: "token is expired",
		},
		{
			name:   "nbf in the future",
			script: claims(func(c map[string]any) { c["nbf"] = c["iat"].(int64) + 3600 }),
			logWhy: "before the nbf",
		},
		{
			name:   "no iat (rp-id_token-iat)",
			script: claims(func(c map[string]any) { delete(c, "iat") }),
			logWhy: "id token has no iat",
		},
		{
			name:   "iat not a number",
			script: claims(func(c map[string]any) { c["iat"] = "yesterday" }),
			logWhy: "failed to unmarshal claims",
		},
		{
			name:   "no sub (rp-id_token-sub)",
			script: claims(func(c map[string]any) { delete(c, "sub") }),
			logWhy: "id token has no sub",
		},
		{
			name:   "empty sub",
			script: claims(func(c map[string]any) { c["sub"] = "" }),
			logWhy: "id token has no sub",
		},
		{
			name:   "wrong nonce (rp-nonce-invalid)",
			script: claims(func(c map[string]any) { c["nonce"] = "not-the-nonce" }),
			logWhy: "id token nonce does not match",
		},
		{
			name:   "missing nonce",
			script: claims(func(c map[string]any) { delete(c, "nonce") }),
			logWhy: "id token nonce does not match",
		},
		{
			name:   "wrong at_hash",
			script: claims(func(c map[string]any) { c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA" }),
			logWhy: "id token at_hash",
		},
		{
			name:     "userinfo with another sub (rp-userinfo-bad-sub-claim)",
			provider: func(p *Provider) { p.Userinfo = true },
			script: func(idp *authtest.IdP) {
				idp.SetUserinfo(func(c map[string]any) { c["sub"] = "user-mallory" })
			},
			logWhy: `userinfo sub \"user-mallory\" differs`,
		},
		{
			name:     "userinfo without sub",
			provider: func(p *Provider) { p.Userinfo = true },
			script: func(idp *authtest.IdP) {
				idp.SetUserinfo(func(c map[string]any) { delete(c, "sub") })
			},
			logWhy: "userinfo sub",
		},
		{
			name:   "signed by a key the JWKS does not hold",
			script: func(idp *authtest.IdP) { idp.SetSign(authtest.ForeignKey) },
			logWhy: "failed to verify signature",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []option
			if tt.provider != nil {
				opts = append(opts, withProvider(tt.provider))
			}
			e := newEnv(t, opts...)
			b := e.browser()
			tt.script(e.idp)
			r := b.callback(b.toIdP(b.startSignIn("oidc", "/profile")))
			b.wantErrorPage(t, r, CodeOAuthCallback)
			e.wantLog(t, "auth flow failed", "code=OAuthCallbackError", tt.logWhy)
			if _, ok := e.idp.LastLogin(); !ok {
				t.Error("the IdP issued no token: the case did not run")
			}
			if s := b.session(); s != nil {
				t.Errorf("signed in with a hostile ID token: %v", s)
			}
			if got := b.sessionCookies(); len(got) != 0 {
				t.Errorf("session cookies set: %v", got)
			}
		})
	}
}

func claims(edit func(map[string]any)) func(*authtest.IdP) {
	return func(idp *authtest.IdP) { idp.SetClaims(edit) }
}

// TestKeyRotationBetweenLogins (rp-key-rotation-op-sign-key): the IdP
// rotates its signing key between two logins; Signet refetches the JWKS
// when it meets the new kid and signs the user in.
func TestKeyRotationBetweenLogins(t *testing.T) {
	for _, keepOld := range []bool{false, true} {
		name := "old key withdrawn"
		if keepOld {
			name = "old key still published"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.browser().signIn()
			if got, want := e.idp.Hits(authtest.JWKS), 1; got != want {
				t.Fatalf("JWKS fetched %d times for the first login, want %d", got, want)
			}
			oldKID := e.idp.KeyID()
			e.idp.RotateKey(keepOld)
			if e.idp.KeyID() == oldKID {
				t.Fatal("rotation kept the kid")
			}
			b := e.browser()
			b.signIn()
			if b.session() == nil {
				t.Fatal("not signed in after the key rotation")
			}
			if got, want := e.idp.Hits(authtest.JWKS), 2; got != want {
				t.Errorf("JWKS fetched %d times, want %d (one refetch on the new kid)", got, want)
			}
			// Further logins use the cached new key.
			e.browser().signIn()
			if got, want := e.idp.Hits(authtest.JWKS), 2; got != want {
				t.Errorf("JWKS fetched %d times after a third login, want %d", got, want)
			}
		})
	}
}

// TestKeyWithoutKID (rp-id_token-kid-absent-single-jwks and
// -multiple-jwks): a token without kid is verified against the single key,
// or against every key when there are several.
func TestKeyWithoutKID(t *testing.T) {
	t.Run("single key", func(t *testing.T) {
		e := newEnv(t, withIdP(authtest.Options{OmitKID: true}))
		if e.idp.KeyID() != "" {
			t.Fatal("IdP still uses a kid")
		}
		b := e.browser()
		b.signIn()
		if b.session() == nil {
			t.Fatal("not signed in")
		}
	})
	t.Run("several keys", func(t *testing.T) {
		e := newEnv(t, withIdP(authtest.Options{OmitKID: true}))
		e.idp.RotateKey(true) // two keys, neither with a kid; the new one signs
		b := e.browser()
		b.signIn()
		if b.session() == nil {
			t.Fatal("not signed in")
		}
	})
	t.Run("rotated, kid absent", func(t *testing.T) {
		e := newEnv(t, withIdP(authtest.Options{OmitKID: true}))
		e.browser().signIn()
		e.idp.RotateKey(false)
		b := e.browser()
		b.signIn()
		if b.session() == nil {
			t.Fatal("not signed in after rotating a key without kid")
		}
	})
}

// TestUserinfoMerged: with Userinfo on, userinfo's claims join the profile
// and the ID token's win on conflict.
func TestUserinfoMerged(t *testing.T) {
	e := newEnv(t, withProvider(func(p *Provider) { p.Userinfo = true }))
	e.idp.SetUserinfo(func(c map[string]any) {
		c["picture"] = "https://img.example/ada.png"
		c["given_name"] = "NotAda"
	})
	b := e.browser()
	b.signIn()
	if got, want := e.idp.Hits(authtest.Userinfo), 1; got != want {
		t.Errorf("userinfo fetched %d times, want %d", got, want)
	}
	user, _ := b.session()["user"].(map[string]any)
	if got, want := user["image"], "https://img.example/ada.png"; got != want {
		t.Errorf("image = %v, want %v (from userinfo)", got, want)
	}
	if got, want := user["given_name"], "Ada"; got != want {
		t.Errorf("given_name = %v, want %v (the ID token's)", got, want)
	}
}

// TestVerifyIDTokenClock: exp is checked against the injected clock.
func TestVerifyIDTokenClock(t *testing.T) {
	e := newEnv(t, withIdP(authtest.Options{Now: func() time.Time { return time.Now().Add(-2 * time.Hour) }}))
	b := e.browser()
	r := b.callback(b.toIdP(b.startSignIn("oidc", "")))
	b.wantErrorPage(t, r, CodeOAuthCallback)
	e.wantLog(t, "token is expired")
}

func TestCheckIDTokenClaimsUnit(t *testing.T) {
	e := newEnv(t)
	e.idp.SetClaims(nil)
	// Fetch discovery through the flow once so the verifier exists.
	b := e.browser()
	b.signIn()
	m, err := e.auth.metadataFor(t.Context(), e.auth.providers["oidc"])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		nonce   string
		edit    func(map[string]any)
		mode    authtest.SignMode
		wantErr bool
	}{
		{"valid", "n", nil, authtest.RS256, false},
		{"nonce expected, token without", "n", func(c map[string]any) { delete(c, "nonce") }, authtest.RS256, true},
		{"no nonce expected, token with one", "", func(c map[string]any) { c["nonce"] = "n" }, authtest.RS256, true},
		{"azp equal to the client", "n", func(c map[string]any) {
			c["aud"] = []string{authtest.DefaultClientID, "x"}
			c["azp"] = authtest.DefaultClientID
		}, authtest.RS256, false},
		{"azp not a string", "n", func(c map[string]any) { c["azp"] = 7 }, authtest.RS256, true},
		{"sub not a string", "n", func(c map[string]any) { c["sub"] = 42 }, authtest.RS256, true},
		{"alg none", "n", nil, authtest.AlgNone, true},
		{"truncated", "n", nil, -1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var raw string
			if tt.mode == -1 {
				raw = e.idp.IDToken(tt.nonce, authtest.RS256, tt.edit)
				raw = raw[:len(raw)-10]
			} else {
				raw = e.idp.IDToken(tt.nonce, tt.mode, tt.edit)
			}
			_, err := verifyIDToken(t.Context(), m, authtest.DefaultClientID, raw, tt.nonce, "")
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Errorf("verifyIDToken error = %v, want error: %v", err, tt.wantErr)
			}
		})
	}
	if got := b.get("/api/auth/session").status; got != http.StatusOK {
		t.Errorf("session status %d", got)
	}
}
