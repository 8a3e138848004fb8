//go:build unix

package auth

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The benchmarks and the cookie-size report here feed `go run ./bench`
// (see bench/). They build sessions the way a sign-in does and seal them
// with the real code.

// benchAuthJSCookie is the size of Auth.js v5's session cookie for the
// seeds' session (given and family name, username, email, the id_token
// kept for logout), measured on the seeds' own stack.
const benchAuthJSCookie = 1608

var (
	benchKeyOnce sync.Once
	benchKey     *rsa.PrivateKey
)

// benchSigningKey is an RSA-2048 key, RS256 being what most IdPs sign ID
// tokens with; made once per test binary.
func benchSigningKey(tb testing.TB) *rsa.PrivateKey {
	benchKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			tb.Fatal(err)
		}
		benchKey = k
	})
	return benchKey
}

func benchB64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func benchRandom(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return benchB64(b)
}

// benchSign makes an RS256 JWS of claims. Claims keep their order: the
// payload is written as given, like an IdP's.
func benchSign(tb testing.TB, kid string, claims [][2]any) string {
	header := `{"alg":"RS256","typ":"JWT","kid":"` + kid + `"}`
	var p strings.Builder
	p.WriteByte('{')
	for i, kv := range claims {
		if i > 0 {
			p.WriteByte(',')
		}
		k, _ := json.Marshal(kv[0])
		v, _ := json.Marshal(kv[1])
		p.Write(k)
		p.WriteByte(':')
		p.Write(v)
	}
	p.WriteByte('}')
	input := benchB64([]byte(header)) + "." + benchB64([]byte(p.String()))
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, benchSigningKey(tb), crypto.SHA256, sum[:])
	if err != nil {
		tb.Fatal(err)
	}
	return input + "." + benchB64(sig)
}

// Values of extra claims: the report's figures use benchValueID; the
// others show how the growth depends on what the claims hold.
const (
	benchValueID     = iota // 8 random bytes, 11 base64url characters: a short id
	benchValueWord          // "value-001": a word that compresses well
	benchValueRandom        // 16 random bytes, 22 characters: a UUID's entropy
)

// benchExtraClaims are n claims as an IdP or a JWT callback might add:
// claim_001, claim_002, … with values of the given kind.
func benchExtraClaims(n, kind int) [][2]any {
	out := make([][2]any, n)
	for i := range out {
		v := benchRandom(8)
		switch kind {
		case benchValueWord:
			v = fmt.Sprintf("value-%03d", i+1)
		case benchValueRandom:
			v = benchRandom(16)
		}
		out[i] = [2]any{fmt.Sprintf("claim_%03d", i+1), v}
	}
	return out
}

// benchAtHash is the at_hash of an access token for RS256.
func benchAtHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return benchB64(sum[:16])
}

// benchSeedsRecord is the seeds' session: the user Ada signed in at an
// OpenID Provider (node oidc-provider, which the e2e tests use, with its
// default claims: the ID token carries the profile and email scopes'
// claims), kept with the seeds' jwt callback (given and family name,
// username) and Auth.js's default profile (sub, name, email). The ID token
// is kept for logout. With tokens, the opaque access and refresh tokens
// (43 characters each, as oidc-provider issues them) are kept too. extra
// claims are released by the IdP (so they are in the ID token) and copied
// into the Token by the jwt callback; their values are short random ids
// (benchValueID).
func benchSeedsRecord(tb testing.TB, extra int, tokens bool) *Record {
	return benchSeedsRecordOf(tb, extra, benchValueID, tokens)
}

