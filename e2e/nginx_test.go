package e2e

// Signet behind a real reverse proxy: Debian's nginx with its default buffer
// settings terminates TLS (a self-signed certificate the test makes) and
// proxies to the app on loopback http, the way the seeds' production broke
// ("worked on localhost"; nginx's 502 "upstream sent too big header" once
// the session cookie grew). The IdP (oidc-provider, on loopback http) gives
// Ada 80 extra claims, so her ID token is about 7 KB: too large for a
// session cookie or a logout URL that must fit nginx's 4 KB proxy buffer.
// The app keeps such a session in its overflow store (the cookie holds an
// id) and signs out with client_id instead of id_token_hint.
//
// The journey, once with AUTH_URL=https://127.0.0.1:<nginx> and once with
// AUTH_TRUST_HOST=true and no AUTH_URL: home → Sign in → the IdP → home
// signed in → /profile → an htmx fragment → /api/auth/session → Sign out
// (RP-initiated, through the IdP) → Sign in asks for credentials again → home.
// It checks that nginx never answered 400, 431, 494 or 5xx, that its error
// log has no "upstream sent too big header" nor "client sent too long header
// line", that every URL of the app the browser saw is
// https://127.0.0.1:<nginx>, that redirect_uri and post_logout_redirect_uri
// went to the IdP as https, and that every Signet cookie is Secure with the
// __Secure-/__Host- prefix.
//
// How the header sizes are measured, twice and independently:
//
//   - nginx logs, per request, $request_length (the request line, headers and
//     body as received) and $bytes_sent − $body_bytes_sent: the status line
//     and headers nginx sent to the browser.
//   - Chromium reports what went over the wire through CDP:
//     Network.requestWillBeSentExtraInfo carries the raw request headers (the
//     Cookie header as sent) and Network.responseReceivedExtraInfo the raw
//     response header text (headersText, HTTP/1.1). Responses from nginx are
//     told apart by its Server header, requests to it by their Host header.
//
// The block nginx sends is the app's block with Server and Connection
// rewritten, so the app's own header block (what must fit proxy_buffer_size)
// is within a few dozen bytes of it. The sizes go to the test log and to
// e2e/screenshots/nginx-header-sizes.txt.

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
)

