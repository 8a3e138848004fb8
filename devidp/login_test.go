package devidp

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestLoginPage(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.rp(ctx, oauth2.AuthStyleInHeader)
	p := get(t, e.browser(), r.newAuthRequest().url)
	if got, want := p.status, http.StatusOK; got != want {
		t.Fatalf("status = %d, want %d", got, want)
	}
	for _, want := range []string{
		"Development identity provider — development only, never use in production",
		`<input type="text" id="username" name="username"`,
		`<input type="password" id="password" name="password"`,
		`<button type="submit">Sign in</button>`,
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		"Ada Lovelace", "<code>ada</code>", "<code>lovelace</code>",
		"Alan Turing", "<code>turing</code>",
		"Grace Hopper", "<code>hopper</code>",
		"to continue to <strong>" + testClientName + "</strong>", // the application's name, not its client id
		`<span class="pair">also granted <code>read:reports</code></span>`,
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("sign-in page lacks %q", want)
		}
	}
	// The first submit button in the page is the form's own.
	if i, j := strings.Index(p.body, `<button type="submit"`), strings.Index(p.body, `<button type="submit">Sign in</button>`); i != j {
		t.Errorf("first submit button is not the sign-in form's")
	}
	for header, want := range map[string]string{
		"Content-Type":    "text/html; charset=utf-8",
		"Cache-Control":   "no-store",
		"X-Frame-Options": "DENY",
	} {
		if got := p.header.Get(header); got != want {
			t.Errorf("%s = %q, want %q", header, got, want)
		}
	}
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
}

// TestLoginPageAccessibility: the banner is in a landmark; each "Use"
// button's accessible name is its visible label and it is described by
// the user it signs in; a wrong password marks both fields invalid and
// describes them by the error message.
func TestLoginPageAccessibility(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.rp(ctx, oauth2.AuthStyleInHeader)
	b := e.browser()
	p := get(t, b, r.newAuthRequest().url)
	for _, want := range []string{
		`<header class="dev-banner">`,
		`<div class="who" id="user-ada">`,
		`<button type="submit" class="secondary" aria-describedby="user-ada">Use ada</button>`,
		`<button type="submit" class="secondary" aria-describedby="user-grace">Use grace</button>`,
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("sign-in page lacks %q", want)
		}
	}
	for _, bad := range []string{"aria-label=", `role="note"`, `aria-invalid="true"`, `"login-error"`} {
		if strings.Contains(p.body, bad) {
			t.Errorf("sign-in page has %q", bad)
		}
	}

	wrong := e.submitLogin(t, b, loginForm(t, p), "ada", "babbage")
	if wrong.status != http.StatusUnauthorized {
		t.Fatalf("wrong password: status %d", wrong.status)
	}
	for _, want := range []string{
		`<div class="error" id="login-error" role="alert">Wrong username or password.`,
		`id="username" name="username" value="ada" required`,
	} {
		if !strings.Contains(wrong.body, want) {
			t.Errorf("wrong-password page lacks %q", want)
		}
	}
	for _, field := range []string{`id="username"`, `id="password"`} {
		i := strings.Index(wrong.body, field)
		if i < 0 {
			t.Fatalf("no %s field", field)
		}
		tag := wrong.body[i : i+strings.IndexByte(wrong.body[i:], '>')]
		if !strings.Contains(tag, `aria-invalid="true"`) || !strings.Contains(tag, `aria-describedby="login-error"`) {
			t.Errorf("after a wrong password, the field %s is not marked invalid and described by the error: <input %s>", field, tag)
		}
	}
}

// TestClientNameFallsBackToID: a client without a Name is called by its
// ID.
func TestClientNameFallsBackToID(t *testing.T) {
	e := newEnv(t)
	if got := e.idp.clientName(otherClientID); got != otherClientID {
		t.Errorf("clientName = %q, want the id %q", got, otherClientID)
	}
	if got := e.idp.clientName(testClientID); got != testClientName {
		t.Errorf("clientName = %q, want %q", got, testClientName)
	}
}

