package devidp

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

// verifyLogoutToken checks a logout token as a relying party would: the
// signature through discovery's JWKS, iss, aud, typ and the claims of
// Back-Channel Logout 1.0 section 2.4. It returns the claims.
func verifyLogoutToken(t *testing.T, ctx context.Context, r *rp, raw string) map[string]any {
	t.Helper()
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("parse logout token: %v", err)
	}
	if got, want := jws.Signatures[0].Header.ExtraHeaders["typ"], any("logout+jwt"); got != want {
		t.Errorf("typ = %v, want %v", got, want)
	}
	tok, err := r.provider.Verifier(&oidc.Config{ClientID: testClientID}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("verify logout token: %v", err)
	}
	var c map[string]any
	if err := tok.Claims(&c); err != nil {
		t.Fatal(err)
	}
	for _, claim := range []string{"iss", "aud", "iat", "exp", "jti", "sub", "sid"} {
		if _, ok := c[claim]; !ok {
			t.Errorf("logout token has no %s: %v", claim, c)
		}
	}
	events, _ := c["events"].(map[string]any)
	if ev, ok := events[BackchannelLogoutEvent].(map[string]any); !ok || len(ev) != 0 {
		t.Errorf("events = %v, want {%q: {}}", c["events"], BackchannelLogoutEvent)
	}
	if _, ok := c["nonce"]; ok {
		t.Error("logout token has a nonce")
	}
	return c
}

// signedIn signs ada in through a new browser and returns the browser, the
// auth request and the tokens.
func signedIn(t *testing.T, ctx context.Context, e *env, r *rp) (*http.Client, *oauth2.Token, map[string]any) {
	t.Helper()
	b := e.browser()
	a := r.newAuthRequest()
	tok, _, claims := r.exchange(t, ctx, a, e.signIn(t, b, a, "ada", "lovelace"))
	return b, tok, claims
}

func endSessionURL(e *env, params url.Values) string {
	return e.issuer + "/end_session?" + params.Encode()
}

// TestEndSession: with a valid id_token_hint the IdP signs out at once:
// back-channel logout, the SSO session and its tokens gone, a redirect
// with state; the next sign-in shows the form again.
func TestEndSession(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.rp(ctx, oauth2.AuthStyleInHeader)
	b, tok, claims := signedIn(t, ctx, e, r)
	idToken, _ := tok.Extra("id_token").(string)

	state := "st-" + rand8()
	p := get(t, b, endSessionURL(e, url.Values{
		"id_token_hint":            {idToken},
		"client_id":                {testClientID},
		"post_logout_redirect_uri": {e.signedOutURL()},
		"state":                    {state},
	}))
	if p.status != http.StatusFound || p.location == nil {
		t.Fatalf("end_session: status %d, want 302; body:\n%s", p.status, p.body)
	}
	if got, want := p.location.Scheme+"://"+p.location.Host+p.location.Path, e.signedOutURL(); got != want {
		t.Errorf("redirected to %s, want %s", got, want)
	}
	if got := p.location.Query().Get("state"); got != state {
		t.Errorf("state = %q, want %q", got, state)
	}

	// Back-channel logout arrived before the redirect.
	lts := e.tokens()
	if got, want := len(lts), 1; got != want {
		t.Fatalf("logout tokens = %d, want %d", got, want)
	}
	lt := verifyLogoutToken(t, ctx, r, lts[0])
	for _, c := range []string{"sub", "sid", "iss"} {
		if lt[c] != claims[c] {
			t.Errorf("logout token %s = %v, want the ID token's %v", c, lt[c], claims[c])
		}
	}

	// The session's tokens are revoked.
	if _, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("userinfo still works with the access token after sign-out")
	}
	_, err := r.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token()
	if !isOAuthError(err, "invalid_grant") {
		t.Errorf("refresh after sign-out: err = %v, want invalid_grant", err)
	}

	// No SSO any more: the form again.
	a := r.newAuthRequest()
	loginForm(t, get(t, b, a.url))
}

