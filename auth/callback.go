package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/oauth2"
)

// handleCallback finishes the authorization code flow: it checks state
// against the state cookie (bound to this browser and provider), exchanges
// the code with the PKCE verifier, verifies the ID token and its nonce,
// runs the SignIn and JWT callbacks and sets the session.
func (a *Auth) handleCallback(w http.ResponseWriter, r *http.Request) {
	p, ok := a.provider(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	cw := a.cookiesFor(r)
	if err := r.ParseForm(); err != nil {
		a.fail(w, r, errorf(CodeOAuthCallback, "parse callback: %w", err))
		return
	}
	// The flow cookies are one-time: they go whatever happens next. They
	// are cleared now, while the headers can still change: a deferred
	// clear would run after the redirect has written them.
	clearFlow(w, cw)

	if e := r.Form.Get("error"); e != "" {
		code := CodeOAuthCallback
		if e == "access_denied" {
			code = CodeAccessDenied
		}
		a.fail(w, r, errorf(code, "provider %q returned error %q: %.200q", p.ID, e, r.Form.Get("error_description")))
		return
	}
	if err := a.checkState(r, cw, p.ID, r.Form.Get("state")); err != nil {
		a.fail(w, r, &Error{Code: CodeVerification, Err: err})
		return
	}
	verifier, err := a.readFlow(r, cw.names.pkce, sealPKCE, p.ID)
	if err != nil {
		a.fail(w, r, &Error{Code: CodeVerification, Err: err})
		return
	}
	nonce, err := a.readFlow(r, cw.names.nonce, sealNonce, p.ID)
	if err != nil {
		a.fail(w, r, &Error{Code: CodeVerification, Err: err})
		return
	}
	target, err := a.readFlow(r, cw.names.callbackURL, sealCallbackURL, p.ID)
	if err != nil {
		target = "/"
	}
	code := r.Form.Get("code")
	if code == "" {
		a.fail(w, r, errorf(CodeOAuthCallback, "callback without code"))
		return
	}
	m, err := a.metadataFor(ctx, p)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	rec, profile, err := a.exchange(ctx, r, p, m, code, verifier, nonce)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// The new session replaces any this browser had, which ends: a copy
	// of its cookie dies with it.
	if old, oldID, err := a.sessions.load(r, cw); err == nil {
		_ = a.state.endSession(ctx, old, oldID)
	}
	rec.Handle = randomString(16)
	id, err := a.sessions.save(w, r, cw, rec, "")
	if err != nil {
		a.fail(w, r, storeError(err, "save session"))
		return
	}
	if err := a.state.index(ctx, rec, id, r.UserAgent(), true); err != nil {
		a.fail(w, r, storeError(err, "index session"))
		return
	}
	a.log.InfoContext(ctx, "signed in", "provider", p.ID, "sub", rec.Subject)
	if a.cfg.Events.SignIn != nil {
		a.cfg.Events.SignIn(ctx, SignInEvent{Provider: p.ID, Subject: rec.Subject, Profile: profile})
	}
	redirect(w, r, a.redirectTarget(ctx, r, target))
}

// exchange redeems code, verifies the ID token and builds the session
// record through the SignIn and JWT callbacks.
func (a *Auth) exchange(ctx context.Context, r *http.Request, p *Provider, m *metadata, code, verifier, nonce string) (*Record, Profile, error) {
	oc := m.oauth2
	oc.RedirectURL = a.callbackURL(r, p)
	tok, err := oc.Exchange(context.WithValue(ctx, oauth2.HTTPClient, a.client), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, nil, errorf(CodeOAuthCallback, "exchange code: %w", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return nil, nil, errorf(CodeOAuthCallback, "token response has no id_token")
	}
	idt, err := verifyIDToken(ctx, m, p.ClientID, rawID, nonce, tok.AccessToken)
	if err != nil {
		return nil, nil, &Error{Code: CodeOAuthCallback, Err: err}
	}
	profile := idt.claims
	if p.Userinfo && m.UserinfoEndpoint != "" {
		if profile, err = a.userinfo(ctx, m, tok, profile); err != nil {
			return nil, nil, &Error{Code: CodeOAuthCallback, Err: err}
		}
	}
	now := a.now()
	atExpires := tokenExpiry(tok, now)
	scope, atExp := a.accessTokenScope(ctx, p, m, tok.AccessToken, responseScope(tok, strings.Join(p.scopes(), " ")), idt.token.Subject)
	if atExpires.IsZero() {
		atExpires = atExp
	}
	account := &Account{
		Provider:          p.ID,
		Type:              "oidc",
		ProviderAccountID: idt.token.Subject,
		AccessToken:       Secret(tok.AccessToken),
		TokenType:         tok.TokenType,
		RefreshToken:      Secret(tok.RefreshToken),
		IDToken:           Secret(rawID),
		ExpiresAt:         atExpires,
		Scope:             scope,
	}
	if cb := a.cfg.Callbacks.SignIn; cb != nil {
		allowed, err := cb(ctx, SignInParams{Account: account, Profile: profile})
		if err != nil || !allowed {
			if err == nil {
				err = errors.New("SignIn callback returned false")
			}
			return nil, nil, &Error{Code: CodeAccessDenied, Err: err}
		}
	}
	token := p.profile(profile)
	if cb := a.cfg.Callbacks.JWT; cb != nil {
		token, err = cb(ctx, JWTParams{Token: token, Account: account, Profile: profile, Trigger: TriggerSignIn})
		if err != nil {
			return nil, nil, &Error{Code: CodeCallback, Err: fmt.Errorf("JWT callback: %w", err)}
		}
		if token == nil {
			return nil, nil, &Error{Code: CodeAccessDenied, Err: errors.New("JWT callback returned no token")}
		}
	}
	sid, _ := profile["sid"].(string)
	return &Record{
		Token:              token,
		Provider:           p.ID,
		Issuer:             idt.token.Issuer,
		Subject:            idt.token.Subject,
		SID:                sid,
		IDToken:            Secret(rawID),
		AccessToken:        Secret(tok.AccessToken),
		AccessTokenExpires: atExpires,
		AccessTokenIssued:  now,
		RefreshToken:       Secret(tok.RefreshToken),
		Scope:              scope,
		IssuedAt:           now,
		UpdatedAt:          now,
		Expires:            now.Add(a.cfg.Session.MaxAge),
	}, profile, nil
}

// userinfo fetches the userinfo endpoint and merges its claims under the ID
// token's, after checking its sub is the ID token's (OIDC Core 5.3.2).
func (a *Auth) userinfo(ctx context.Context, m *metadata, tok *oauth2.Token, idClaims Profile) (Profile, error) {
	ui, err := m.oidc.UserInfo(oidcClientCtx(ctx, a.client), oauth2.StaticTokenSource(tok))
	if err != nil {
		return nil, fmt.Errorf("userinfo: %w", err)
	}
	var claims Profile
	if err := ui.Claims(&claims); err != nil {
		return nil, fmt.Errorf("userinfo claims: %w", err)
	}
	if ui.Subject == "" || ui.Subject != idClaims.String("sub") {
		return nil, fmt.Errorf("userinfo sub %q differs from the id token's", ui.Subject)
	}
	merged := Profile{}
	for k, v := range claims {
		merged[k] = v
	}
	for k, v := range idClaims {
		merged[k] = v
	}
	return merged, nil
}