// TestQuickSignIn: a demo user's "Use" button signs in too, and usernames
// are not case-sensitive.
func TestQuickSignIn(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.rp(ctx, oauth2.AuthStyleInHeader)
	for _, username := range []string{"Alan", " alan "} {
		b := e.browser()
		a := r.newAuthRequest()
		code := e.codeFrom(t, e.submitLogin(t, b, loginForm(t, get(t, b, a.url)), username, "turing"), a.state)
		if _, _, c := r.exchange(t, ctx, a, code); c["username"] != "alan" {
			t.Errorf("signed in as %q: username = %v, want alan", username, c["username"])
		}
	}
}

func TestLoginCSRF(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.rp(ctx, oauth2.AuthStyleInHeader)
	for _, tc := range []struct {
		name   string
		mutate func(form url.Values) *http.Client
	}{
		{"wrong token", func(form url.Values) *http.Client {
			form.Set("csrf_token", "forged")
			return nil
		}},
		{"no token", func(form url.Values) *http.Client {
			form.Del("csrf_token")
			return nil
		}},
		{"another browser", func(url.Values) *http.Client { return e.browser() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := e.browser()
			a := r.newAuthRequest()
			form := loginForm(t, get(t, b, a.url))
			if other := tc.mutate(form); other != nil {
				b = other
			}
			p := e.submitLogin(t, b, form, "ada", "lovelace")
			if got, want := p.status, http.StatusForbidden; got != want {
				t.Fatalf("status = %d, want %d; body:\n%s", got, want, p.body)
			}
			if !strings.Contains(p.body, "Show the sign-in form again") {
				t.Errorf("CSRF page has no way back to the form:\n%s", p.body)
			}
		})
	}
}

func TestPKCERequired(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.rp(ctx, oauth2.AuthStyleInHeader)
	for _, tc := range []struct {
		name string
		opts []oauth2.AuthCodeOption
	}{
		{"no code_challenge", nil},
		{"plain", []oauth2.AuthCodeOption{
			oauth2.SetAuthURLParam("code_challenge", strings.Repeat("a", 43)),
			oauth2.SetAuthURLParam("code_challenge_method", "plain"),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := r.conf.AuthCodeURL("s1", tc.opts...)
			p := get(t, e.browser(), u)
			if p.location == nil {
				t.Fatalf("status %d, want a redirect with an error; body:\n%s", p.status, p.body)
			}
			if got, want := p.location.Query().Get("error"), "invalid_request"; got != want {
				t.Errorf("error = %q, want %q", got, want)
			}
			if got, want := p.location.Query().Get("state"), "s1"; got != want {
				t.Errorf("state = %q, want %q", got, want)
			}
		})
	}
	t.Run("wrong verifier", func(t *testing.T) {
		b := e.browser()
		a := r.newAuthRequest()
		code := e.signIn(t, b, a, "ada", "lovelace")
		_, err := r.conf.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
		if !isOAuthError(err, "invalid_grant") {
			t.Errorf("err = %v, want invalid_grant", err)
		}
	})
}

// TestCodeReplay: a code works once; a second use fails with
// invalid_grant and revokes the tokens the first use got.
func TestCodeReplay(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.rp(ctx, oauth2.AuthStyleInHeader)
	b := e.browser()
	a := r.newAuthRequest()
	code := e.signIn(t, b, a, "ada", "lovelace")
	tok, _, _ := r.exchange(t, ctx, a, code)
	_, err := r.conf.Exchange(ctx, code, oauth2.VerifierOption(a.verifier))
	if !isOAuthError(err, "invalid_grant") {
		t.Fatalf("replay: err = %v, want invalid_grant", err)
	}
	if _, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("access token still works after its code was replayed")
	}
}