// nginxPath returns Debian's nginx (`apt-get install nginx-light`; the
// Taskfile's system-deps task installs it). Without it the test is skipped,
// or fails under CI.
func nginxPath(t testing.TB) string {
	t.Helper()
	for _, c := range []string{"nginx", "/usr/sbin/nginx"} {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	skipOrFail(t, "nginx not found (install it with `apt-get install nginx-light`)")
	return ""
}

// nginxProxy is a running nginx that terminates TLS in front of the app.
type nginxProxy struct {
	URL     string // https://127.0.0.1:PORT
	Port    int
	Version string // "nginx/1.22.1"
	dir     string
	client  *http.Client // trusts the test's certificate
	proc    *process
}

// selfSignedCert writes a fresh ECDSA P-256 certificate for 127.0.0.1 and
// localhost, valid for an hour, and its key to dir. It returns the pool that
// trusts it.
func selfSignedCert(t testing.TB, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "127.0.0.1", Organization: []string{"Signet e2e"}},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// nginxConf is the whole configuration. It sets only what a test needs
// (paths in the temp dir, the TLS server, the proxy headers, the log
// format) and leaves every buffer at nginx's compiled-in default, which is
// what Debian ships (/etc/nginx/nginx.conf sets none of them):
//
//	proxy_buffer_size            4k|8k  (one memory page: 4k on x86-64 and arm64)
//	proxy_buffers                8 4k|8k
//	client_header_buffer_size    1k
//	large_client_header_buffers  4 8k   (one header line, e.g. Cookie, at most 8k)
//
// An upstream response whose header block does not fit proxy_buffer_size
// is a 502 with "upstream sent too big header" in the error log; a request
// header line longer than 8k is a 400 "Request Header Or Cookie Too Large"
// with "client sent too long header line" (logged at info level).
//
// master_process off keeps nginx one process, so that it dies with the test
// binary (Pdeathsig) and leaves no worker behind; buffers behave the same.
const nginxConf = `daemon off;
master_process off;
pid {{dir}}/nginx.pid;
error_log {{dir}}/error.log info;

events {
	worker_connections 64;
}

http {
	client_body_temp_path {{dir}}/client_body;
	proxy_temp_path {{dir}}/proxy;
	fastcgi_temp_path {{dir}}/fastcgi;
	uwsgi_temp_path {{dir}}/uwsgi;
	scgi_temp_path {{dir}}/scgi;

	# One JSON object per request. $uri has no query string: the callback's
	# code and state stay out of the log.
	log_format sizes escape=json '{"status":$status,"method":"$request_method","uri":"$uri",'
		'"hx":"$http_hx_request","request_length":$request_length,'
		'"bytes_sent":$bytes_sent,"body_bytes_sent":$body_bytes_sent,'
		'"upstream_status":"$upstream_status"}';
	access_log {{dir}}/access.log sizes;

	server {
		listen 127.0.0.1:{{port}} ssl;
		server_name 127.0.0.1 localhost;
		ssl_certificate {{cert}};
		ssl_certificate_key {{key}};

		location / {
			proxy_pass http://127.0.0.1:{{upstream}};
			proxy_set_header Host $host;
			proxy_set_header X-Real-IP $remote_addr;
			proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
			proxy_set_header X-Forwarded-Proto $scheme;
			proxy_set_header X-Forwarded-Host $host:$server_port;
		}
	}
}
`

// startNginx starts nginx on 127.0.0.1:port, terminating TLS with a fresh
// self-signed certificate and proxying to http://127.0.0.1:upstream, with
// its config, logs, pid and temp files in a temp dir. It waits until
// https://127.0.0.1:port/healthz answers 200 through it, and stops nginx when
// the test ends.
func startNginx(t testing.TB, port, upstream int) *nginxProxy {
	t.Helper()
	exe := nginxPath(t)
	dir := t.TempDir()
	cert, key, pool := selfSignedCert(t, dir)
	conf := strings.NewReplacer(
		"{{dir}}", dir, "{{port}}", strconv.Itoa(port), "{{upstream}}", strconv.Itoa(upstream),
		"{{cert}}", cert, "{{key}}", key,
	).Replace(nginxConf)
	confFile := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	version, _ := exec.Command(exe, "-v").CombinedOutput()
	// -e: the error log before the configuration is read (Debian builds
	// nginx with stderr there); -c and -p keep everything in dir.
	cmd := exec.Command(exe, "-e", "stderr", "-c", confFile, "-p", dir)
	cmd.Dir = dir
	cmd.Env = cleanEnv(nil)
	n := &nginxProxy{
		URL:     "https://127.0.0.1:" + strconv.Itoa(port),
		Port:    port,
		Version: strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(version)), "nginx version:")),
		dir:     dir,
		client: &http.Client{
			Timeout:   5 * time.Second,
			Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		},
	}
	n.proc = startProcess(t, "nginx", cmd)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("nginx error log:\n%s", tail(n.errorLog(t), 4000))
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		if n.proc.exited() {
			t.Fatalf("nginx exited (%v):\n%s\n%s", n.proc.err, n.proc.log.String(), n.errorLog(t))
		}
		resp, err := n.client.Get(n.URL + "/healthz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx at %s did not proxy /healthz: %v\n%s", n.URL, err, n.errorLog(t))
		}
		time.Sleep(50 * time.Millisecond)
	}
	return n
}

// errorLog returns nginx's error log so far.
func (n *nginxProxy) errorLog(t testing.TB) string {
	b, err := os.ReadFile(filepath.Join(n.dir, "error.log"))
	if err != nil && !os.IsNotExist(err) {
		t.Errorf("read nginx error log: %v", err)
	}
	return string(b)
}

