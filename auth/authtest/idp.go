// Package authtest is a fake OpenID Provider for tests of apps that use
// auth, like net/http/httptest: a scriptable IdP served by httptest on
// 127.0.0.1. It implements just enough of OpenID Connect for a
// relying party to run the authorization code flow end to end: discovery,
// JWKS, authorize (which redirects back at once with a code, as if the user
// had signed in), token (client_secret_basic or client_secret_post, PKCE
// S256, single-use codes), userinfo, end_session and back-channel logout
// tokens. Tokens sets how it issues access tokens (lifetime, opaque or JWT
// with a scope, the response's scope), refresh tokens (rotated or not, a
// refresh that fails or answers late) and whether it serves token
// introspection.
//
// It can also misbehave on purpose, as the OpenID Foundation's relying-party
// conformance tests do: edit the ID token's claims before signing (wrong
// iss, aud, nonce, missing iat or sub, expired exp …), sign with alg none,
// a broken RS256 signature or HS256 keyed with the client secret, omit the
// key id, rotate its signing key, answer userinfo with another sub, leave
// end_session_endpoint out of discovery, and make any endpoint drop the
// connection, answer 500, answer garbage or hang.
//
// Every method is safe for concurrent use.
package authtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Endpoint names one of the IdP's endpoints, for Fail and Hits.
type Endpoint string

// The IdP's endpoints.
const (
	Discovery     Endpoint = "discovery"
	JWKS          Endpoint = "jwks"
	Authorize     Endpoint = "authorize"
	Token         Endpoint = "token"
	Userinfo      Endpoint = "userinfo"
	EndSession    Endpoint = "end_session"
	Revocation    Endpoint = "revocation"
	Introspection Endpoint = "introspection"
)

// Paths of the endpoints, under the issuer URL.
const (
	DiscoveryPath     = "/.well-known/openid-configuration"
	JWKSPath          = "/jwks"
	AuthorizePath     = "/authorize"
	TokenPath         = "/token"
	UserinfoPath      = "/userinfo"
	EndSessionPath    = "/logout"
	RevocationPath    = "/revoke"
	IntrospectionPath = "/introspect"
)

// Failure is how an endpoint misbehaves.
type Failure int

// The failures an endpoint can be given with Fail.
const (
	// OK answers normally.
	OK Failure = iota
	// Down closes the connection without answering, as a dead upstream does.
	Down
	// Status500 answers 500 with a JSON error body.
	Status500
	// Garbage answers 200 with a body that is not JSON.
	Garbage
	// Hang never answers: the request stays open until the client gives up
	// or the IdP is closed.
	Hang
	// InvalidGrant answers 400 with the OAuth error invalid_grant, as a
	// token endpoint does for a refresh token it no longer honours.
	InvalidGrant
)

// SignMode is how a JWT is signed.
type SignMode int

// The signing modes.
const (
	// RS256 signs with the IdP's current RSA key, with its kid (unless the
	// IdP omits kids).
	RS256 SignMode = iota
	// AlgNone is an unsecured JWT: header alg "none", empty signature.
	AlgNone
	// BadSignature is RS256 with one byte of the signature changed.
	BadSignature
	// HS256ClientSecret is HMAC-SHA256 keyed with the client secret: the
	// algorithm-confusion attack on relying parties that accept any alg.
	HS256ClientSecret
	// ForeignKey is RS256 with a key (and kid) the JWKS never publishes.
	ForeignKey
)

