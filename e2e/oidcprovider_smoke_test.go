package e2e

// Smoke tests of the external OpenID Provider (oidc-provider/server.mjs) on
// its own, without the app: its discovery document, its login page in a
// browser, and a whole sign-in and sign-out with a small relying party of
// the test's own, including the back-channel logout call to 127.0.0.1 that
// oidc-provider's SSRF protection would refuse.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

func TestOIDCProviderDiscovery(t *testing.T) {
	t.Parallel()
	client := appClient("http://127.0.0.1:1", "oidc")
	op := startOP(t, OPConfig{Clients: []OPClient{client}})
	doc := op.Discovery(t)

	if got, want := doc["issuer"], op.Issuer; got != want {
		t.Errorf("issuer = %v, want %v", got, want)
	}
	if !strings.HasPrefix(op.Issuer, "http://127.0.0.1:") {
		t.Errorf("issuer %q is not on 127.0.0.1", op.Issuer)
	}
	for key, want := range map[string]string{
		"end_session_endpoint":   op.Issuer + "/session/end",
		"authorization_endpoint": op.Issuer + "/auth",
		"token_endpoint":         op.Issuer + "/token",
		"userinfo_endpoint":      op.Issuer + "/me",
		"jwks_uri":               op.Issuer + "/jwks",
		"introspection_endpoint": op.Issuer + "/token/introspection",
		"revocation_endpoint":    op.Issuer + "/token/revocation",
	} {
		if got := doc[key]; got != want {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
	for _, key := range []string{"backchannel_logout_supported", "backchannel_logout_session_supported",
		"frontchannel_logout_supported", "frontchannel_logout_session_supported"} {
		if got := doc[key]; got != true {
			t.Errorf("%s = %v, want true", key, got)
		}
	}
	wantList := map[string][]string{
		"code_challenge_methods_supported": {"S256"},
		"scopes_supported":                 {"openid", "profile", "email", "offline_access", "read:reports"},
		"claims_supported":                 {"sub", "given_name", "family_name", "name", "username", "email"},
		"response_types_supported":         {"code"},
	}
	for key, want := range wantList {
		got := stringList(doc[key])
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("%s = %v, want it to contain %q", key, got, w)
			}
		}
	}
}

func TestOIDCProviderWithoutRPInitiatedLogout(t *testing.T) {
	t.Parallel()
	op := startOP(t, OPConfig{
		Clients:  []OPClient{appClient("http://127.0.0.1:1", "oidc")},
		Features: OPFeatures{RPInitiatedLogout: new(false), FrontchannelLogout: new(false)},
	})
	doc := op.Discovery(t)
	if v, ok := doc["end_session_endpoint"]; ok {
		t.Errorf("end_session_endpoint = %v, want none", v)
	}
	if v, ok := doc["frontchannel_logout_supported"]; ok {
		t.Errorf("frontchannel_logout_supported = %v, want none", v)
	}
	if got := doc["backchannel_logout_supported"]; got != true {
		t.Errorf("backchannel_logout_supported = %v, want true", got)
	}
}

func TestOIDCProviderRequiresPKCE(t *testing.T) {
	t.Parallel()
	client := appClient("http://127.0.0.1:1", "oidc")
	op := startOP(t, OPConfig{Clients: []OPClient{client}})
	q := url.Values{
		"client_id":     {client.ClientID},
		"response_type": {"code"},
		"scope":         {"openid"},
		"redirect_uri":  {client.RedirectURIs[0]},
		"state":         {"s"},
		"nonce":         {"n"},
	}
	// No redirects: oidc-provider reports the error to the redirect_uri.
	hc := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := hc.Get(op.Issuer + "/auth?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc == nil || loc.Query().Get("error") != "invalid_request" || !strings.Contains(loc.Query().Get("error_description"), "PKCE") {
		t.Errorf("authorize without code_challenge: %s, Location %q; want a redirect with error=invalid_request about PKCE",
			resp.Status, resp.Header.Get("Location"))
	}
}