// nginxRequest is one line of the access log.
type nginxRequest struct {
	Status         int    `json:"status"`
	Method         string `json:"method"`
	URI            string `json:"uri"`
	HX             string `json:"hx"`
	RequestLength  int    `json:"request_length"`
	BytesSent      int    `json:"bytes_sent"`
	BodyBytesSent  int    `json:"body_bytes_sent"`
	UpstreamStatus string `json:"upstream_status"`
	UpstreamAddr   string `json:"upstream_addr"` // in the load balancer's log only
}

// HeaderBytes is the size of the status line and headers nginx sent.
func (r nginxRequest) HeaderBytes() int { return r.BytesSent - r.BodyBytesSent }

func (r nginxRequest) String() string {
	return fmt.Sprintf("%s %s %d", r.Method, r.URI, r.Status)
}

// accessLog returns the requests nginx has logged so far.
func (n *nginxProxy) accessLog(t testing.TB) []nginxRequest {
	t.Helper()
	f, err := os.Open(filepath.Join(n.dir, "access.log"))
	if err != nil {
		t.Fatalf("nginx access log: %v", err)
	}
	defer f.Close()
	var out []nginxRequest
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r nginxRequest
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("nginx access log line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

// --- What Chromium sent and received --------------------------------------------

// wireSizes keeps the sizes of the raw headers Chromium exchanged with nginx,
// from the CDP ExtraInfo events. Its listen method runs in chromedp's event
// loop.
type wireSizes struct {
	host string // 127.0.0.1:PORT of nginx

	mu              sync.Mutex
	responses       int // responses from nginx
	maxResponse     int // the largest response header text
	maxResponseHead string
	requests        int // requests to nginx
	maxCookie       int // the largest Cookie header
	maxAppCookie    int // the app's share of it ("name=value; " of the signet cookies)
	maxCookieNames  []string
	setCookies      map[string]int // the app's cookies nginx set (or cleared), by name
	badCookies      []string       // Set-Cookie lines of the app without Secure or a prefix
	blocked         []string       // cookies Chromium refused to store
}

func (w *wireSizes) listen(ev any) {
	switch ev := ev.(type) {
	case *network.EventResponseReceivedExtraInfo:
		text := ev.HeadersText
		if text == "" || !headerIs(ev.Headers, "Server", "nginx") {
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		w.responses++
		for _, b := range ev.BlockedCookies {
			w.blocked = append(w.blocked, fmt.Sprintf("%s: %v", strings.SplitN(b.CookieLine, "=", 2)[0], b.BlockedReasons))
		}
		if v, ok := headerValue(ev.Headers, "Set-Cookie"); ok {
			for _, line := range strings.Split(v, "\n") {
				c, err := http.ParseSetCookie(line)
				if err != nil || !isAppCookie(c.Name) {
					continue
				}
				if w.setCookies == nil {
					w.setCookies = map[string]int{}
				}
				w.setCookies[c.Name]++
				prefixed := strings.HasPrefix(c.Name, "__Secure-") || strings.HasPrefix(c.Name, "__Host-")
				if !c.Secure || !prefixed {
					w.badCookies = append(w.badCookies, strings.SplitN(line, "=", 2)[0]+" (secure="+strconv.FormatBool(c.Secure)+")")
				}
			}
		}
		if len(text) > w.maxResponse {
			w.maxResponse = len(text)
			w.maxResponseHead, _, _ = strings.Cut(text, "\r\n")
		}
	case *network.EventRequestWillBeSentExtraInfo:
		if !headerIs(ev.Headers, "Host", w.host) {
			return
		}
		cookie, _ := headerValue(ev.Headers, "Cookie")
		app, names := 0, []string{}
		for _, c := range strings.Split(cookie, "; ") {
			name, _, _ := strings.Cut(c, "=")
			names = append(names, name)
			if isAppCookie(name) {
				app += len(c) + len("; ")
			}
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		w.requests++
		if len(cookie) > w.maxCookie {
			w.maxCookie, w.maxAppCookie, w.maxCookieNames = len(cookie), app, names
		}
	}
}

func headerValue(h network.Headers, name string) (string, bool) {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			s, ok := v.(string)
			return s, ok
		}
	}
	return "", false
}

// headerIs reports whether the header name is value, or starts with
// value + "/" (a Server header with a version).
func headerIs(h network.Headers, name, value string) bool {
	v, ok := headerValue(h, name)
	return ok && (v == value || strings.HasPrefix(v, value+"/"))
}

// --- The test -------------------------------------------------------------------

// bigClaims are 80 extra claims of the shape directory attributes and group
// ids take in real ID tokens: names of 14 characters, GUID values.
func bigClaims() map[string]any {
	claims := map[string]any{}
	for i := 1; i <= 80; i++ {
		name := fmt.Sprintf("ext_attr_%02d_id", i)
		h := sha256.Sum256([]byte(name))
		claims[name] = fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
	}
	return claims
}

// nginxResult is what one subtest measured.
type nginxResult struct {
	name                  string
	idToken               int
	sessionBytes          int
	sessionChunks         int
	maxResponse           int    // nginx: $bytes_sent - $body_bytes_sent
	maxResponseReq        string // the request that had it
	maxResponseWire       int    // Chromium: headersText
	maxResponseWireHead   string
	maxRequest            int // nginx: $request_length
	maxRequestReq         string
	maxCookie, maxAppCook int // Chromium: the Cookie header, and the app's share
	maxCookieNames        []string
	requests              int
}

// TestBehindNginx is the journey behind nginx, with the origin from AUTH_URL
// and from the forwarded headers (AUTH_TRUST_HOST).
func TestBehindNginx(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	nginxPath(t)
	var (
		mu      sync.Mutex
		results []nginxResult
		version string
	)
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if len(results) > 0 {
			writeHeaderSizes(t, version, results)
		}
	})
	for _, tc := range []struct {
		name      string
		trustHost bool
	}{
		{"AUTH_URL", false},
		{"AUTH_TRUST_HOST", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, ver := nginxJourney(t, tc.trustHost)
			res.name = tc.name
			mu.Lock()
			results, version = append(results, res), ver
			mu.Unlock()
		})
	}
}

