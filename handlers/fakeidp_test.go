package handlers

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// fakeIdP is a small OpenID Provider on httptest: discovery, JWKS, an
// authorize endpoint that signs the user in at once, a token endpoint that
// checks the client secret and PKCE and issues RS256 ID tokens, and an
// end_session endpoint.
type fakeIdP struct {
	t        *testing.T
	srv      *httptest.Server
	key      *rsa.PrivateKey
	clientID string
	secret   string
	claims   map[string]any

	mu          sync.Mutex
	codes       map[string]pendingCode
	endSessions int
	secrets     []string // every code and token issued, for log checks
}

type pendingCode struct {
	nonce, challenge, redirectURI string
}

func newFakeIdP(t *testing.T, claims map[string]any) *fakeIdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &fakeIdP{t: t, key: key, clientID: "app", secret: "app-secret", claims: claims, codes: map[string]pendingCode{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /logout", p.logout)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *fakeIdP) issuer() string { return p.srv.URL }

// issued returns every code, state, nonce and token the IdP has seen or
// issued.
func (p *fakeIdP) issued() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.secrets...)
}

func (p *fakeIdP) discovery(w http.ResponseWriter, r *http.Request) {
	writeTestJSON(w, map[string]any{
		"issuer":                                p.issuer(),
		"authorization_endpoint":                p.issuer() + "/authorize",
		"token_endpoint":                        p.issuer() + "/token",
		"jwks_uri":                              p.issuer() + "/jwks",
		"end_session_endpoint":                  p.issuer() + "/logout",
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic"},
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
	})
}

func (p *fakeIdP) jwks(w http.ResponseWriter, r *http.Request) {
	writeTestJSON(w, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "k1",
		"n": b64(p.key.N.Bytes()),
		"e": b64(big.NewInt(int64(p.key.E)).Bytes()),
	}}})
}

// authorize signs the user in at once and returns a code.
func (p *fakeIdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != p.clientID || q.Get("code_challenge_method") != "S256" || q.Get("response_type") != "code" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	code := b64(randomBytes(16))
	p.mu.Lock()
	p.codes[code] = pendingCode{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirectURI: q.Get("redirect_uri")}
	p.secrets = append(p.secrets, code, q.Get("state"), q.Get("nonce"))
	p.mu.Unlock()
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	bq := back.Query()
	bq.Set("code", code)
	bq.Set("state", q.Get("state"))
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// token redeems a code once, checking the client and the PKCE verifier.
func (p *fakeIdP) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok || id != p.clientID || secret != p.secret {
		w.WriteHeader(http.StatusUnauthorized)
		writeTestJSON(w, map[string]string{"error": "invalid_client"})
		return
	}
	code := r.PostFormValue("code")
	p.mu.Lock()
	pc, found := p.codes[code]
	delete(p.codes, code)
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	if !found || b64(sum[:]) != pc.challenge || r.PostFormValue("redirect_uri") != pc.redirectURI {
		w.WriteHeader(http.StatusBadRequest)
		writeTestJSON(w, map[string]string{"error": "invalid_grant"})
		return
	}
	now := time.Now()
	claims := map[string]any{
		"iss": p.issuer(), "aud": p.clientID, "sub": "user-1", "sid": "sid-1",
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "nonce": pc.nonce,
	}
	for k, v := range p.claims {
		claims[k] = v
	}
	access, idToken := "access-"+b64(randomBytes(8)), p.sign(claims)
	p.mu.Lock()
	p.secrets = append(p.secrets, access, idToken)
	p.mu.Unlock()
	writeTestJSON(w, map[string]any{
		"access_token": access,
		"token_type":   "Bearer",
		"expires_in":   300,
		"id_token":     idToken,
	})
}

// logout is the end_session endpoint: it returns to the app's post-logout
// page with the state.
func (p *fakeIdP) logout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	p.endSessions++
	p.mu.Unlock()
	back, err := url.Parse(q.Get("post_logout_redirect_uri"))
	if err != nil || back.Host == "" {
		http.Error(w, "bad post_logout_redirect_uri", http.StatusBadRequest)
		return
	}
	bq := back.Query()
	bq.Set("state", q.Get("state"))
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// sign makes an RS256 JWT of claims.
func (p *fakeIdP) sign(claims map[string]any) string {
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": "k1"})
	payload, _ := json.Marshal(claims)
	input := b64(header) + "." + b64(payload)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, p.key, crypto.SHA256, sum[:])
	if err != nil {
		p.t.Fatal(err)
	}
	return input + "." + b64(sig)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func writeTestJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