func benchSeedsRecordOf(tb testing.TB, extra, kind int, tokens bool) *Record {
	now := time.Unix(1_800_000_000, 0)
	at := benchRandom(32)
	sid := benchRandom(16)
	claims := [][2]any{
		{"sub", "ada"}, {"email", "ada@example.com"}, {"email_verified", true},
		{"family_name", "Lovelace"}, {"given_name", "Ada"}, {"name", "Ada Lovelace"},
		{"preferred_username", "ada@example.com"}, {"username", "ada@example.com"},
	}
	extras := benchExtraClaims(extra, kind)
	claims = append(claims, extras...)
	claims = append(claims, [][2]any{
		{"nonce", benchRandom(32)}, {"at_hash", benchAtHash(at)}, {"sid", sid},
		{"aud", "signet"}, {"exp", now.Add(time.Hour).Unix()}, {"iat", now.Unix()},
		{"iss", "http://127.0.0.1:4000"},
	}...)
	idt := benchSign(tb, "3f6c1d2a9b8e7f60", claims)
	tok := Token{
		"sub": "ada", "name": "Ada Lovelace", "email": "ada@example.com",
		"given_name": "Ada", "family_name": "Lovelace", "username": "ada@example.com",
	}
	for _, kv := range extras {
		tok[kv[0].(string)] = kv[1]
	}
	rec := &Record{
		Token: tok, Provider: "oidc", Issuer: "http://127.0.0.1:4000", Subject: "ada", SID: sid,
		IDToken: Secret(idt), Scope: "openid profile email",
		IssuedAt: now, UpdatedAt: now, Expires: now.Add(DefaultMaxAge),
	}
	if tokens {
		rec.AccessToken = Secret(at)
		rec.RefreshToken = Secret(benchRandom(32))
		rec.AccessTokenIssued = now
		rec.AccessTokenExpires = now.Add(time.Hour)
		rec.Scope = "openid profile email offline_access"
	}
	return rec
}