// TestEndSessionConfirm: without an id_token_hint (or with one this IdP
// cannot verify), a confirmation page comes first.
func TestEndSessionConfirm(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		hint string
	}{
		{"no hint", ""},
		{"invalid hint", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			r := e.rp(ctx, oauth2.AuthStyleInHeader)
			b, _, claims := signedIn(t, ctx, e, r)
			params := url.Values{
				"client_id":                {testClientID},
				"post_logout_redirect_uri": {e.signedOutURL()},
				"state":                    {"keep-me"},
			}
			if tc.hint != "" {
				params.Set("id_token_hint", tc.hint)
			}
			p := get(t, b, endSessionURL(e, params))
			if got, want := p.status, http.StatusOK; got != want {
				t.Fatalf("status = %d, want %d; body:\n%s", got, want, p.body)
			}
			for _, want := range []string{"Sign out of the development IdP?", "Ada Lovelace", `<button type="submit">`} {
				if !strings.Contains(p.body, want) {
					t.Errorf("confirmation page lacks %q", want)
				}
			}
			if n := len(e.tokens()); n != 0 {
				t.Errorf("logout tokens before confirming = %d, want 0", n)
			}
			form := url.Values{}
			for _, m := range hiddenRE.FindAllStringSubmatch(p.body, -1) {
				form.Set(m[1], m[2])
			}
			done := postForm(t, b, e.issuer+"/end_session", form)
			if done.status != http.StatusSeeOther || done.location == nil {
				t.Fatalf("confirm: status %d, want 303; body:\n%s", done.status, done.body)
			}
			if got := done.location.Query().Get("state"); got != "keep-me" {
				t.Errorf("state = %q, want %q", got, "keep-me")
			}
			lts := e.tokens()
			if len(lts) != 1 {
				t.Fatalf("logout tokens = %d, want 1", len(lts))
			}
			if lt := verifyLogoutToken(t, ctx, r, lts[0]); lt["sid"] != claims["sid"] {
				t.Errorf("logout token sid = %v, want %v", lt["sid"], claims["sid"])
			}
			loginForm(t, get(t, b, r.newAuthRequest().url))

			// A forged confirmation (no CSRF cookie) is refused.
			forged := postForm(t, http.DefaultClient, e.issuer+"/end_session", form)
			if got, want := forged.status, http.StatusForbidden; got != want {
				t.Errorf("forged confirmation: status = %d, want %d", got, want)
			}
		})
	}
}

// TestEndSessionRefusals: bad sign-out requests get an error page, never
// a redirect, and sign nobody out.
func TestEndSessionRefusals(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.rp(ctx, oauth2.AuthStyleInHeader)
	b, tok, _ := signedIn(t, ctx, e, r)
	idToken, _ := tok.Extra("id_token").(string)
	for _, tc := range []struct {
		name   string
		params url.Values
		want   string
	}{
		{"unregistered post_logout_redirect_uri", url.Values{
			"id_token_hint": {idToken}, "post_logout_redirect_uri": {"https://evil.example/"},
		}, "not registered"},
		{"post_logout_redirect_uri of another client", url.Values{
			"client_id": {otherClientID}, "post_logout_redirect_uri": {e.signedOutURL()},
		}, "not registered"},
		{"post_logout_redirect_uri without client", url.Values{
			"post_logout_redirect_uri": {e.signedOutURL()},
		}, "needs a client_id"},
		{"client_id not the hint's", url.Values{
			"id_token_hint": {idToken}, "client_id": {otherClientID},
		}, "does not match"},
		{"unknown client_id", url.Values{"client_id": {"nobody"}}, "not registered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := get(t, b, endSessionURL(e, tc.params))
			if got, want := p.status, http.StatusBadRequest; got != want {
				t.Fatalf("status = %d, want %d; body:\n%s", got, want, p.body)
			}
			if p.location != nil {
				t.Errorf("redirected to %s", p.location)
			}
			if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type = %q, want text/html", ct)
			}
			if !strings.Contains(p.body, tc.want) {
				t.Errorf("page lacks %q:\n%s", tc.want, p.body)
			}
		})
	}
	if n := len(e.tokens()); n != 0 {
		t.Errorf("logout tokens = %d, want 0", n)
	}
	// Still signed in.
	a := r.newAuthRequest()
	e.codeFrom(t, get(t, b, a.url), a.state)
}

// TestEndSessionWithoutRedirect: no post_logout_redirect_uri shows the
// IdP's own signed-out page.
func TestEndSessionWithoutRedirect(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.rp(ctx, oauth2.AuthStyleInHeader)
	b, tok, _ := signedIn(t, ctx, e, r)
	idToken, _ := tok.Extra("id_token").(string)
	p := get(t, b, endSessionURL(e, url.Values{"id_token_hint": {idToken}}))
	if p.status != http.StatusOK || !strings.Contains(p.body, "You are signed out") {
		t.Fatalf("status %d; body:\n%s", p.status, p.body)
	}
}

// TestBackchannelFailureDoesNotBlockSignOut: a relying party that refuses
// the logout token is logged; the browser still gets signed out.
func TestBackchannelFailureDoesNotBlockSignOut(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.bcStatus = http.StatusBadRequest
	r := e.rp(ctx, oauth2.AuthStyleInHeader)
	b, tok, _ := signedIn(t, ctx, e, r)
	idToken, _ := tok.Extra("id_token").(string)
	p := get(t, b, endSessionURL(e, url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {e.signedOutURL()}}))
	if p.status != http.StatusFound {
		t.Fatalf("status = %d, want 302", p.status)
	}
	loginForm(t, get(t, b, r.newAuthRequest().url))
}