func TestOIDCProviderLoginPage(t *testing.T) {
	t.Parallel()
	client := appClient("http://127.0.0.1:1", "oidc")
	op := startOP(t, OPConfig{Clients: []OPClient{client}})
	authorize := op.Issuer + "/auth?" + url.Values{
		"client_id":             {client.ClientID},
		"response_type":         {"code"},
		"scope":                 {"openid profile email"},
		"redirect_uri":          {client.RedirectURIs[0]},
		"state":                 {"state-1"},
		"nonce":                 {"nonce-1"},
		"code_challenge":        {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())},
		"code_challenge_method": {"S256"},
	}.Encode()

	for _, size := range []struct {
		name string
		opts []BrowserOption
	}{{"desktop", nil}, {"phone", []BrowserOption{phoneSize()}}} {
		t.Run(size.name, func(t *testing.T) {
			ctx := newBrowser(t, size.opts...)
			navigate(t, ctx, authorize)
			waitVisible(t, ctx, opLoginSel)
			waitVisible(t, ctx, opPasswordSel)
			waitVisible(t, ctx, opSubmitSel)
			waitURL(t, ctx, op.Issuer+"/interaction/", "")
			screenshot(t, ctx, "op-login")

			// A wrong password keeps the form and says so.
			typeInto(t, ctx, opLoginSel, "ada")
			typeInto(t, ctx, opPasswordSel, "not-the-password")
			click(t, ctx, opSubmitSel)
			if got := textOf(t, ctx, "#op-login-error"); !strings.Contains(got, "Invalid") {
				t.Errorf("error after a wrong password = %q", got)
			}
			waitVisible(t, ctx, opPasswordSel)
			screenshot(t, ctx, "op-login-wrong-password")
		})
	}
}

// TestOIDCProviderSignInAndOut runs the whole protocol against the OP with a
// small relying party of the test's own: sign-in with PKCE and nonce, the
// claims of the ID token (extra claims included), a refresh, then
// RP-initiated logout, which must call the RP's back-channel logout URI on
// 127.0.0.1 and its front-channel logout URI, land on the
// post_logout_redirect_uri with the state, and end the OP's session (the next
// sign-in shows the login form again).
func TestOIDCProviderSignInAndOut(t *testing.T) {
	t.Parallel()
	rp := newTestRP(t)
	extra := map[string]any{}
	for i := range 40 {
		extra[fmt.Sprintf("extra_claim_%02d", i)] = strings.Repeat("x", 100)
	}
	ada := opAda
	ada.ExtraClaims = extra
	op := startOP(t, OPConfig{
		Clients:  []OPClient{rp.client},
		Accounts: []OPAccount{ada},
		TTL:      map[string]int{"AccessToken": 5, "IdToken": 60},
	})
	rp.connect(t, op)

	ctx := newBrowser(t)
	navigate(t, ctx, rp.srv.URL+"/login")
	waitVisible(t, ctx, opLoginSel)
	typeInto(t, ctx, opLoginSel, "ada")
	typeInto(t, ctx, opPasswordSel, "lovelace")
	click(t, ctx, opSubmitSel)
	waitVisible(t, ctx, "#rp-signed-in")
	screenshot(t, ctx, "rp-signed-in")

	rp.mu.Lock()
	claims, tok, idToken := rp.claims, rp.token, rp.idToken
	rp.mu.Unlock()
	for k, want := range map[string]string{
		"given_name": "Ada", "family_name": "Lovelace", "name": "Ada Lovelace",
		"email": "ada@example.com", "username": "ada@example.com", "sub": "ada",
		"extra_claim_07": strings.Repeat("x", 100),
	} {
		if got := claims[k]; got != want {
			t.Errorf("ID token claim %s = %v, want %q", k, got, want)
		}
	}
	if claims["sid"] == nil {
		t.Errorf("ID token has no sid claim (needed for back-channel logout)")
	}
	if len(idToken) < 4000 {
		t.Errorf("ID token is %d bytes, want a big one (> 4000) with the extra claims", len(idToken))
	}
	if tok.RefreshToken == "" {
		t.Errorf("no refresh token for offline_access")
	}
	if d := time.Until(tok.Expiry); d > 6*time.Second {
		t.Errorf("access token expires in %v, want at most the configured 5s", d)
	}
	refreshed, err := rp.conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil || refreshed.AccessToken == "" {
		t.Errorf("refresh: %v", err)
	}

	// RP-initiated logout.
	navigate(t, ctx, rp.srv.URL+"/logout")
	waitVisible(t, ctx, "#rp-signed-out")
	screenshot(t, ctx, "rp-signed-out")
	op.WaitLog(t, "event backchannel.success", 5*time.Second)
	select {
	case lt := <-rp.backchannel:
		rp.checkLogoutToken(t, lt, claims["sid"])
	case <-time.After(5 * time.Second):
		t.Errorf("the RP got no back-channel logout request")
	}
	select {
	case q := <-rp.frontchannel:
		if q.Get("iss") != op.Issuer || q.Get("sid") != claims["sid"] {
			t.Errorf("front-channel logout got iss=%q sid=%q, want %q %v", q.Get("iss"), q.Get("sid"), op.Issuer, claims["sid"])
		}
	case <-time.After(5 * time.Second):
		t.Errorf("the RP got no front-channel logout request")
	}
	rp.mu.Lock()
	postLogout := rp.postLogout
	rp.mu.Unlock()
	if postLogout.Get("state") != rp.logoutState {
		t.Errorf("post-logout state = %q, want %q", postLogout.Get("state"), rp.logoutState)
	}
	var sawConfirm bool
	for _, p := range pagesSeen(ctx) {
		if p.Has("op-logout-title") {
			sawConfirm = true
		}
	}
	if !sawConfirm {
		t.Errorf("the OP's sign-out page was not seen")
	}

	// The OP's session is gone: signing in asks for credentials again.
	navigate(t, ctx, rp.srv.URL+"/login")
	waitVisible(t, ctx, opLoginSel)
	screenshot(t, ctx, "op-login-again")
}

