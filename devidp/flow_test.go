package devidp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestDiscovery(t *testing.T) {
	e := newEnv(t)
	p := get(t, http.DefaultClient, e.issuer+"/.well-known/openid-configuration")
	if p.status != http.StatusOK {
		t.Fatalf("status = %d, want 200", p.status)
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(p.body), &d); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key  string
		want any
	}{
		{"issuer", e.issuer},
		{"authorization_endpoint", e.issuer + "/authorize"},
		{"token_endpoint", e.issuer + "/oauth/token"},
		{"userinfo_endpoint", e.issuer + "/userinfo"},
		{"end_session_endpoint", e.issuer + "/end_session"},
		{"jwks_uri", e.issuer + "/keys"},
		{"backchannel_logout_supported", true},
		{"backchannel_logout_session_supported", true},
	} {
		if got := d[tc.key]; got != tc.want {
			t.Errorf("%s = %v, want %v", tc.key, got, tc.want)
		}
	}
	for _, tc := range []struct {
		key  string
		want []string
	}{
		{"code_challenge_methods_supported", []string{"S256"}},
		{"id_token_signing_alg_values_supported", []string{"RS256"}},
		{"token_endpoint_auth_methods_supported", []string{"client_secret_basic", "client_secret_post"}},
		{"grant_types_supported", []string{"authorization_code", "refresh_token"}},
		{"scopes_supported", []string{"openid", "profile", "email", "offline_access", "read:reports"}},
		{"claims_supported", []string{"sid", "username", "given_name", "family_name", "email_verified"}},
	} {
		list, _ := d[tc.key].([]any)
		for _, w := range tc.want {
			if !slices.Contains(list, any(w)) {
				t.Errorf("%s = %v, want it to contain %q", tc.key, list, w)
			}
		}
	}
}

// TestCodeFlow runs the whole flow with a real client: go-oidc discovery
// and verification, golang.org/x/oauth2 with PKCE, both client
// authentication methods.
func TestCodeFlow(t *testing.T) {
	for _, tc := range []struct {
		name  string
		style oauth2.AuthStyle
	}{
		{"client_secret_basic", oauth2.AuthStyleInHeader},
		{"client_secret_post", oauth2.AuthStyleInParams},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			r := e.rp(ctx, tc.style)
			b := e.browser()
			a := r.newAuthRequest()

			// The form, a wrong password, then the right one.
			form := loginForm(t, get(t, b, a.url))
			wrong := e.submitLogin(t, b, form, "ada", "babbage")
			if got, want := wrong.status, http.StatusUnauthorized; got != want {
				t.Fatalf("wrong password: status = %d, want %d", got, want)
			}
			for _, want := range []string{"Wrong username or password", `name="username" value="ada"`, `id="login-error" role="alert"`, `aria-invalid="true" aria-describedby="login-error"`} {
				if !strings.Contains(wrong.body, want) {
					t.Errorf("wrong password page lacks %q", want)
				}
			}
			form = loginForm(t, wrong)
			code := e.codeFrom(t, e.submitLogin(t, b, form, "ada", "lovelace"), a.state)

			tok, idt, claims := r.exchange(t, ctx, a, code)
			if tok.RefreshToken == "" {
				t.Error("no refresh token, though the scope has offline_access")
			}
			ada := DefaultUsers()[0]
			for _, c := range []struct {
				claim string
				want  any
			}{
				{"sub", ada.ID},
				{"name", "Ada Lovelace"},
				{"given_name", "Ada"},
				{"family_name", "Lovelace"},
				{"email", "ada@example.com"},
				{"email_verified", true},
				{"preferred_username", "ada"},
				{"username", "ada"},
				{"azp", testClientID},
			} {
				if got := claims[c.claim]; got != c.want {
					t.Errorf("ID token %s = %v, want %v", c.claim, got, c.want)
				}
			}
			sid, _ := claims["sid"].(string)
			if sid == "" {
				t.Errorf("ID token has no sid: %v", claims)
			}
			if idt.Issuer != e.issuer {
				t.Errorf("iss = %q, want %q", idt.Issuer, e.issuer)
			}

			// Userinfo with the access token.
			info, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			var infoClaims map[string]any
			if err := info.Claims(&infoClaims); err != nil {
				t.Fatal(err)
			}
			if got, want := info.Subject, ada.ID; got != want {
				t.Errorf("userinfo sub = %q, want %q", got, want)
			}
			if got, want := info.Email, "ada@example.com"; got != want {
				t.Errorf("userinfo email = %q, want %q", got, want)
			}
			if got, want := infoClaims["username"], "ada"; got != want {
				t.Errorf("userinfo username = %v, want %v", got, want)
			}

			// The refresh_token grant: new tokens, same session, the old
			// refresh token spent.
			fresh, err := r.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token()
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if fresh.AccessToken == "" || fresh.AccessToken == tok.AccessToken {
				t.Errorf("refresh gave access token %q, want a new one", fresh.AccessToken)
			}
			if fresh.RefreshToken == "" || fresh.RefreshToken == tok.RefreshToken {
				t.Errorf("refresh gave refresh token %q, want a new one (rotation)", fresh.RefreshToken)
			}
			raw, _ := fresh.Extra("id_token").(string)
			refreshed, err := r.verifier.Verify(ctx, raw)
			if err != nil {
				t.Fatalf("verify refreshed ID token: %v", err)
			}
			var rc map[string]any
			_ = refreshed.Claims(&rc)
			if got := rc["sid"]; got != sid {
				t.Errorf("refreshed ID token sid = %v, want %v", got, sid)
			}
			_, err = r.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token()
			if !isOAuthError(err, "invalid_grant") {
				t.Errorf("reusing a rotated refresh token: err = %v, want invalid_grant", err)
			}
		})
	}
}

// isOAuthError reports whether err is an OAuth error response with code.
func isOAuthError(err error, code string) bool {
	var re *oauth2.RetrieveError
	if err == nil {
		return false
	}
	if ok := asRetrieveError(err, &re); ok {
		return re.ErrorCode == code
	}
	return false
}

// TestRevocation: revoking a refresh token at the revocation endpoint
// stops it and the access tokens of its grant.
func TestRevocation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.rp(ctx, oauth2.AuthStyleInHeader)
	b := e.browser()
	a := r.newAuthRequest()
	tok, _, _ := r.exchange(t, ctx, a, e.signIn(t, b, a, "ada", "lovelace"))

	req, err := http.NewRequest(http.MethodPost, e.issuer+"/revoke", strings.NewReader(url.Values{
		"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"},
	}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(testClientID, testClientSecret)
	if p := do(t, http.DefaultClient, req); p.status != http.StatusOK {
		t.Fatalf("revoke: status %d: %s", p.status, p.body)
	}
	_, err = r.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token()
	if !isOAuthError(err, "invalid_grant") {
		t.Errorf("refresh after revocation: err = %v, want invalid_grant", err)
	}
	if _, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("access token still works after its refresh token was revoked")
	}
}