// nginxJourney runs the whole journey through nginx and returns what it
// measured.
func nginxJourney(t *testing.T, trustHost bool) (nginxResult, string) {
	appPort, proxyPort := freePort(t), freePort(t)
	for proxyPort == appPort {
		proxyPort = freePort(t)
	}
	proxyURL := "https://127.0.0.1:" + strconv.Itoa(proxyPort)

	// The IdP knows the app by its public https URLs only. No back- or
	// front-channel logout: the OP would have to trust the test's
	// certificate for the first, and the journey is RP-initiated logout.
	client := appClient(proxyURL, "oidc")
	client.BackchannelLogoutURI, client.FrontchannelLogoutURI = "", ""
	ada := opAda
	ada.ExtraClaims = bigClaims()
	op := startOP(t, OPConfig{Clients: []OPClient{client}, Accounts: []OPAccount{ada}})

	env := map[string]string{
		"PORT":             strconv.Itoa(appPort),
		"AUTH_SECRET":      randomSecret(),
		"AUTH_OIDC_ISSUER": op.Issuer,
		"AUTH_OIDC_ID":     client.ClientID,
		"AUTH_OIDC_SECRET": client.ClientSecret,
		"LOG_LEVEL":        "debug",
	}
	if trustHost {
		env["AUTH_URL"] = "" // no AUTH_URL: the origin comes from X-Forwarded-*
		env["AUTH_TRUST_HOST"] = "true"
	} else {
		env["AUTH_URL"] = proxyURL
	}
	app := startApp(t, env)
	proxy := startNginx(t, proxyPort, appPort)

	// The journey helpers of journey_test.go, with the app at its public URL.
	public := *app
	public.URL = proxy.URL
	e := &journeyEnv{
		app:         &public,
		op:          op,
		providerSel: `button[data-provider="oidc"]`,
		loginSel:    opLoginSel,
		passwordSel: opPasswordSel,
		submitSel:   opSubmitSel,
		username:    "ada",
		password:    "lovelace",
		idpPrefix:   op.Issuer + "/",
		clientID:    client.ClientID,
		wantEmail:   defaultWantedEmail,
	}
	wire := &wireSizes{host: "127.0.0.1:" + strconv.Itoa(proxyPort)}
	ctx := newBrowser(t, ignoreCertErrors(), withListener(wire.listen))

	// Home, signed out.
	navigate(t, ctx, proxy.URL+"/")
	waitVisible(t, ctx, selSignIn)
	screenshot(t, ctx, "01-home-signed-out")

	// Sign in with the big ID token.
	click(t, ctx, selSignIn)
	e.waitLoginForm(t, ctx)
	screenshot(t, ctx, "02-idp-login")
	e.submitCredentials(t, ctx)
	waitAt(t, ctx, proxy.URL+"/", selWelcome)
	screenshot(t, ctx, "03-home-signed-in")
	e.checkHomeSignedIn(t, ctx)
	var res nginxResult
	res.sessionBytes, res.sessionChunks = checkSecureCookies(t, ctx, proxy.URL)

	// The authorization request carried the https callback.
	authz, _ := op.Discovery(t)["authorization_endpoint"].(string)
	sawAuthz := false
	for _, v := range visitedURLs(ctx) {
		if u, err := url.Parse(v.URL); err == nil && v.Kind == "request:Document" && u.Scheme+"://"+u.Host+u.Path == authz {
			sawAuthz = true
			if got, want := u.Query().Get("redirect_uri"), proxy.URL+"/api/auth/callback/oidc"; got != want {
				t.Errorf("redirect_uri sent to the IdP = %q, want %q", got, want)
			}
		}
	}
	if !sawAuthz {
		t.Errorf("the browser never went to the IdP's authorization endpoint %s", authz)
	}

	// Use the app: profile, its htmx fragment, the session API.
	click(t, ctx, selNavProfile)
	waitAt(t, ctx, proxy.URL+"/profile", selProfileEmail)
	e.checkProfile(t, ctx)
	screenshot(t, ctx, "04-profile")
	// The profile card asks for itself again over htmx when the window gets
	// the focus back (hx-trigger "focus from:window"). Its ETag makes the
	// round trip through nginx, so the unchanged card gets 304 and stays.
	before := len(proxy.accessLog(t))
	focusWindow(t, ctx)
	fragment := waitNginxRequest(t, proxy, before, "/fragments/profile")
	if fragment.Status != http.StatusNotModified || fragment.HX != "true" {
		t.Errorf("the htmx fragment: %s HX-Request=%q, want 304 for an htmx request with the card's ETag", fragment, fragment.HX)
	}
	waitVisible(t, ctx, selProfileEmail)
	navigate(t, ctx, proxy.URL+"/api/auth/session")
	raw := textOf(t, ctx, "body")
	var s sessionJSON
	if err := json.Unmarshal([]byte(raw), &s); err != nil || s.User["email"] != defaultWantedEmail {
		t.Errorf("/api/auth/session through nginx = %s (%v), want Ada's session", raw, err)
	}
	screenshot(t, ctx, "05-api-auth-session")

	// Sign out: the app, the IdP, /auth/sign-out, home.
	navigate(t, ctx, proxy.URL+"/profile")
	waitVisible(t, ctx, selSignOut)
	trip := e.signOut(t, ctx)
	var idToken string
	if trip.endSession == nil {
		t.Errorf("the browser did not visit the IdP's end_session_endpoint after Sign out; IdP URLs: %v", trip.idpVisits)
	} else {
		q := trip.endSession.Query()
		for k, want := range map[string]string{
			"client_id":                client.ClientID,
			"post_logout_redirect_uri": proxy.URL + signOutPagePath,
		} {
			if got := q.Get(k); got != want {
				t.Errorf("end_session %s = %q, want %q", k, got, want)
			}
		}
		if st := q.Get("state"); st == "" || trip.postLogout == nil || trip.postLogout.Query().Get("state") != st {
			t.Errorf("end_session state %q did not come back to %s", st, signOutPagePath)
		}
		// A 7 KB ID token does not fit a URL behind a 4 KB proxy buffer:
		// the app leaves id_token_hint out and says how large the token was.
		idToken = q.Get("id_token_hint")
		res.idToken = len(idToken)
		if idToken != "" {
			t.Errorf("the logout URL carries the %d-byte ID token", len(idToken))
		}
		for _, line := range lines(app.Logs()) {
			if _, n, ok := strings.Cut(line, "id_token_bytes="); ok {
				res.idToken, _ = strconv.Atoi(strings.Fields(n)[0])
			}
		}
	}
	screenshot(t, ctx, "06-home-signed-out")
	e.checkSignedOutCookies(t, ctx)

	// Sign in again: the IdP asks for credentials.
	click(t, ctx, selSignIn)
	if waitAny(t, ctx, e.loginSel, selWelcome) == selWelcome {
		screenshot(t, ctx, "07-signed-in-without-credentials")
		t.Fatalf("Sign in again went through without asking for credentials: the IdP's session was not ended")
	}
	e.waitLoginForm(t, ctx)
	screenshot(t, ctx, "07-idp-login-again")
	e.submitCredentials(t, ctx)
	waitAt(t, ctx, proxy.URL+"/", selWelcome)
	screenshot(t, ctx, "08-home-signed-in-again")

	// Every URL of the app was its public https URL; none carried a token.
	checkPublicURLs(t, visitedURLs(ctx), proxy.URL, op.Issuer, app.URL)
	assertNoTokenInAppURLs(t, ctx, proxy.URL, nil, idToken)

	// What nginx saw.
	reqs := proxy.accessLog(t)
	checkNginxLogs(t, proxy, reqs)
	res.requests = len(reqs)
	for _, r := range reqs {
		if r.HeaderBytes() > res.maxResponse {
			res.maxResponse, res.maxResponseReq = r.HeaderBytes(), r.String()
		}
		if r.RequestLength > res.maxRequest {
			res.maxRequest, res.maxRequestReq = r.RequestLength, r.String()
		}
	}
	wire.mu.Lock()
	res.maxResponseWire, res.maxResponseWireHead = wire.maxResponse, wire.maxResponseHead
	res.maxCookie, res.maxAppCook, res.maxCookieNames = wire.maxCookie, wire.maxAppCookie, wire.maxCookieNames
	responses, requests := wire.responses, wire.requests
	setCookies, badCookies, blocked := wire.setCookies, wire.badCookies, wire.blocked
	wire.mu.Unlock()
	// Every Set-Cookie of the app through nginx, flow cookies and clears
	// included: Secure, with the __Secure-/__Host- prefix, and stored.
	for _, name := range []string{"__Secure-signet.state", "__Secure-signet.nonce", "__Secure-signet.pkce.code_verifier",
		"__Secure-signet.session-token", "__Host-signet.csrf-token", "__Secure-signet.logout-state"} {
		if setCookies[name] == 0 {
			t.Errorf("nginx passed no Set-Cookie for %s; it passed %v", name, setCookies)
		}
	}
	for _, c := range badCookies {
		t.Errorf("Set-Cookie without Secure or a __Secure-/__Host- prefix: %s", c)
	}
	for _, c := range blocked {
		t.Errorf("Chromium refused the cookie %s", c)
	}
	if responses == 0 || requests == 0 {
		t.Errorf("Chromium reported %d raw responses from and %d raw requests to nginx; nothing measured", responses, requests)
	}
	if res.maxResponseWire != res.maxResponse {
		// Both count the status line and headers of the same responses.
		t.Logf("note: largest response header block by nginx %d bytes, by Chromium %d bytes", res.maxResponse, res.maxResponseWire)
	}
	if res.idToken == 0 {
		t.Errorf("the ID token's size is unknown (no id_token_hint at the IdP)")
	}
	t.Logf("ID token %d bytes; session cookie %d bytes in %d cookie(s)", res.idToken, res.sessionBytes, res.sessionChunks)
	t.Logf("largest response header block: %d bytes (%s; Chromium: %d bytes, %q)", res.maxResponse, res.maxResponseReq, res.maxResponseWire, res.maxResponseWireHead)
	t.Logf("largest request Cookie header: %d bytes, of which the app's cookies %d (%s)", res.maxCookie, res.maxAppCook, strings.Join(res.maxCookieNames, ", "))
	t.Logf("largest request (line, headers and body): %d bytes (%s); %d requests through nginx", res.maxRequest, res.maxRequestReq, res.requests)
	return res, proxy.Version
}