// TestOIDCProviderConfirmLogout: with LogoutPrompt "confirm", the OP's
// sign-out page waits for a click.
func TestOIDCProviderConfirmLogout(t *testing.T) {
	t.Parallel()
	rp := newTestRP(t)
	op := startOP(t, OPConfig{Clients: []OPClient{rp.client}, LogoutPrompt: "confirm"})
	rp.connect(t, op)

	ctx := newBrowser(t)
	navigate(t, ctx, rp.srv.URL+"/login")
	typeInto(t, ctx, opLoginSel, "ada@example.com") // login by email works too
	typeInto(t, ctx, opPasswordSel, "lovelace")
	click(t, ctx, opSubmitSel)
	waitVisible(t, ctx, "#rp-signed-in")

	navigate(t, ctx, rp.srv.URL+"/logout")
	if got := textOf(t, ctx, "#op-logout-title"); !strings.Contains(got, "Do you want to sign-out") {
		t.Errorf("sign-out page title = %q", got)
	}
	screenshot(t, ctx, "op-logout-confirm")
	click(t, ctx, "#op-logout-yes")
	waitVisible(t, ctx, "#rp-signed-out")
	navigate(t, ctx, rp.srv.URL+"/login")
	waitVisible(t, ctx, opLoginSel)
}

// testRP is a minimal OpenID Connect relying party on httptest.
type testRP struct {
	srv    *httptest.Server
	client OPClient
	conf   oauth2.Config

	provider *oidc.Provider
	endSess  string

	mu          sync.Mutex
	state       string
	nonce       string
	verifier    string
	logoutState string
	token       *oauth2.Token
	idToken     string
	claims      map[string]any
	postLogout  url.Values

	backchannel  chan string
	frontchannel chan url.Values
}

func newTestRP(t *testing.T) *testRP {
	rp := &testRP{backchannel: make(chan string, 4), frontchannel: make(chan url.Values, 4)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", rp.login)
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) { rp.callback(t, w, r) })
	mux.HandleFunc("GET /logout", rp.logout)
	mux.HandleFunc("GET /post-logout", func(w http.ResponseWriter, r *http.Request) {
		rp.mu.Lock()
		rp.postLogout = r.URL.Query()
		rp.mu.Unlock()
		fmt.Fprint(w, `<!DOCTYPE html><title>RP</title><h1 id="rp-signed-out">Signed out</h1>`)
	})
	mux.HandleFunc("POST /backchannel", func(w http.ResponseWriter, r *http.Request) {
		rp.backchannel <- r.PostFormValue("logout_token")
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("GET /frontchannel", func(w http.ResponseWriter, r *http.Request) {
		rp.frontchannel <- r.URL.Query()
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprint(w, "ok")
	})
	rp.srv = httptest.NewServer(mux)
	t.Cleanup(rp.srv.Close)
	rp.client = OPClient{
		ClientID:               "test-rp",
		ClientSecret:           randomString(24),
		RedirectURIs:           []string{rp.srv.URL + "/callback"},
		PostLogoutRedirectURIs: []string{rp.srv.URL + "/post-logout"},
		BackchannelLogoutURI:   rp.srv.URL + "/backchannel",
		FrontchannelLogoutURI:  rp.srv.URL + "/frontchannel",
	}
	return rp
}

// connect discovers the OP.
func (rp *testRP) connect(t *testing.T, op *OP) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(ctx, op.Issuer)
	if err != nil {
		t.Fatalf("discover %s: %v", op.Issuer, err)
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	p.Claims(&extra)
	rp.provider, rp.endSess = p, extra.EndSession
	rp.conf = oauth2.Config{
		ClientID: rp.client.ClientID, ClientSecret: rp.client.ClientSecret,
		Endpoint: p.Endpoint(), RedirectURL: rp.client.RedirectURIs[0],
		Scopes: []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess},
	}
}