func TestExpiry(t *testing.T) {
	ctx := context.Background()
	t.Run("code", func(t *testing.T) {
		e := newEnv(t)
		r := e.rp(ctx, oauth2.AuthStyleInHeader)
		a := r.newAuthRequest()
		code := e.signIn(t, e.browser(), a, "ada", "lovelace")
		e.clock.Advance(codeLifetime + time.Second)
		_, err := r.conf.Exchange(ctx, code, oauth2.VerifierOption(a.verifier))
		if !isOAuthError(err, "invalid_grant") {
			t.Errorf("expired code: err = %v, want invalid_grant", err)
		}
	})
	t.Run("sign-in request", func(t *testing.T) {
		e := newEnv(t)
		r := e.rp(ctx, oauth2.AuthStyleInHeader)
		b := e.browser()
		a := r.newAuthRequest()
		form := loginForm(t, get(t, b, a.url))
		e.clock.Advance(authRequestLifetime + time.Second)
		p := e.submitLogin(t, b, form, "ada", "lovelace")
		if got, want := p.status, http.StatusBadRequest; got != want {
			t.Fatalf("status = %d, want %d", got, want)
		}
		if !strings.Contains(p.body, "This sign-in has expired") {
			t.Errorf("page lacks the expiry message:\n%s", p.body)
		}
		// And it is swept away.
		e.clock.Advance(sweepInterval)
		e.idp.store.startSession("x") // any write sweeps
		e.idp.store.mu.Lock()
		n := len(e.idp.store.authRequests)
		e.idp.store.mu.Unlock()
		if n != 0 {
			t.Errorf("auth requests left after sweep = %d, want 0", n)
		}
	})
	t.Run("session", func(t *testing.T) {
		e := newEnv(t)
		r := e.rp(ctx, oauth2.AuthStyleInHeader)
		b := e.browser()
		a := r.newAuthRequest()
		e.signIn(t, b, a, "ada", "lovelace")
		e.clock.Advance(sessionLifetime + time.Second)
		loginForm(t, get(t, b, r.newAuthRequest().url))
	})
}

// TestAuthorizeErrorsArePages: requests op cannot redirect back get an
// HTML page, not plain text.
func TestAuthorizeErrorsArePages(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.rp(ctx, oauth2.AuthStyleInHeader)
	good := r.newAuthRequest()
	for _, tc := range []struct {
		name   string
		mutate func(q url.Values)
		status int
	}{
		{"unregistered redirect_uri", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }, http.StatusBadRequest},
		{"unknown client", func(q url.Values) { q.Set("client_id", "nobody") }, http.StatusBadRequest},
		{"no client", func(q url.Values) { q.Del("client_id") }, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := mustParse(t, good.url)
			q := u.Query()
			tc.mutate(q)
			u.RawQuery = q.Encode()
			p := get(t, e.browser(), u.String())
			if got := p.status; got != tc.status {
				t.Fatalf("status = %d, want %d; body:\n%s", got, tc.status, p.body)
			}
			if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type = %q, want text/html", ct)
			}
			if !strings.Contains(p.body, "The sign-in request is not valid") {
				t.Errorf("page lacks its heading:\n%s", p.body)
			}
		})
	}
}

// TestPublicClient: a client without a secret signs in with PKCE alone.
func TestPublicClient(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.rp(ctx, oauth2.AuthStyleInParams)
	r.conf.ClientID, r.conf.ClientSecret = otherClientID, ""
	r.conf.RedirectURL = e.srv.URL + "/other/callback"
	b := e.browser()
	a := r.newAuthRequest()
	p := e.submitLogin(t, b, loginForm(t, get(t, b, a.url)), "ada", "lovelace")
	if p.location == nil {
		t.Fatalf("no redirect: %d\n%s", p.status, p.body)
	}
	tok, err := r.conf.Exchange(ctx, p.location.Query().Get("code"), oauth2.VerifierOption(a.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.Extra("id_token") == nil {
		t.Error("no ID token")
	}
}
