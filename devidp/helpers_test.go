package devidp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

const (
	testClientID     = "signet-test"
	testClientName   = "Example App"
	testClientSecret = "test-secret"
	otherClientID    = "other-app"
)

// sharedKey is one RSA key for all tests, made once: tests measure the
// IdP, not key generation.
var sharedKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, rsaKeyBits)
	if err != nil {
		panic(err)
	}
	return k
})

func testKeyPair() *keyPair {
	k := &keyPair{ready: make(chan struct{}), priv: sharedKey(), id: "test-key"}
	k.once.Do(func() {}) // made already
	close(k.ready)
	return k
}

// clock is a settable clock for the IdP's own expiries.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is an IdP on an httptest server, with a relying party's endpoints
// beside it: /rp/callback (never really called: the test browser stops
// there), /rp/signed-out and /rp/backchannel, which records logout tokens.
type env struct {
	t      *testing.T
	idp    *Server
	srv    *httptest.Server
	issuer string
	clock  *clock

	mu           sync.Mutex
	logoutTokens []string
	bcStatus     int // what /rp/backchannel answers; 0 means 200
}

func (e *env) callbackURL() string  { return e.srv.URL + "/rp/callback" }
func (e *env) signedOutURL() string { return e.srv.URL + "/rp/signed-out" }

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, clock: &clock{t: time.Now()}}
	var handler http.Handler
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	e.issuer = e.srv.URL + "/dev-idp"
	idp, err := newServer(Config{
		Issuer: e.issuer,
		Clients: []Client{
			{
				ID:                     testClientID,
				Name:                   testClientName,
				Secret:                 testClientSecret,
				RedirectURIs:           []string{e.callbackURL()},
				PostLogoutRedirectURIs: []string{e.signedOutURL()},
				BackchannelLogoutURI:   e.srv.URL + "/rp/backchannel",
			},
			{
				ID:           otherClientID,
				RedirectURIs: []string{e.srv.URL + "/other/callback"},
			},
		},
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    e.clock.Now,
	}, testKeyPair())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.idp = idp
	mux := http.NewServeMux()
	mux.Handle("/dev-idp/", idp)
	mux.HandleFunc("POST /rp/backchannel", func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.logoutTokens = append(e.logoutTokens, r.PostFormValue("logout_token"))
		if e.bcStatus != 0 {
			w.WriteHeader(e.bcStatus)
		}
	})
	handler = mux
	return e
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// tokens returns the logout tokens received so far.
func (e *env) tokens() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.logoutTokens...)
}

// browser is a cookie-keeping client that follows redirects inside the
// IdP and stops at the first one leaving it.
func (e *env) browser() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &http.Client{
		Jar: jar,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if !strings.HasPrefix(req.URL.Path, "/dev-idp/") {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}

// rp is the relying party's view: discovery through go-oidc, and an
// oauth2 config for testClientID.
type rp struct {
	provider *oidc.Provider
	conf     *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func (e *env) rp(ctx context.Context, style oauth2.AuthStyle) *rp {
	e.t.Helper()
	p, err := oidc.NewProvider(ctx, e.issuer)
	if err != nil {
		e.t.Fatalf("discovery: %v", err)
	}
	ep := p.Endpoint()
	ep.AuthStyle = style
	return &rp{
		provider: p,
		conf: &oauth2.Config{
			ClientID:     testClientID,
			ClientSecret: testClientSecret,
			Endpoint:     ep,
			RedirectURL:  e.callbackURL(),
			Scopes:       []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess},
		},
		verifier: p.Verifier(&oidc.Config{ClientID: testClientID}),
	}
}

// authRequest is one authorization request a test starts.
type authReq struct {
	url, state, nonce, verifier string
}

func (r *rp) newAuthRequest(extra ...oauth2.AuthCodeOption) authReq {
	a := authReq{state: rand.Text(), nonce: rand.Text(), verifier: oauth2.GenerateVerifier()}
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(a.verifier), oidc.Nonce(a.nonce)}, extra...)
	a.url = r.conf.AuthCodeURL(a.state, opts...)
	return a
}

// page is a fetched response with its body read.
type page struct {
	status   int
	location *url.URL
	body     string
	header   http.Header
}

func do(t *testing.T, c *http.Client, req *http.Request) page {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	p := page{status: resp.StatusCode, body: string(b), header: resp.Header}
	if loc := resp.Header.Get("Location"); loc != "" {
		p.location, err = resp.Request.URL.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func get(t *testing.T, c *http.Client, u string) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, c, req)
}

func postForm(t *testing.T, c *http.Client, u string, form url.Values) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, c, req)
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([a-zA-Z_]+)" value="([^"]*)">`)

// loginForm returns the hidden fields of the page's first form, failing
// if the page is not the sign-in form.
func loginForm(t *testing.T, p page) url.Values {
	t.Helper()
	if p.status != http.StatusOK && p.status != http.StatusUnauthorized {
		t.Fatalf("sign-in form: status %d, want 200 or 401; body:\n%s", p.status, p.body)
	}
	if !strings.Contains(p.body, `name="password"`) {
		t.Fatalf("not the sign-in form:\n%s", p.body)
	}
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(p.body, -1) {
		if v.Has(m[1]) {
			break // the next form starts
		}
		v.Set(m[1], m[2])
	}
	return v
}

// submitLogin posts the sign-in form with username and password.
func (e *env) submitLogin(t *testing.T, c *http.Client, form url.Values, username, password string) page {
	t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	f.Set("username", username)
	f.Set("password", password)
	return postForm(t, c, e.issuer+"/login", f)
}

// codeFrom checks that p redirects to the client's callback with state
// and returns the code.
func (e *env) codeFrom(t *testing.T, p page, state string) string {
	t.Helper()
	if p.location == nil || p.location.String() == "" {
		t.Fatalf("no redirect to the client: status %d, body:\n%s", p.status, p.body)
	}
	q := p.location.Query()
	if got, want := p.location.Scheme+"://"+p.location.Host+p.location.Path, e.callbackURL(); got != want {
		t.Fatalf("redirected to %s, want %s", p.location, want)
	}
	if errCode := q.Get("error"); errCode != "" {
		t.Fatalf("client got error %q: %s", errCode, q.Get("error_description"))
	}
	if got := q.Get("state"); got != state {
		t.Fatalf("state = %q, want %q", got, state)
	}
	code := q.Get("code")
	if code == "" {
		t.Fatalf("no code in %s", p.location)
	}
	return code
}

// signIn runs the browser part of a code flow with the form, as username.
func (e *env) signIn(t *testing.T, c *http.Client, a authReq, username, password string) string {
	t.Helper()
	form := loginForm(t, get(t, c, a.url))
	return e.codeFrom(t, e.submitLogin(t, c, form, username, password), a.state)
}

// exchange redeems code and verifies the ID token.
func (r *rp) exchange(t *testing.T, ctx context.Context, a authReq, code string) (*oauth2.Token, *oidc.IDToken, map[string]any) {
	t.Helper()
	tok, err := r.conf.Exchange(ctx, code, oauth2.VerifierOption(a.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := r.verifier.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if got, want := idt.Nonce, a.nonce; got != want {
		t.Errorf("nonce = %q, want %q", got, want)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	return tok, idt, claims
}

func asRetrieveError(err error, target **oauth2.RetrieveError) bool {
	return errors.As(err, target)
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// rand8 returns 8 random characters.
func rand8() string { return rand.Text()[:8] }
