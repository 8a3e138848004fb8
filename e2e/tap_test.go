package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

// A tap is a reverse proxy on 127.0.0.1 that records every request and
// response it passes on, bodies included. Put in front of the app (as its
// AUTH_URL) or of an IdP (as its issuer), it sees what the browser and the
// servers send each other: authorization codes, tokens in token responses,
// the client secret in the token request's Basic auth, cookies, logout
// tokens. The Host header is passed on unchanged, so the server behind it
// builds its URLs for the tap.
type tap struct {
	URL string // http://127.0.0.1:PORT

	mu        sync.Mutex
	target    *url.URL
	exchanges []exchange
}

// exchange is one request through the tap and its response.
type exchange struct {
	Method     string
	URL        *url.URL // the path and query the client asked for
	ReqHeader  http.Header
	ReqBody    []byte
	Status     int
	RespHeader http.Header
	RespBody   []byte
}

// maxTapBody bounds what a tap keeps of one body.
const maxTapBody = 4 << 20

// newTap listens on a free port of 127.0.0.1 and serves until the test
// ends. It forwards to target once setTarget names it (a tap may need its
// URL before the server behind it can start): until then it answers 502.
func newTap(t testing.TB) *tap {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("tap: %v", err)
	}
	tp := &tap{URL: "http://" + l.Addr().String()}
	upstream := &http.Transport{} // Go asks for gzip and unpacks it: bodies are kept plain
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			tp.mu.Lock()
			target := tp.target
			tp.mu.Unlock()
			if target != nil {
				pr.SetURL(target)
			}
			pr.Out.Host = pr.In.Host
			pr.Out.Header.Del("Accept-Encoding")
		},
		Transport: roundTripper(func(req *http.Request) (*http.Response, error) {
			if req.URL.Host == "" {
				return &http.Response{StatusCode: http.StatusBadGateway, Body: http.NoBody, Header: http.Header{}, Request: req}, nil
			}
			ex := exchange{Method: req.Method, URL: &url.URL{Path: req.URL.Path, RawQuery: req.URL.RawQuery}, ReqHeader: req.Header.Clone()}
			if req.Body != nil {
				b, err := io.ReadAll(io.LimitReader(req.Body, maxTapBody))
				req.Body.Close()
				if err != nil {
					return nil, err
				}
				ex.ReqBody = b
				req.Body = io.NopCloser(bytes.NewReader(b))
			}
			resp, err := upstream.RoundTrip(req)
			if err != nil {
				return nil, err
			}
			b, err := io.ReadAll(io.LimitReader(resp.Body, maxTapBody))
			resp.Body.Close()
			if err != nil {
				return nil, err
			}
			resp.Body = io.NopCloser(bytes.NewReader(b))
			ex.Status, ex.RespHeader, ex.RespBody = resp.StatusCode, resp.Header.Clone(), b
			tp.mu.Lock()
			tp.exchanges = append(tp.exchanges, ex)
			tp.mu.Unlock()
			return resp, nil
		}),
		ErrorLog: log.New(io.Discard, "", 0), // a browser that moves on cancels requests
	}
	srv := &http.Server{Handler: rp}
	go srv.Serve(l)
	t.Cleanup(func() {
		srv.Close()
		upstream.CloseIdleConnections()
	})
	return tp
}

// setTarget makes the tap forward to target (scheme and host).
func (tp *tap) setTarget(target string) {
	u, err := url.Parse(target)
	if err != nil {
		panic(err)
	}
	tp.mu.Lock()
	tp.target = &url.URL{Scheme: u.Scheme, Host: u.Host}
	tp.mu.Unlock()
}

// Exchanges returns what passed through so far.
func (tp *tap) Exchanges() []exchange {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return slices.Clone(tp.exchanges)
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// secretValue is a value that must never reach a log: what it is, where the
// tap saw it first, and the value.
type secretValue struct {
	Kind  string // "ID token", "authorization code", "cookie signet.session-token", ...
	Where string // e.g. "POST /token response"
	Value string
}

// secretParams are the parameter names (query, form, fragment, JSON) whose
// values are credentials, and what each one is. The demo users' passwords
// are not among them: the embedded IdP lists them in the log on purpose.
var secretParams = map[string]string{
	"code":          "authorization code",
	"code_verifier": "PKCE verifier",
	"state":         "state",
	"nonce":         "nonce",
	"id_token":      "ID token",
	"id_token_hint": "ID token",
	"access_token":  "access token",
	"refresh_token": "refresh token",
	"logout_token":  "logout token",
	"token":         "token (introspection/revocation)",
	"client_secret": "client secret",
	"csrfToken":     "CSRF token",
	"csrf_token":    "CSRF token (IdP form)",
}

// minSecretLen is the length below which a value is not checked: a short
// value ("1", "yes") would match ordinary log text by chance.
const minSecretLen = 8

// Secrets returns every credential that went through the tap, once each:
// parameters named in secretParams in request queries, form bodies,
// Location headers (query and fragment) and JSON response bodies; the
// password of Basic auth (the client secret) and Bearer tokens; and the value
// of every cookie sent or set.
func (tp *tap) Secrets() []secretValue {
	var out []secretValue
	seen := map[string]bool{}
	add := func(kind, where, v string) {
		if len(v) < minSecretLen || seen[v] {
			return
		}
		seen[v] = true
		out = append(out, secretValue{Kind: kind, Where: where, Value: v})
	}
	addValues := func(where string, vals url.Values) {
		for name, vs := range vals {
			kind, ok := secretParams[name]
			if !ok {
				continue
			}
			for _, v := range vs {
				add(kind, where, v)
			}
		}
	}
	for _, ex := range tp.Exchanges() {
		where := ex.Method + " " + ex.URL.Path
		addValues(where+" query", ex.URL.Query())
		if isForm(ex.ReqHeader) {
			if vals, err := url.ParseQuery(string(ex.ReqBody)); err == nil {
				addValues(where+" form", vals)
			}
		}
		if auth := ex.ReqHeader.Get("Authorization"); auth != "" {
			scheme, cred, _ := strings.Cut(auth, " ")
			switch strings.ToLower(scheme) {
			case "basic":
				if raw, err := base64.StdEncoding.DecodeString(cred); err == nil {
					_, pw, _ := strings.Cut(string(raw), ":")
					if u, err := url.QueryUnescape(pw); err == nil {
						pw = u // RFC 6749 2.3.1: form-encoded, then Basic
					}
					add("client secret", where+" Basic auth", pw)
				}
			case "bearer":
				add("access token", where+" Bearer", cred)
			}
		}
		req := http.Request{Header: ex.ReqHeader}
		for _, c := range req.Cookies() {
			add("cookie "+c.Name, where+" Cookie", c.Value)
		}
		resp := http.Response{Header: ex.RespHeader}
		for _, c := range resp.Cookies() {
			add("cookie "+c.Name, where+" Set-Cookie", c.Value)
		}
		if loc := ex.RespHeader.Get("Location"); loc != "" {
			if u, err := url.Parse(loc); err == nil {
				addValues(where+" Location", u.Query())
				if f, err := url.ParseQuery(u.Fragment); err == nil {
					addValues(where+" Location fragment", f)
				}
			}
		}
		if isJSON(ex.RespHeader) {
			var doc map[string]any
			if json.Unmarshal(ex.RespBody, &doc) == nil {
				for name, v := range doc {
					if s, ok := v.(string); ok {
						if kind, ok := secretParams[name]; ok {
							add(kind, where+" response", s)
						}
					}
				}
			}
		}
	}
	return out
}

func isForm(h http.Header) bool {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded"
}

func isJSON(h http.Header) bool {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}