// Options configure an IdP. Every field is optional.
type Options struct {
	// ClientID and ClientSecret are the one registered client. Defaults
	// DefaultClientID and DefaultClientSecret.
	ClientID, ClientSecret string
	// IssuerPath is appended to the server's URL to make the issuer, e.g.
	// "/oauth2/token" for an Asgardeo-like issuer. Default "" (the issuer is
	// the server's URL).
	IssuerPath string
	// Now is the IdP's clock, for iat and exp. Default time.Now.
	Now func() time.Time
	// User is the signed-in user's claims (sub included). Default DefaultUser().
	User map[string]any
	// NoEndSession leaves end_session_endpoint out of discovery.
	NoEndSession bool
	// NoUserinfo leaves userinfo_endpoint out of discovery.
	NoUserinfo bool
	// OmitKID serves the signing key without a kid and signs without one.
	OmitKID bool
	// TokenAuthMethods is discovery's token_endpoint_auth_methods_supported.
	// Default client_secret_basic and client_secret_post.
	TokenAuthMethods []string
	// Listener serves the IdP instead of a fresh one on 127.0.0.1:0, e.g. to
	// bring an IdP up at an address a relying party already knows.
	Listener net.Listener
	// Tokens is how the token endpoint issues tokens; SetTokens changes
	// it later.
	Tokens Tokens
}

// Default client and user.
const (
	DefaultClientID     = "signet-test-client"
	DefaultClientSecret = "Zq8vN2-fake-idp-secret-0123456789abcdef"
)

// DefaultUser is Ada Lovelace, the user of the seed guides.
func DefaultUser() map[string]any {
	return map[string]any{
		"sub":                "user-ada",
		"name":               "Ada Lovelace",
		"given_name":         "Ada",
		"family_name":        "Lovelace",
		"email":              "ada@example.com",
		"email_verified":     true,
		"preferred_username": "ada",
	}
}

// Login is one completed code exchange: what the IdP issued. Tests use it to
// find the session's sid and to check that no token leaks.
type Login struct {
	Code, Nonce, State, SID, Subject string
	RedirectURI, Scope               string
	IDToken, AccessToken             string
	RefreshToken                     string
}

// LogoutCall is one request to the end_session endpoint.
type LogoutCall struct {
	IDTokenHint, ClientID, PostLogoutRedirectURI, State string
}

// IdP is a running fake OpenID Provider.
type IdP struct {
	// URL is the server's base URL, http://127.0.0.1:port.
	URL string
	// Issuer is URL + Options.IssuerPath.
	Issuer                 string
	ClientID, ClientSecret string

	srv  *httptest.Server
	quit chan struct{}
	now  func() time.Time

	mu           sync.Mutex
	keys         []signingKey // keys[0] signs; all are published
	rotations    int
	omitKID      bool
	user         map[string]any
	claims       func(map[string]any)
	userinfo     func(map[string]any)
	sign         SignMode
	authzError   string
	noEndSession bool
	noUserinfo   bool
	revoked      []string // tokens revoked at the revocation endpoint
	authMethods  []string
	extraAlgs    []string
	tokens       Tokens
	refreshes    map[string]grant // live refresh token → what it grants
	failures     map[Endpoint]Failure
	hits         map[Endpoint]int
	codes        map[string]*pending
	access       map[string]accessToken
	lastAccess   string
	introAuth    []string // client authentication of each introspection
	logins       []Login
	logouts      []LogoutCall
	seq          int
	refreshCount int
}

type pending struct {
	clientID, redirectURI, challenge, method, nonce, state, scope string
	user                                                          map[string]any
	used                                                          bool
}

// grant is what a refresh token stands for: the user's claims (sid
// included) and the requested scope.
type grant struct {
	user  map[string]any
	scope string
}

// New starts an IdP and closes it when the test ends.
func New(tb testing.TB, opts Options) *IdP {
	tb.Helper()
	idp := Start(opts)
	tb.Cleanup(idp.Close)
	return idp
}