func (rp *testRP) login(w http.ResponseWriter, r *http.Request) {
	rp.mu.Lock()
	rp.state, rp.nonce, rp.verifier = randomString(16), randomString(16), oauth2.GenerateVerifier()
	u := rp.conf.AuthCodeURL(rp.state, oidc.Nonce(rp.nonce), oauth2.S256ChallengeOption(rp.verifier))
	rp.mu.Unlock()
	http.Redirect(w, r, u, http.StatusFound)
}

func (rp *testRP) callback(t *testing.T, w http.ResponseWriter, r *http.Request) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	fail := func(format string, args ...any) {
		t.Errorf("test RP callback: "+format, args...)
		http.Error(w, "callback failed", http.StatusBadRequest)
	}
	if e := r.URL.Query().Get("error"); e != "" {
		fail("error %s: %s", e, r.URL.Query().Get("error_description"))
		return
	}
	if r.URL.Query().Get("state") != rp.state {
		fail("state mismatch")
		return
	}
	tok, err := rp.conf.Exchange(r.Context(), r.URL.Query().Get("code"), oauth2.VerifierOption(rp.verifier))
	if err != nil {
		fail("exchange: %v", err)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := rp.provider.Verifier(&oidc.Config{ClientID: rp.client.ClientID}).Verify(r.Context(), raw)
	if err != nil {
		fail("verify ID token: %v", err)
		return
	}
	if idt.Nonce != rp.nonce {
		fail("nonce mismatch")
		return
	}
	var claims map[string]any
	idt.Claims(&claims)
	rp.token, rp.idToken, rp.claims = tok, raw, claims
	fmt.Fprintf(w, `<!DOCTYPE html><title>RP</title><h1 id="rp-signed-in">Signed in as %s</h1>`, claims["name"])
}

func (rp *testRP) logout(w http.ResponseWriter, r *http.Request) {
	rp.mu.Lock()
	rp.logoutState = randomString(16)
	q := url.Values{
		"id_token_hint":            {rp.idToken},
		"client_id":                {rp.client.ClientID},
		"post_logout_redirect_uri": {rp.client.PostLogoutRedirectURIs[0]},
		"state":                    {rp.logoutState},
	}
	rp.mu.Unlock()
	http.Redirect(w, r, rp.endSess+"?"+q.Encode(), http.StatusFound)
}

// checkLogoutToken verifies a back-channel logout token (OIDC Back-Channel
// Logout 1.0, section 2.4).
func (rp *testRP) checkLogoutToken(t *testing.T, raw string, wantSid any) {
	t.Helper()
	v := rp.provider.Verifier(&oidc.Config{ClientID: rp.client.ClientID, SkipExpiryCheck: true})
	tok, err := v.Verify(context.Background(), raw)
	if err != nil {
		t.Errorf("logout token: %v", err)
		return
	}
	var claims struct {
		Sid    string                     `json:"sid"`
		Sub    string                     `json:"sub"`
		Nonce  *string                    `json:"nonce"`
		Events map[string]json.RawMessage `json:"events"`
	}
	if err := tok.Claims(&claims); err != nil {
		t.Errorf("logout token claims: %v", err)
		return
	}
	if _, ok := claims.Events["http://schemas.openid.net/event/backchannel-logout"]; !ok {
		t.Errorf("logout token events = %v, want the backchannel-logout event", claims.Events)
	}
	if claims.Sid != wantSid || claims.Sub != "ada" || claims.Nonce != nil {
		t.Errorf("logout token sid=%q sub=%q nonce=%v, want sid %v, sub ada, no nonce", claims.Sid, claims.Sub, claims.Nonce, wantSid)
	}
}

// stringList converts a JSON array of strings.
func stringList(v any) []string {
	var out []string
	items, _ := v.([]any)
	for _, it := range items {
		if s, ok := it.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// TestOIDCProviderDevInteractions: with devInteractions, oidc-provider's own
// development pages replace the login form of server.mjs.
func TestOIDCProviderDevInteractions(t *testing.T) {
	t.Parallel()
	rp := newTestRP(t)
	op := startOP(t, OPConfig{Clients: []OPClient{rp.client}, Features: OPFeatures{DevInteractions: new(true)}})
	rp.connect(t, op)
	ctx := newBrowser(t)
	navigate(t, ctx, rp.srv.URL+"/login")
	waitVisible(t, ctx, `input[name="login"]`)
	if n := evalJS[int](t, ctx, `document.querySelectorAll('#op-login').length`); n != 0 {
		t.Errorf("the login form of server.mjs is shown, want oidc-provider's development page")
	}
	screenshot(t, ctx, "op-dev-login")
}