// checkSecureCookies checks every Signet cookie of the app's https origin:
// Secure, HttpOnly, SameSite=Lax, Path=/, the __Secure- prefix (__Host- for
// the CSRF cookie), and each under 4096 bytes. It returns the session's
// size (its values together) and its number of cookies.
func checkSecureCookies(t *testing.T, ctx context.Context, appURL string) (size, chunks int) {
	t.Helper()
	cookies := appCookies(t, ctx, appURL)
	for _, c := range cookies {
		prefixed := strings.HasPrefix(c.Name, "__Secure-") || strings.HasPrefix(c.Name, "__Host-")
		if !c.Secure || !prefixed || !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax || c.Path != "/" {
			t.Errorf("cookie %s: secure=%v httpOnly=%v sameSite=%q path=%q; want Secure, HttpOnly, SameSite=Lax, Path=/ and a __Secure-/__Host- prefix on https",
				c.Name, c.Secure, c.HTTPOnly, c.SameSite, c.Path)
		}
		if strings.Contains(c.Name, "csrf") && !strings.HasPrefix(c.Name, "__Host-") {
			t.Errorf("cookie %s: want the __Host- prefix", c.Name)
		}
		if c.Size > 4096 {
			t.Errorf("cookie %s is %d bytes, more than a browser keeps", c.Name, c.Size)
		}
		if isSessionCookie(c.Name) {
			size += len(c.Value)
			chunks++
		}
	}
	if chunks == 0 {
		t.Fatalf("no session cookie after sign-in; the app's cookies:\n%s", describeCookies(cookies))
	}
	t.Logf("the app's cookies when signed in:\n%s", describeCookies(cookies))
	return size, chunks
}