// Start starts an IdP; Close stops it.
func Start(opts Options) *IdP {
	idp := &IdP{
		ClientID:     opts.ClientID,
		ClientSecret: opts.ClientSecret,
		quit:         make(chan struct{}),
		now:          opts.Now,
		omitKID:      opts.OmitKID,
		user:         opts.User,
		noEndSession: opts.NoEndSession,
		noUserinfo:   opts.NoUserinfo,
		authMethods:  opts.TokenAuthMethods,
		tokens:       opts.Tokens,
		refreshes:    map[string]grant{},
		failures:     map[Endpoint]Failure{},
		hits:         map[Endpoint]int{},
		codes:        map[string]*pending{},
		access:       map[string]accessToken{},
	}
	if idp.ClientID == "" {
		idp.ClientID = DefaultClientID
	}
	if idp.ClientSecret == "" {
		idp.ClientSecret = DefaultClientSecret
	}
	if idp.now == nil {
		idp.now = time.Now
	}
	if idp.user == nil {
		idp.user = DefaultUser()
	}
	if len(idp.authMethods) == 0 {
		idp.authMethods = []string{"client_secret_basic", "client_secret_post"}
	}
	idp.keys = []signingKey{newSigningKey(0)}

	path := strings.TrimSuffix(opts.IssuerPath, "/")
	mux := http.NewServeMux()
	mux.Handle("GET "+path+DiscoveryPath, idp.endpoint(Discovery, idp.handleDiscovery))
	mux.Handle("GET "+path+JWKSPath, idp.endpoint(JWKS, idp.handleJWKS))
	mux.Handle("GET "+path+AuthorizePath, idp.endpoint(Authorize, idp.handleAuthorize))
	mux.Handle("POST "+path+TokenPath, idp.endpoint(Token, idp.handleToken))
	mux.Handle(path+UserinfoPath, idp.endpoint(Userinfo, idp.handleUserinfo))
	mux.Handle(path+EndSessionPath, idp.endpoint(EndSession, idp.handleEndSession))
	mux.Handle("POST "+path+RevocationPath, idp.endpoint(Revocation, idp.handleRevocation))
	mux.Handle("POST "+path+IntrospectionPath, idp.endpoint(Introspection, idp.handleIntrospection))

	if opts.Listener != nil {
		idp.srv = &httptest.Server{Listener: opts.Listener, Config: &http.Server{Handler: mux}}
		idp.srv.Start()
	} else {
		idp.srv = httptest.NewServer(mux)
	}
	idp.URL = idp.srv.URL
	idp.Issuer = idp.URL + path
	return idp
}

// Close releases hanging requests and stops the server.
func (idp *IdP) Close() {
	idp.mu.Lock()
	select {
	case <-idp.quit:
		idp.mu.Unlock()
		return
	default:
		close(idp.quit)
	}
	idp.mu.Unlock()
	idp.srv.CloseClientConnections()
	idp.srv.Close()
}

// Endpoint returns the absolute URL of ep.
func (idp *IdP) Endpoint(ep Endpoint) string {
	switch ep {
	case Discovery:
		return idp.Issuer + DiscoveryPath
	case JWKS:
		return idp.Issuer + JWKSPath
	case Authorize:
		return idp.Issuer + AuthorizePath
	case Token:
		return idp.Issuer + TokenPath
	case Userinfo:
		return idp.Issuer + UserinfoPath
	case EndSession:
		return idp.Issuer + EndSessionPath
	case Revocation:
		return idp.Issuer + RevocationPath
	case Introspection:
		return idp.Issuer + IntrospectionPath
	}
	return ""
}

// Fail makes ep misbehave as f from now on (OK restores it).
func (idp *IdP) Fail(ep Endpoint, f Failure) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.failures[ep] = f
}

// Hits reports how many requests ep has received.
func (idp *IdP) Hits(ep Endpoint) int {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	return idp.hits[ep]
}

// SetClaims sets a function that edits every ID token's claims just before
// signing (nil: no edit). Deleting a key removes the claim.
func (idp *IdP) SetClaims(edit func(claims map[string]any)) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.claims = edit
}

// SetUserinfo sets a function that edits userinfo responses (nil: no edit).
func (idp *IdP) SetUserinfo(edit func(claims map[string]any)) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.userinfo = edit
}