// benchAuth is an Auth with one provider at idp (nil: a provider no one
// calls), on http://app.bench.
func benchAuth(tb testing.TB, client *http.Client, now func() time.Time) *Auth {
	tb.Helper()
	a, err := New(Config{
		Providers:  []*Provider{NewProvider("oidc", "Bench IdP", benchIssuer, "signet", "bench-client-secret")},
		Secrets:    []string{testSecret},
		URL:        "http://app.bench",
		HTTPClient: client,
		Now:        now,
		Session:    SessionConfig{Chunked: true},
		Callbacks: Callbacks{
			JWT: func(_ context.Context, p JWTParams) (Token, error) {
				if p.Profile != nil {
					for _, k := range []string{"given_name", "family_name", "username"} {
						if v := p.Profile.String(k); v != "" {
							p.Token[k] = v
						}
					}
				}
				return p.Token, nil
			},
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// benchCookies seals rec as the session cookie through Auth's own save and
// returns the cookies it set.
func benchCookies(tb testing.TB, a *Auth, rec *Record) []*http.Cookie {
	tb.Helper()
	r := httptest.NewRequest(http.MethodGet, "http://app.bench/", nil)
	w := httptest.NewRecorder()
	if _, err := a.sessions.save(w, r, a.cookiesFor(r), rec, ""); err != nil {
		tb.Fatal(err)
	}
	return w.Result().Cookies()
}

type benchCookieSize struct {
	Bytes  int `json:"bytes"`
	Chunks int `json:"chunks"`
}

func benchCookieSizeOf(cookies []*http.Cookie) benchCookieSize {
	var s benchCookieSize
	for _, c := range cookies {
		if c.Name == "signet.session-token" || strings.HasPrefix(c.Name, "signet.session-token.") {
			s.Bytes += len(c.Value)
			s.Chunks++
		}
	}
	return s
}

// TestCookieSizeReport seals the seeds' session, with and without access
// and refresh tokens and with extra claims, and checks the issue's
// targets: smaller than Auth.js's cookie for the same session, one cookie
// up to 100 extra claims, growth linear in the claims. With
// SIGNET_COOKIE_REPORT set it writes the figures there as JSON.
func TestCookieSizeReport(t *testing.T) {
	a := benchAuth(t, nil, nil)
	type claimsSize struct {
		Extra  int `json:"extra"`
		Bytes  int `json:"bytes"`
		Chunks int `json:"chunks"`
	}
	report := struct {
		AuthJS          int             `json:"authjs_bytes"`
		IDTokenChars    int             `json:"id_token_chars"`
		Seeds           benchCookieSize `json:"seeds"`
		SeedsWithTokens benchCookieSize `json:"seeds_with_tokens"`
		Claims          []claimsSize    `json:"claims"`
		// Bytes per extra claim from 0 to 200 claims, by the claims'
		// values: "id" (the figures above), "word", "random16".
		PerClaim map[string]float64 `json:"bytes_per_claim_by_value"`
		// The most extra claims that still fit in one cookie, by value.
		MaxUnchunked map[string]int `json:"max_claims_in_one_cookie_by_value"`
	}{AuthJS: benchAuthJSCookie, PerClaim: map[string]float64{}, MaxUnchunked: map[string]int{}}
	seeds := benchSeedsRecord(t, 0, false)
	report.IDTokenChars = len(seeds.IDToken)
	report.Seeds = benchCookieSizeOf(benchCookies(t, a, seeds))
	report.SeedsWithTokens = benchCookieSizeOf(benchCookies(t, a, benchSeedsRecord(t, 0, true)))
	for _, n := range []int{0, 10, 50, 100, 200} {
		s := benchCookieSizeOf(benchCookies(t, a, benchSeedsRecord(t, n, false)))
		report.Claims = append(report.Claims, claimsSize{n, s.Bytes, s.Chunks})
	}

	for name, kind := range map[string]int{"id": benchValueID, "word": benchValueWord, "random16": benchValueRandom} {
		size := func(n int) benchCookieSize {
			return benchCookieSizeOf(benchCookies(t, a, benchSeedsRecordOf(t, n, kind, false)))
		}
		s0, s200 := size(0), size(200)
		report.PerClaim[name] = float64(s200.Bytes-s0.Bytes) / 200
		lo, hi := 0, 400 // the largest n that fits in one cookie, by bisection
		for lo < hi {
			mid := (lo + hi + 1) / 2
			if size(mid).Chunks == 1 {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		report.MaxUnchunked[name] = lo
	}

	if got := report.Seeds; got.Bytes >= benchAuthJSCookie || got.Chunks != 1 {
		t.Errorf("seeds' session cookie: %d bytes in %d cookies, want under %d in one", got.Bytes, got.Chunks, benchAuthJSCookie)
	}
	for _, c := range report.Claims {
		if c.Extra < 100 && c.Chunks != 1 {
			t.Errorf("with %d extra claims the session is split into %d cookies", c.Extra, c.Chunks)
		}
	}
	// Linear: the least-squares line through the sizes explains them.
	var sx, sy, sxx, sxy, syy float64
	for _, c := range report.Claims {
		x, y := float64(c.Extra), float64(c.Bytes)
		sx, sy, sxx, sxy, syy = sx+x, sy+y, sxx+x*x, sxy+x*y, syy+y*y
	}
	n := float64(len(report.Claims))
	r := (n*sxy - sx*sy) / math.Sqrt((n*sxx-sx*sx)*(n*syy-sy*sy))
	if r*r < 0.99 {
		t.Errorf("cookie size against extra claims: R² %.4f, want a line (≥ 0.99): %+v", r*r, report.Claims)
	}
	if n := report.MaxUnchunked["id"]; n < 99 {
		t.Errorf("the session is split into several cookies from %d extra claims on, want 100 or more", n+1)
	}
	t.Logf("seeds' session: %d bytes (Auth.js %d); with tokens %d; ID token %d chars; claims %+v; bytes per claim %v; most claims in one cookie %v",
		report.Seeds.Bytes, benchAuthJSCookie, report.SeedsWithTokens.Bytes, report.IDTokenChars, report.Claims, report.PerClaim, report.MaxUnchunked)
	if path := os.Getenv("SIGNET_COOKIE_REPORT"); path != "" {
		b, err := json.MarshalIndent(report, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkSessionEncode serializes and seals a session with ID, access
// and refresh tokens: what sign-in, re-issue and refresh do.
func BenchmarkSessionEncode(b *testing.B) {
	a := benchAuth(b, nil, nil)
	rec := benchSeedsRecord(b, 0, true)
	b.ReportAllocs()
	done := benchCPU(b)
	for b.Loop() {
		raw, err := encodeRecord(rec)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := a.sessionKeys.seal(sessionSealName, raw); err != nil {
			b.Fatal(err)
		}
	}
	done()
}

// BenchmarkSessionDecode opens and deserializes that session's cookie
// value: what reading a session costs when it is not cached.
func BenchmarkSessionDecode(b *testing.B) {
	a := benchAuth(b, nil, nil)
	rec := benchSeedsRecord(b, 0, true)
	raw, err := encodeRecord(rec)
	if err != nil {
		b.Fatal(err)
	}
	v, err := a.sessionKeys.seal(sessionSealName, raw)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	done := benchCPU(b)
	for b.Loop() {
		raw, err := a.sessionKeys.open(sessionSealName, v)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := decodeRecord(raw); err != nil {
			b.Fatal(err)
		}
	}
	done()
}

// BenchmarkSessionRead is Middleware's read of a request's session: the
// cookies, the session (cached), revocation, the Session callback.
func BenchmarkSessionRead(b *testing.B) { benchSessionRead(b, true) }

// BenchmarkSessionReadUncached is the same read with the session cache
// off: every request decodes its cookie.
func BenchmarkSessionReadUncached(b *testing.B) { benchSessionRead(b, false) }

func benchSessionRead(b *testing.B, cached bool) {
	now := time.Unix(1_800_000_100, 0)
	a := benchAuth(b, nil, func() time.Time { return now })
	if !cached {
		a.sessions.cache = nil
	}
	cookies := benchCookies(b, a, benchSeedsRecord(b, 0, true))
	r := benchCSRFRequest(b, a) // the CSRF cookie, as a browser sends it
	r.Method = http.MethodGet
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	if a.load(w, r) == nil {
		b.Fatal("no session")
	}
	b.ReportAllocs()
	done := benchCPU(b)
	for b.Loop() {
		if a.load(w, r) == nil {
			b.Fatal("no session")
		}
	}
	done()
}

// benchCSRFRequest is a sign-out POST with a valid CSRF cookie and field,
// its form already parsed.
func benchCSRFRequest(b *testing.B, a *Auth) *http.Request {
	get := httptest.NewRequest(http.MethodGet, "http://app.bench/", nil)
	w := httptest.NewRecorder()
	token := a.CSRFToken(w, get)
	r := httptest.NewRequest(http.MethodPost, "http://app.bench/api/auth/signout", nil)
	for _, c := range w.Result().Cookies() {
		r.AddCookie(c)
	}
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	r.Form = url.Values{"csrfToken": {token}}
	r.PostForm = r.Form
	return r
}

// BenchmarkCSRFCheck verifies a POST's CSRF token: the cross-origin check,
// the cookie's HMAC, the form field.
func BenchmarkCSRFCheck(b *testing.B) {
	a := benchAuth(b, nil, nil)
	r := benchCSRFRequest(b, a)
	if err := a.checkCSRF(r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	done := benchCPU(b)
	for b.Loop() {
		if err := a.checkCSRF(r); err != nil {
			b.Fatal(err)
		}
	}
	done()
}

// BenchmarkCSRFToken is what every page with a sign-in or sign-out form
// does: read the CSRF token from a valid cookie.
func BenchmarkCSRFToken(b *testing.B) {
	a := benchAuth(b, nil, nil)
	r := benchCSRFRequest(b, a)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	done := benchCPU(b)
	for b.Loop() {
		if a.CSRFToken(w, r) == "" {
			b.Fatal("no token")
		}
	}
	done()
}

const benchIssuer = "https://idp.bench"

// benchIdP is an OpenID Provider in memory, as an http.RoundTripper:
// discovery, JWKS, and a token endpoint that signs an ID token for the
// code's nonce. While it works, the benchmark's timer is stopped: the
// figures are the app's own time.
type benchIdP struct {
	tb     testing.TB
	b      *testing.B // nil outside a benchmark
	mu     sync.Mutex
	nonces map[string]string // code → nonce
}

func (p *benchIdP) RoundTrip(r *http.Request) (*http.Response, error) {
	if p.b != nil {
		p.b.StopTimer()
		defer p.b.StartTimer()
	}
	w := httptest.NewRecorder()
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer":                                benchIssuer,
			"authorization_endpoint":                benchIssuer + "/authorize",
			"token_endpoint":                        benchIssuer + "/token",
			"jwks_uri":                              benchIssuer + "/jwks",
			"end_session_endpoint":                  benchIssuer + "/logout",
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
			"code_challenge_methods_supported":      []string{"S256"},
		})
	case "/jwks":
		k := benchSigningKey(p.tb)
		writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "3f6c1d2a9b8e7f60",
			"n": benchB64(k.N.Bytes()), "e": benchB64(big.NewInt(int64(k.E)).Bytes()),
		}}})
	case "/token":
		_ = r.ParseForm()
		p.mu.Lock()
		nonce, ok := p.nonces[r.PostForm.Get("code")]
		delete(p.nonces, r.PostForm.Get("code"))
		p.mu.Unlock()
		if !ok {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
			break
		}
		now := time.Now()
		at := benchRandom(32)
		idt := benchSign(p.tb, "3f6c1d2a9b8e7f60", [][2]any{
			{"sub", "ada"}, {"email", "ada@example.com"}, {"email_verified", true},
			{"family_name", "Lovelace"}, {"given_name", "Ada"}, {"name", "Ada Lovelace"},
			{"preferred_username", "ada@example.com"}, {"username", "ada@example.com"},
			{"nonce", nonce}, {"at_hash", benchAtHash(at)}, {"sid", benchRandom(16)},
			{"aud", "signet"}, {"exp", now.Add(time.Hour).Unix()}, {"iat", now.Unix()}, {"iss", benchIssuer},
		})
		writeJSON(w, http.StatusOK, map[string]any{
			"access_token": at, "refresh_token": benchRandom(32), "id_token": idt,
			"token_type": "Bearer", "expires_in": 3600, "scope": "openid profile email offline_access",
		})
	default:
		http.NotFound(w, r)
	}
	resp := w.Result()
	resp.Request = r
	return resp, nil
}

// benchHandlers are Auth's handlers as the app mounts them, built once
// per Auth.
var benchHandlers sync.Map // *Auth → http.Handler

// benchServe runs one request through Auth's handlers.
func benchServe(a *Auth, r *http.Request) *http.Response {
	h, ok := benchHandlers.Load(a)
	if !ok {
		mux := http.NewServeMux()
		mux.Handle(a.BasePath()+"/", a.Handler())
		mux.Handle("GET "+a.SignOutPath(), a.PostLogoutHandler())
		h, _ = benchHandlers.LoadOrStore(a, a.Middleware(mux))
	}
	w := httptest.NewRecorder()
	h.(http.Handler).ServeHTTP(w, r)
	return w.Result()
}

func benchRequest(method, target string, cookies []*http.Cookie, form url.Values) *http.Request {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return r
}

// benchSignIn signs in once: POST /api/auth/signin/oidc with the CSRF
// token, the IdP's part (a code for the nonce, outside the timer), and the
// callback, whose token exchange happens with the timer stopped. It
// returns the session cookies.
func benchSignIn(b *testing.B, a *Auth, idp *benchIdP, csrf []*http.Cookie, token string) []*http.Cookie {
	resp := benchServe(a, benchRequest(http.MethodPost, "http://app.bench/api/auth/signin/oidc", csrf, url.Values{"csrfToken": {token}, "callbackUrl": {"/"}}))
	if b != nil {
		b.StopTimer()
	}
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusSeeOther || err != nil {
		b.Fatalf("sign-in start: status %d", resp.StatusCode)
	}
	q := loc.Query()
	code := benchRandom(16)
	idp.mu.Lock()
	idp.nonces[code] = q.Get("nonce")
	idp.mu.Unlock()
	flow := resp.Cookies()
	cb := benchRequest(http.MethodGet, "http://app.bench/api/auth/callback/oidc?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), flow, nil)
	if b != nil {
		b.StartTimer()
	}
	resp = benchServe(a, cb)
	if resp.StatusCode != http.StatusFound {
		b.Fatalf("callback: status %d", resp.StatusCode)
	}
	var session []*http.Cookie
	for _, c := range resp.Cookies() {
		if strings.HasPrefix(c.Name, "signet.session-token") && c.Value != "" {
			session = append(session, c)
		}
	}
	if len(session) == 0 {
		b.Fatal("callback set no session")
	}
	return session
}

func newBenchIdPAuth(b *testing.B) (*Auth, *benchIdP, []*http.Cookie, string) {
	idp := &benchIdP{tb: b, nonces: map[string]string{}}
	a := benchAuth(b, &http.Client{Transport: idp, Timeout: 10 * time.Second}, nil)
	w := httptest.NewRecorder()
	token := a.CSRFToken(w, httptest.NewRequest(http.MethodGet, "http://app.bench/", nil))
	csrf := w.Result().Cookies()
	benchSignIn(b, a, idp, csrf, token) // discovery and keys, once
	return a, idp, csrf, token
}

// BenchmarkSignIn is the app's own time for one complete sign-in: starting
// it (CSRF check, state, nonce and PKCE sealed into cookies, the
// authorization URL) and the callback (flow cookies, ID token signature
// and claims, callbacks, the sealed session), without the IdP's time.
func BenchmarkSignIn(b *testing.B) {
	a, idp, csrf, token := newBenchIdPAuth(b)
	idp.b = b
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		benchSignIn(b, a, idp, csrf, token)
	}
}

// BenchmarkSignOut is the app's own time for one complete sign-out: the
// POST (CSRF check, session read and cleared, the IdP's logout URL, the
// sealed logout state) and the post-logout page the IdP returns to.
func BenchmarkSignOut(b *testing.B) {
	a, idp, csrf, token := newBenchIdPAuth(b)
	session := benchSignIn(b, a, idp, csrf, token)
	cookies := append(append([]*http.Cookie{}, csrf...), session...)
	form := url.Values{"csrfToken": {token}}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		post := benchRequest(http.MethodPost, "http://app.bench/api/auth/signout", cookies, form)
		b.StartTimer()
		resp := benchServe(a, post)
		b.StopTimer()
		loc, err := resp.Location()
		if resp.StatusCode != http.StatusSeeOther || err != nil || !strings.HasPrefix(loc.String(), benchIssuer+"/logout?") {
			b.Fatalf("sign-out: status %d to %v", resp.StatusCode, loc)
		}
		var state []*http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "signet.logout-state" {
				state = append(state, c)
			}
		}
		back := benchRequest(http.MethodGet, "http://app.bench"+a.SignOutPath()+"?state="+url.QueryEscape(loc.Query().Get("state")), state, nil)
		b.StartTimer()
		if resp := benchServe(a, back); resp.StatusCode != http.StatusOK {
			b.Fatalf("post-logout page: status %d", resp.StatusCode)
		}
	}
}

// benchCPU starts counting the process's CPU time (user and system, every
// thread: the garbage collector's too); the func it returns reports it per
// op as cpu-ns/op. On a shared machine it moves less than ns/op, which
// also counts the time spent waiting for a CPU.
func benchCPU(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() { b.ReportMetric(float64(cpu()-start)/float64(b.N), "cpu-ns/op") }
}

// BenchmarkSessionJSON is the session as GET /api/auth/session and the
// home page show it.
func BenchmarkSessionJSON(b *testing.B) {
	s := &Session{
		User:    User{Name: "Ada Lovelace", Email: "ada@example.com", GivenName: "Ada", FamilyName: "Lovelace", Username: "ada@example.com"},
		Expires: time.Unix(1_800_000_000, 0),
		Scopes:  []string{"openid", "profile", "email"},
	}
	b.ReportAllocs()
	done := benchCPU(b)
	for b.Loop() {
		if _, err := json.Marshal(s); err != nil {
			b.Fatal(err)
		}
	}
	done()
}