// waitNginxRequest waits for nginx to log a request of path after the first
// skip lines, and returns it.
func waitNginxRequest(t *testing.T, n *nginxProxy, skip int, path string) nginxRequest {
	t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		reqs := n.accessLog(t)
		for _, r := range reqs[min(skip, len(reqs)):] {
			if r.URI == path {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx logged no request of %s within %v", path, stepTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkPublicURLs fails the test for any URL the browser visited that is
// neither the app's public origin nor the IdP's: the app's own loopback
// address, plain http to the proxy's port, or an error page.
func checkPublicURLs(t *testing.T, visits []visit, publicURL, issuer, internalURL string) {
	t.Helper()
	n := 0
	for _, v := range visits {
		switch {
		case sameOrigin(v.URL, publicURL):
			n++
		case strings.HasPrefix(v.URL, issuer+"/"), v.URL == issuer:
		case v.URL == "about:blank", strings.HasPrefix(v.URL, "data:"):
		case strings.HasPrefix(v.URL, internalURL):
			t.Errorf("the browser was sent to the app's internal address: %s (%s)", v.URL, v.Kind)
		default:
			t.Errorf("the browser visited %s (%s), neither the app's public URL %s nor the IdP", v.URL, v.Kind, publicURL)
		}
	}
	if n == 0 {
		t.Errorf("no URL of %s visited", publicURL)
	}
}

// checkNginxLogs fails the test for any answer of nginx that means a header
// did not fit (400, 413, 414, 431, 494, 502, ...), for any status from 400
// on but a 404 of the favicon and 499 (the browser gave up the request), and
// for any error in nginx's error log.
func checkNginxLogs(t *testing.T, n *nginxProxy, reqs []nginxRequest) {
	t.Helper()
	if len(reqs) == 0 {
		t.Errorf("nginx logged no request")
	}
	for _, r := range reqs {
		// 499 is nginx's note that the browser gave up a request (an htmx
		// fragment the page asked for while it was being left), not an answer.
		if r.Status >= 400 && r.Status != 499 && !(r.Status == http.StatusNotFound && r.URI == "/favicon.ico") {
			t.Errorf("nginx answered %s (upstream %q, request %d bytes, response headers %d bytes)",
				r, r.UpstreamStatus, r.RequestLength, r.HeaderBytes())
		}
	}
	errs := n.errorLog(t)
	for _, bad := range []string{"upstream sent too big header", "client sent too long header line", "too large", "[error]", "[crit]", "[alert]", "[emerg]"} {
		if strings.Contains(errs, bad) {
			t.Errorf("nginx's error log has %q:\n%s", bad, tail(errs, 4000))
		}
	}
}

// writeHeaderSizes writes what the subtests measured to
// e2e/screenshots/nginx-header-sizes.txt.
func writeHeaderSizes(t *testing.T, version string, results []nginxResult) {
	slices.SortFunc(results, func(a, b nginxResult) int { return strings.Compare(a.name, b.name) })
	var b strings.Builder
	fmt.Fprintf(&b, "Signet behind %s, TLS terminated by nginx, the app on loopback http\n", version)
	fmt.Fprintf(&b, "nginx defaults (Debian's): proxy_buffer_size %d (one memory page), large_client_header_buffers 4 8k\n", os.Getpagesize())
	fmt.Fprintf(&b, "ID token with 80 extra claims (oidc-provider 9.13.3); measured %s by go test ./e2e -run TestBehindNginx\n\n", time.Now().UTC().Format(time.RFC3339))
	for _, r := range results {
		fmt.Fprintf(&b, "%s\n", r.name)
		fmt.Fprintf(&b, "  ID token:                          %6d bytes\n", r.idToken)
		fmt.Fprintf(&b, "  session cookie (value):            %6d bytes in %d cookie(s)\n", r.sessionBytes, r.sessionChunks)
		fmt.Fprintf(&b, "  largest response header block:     %6d bytes  %s  (nginx: $bytes_sent - $body_bytes_sent)\n", r.maxResponse, r.maxResponseReq)
		fmt.Fprintf(&b, "                                     %6d bytes  %q  (Chromium: headersText)\n", r.maxResponseWire, r.maxResponseWireHead)
		fmt.Fprintf(&b, "  largest request Cookie header:     %6d bytes, the app's cookies %d of them (Chromium: raw request headers)\n", r.maxCookie, r.maxAppCook)
		fmt.Fprintf(&b, "                                       cookies: %s\n", strings.Join(r.maxCookieNames, ", "))
		fmt.Fprintf(&b, "  largest request (line+headers):    %6d bytes  %s  (nginx: $request_length)\n", r.maxRequest, r.maxRequestReq)
		fmt.Fprintf(&b, "  requests through nginx:            %6d\n\n", r.requests)
	}
	dir := filepath.Join(e2eDir(t), "screenshots")
	err := os.MkdirAll(dir, 0o755)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "nginx-header-sizes.txt"), []byte(b.String()), 0o644)
	}
	if err != nil {
		t.Errorf("write the header sizes: %v", err)
	}
	t.Logf("header sizes:\n%s", b.String())
}