// SetSign sets how ID tokens are signed from now on.
func (idp *IdP) SetSign(m SignMode) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.sign = m
}

// SetUser sets the user the next sign-ins authenticate as.
func (idp *IdP) SetUser(claims map[string]any) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.user = claims
}

// SetAuthorizeError makes authorize redirect back with ?error=code (""
// restores normal sign-ins).
func (idp *IdP) SetAuthorizeError(code string) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.authzError = code
}

// SetEndSession adds (true) or removes (false) end_session_endpoint from
// discovery. A relying party that already fetched discovery keeps what it has.
func (idp *IdP) SetEndSession(on bool) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.noEndSession = !on
}

// AdvertiseAlgs adds algorithms (e.g. "none", "HS256") to discovery's
// id_token_signing_alg_values_supported, to check that a relying party does
// not trust that list blindly.
func (idp *IdP) AdvertiseAlgs(algs ...string) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.extraAlgs = append(idp.extraAlgs, algs...)
}

// RotateKey replaces the signing key with a new one, with a new kid. With
// keepOld the old key stays published (a graceful rotation); without, the
// JWKS holds only the new key.
func (idp *IdP) RotateKey(keepOld bool) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.rotations++
	k := newSigningKey(idp.rotations)
	if keepOld {
		idp.keys = append([]signingKey{k}, idp.keys...)
	} else {
		idp.keys = []signingKey{k}
	}
}

// KeyID is the current signing key's kid ("" when kids are omitted).
func (idp *IdP) KeyID() string {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	if idp.omitKID {
		return ""
	}
	return idp.keys[0].kid
}

// Logins returns every completed code exchange, oldest first.
func (idp *IdP) Logins() []Login {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	return append([]Login(nil), idp.logins...)
}

// LastLogin returns the latest completed code exchange; ok is false when
// there was none.
func (idp *IdP) LastLogin() (l Login, ok bool) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	if len(idp.logins) == 0 {
		return Login{}, false
	}
	return idp.logins[len(idp.logins)-1], true
}

// Logouts returns every request to the end_session endpoint, oldest first.
func (idp *IdP) Logouts() []LogoutCall {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	return append([]LogoutCall(nil), idp.logouts...)
}

// Now is the IdP's clock.
func (idp *IdP) Now() time.Time { return idp.now() }

func (idp *IdP) endpoint(ep Endpoint, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		idp.mu.Lock()
		idp.hits[ep]++
		f := idp.failures[ep]
		idp.mu.Unlock()
		fail(w, r, f, idp.quit, func() { h(w, r) })
	})
}

