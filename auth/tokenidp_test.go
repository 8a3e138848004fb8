package auth

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/authtest"
)

// tokenIdP puts the token endpoint of a real OP in front of fakeidp: the
// refresh_token grant (with rotation), token introspection (RFC 7662),
// access tokens of a chosen lifetime, opaque or JWT (RFC 9068), and the
// failures refresh must survive. It counts the calls it gets. fakeidp
// keeps authorize, the code grant, the keys and userinfo; tokenIdP serves
// a discovery document that sends the token and introspection calls to
// itself (the provider's DiscoveryURL), with the fake's issuer.
type tokenIdP struct {
	t   testing.TB
	idp *authtest.IdP
	srv *httptest.Server

	mu sync.Mutex
	// Settings, changed by tests under mu.
	ttl          time.Duration // access token lifetime (expires_in)
	noExpiresIn  bool          // leave expires_in out of token responses
	rotate       bool          // a new refresh token on every refresh
	noIDToken    bool          // refresh responses carry no id_token
	idEdit       func(claims map[string]any)
	atFormat     string // "opaque" (default), "passthrough", "jwt-scope", "jwt-scp-array", "jwt-scp-string"
	atTyp        string // JWT access tokens' typ; default "at+jwt"
	atBadSig     bool   // JWT access tokens with a broken signature
	scope        string // what the tokens allow (introspection, JWT claims)
	respScope    string // the token response's scope; "" leaves it out
	refreshFail  string // "", "invalid_grant", "500", "down"
	refreshDelay time.Duration
	introspect   bool     // advertise introspection_endpoint
	introMethods []string // introspection_endpoint_auth_methods_supported; nil leaves it out
	introActive  bool     // what introspection answers for known tokens

	// Observations.
	refreshCalls    int
	introspectCalls int
	introspectAuth  []string                  // "basic" or "post", per call
	refresh         map[string]string         // live refresh tokens → sub
	access          map[string]tokenIdPAccess // issued access tokens
	lastAccess      string
}

type tokenIdPAccess struct {
	sub, scope string
	exp        time.Time
}

const tokenIdPAPI = "https://api.example.com"

// newTokenIdP starts fakeidp with the clock now and a tokenIdP in front of
// it. Defaults: 5-minute opaque access tokens, rotation on, introspection
// advertised and answering scope "openid profile email read:reports", the
// token response's scope "openid profile email".
func newTokenIdP(t testing.TB, now func() time.Time) *tokenIdP {
	t.Helper()
	ti := &tokenIdP{
		t:           t,
		ttl:         5 * time.Minute,
		rotate:      true,
		atFormat:    "opaque",
		atTyp:       "at+jwt",
		scope:       "openid profile email read:reports",
		respScope:   "openid profile email",
		introspect:  true,
		introActive: true,
		refresh:     map[string]string{},
		access:      map[string]tokenIdPAccess{},
	}
	ti.idp = authtest.New(t, authtest.Options{Now: now})
	// The code grant's access token is replaced, so its at_hash goes.
	ti.idp.SetClaims(func(c map[string]any) { delete(c, "at_hash") })
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", ti.handleDiscovery)
	mux.HandleFunc("POST /token", ti.handleToken)
	mux.HandleFunc("POST /introspect", ti.handleIntrospect)
	ti.srv = httptest.NewServer(mux)
	t.Cleanup(ti.srv.Close)
	return ti
}

// provider is the "oidc" provider for this IdP.
func (ti *tokenIdP) provider() *Provider {
	p := OIDC(ti.idp.Issuer, ti.idp.ClientID, ti.idp.ClientSecret)
	p.DiscoveryURL = ti.srv.URL + "/.well-known/openid-configuration"
	return p
}

func (ti *tokenIdP) set(f func(ti *tokenIdP)) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	f(ti)
}

func (ti *tokenIdP) refreshes() int {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	return ti.refreshCalls
}

func (ti *tokenIdP) introspections() int {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	return ti.introspectCalls
}

// latestAccessToken is the access token issued last.
func (ti *tokenIdP) latestAccessToken() string {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	return ti.lastAccess
}

func (ti *tokenIdP) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	resp, err := http.Get(ti.idp.Endpoint(authtest.Discovery))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	doc["token_endpoint"] = ti.srv.URL + "/token"
	ti.mu.Lock()
	if ti.introspect {
		doc["introspection_endpoint"] = ti.srv.URL + "/introspect"
		if ti.introMethods != nil {
			doc["introspection_endpoint_auth_methods_supported"] = ti.introMethods
		}
	}
	ti.mu.Unlock()
	tiWriteJSON(w, http.StatusOK, doc)
}

// clientAuth checks the client's credentials and says how they came.
func (ti *tokenIdP) clientAuth(r *http.Request) (method string, ok bool) {
	id, secret, basic := r.BasicAuth()
	method = "basic"
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		method = "post"
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	return method, id == ti.idp.ClientID && secret == ti.idp.ClientSecret
}

