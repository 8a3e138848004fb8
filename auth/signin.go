package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
)

// authorizeParams are the request parameters a sign-in may pass through to
// the authorization request (Auth.js merges query parameters in; Signet
// passes only these).
var authorizeParams = []string{"prompt", "login_hint", "ui_locales", "acr_values", "max_age", "screen_hint"}

// handleSignInPage serves the default sign-in page.
func (a *Auth) handleSignInPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	target := q.Get("callbackUrl")
	data := SignInPage{
		Providers:   a.Providers(r),
		CSRFToken:   a.CSRFToken(w, r),
		CallbackURL: relativeTo(a.redirectTarget(r.Context(), r, target), a.origin(r)),
	}
	if e := q.Get("error"); e != "" {
		data.Error = knownCode(e)
	}
	// The authorization parameters the page was asked with (prompt=login
	// for "sign in with another account") go on to the provider.
	fwd := url.Values{}
	for _, k := range authorizeParams {
		if v := q.Get(k); v != "" {
			fwd.Set(k, v)
		}
	}
	if len(fwd) > 0 {
		for i := range data.Providers {
			data.Providers[i].SignInURL += "?" + fwd.Encode()
		}
	}
	pageFn := a.cfg.Pages.SignIn
	if pageFn == nil {
		pageFn = defaultSignInPage
	}
	a.render(w, r, http.StatusOK, pageFn(data))
}

// handleSignIn starts the authorization code flow: it binds state, nonce
// and a PKCE verifier to this browser and provider in sealed, 15-minute
// cookies and sends the browser to the provider's authorization endpoint.
func (a *Auth) handleSignIn(w http.ResponseWriter, r *http.Request) {
	p, ok := a.provider(w, r)
	if !ok {
		return
	}
	if r.Method == http.MethodPost {
		if err := a.checkCSRF(r); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	ctx := r.Context()
	m, err := a.metadataFor(ctx, p)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	target := r.FormValue("callbackUrl")
	if target == "" {
		target = r.FormValue("redirectTo")
	}
	target = a.redirectTarget(ctx, r, target)

	cw := a.cookiesFor(r)
	state, nonce, verifier := randomString(32), randomString(32), randomString(48)
	for _, c := range []struct{ name, seal, value string }{
		{cw.names.state, sealState, state},
		{cw.names.nonce, sealNonce, nonce},
		{cw.names.pkce, sealPKCE, verifier},
		{cw.names.callbackURL, sealCallbackURL, target},
	} {
		if err := a.setFlow(w, cw, c.name, c.seal, p.ID, c.value); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	u, err := url.Parse(m.AuthorizationEndpoint)
	if err != nil {
		a.fail(w, r, errorf(CodeOAuthSignin, "authorization endpoint %q: %w", m.AuthorizationEndpoint, err))
		return
	}
	q := u.Query()
	for k, vs := range p.AuthParams {
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	for _, k := range authorizeParams {
		if v := r.URL.Query().Get(k); v != "" {
			q.Set(k, v)
		}
	}
	sum := sha256.Sum256([]byte(verifier))
	q.Set("response_type", "code")
	q.Set("client_id", p.ClientID)
	q.Set("redirect_uri", a.callbackURL(r, p))
	q.Set("scope", strings.Join(p.scopes(), " "))
	q.Set("state", state)
	q.Set("nonce", nonce)
	q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
	q.Set("code_challenge_method", "S256")
	u.RawQuery = q.Encode()
	redirect(w, r, u.String())
}

// callbackURL is the redirect_uri registered at the provider.
func (a *Auth) callbackURL(r *http.Request, p *Provider) string {
	return a.origin(r) + a.basePath + "/callback/" + p.ID
}