// fail answers as f, or calls ok when f is OK.
func fail(w http.ResponseWriter, r *http.Request, f Failure, quit <-chan struct{}, ok func()) {
	switch f {
	case Down:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		http.Error(w, "down", http.StatusBadGateway)
	case Status500:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"error":"server_error"}`))
	case Garbage:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("<html>not json{\"issuer\":"))
	case Hang:
		select {
		case <-r.Context().Done():
		case <-quit:
		}
	case InvalidGrant:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "")
	default:
		ok()
	}
}

func (idp *IdP) handleDiscovery(w http.ResponseWriter, _ *http.Request) {
	idp.mu.Lock()
	algs := append([]string{"RS256"}, idp.extraAlgs...)
	doc := map[string]any{
		"issuer":                                idp.Issuer,
		"authorization_endpoint":                idp.Endpoint(Authorize),
		"token_endpoint":                        idp.Endpoint(Token),
		"jwks_uri":                              idp.Endpoint(JWKS),
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": algs,
		"scopes_supported":                      []string{"openid", "profile", "email"},
		"token_endpoint_auth_methods_supported": idp.authMethods,
		"code_challenge_methods_supported":      []string{"S256"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"backchannel_logout_supported":          true,
		"backchannel_logout_session_supported":  true,
		"frontchannel_logout_supported":         true,
		"frontchannel_logout_session_supported": true,
	}
	if !idp.noUserinfo {
		doc["userinfo_endpoint"] = idp.Endpoint(Userinfo)
	}
	if !idp.noEndSession {
		doc["end_session_endpoint"] = idp.Endpoint(EndSession)
	}
	doc["revocation_endpoint"] = idp.Endpoint(Revocation)
	if idp.tokens.Introspection {
		doc["introspection_endpoint"] = idp.Endpoint(Introspection)
		if idp.tokens.IntrospectionAuthMethods != nil {
			doc["introspection_endpoint_auth_methods_supported"] = idp.tokens.IntrospectionAuthMethods
		}
	}
	idp.mu.Unlock()
	writeJSON(w, http.StatusOK, doc)
}

func (idp *IdP) handleJWKS(w http.ResponseWriter, _ *http.Request) {
	idp.mu.Lock()
	keys := make([]any, 0, len(idp.keys))
	for _, k := range idp.keys {
		keys = append(keys, k.publicJWK(idp.omitKID))
	}
	idp.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}

// handleAuthorize checks the request and redirects back at once with a code,
// as if the user had signed in.
func (idp *IdP) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirectURI := q.Get("redirect_uri")
	ru, err := url.Parse(redirectURI)
	if redirectURI == "" || err != nil || !ru.IsAbs() {
		http.Error(w, "invalid redirect_uri", http.StatusBadRequest)
		return
	}
	if q.Get("client_id") != idp.ClientID {
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	}
	back := ru.Query()
	back.Set("state", q.Get("state"))
	back.Set("iss", idp.Issuer)
	idp.mu.Lock()
	authzError := idp.authzError
	user := copyMap(idp.user)
	idp.mu.Unlock()
	switch {
	case authzError != "":
		back.Set("error", authzError)
	case q.Get("response_type") != "code":
		back.Set("error", "unsupported_response_type")
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		back.Set("error", "invalid_request")
		back.Set("error_description", "PKCE S256 required")
	case !strings.Contains(" "+q.Get("scope")+" ", " openid "):
		back.Set("error", "invalid_scope")
	default:
		code := randomHex(16)
		idp.mu.Lock()
		idp.codes[code] = &pending{
			clientID: q.Get("client_id"), redirectURI: redirectURI,
			challenge: q.Get("code_challenge"), method: q.Get("code_challenge_method"),
			nonce: q.Get("nonce"), state: q.Get("state"), scope: q.Get("scope"), user: user,
		}
		idp.mu.Unlock()
		back.Set("code", code)
	}
	ru.RawQuery = back.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// handleToken redeems a code (once), checking client authentication, the
// redirect_uri and the PKCE verifier.
func (idp *IdP) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "bad form")
		return
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != idp.ClientID || secret != idp.ClientSecret {
		tokenError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
	case "refresh_token":
		idp.handleRefresh(w, r)
		return
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "")
		return
	}
	code := r.PostForm.Get("code")
	idp.mu.Lock()
	p := idp.codes[code]
	used := p != nil && p.used
	if p != nil {
		p.used = true
	}
	idp.mu.Unlock()
	switch {
	case p == nil:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "unknown code")
		return
	case used:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "code already used")
		return
	case p.redirectURI != r.PostForm.Get("redirect_uri"):
		tokenError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri mismatch")
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if r.PostForm.Get("code_verifier") == "" || base64.RawURLEncoding.EncodeToString(sum[:]) != p.challenge {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed")
		return
	}

	refresh := "rt-" + randomHex(24)
	idp.mu.Lock()
	idp.seq++
	sid := fmt.Sprintf("sid-%d-%s", idp.seq, randomHex(4))
	edit, mode := idp.claims, idp.sign
	idp.mu.Unlock()
	user := copyMap(p.user)
	user["sid"] = sid
	access, out := idp.issue(grant{user: user, scope: p.scope})

	now := idp.now()
	claims := copyMap(p.user)
	claims["iss"] = idp.Issuer
	claims["aud"] = idp.ClientID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(time.Hour).Unix()
	claims["auth_time"] = now.Unix()
	claims["sid"] = sid
	claims["at_hash"] = atHash(access)
	if p.nonce != "" {
		claims["nonce"] = p.nonce
	}
	if edit != nil {
		edit(claims)
	}
	idToken := idp.SignJWT(claims, mode, "JWT")
	out["id_token"] = idToken

	idp.mu.Lock()
	if idp.tokens.NoRefreshToken {
		refresh = ""
	} else {
		idp.refreshes[refresh] = grant{user: user, scope: p.scope}
		out["refresh_token"] = refresh
	}
	idp.logins = append(idp.logins, Login{
		Code: code, Nonce: p.nonce, State: p.state, SID: sid, Subject: fmt.Sprint(p.user["sub"]),
		RedirectURI: p.redirectURI, Scope: p.scope,
		IDToken: idToken, AccessToken: access, RefreshToken: refresh,
	})
	idp.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// handleRefresh serves the refresh_token grant: a new access token and ID
// token (same sub and sid, no nonce), and with RotateRefreshTokens a new
// refresh token that retires the old one. Tokens.RefreshFailure and
// Tokens.RefreshDelay make it fail or answer late.
func (idp *IdP) handleRefresh(w http.ResponseWriter, r *http.Request) {
	idp.mu.Lock()
	idp.refreshCount++
	failure, delay := idp.tokens.RefreshFailure, idp.tokens.RefreshDelay
	idp.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-idp.quit:
			t.Stop()
		}
	}
	fail(w, r, failure, idp.quit, func() { idp.refresh(w, r) })
}

func (idp *IdP) refresh(w http.ResponseWriter, r *http.Request) {
	old := r.PostForm.Get("refresh_token")
	idp.mu.Lock()
	g, ok := idp.refreshes[old]
	if !ok {
		idp.mu.Unlock()
		tokenError(w, http.StatusBadRequest, "invalid_grant", "unknown refresh token")
		return
	}
	edit, mode, tokens := idp.claims, idp.sign, idp.tokens
	idp.mu.Unlock()
	access, out := idp.issue(g)
	idp.mu.Lock()
	if tokens.RotateRefreshTokens {
		delete(idp.refreshes, old)
		rt := "rt-" + randomHex(24)
		idp.refreshes[rt] = g
		out["refresh_token"] = rt
	} else {
		out["refresh_token"] = old
	}
	idp.mu.Unlock()
	if !tokens.NoRefreshIDToken {
		now := idp.now()
		claims := copyMap(g.user)
		claims["iss"] = idp.Issuer
		claims["aud"] = idp.ClientID
		claims["iat"] = now.Unix()
		claims["exp"] = now.Add(time.Hour).Unix()
		claims["at_hash"] = atHash(access)
		if edit != nil {
			edit(claims)
		}
		out["id_token"] = idp.SignJWT(claims, mode, "JWT")
	}
	writeJSON(w, http.StatusOK, out)
}

// Refreshes reports how many refresh_token grants the IdP has received,
// failed ones included.
func (idp *IdP) Refreshes() int {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	return idp.refreshCount
}

func (idp *IdP) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	idp.mu.Lock()
	at, known := idp.access[tok]
	edit := idp.userinfo
	idp.mu.Unlock()
	if !ok || !known {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		tokenError(w, http.StatusUnauthorized, "invalid_token", "")
		return
	}
	claims := copyMap(at.user)
	delete(claims, "sid")
	if edit != nil {
		edit(claims)
	}
	writeJSON(w, http.StatusOK, claims)
}

// handleRevocation is RFC 7009's endpoint: it checks the client and
// answers 200 for any token, as the RFC asks; Hits(Revocation) counts the
// calls and Revoked lists the tokens.
func (idp *IdP) handleRevocation(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("token") == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != idp.ClientID || secret != idp.ClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	idp.mu.Lock()
	idp.revoked = append(idp.revoked, r.PostForm.Get("token"))
	idp.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// Revoked returns the tokens revoked at the revocation endpoint, oldest
// first.
func (idp *IdP) Revoked() []string {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	return append([]string(nil), idp.revoked...)
}

// handleEndSession records the call and, like a real IdP that has ended its
// session, sends the browser to post_logout_redirect_uri with state.
func (idp *IdP) handleEndSession(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	c := LogoutCall{
		IDTokenHint:           r.Form.Get("id_token_hint"),
		ClientID:              r.Form.Get("client_id"),
		PostLogoutRedirectURI: r.Form.Get("post_logout_redirect_uri"),
		State:                 r.Form.Get("state"),
	}
	idp.mu.Lock()
	idp.logouts = append(idp.logouts, c)
	idp.mu.Unlock()
	if c.PostLogoutRedirectURI == "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!doctype html><title>Signed out</title><p>You are signed out.</p>"))
		return
	}
	u, err := url.Parse(c.PostLogoutRedirectURI)
	if err != nil || !u.IsAbs() {
		http.Error(w, "invalid post_logout_redirect_uri", http.StatusBadRequest)
		return
	}
	if c.State != "" {
		q := u.Query()
		q.Set("state", c.State)
		u.RawQuery = q.Encode()
	}
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// BackchannelEvent is the events member a back-channel logout token carries.
const BackchannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// LogoutToken returns a back-channel logout token (typ logout+jwt) for sid
// and sub (either may be ""), signed with mode after edit (which may be nil)
// has changed its claims: iss, aud, iat, exp, jti, events, sid, sub.
func (idp *IdP) LogoutToken(sid, sub string, mode SignMode, edit func(claims map[string]any)) string {
	now := idp.now()
	claims := map[string]any{
		"iss":    idp.Issuer,
		"aud":    idp.ClientID,
		"iat":    now.Unix(),
		"exp":    now.Add(2 * time.Minute).Unix(),
		"jti":    randomHex(16),
		"events": map[string]any{BackchannelEvent: map[string]any{}},
	}
	if sid != "" {
		claims["sid"] = sid
	}
	if sub != "" {
		claims["sub"] = sub
	}
	if edit != nil {
		edit(claims)
	}
	return idp.SignJWT(claims, mode, "logout+jwt")
}

// IDToken returns an ID token for the current user with the usual claims for
// nonce, edited by edit (may be nil) and signed with mode: for tests that
// check a verifier without running a whole flow.
func (idp *IdP) IDToken(nonce string, mode SignMode, edit func(claims map[string]any)) string {
	now := idp.now()
	idp.mu.Lock()
	claims := copyMap(idp.user)
	idp.mu.Unlock()
	claims["iss"] = idp.Issuer
	claims["aud"] = idp.ClientID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(time.Hour).Unix()
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if edit != nil {
		edit(claims)
	}
	return idp.SignJWT(claims, mode, "JWT")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// atHash is OIDC Core's at_hash for RS256: the left half of SHA-256,
// base64url.
func atHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// keyPool holds RSA keys. Generating a 2048-bit key takes tens of
// milliseconds (more under -race), so keys are made once per process and
// shared between IdPs: every IdP starts with key 0 and its n-th rotation
// takes key n (mod poolSize), so consecutive keys always differ. Key ids are
// unique per IdP and rotation.
var keyPool struct {
	sync.Mutex
	keys []*rsa.PrivateKey
}

const poolSize = 4

func newSigningKey(n int) signingKey {
	keyPool.Lock()
	defer keyPool.Unlock()
	i := n % poolSize
	for len(keyPool.keys) <= i {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(fmt.Sprintf("authtest: generate key: %v", err))
		}
		keyPool.keys = append(keyPool.keys, k)
	}
	return signingKey{key: keyPool.keys[i], kid: fmt.Sprintf("key-%d-%s", n, randomHex(4))}
}