func (ti *tokenIdP) handleToken(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := r.ParseForm(); err != nil {
		tiTokenError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "refresh_token":
		ti.handleRefresh(w, r)
	case "authorization_code":
		ti.handleCode(w, r, body)
	default:
		tiTokenError(w, http.StatusBadRequest, "unsupported_grant_type")
	}
}

// handleCode passes the code grant to fakeidp and puts its own access
// token, lifetime and scope in the answer.
func (ti *tokenIdP) handleCode(w http.ResponseWriter, r *http.Request, body []byte) {
	req, _ := http.NewRequest(http.MethodPost, ti.idp.Endpoint(authtest.Token), bytes.NewReader(body))
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		tiWriteJSON(w, resp.StatusCode, out)
		return
	}
	sub := unverifiedClaims(out["id_token"].(string)).String("sub")
	rt, _ := out["refresh_token"].(string)
	ti.mu.Lock()
	defer ti.mu.Unlock()
	ti.refresh[rt] = sub
	ti.issue(out, sub)
	tiWriteJSON(w, http.StatusOK, out)
}

// issue puts a new access token, its lifetime and the response scope in
// out. ti.mu is held.
func (ti *tokenIdP) issue(out map[string]any, sub string) {
	now := ti.idp.Now()
	exp := now.Add(ti.ttl)
	var at string
	switch ti.atFormat {
	case "passthrough": // fakeidp's own, which its userinfo knows
		at, _ = out["access_token"].(string)
	case "opaque":
		at = "opaque-" + tiRandom()
	default:
		claims := map[string]any{
			"iss": ti.idp.Issuer, "sub": sub, "aud": tokenIdPAPI, "client_id": ti.idp.ClientID,
			"iat": now.Unix(), "exp": exp.Unix(), "jti": tiRandom(),
		}
		switch ti.atFormat {
		case "jwt-scope":
			claims["scope"] = ti.scope
		case "jwt-scp-array":
			claims["scp"] = strings.Fields(ti.scope)
		case "jwt-scp-string":
			claims["scp"] = ti.scope
		}
		mode := authtest.RS256
		if ti.atBadSig {
			mode = authtest.BadSignature
		}
		at = ti.idp.SignJWT(claims, mode, ti.atTyp)
	}
	ti.access[at] = tokenIdPAccess{sub: sub, scope: ti.scope, exp: exp}
	ti.lastAccess = at
	out["access_token"] = at
	out["token_type"] = "Bearer"
	delete(out, "expires_in")
	if !ti.noExpiresIn {
		out["expires_in"] = int(ti.ttl / time.Second)
	}
	delete(out, "scope")
	if ti.respScope != "" {
		out["scope"] = ti.respScope
	}
}

func (ti *tokenIdP) handleRefresh(w http.ResponseWriter, r *http.Request) {
	ti.mu.Lock()
	ti.refreshCalls++
	fail, delay := ti.refreshFail, ti.refreshDelay
	ti.mu.Unlock()
	time.Sleep(delay)
	switch fail {
	case "down":
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
	case "500":
		tiTokenError(w, http.StatusInternalServerError, "server_error")
		return
	case "invalid_grant":
		tiTokenError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	if _, ok := ti.clientAuth(r); !ok {
		tiTokenError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	old := r.PostForm.Get("refresh_token")
	ti.mu.Lock()
	sub, ok := ti.refresh[old]
	if !ok {
		ti.mu.Unlock()
		tiTokenError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	out := map[string]any{}
	if ti.rotate {
		delete(ti.refresh, old)
		rt := "rt-" + tiRandom()
		ti.refresh[rt] = sub
		out["refresh_token"] = rt
	}
	ti.issue(out, sub)
	noID, edit := ti.noIDToken, ti.idEdit
	ti.mu.Unlock()
	if !noID {
		out["id_token"] = ti.idp.IDToken("", authtest.RS256, func(c map[string]any) {
			c["sub"] = sub
			if edit != nil {
				edit(c)
			}
		})
	}
	tiWriteJSON(w, http.StatusOK, out)
}

func (ti *tokenIdP) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tiTokenError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	method, ok := ti.clientAuth(r)
	ti.mu.Lock()
	defer ti.mu.Unlock()
	ti.introspectCalls++
	ti.introspectAuth = append(ti.introspectAuth, method)
	if !ok {
		tiTokenError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	a, known := ti.access[r.PostForm.Get("token")]
	if !known || !ti.introActive || !ti.idp.Now().Before(a.exp) {
		tiWriteJSON(w, http.StatusOK, map[string]any{"active": false})
		return
	}
	tiWriteJSON(w, http.StatusOK, map[string]any{
		"active": true, "scope": a.scope, "sub": a.sub, "client_id": ti.idp.ClientID,
		"token_type": "Bearer", "exp": a.exp.Unix(), "iss": ti.idp.Issuer,
	})
}

func tiTokenError(w http.ResponseWriter, status int, code string) {
	tiWriteJSON(w, status, map[string]string{"error": code})
}

func tiWriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func tiRandom() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokenHashOf is how the test app shows an access token without showing it.
func tokenHashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}
