package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// The hostile mode (-hostile) sends unauthenticated, oversized or forged
// requests of each kind below to the shipped app — the cmd/signet binary,
// built into a temporary folder unless -binary names one, started afresh
// for each kind on a free loopback port — and reports the app process's
// peak RSS (VmHWM in /proc/<pid>/status) before and after each kind, the
// statuses it answered, the largest response header block, and for forged
// logout tokens how often the app fetched its IdP's JWKS.
//
// The app signs in at a small IdP this process serves on loopback
// (discovery and a JWKS, counting fetches), as provider "oidc".
//
// It fails (exit 1) when a kind grows the peak RSS by -hostile-rss-limit
// MiB or more, or when the app answers a 5xx.
//
//	go tool -modfile=tools/go.mod task soak-hostile
//	go run ./soak -hostile -hostile-n 5000 -binary /tmp/signet-old

// hostileOptions are the hostile mode's flags.
type hostileOptions struct {
	binary    string
	n         int
	bodyN     int
	bodyBytes int
	workers   int
	rssLimit  float64
	kinds     string
}

// hostileKind is one kind of hostile request.
type hostileKind struct {
	name string
	what string
	n    func(o hostileOptions) int
	// request builds the i-th request against base.
	request func(h *hostileRun, i int) (*http.Request, error)
}

// hostileRun is one kind against one app process.
type hostileRun struct {
	base   string
	issuer string
	idp    *hostileIdP
	o      hostileOptions
}

var hostileKinds = []hostileKind{
	{"frontchannel-1k-sid", "GET /api/auth/frontchannel-logout with the configured iss and a random 1 KB sid",
		func(o hostileOptions) int { return o.n },
		func(h *hostileRun, i int) (*http.Request, error) {
			q := url.Values{"iss": {h.issuer}, "sid": {randomHex(512)}}
			return http.NewRequest(http.MethodGet, h.base+"/api/auth/frontchannel-logout?"+q.Encode(), nil)
		}},
	{"frontchannel-200b-sid", "GET /api/auth/frontchannel-logout with the configured iss and a random 200-byte sid",
		func(o hostileOptions) int { return o.n },
		func(h *hostileRun, i int) (*http.Request, error) {
			q := url.Values{"iss": {h.issuer}, "sid": {randomHex(100)}}
			return http.NewRequest(http.MethodGet, h.base+"/api/auth/frontchannel-logout?"+q.Encode(), nil)
		}},
	{"callback-huge-body", "POST /api/auth/callback/oidc with a form body of -hostile-body-bytes, no cookie",
		func(o hostileOptions) int { return o.bodyN },
		func(h *hostileRun, i int) (*http.Request, error) {
			body := io.MultiReader(strings.NewReader("state="), &repeatReader{n: h.o.bodyBytes})
			req, err := http.NewRequest(http.MethodPost, h.base+"/api/auth/callback/oidc", body)
			if err != nil {
				return nil, err
			}
			req.ContentLength = int64(h.o.bodyBytes + len("state="))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return req, nil
		}},
	{"forged-logout-token", "POST /api/auth/backchannel-logout with an RS256 logout token of the configured iss, signed with a key of unknown kid",
		func(o hostileOptions) int { return o.n }, forgedLogout},
	{"protected-page-long-uri", "GET /profile with a 48 KB query, signed out (the return path reflected into Location)",
		func(o hostileOptions) int { return o.n },
		func(h *hostileRun, i int) (*http.Request, error) {
			return http.NewRequest(http.MethodGet, h.base+"/profile?q="+strings.Repeat("a", 48<<10), nil)
		}},
	{"bogus-session-chunks", "GET / with cookies signet.session-token.0 … .1999",
		func(o hostileOptions) int { return o.n },
		func(h *hostileRun, i int) (*http.Request, error) {
			req, err := http.NewRequest(http.MethodGet, h.base+"/", nil)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Cookie", bogusChunkCookies)
			return req, nil
		}},
	{"signin-page-huge-parameter", "GET /api/auth/signin with a 3 KB callbackUrl and a 3 KB error",
		func(o hostileOptions) int { return o.n },
		func(h *hostileRun, i int) (*http.Request, error) {
			q := url.Values{"callbackUrl": {"/" + strings.Repeat("a", 3<<10)}, "error": {strings.Repeat("e", 3<<10)}}
			return http.NewRequest(http.MethodGet, h.base+"/api/auth/signin?"+q.Encode(), nil)
		}},
}

// forgedLogout POSTs the i-th forged logout token.
func forgedLogout(h *hostileRun, i int) (*http.Request, error) {
	tok := h.idp.forged[i%len(h.idp.forged)]
	req, err := http.NewRequest(http.MethodPost, h.base+"/api/auth/backchannel-logout", strings.NewReader(url.Values{"logout_token": {tok}}.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}

var bogusChunkCookies = func() string {
	parts := make([]string, 2000)
	for i := range parts {
		parts[i] = "signet.session-token." + strconv.Itoa(i) + "=x"
	}
	return strings.Join(parts, "; ")
}()

// repeatReader yields n bytes of 'a' without holding them.
type repeatReader struct{ n int }

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n)
	for i := range p[:k] {
		p[i] = 'a'
	}
	r.n -= k
	return k, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// hostileIdP is the IdP the app is configured with: discovery and a JWKS
// holding one RSA key, counting JWKS fetches. forged are logout tokens of
// its issuer signed with another key, under a kid the JWKS never holds.
type hostileIdP struct {
	srv        *http.Server
	issuer     string
	jwksHits   atomic.Int64
	jwks       []byte
	forged     []string
	clientID   string
	clientSecr string
}

func startHostileIdP() (*hostileIdP, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	idp := &hostileIdP{issuer: "http://" + ln.Addr().String(), clientID: "signet-soak", clientSecr: randomHex(16)}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	idp.jwks, err = json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "published", Algorithm: "RS256", Use: "sig"}}})
	if err != nil {
		return nil, err
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: other, KeyID: "unknown-" + randomHex(4)}},
		(&jose.SignerOptions{}).WithType("logout+jwt"))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	for range 200 {
		claims, _ := json.Marshal(map[string]any{
			"iss": idp.issuer, "aud": idp.clientID, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
			"jti": randomHex(16), "sid": randomHex(16),
			"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}},
		})
		jws, err := signer.Sign(claims)
		if err != nil {
			return nil, err
		}
		tok, err := jws.CompactSerialize()
		if err != nil {
			return nil, err
		}
		idp.forged = append(idp.forged, tok)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                idp.issuer,
			"authorization_endpoint":                idp.issuer + "/authorize",
			"token_endpoint":                        idp.issuer + "/token",
			"jwks_uri":                              idp.issuer + "/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"backchannel_logout_supported":          true,
			"frontchannel_logout_supported":         true,
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		idp.jwksHits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(idp.jwks)
	})
	idp.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = idp.srv.Serve(ln) }()
	return idp, nil
}

// appProcess is one run of the app's binary.
type appProcess struct {
	cmd  *exec.Cmd
	base string
	dir  string
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startAppProcess starts binary on a free loopback port with the IdP as
// its provider and an in-memory store, in a fresh folder, and waits until
// it answers /healthz.
func startAppProcess(binary string, idp *hostileIdP, logOut io.Writer) (*appProcess, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "signet-hostile-")
	if err != nil {
		return nil, err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(binary)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"HOST=127.0.0.1", "PORT="+strconv.Itoa(port), "AUTH_URL="+base,
		"AUTH_SECRET="+randomHex(32), "AUTH_STORE=memory:",
		"AUTH_OIDC_ID="+idp.clientID, "AUTH_OIDC_SECRET="+idp.clientSecr, "AUTH_OIDC_ISSUER="+idp.issuer,
		"LOG_LEVEL=error")
	cmd.Stdout, cmd.Stderr = logOut, logOut
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p := &appProcess{cmd: cmd, base: base, dir: dir}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("%s did not answer /healthz within 20s", binary)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// status reads a size in kB from the process's /proc status, in bytes.
func (p *appProcess) status(field string) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func (p *appProcess) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
	os.RemoveAll(p.dir)
}

// hostileResult is what one kind did to one app process.
type hostileResult struct {
	kind                  string
	n                     int
	statuses              map[int]int
	errors                int
	hwmBefore, hwmAfter   uint64
	rssAfter              uint64
	maxHeaderBytes        int
	jwksBefore, jwksAfter int64
	took                  time.Duration
}

// runHostile runs every kind and prints a table; it reports whether every
// kind stayed within the bounds.
func runHostile(o hostileOptions, out io.Writer) (bool, error) {
	binary := o.binary
	if binary == "" {
		dir, err := os.MkdirTemp("", "signet-build-")
		if err != nil {
			return false, err
		}
		defer os.RemoveAll(dir)
		binary = filepath.Join(dir, "signet")
		fmt.Fprintf(out, "building ./cmd/signet into %s\n", binary)
		build := exec.Command("go", "build", "-o", binary, "./cmd/signet")
		build.Stdout, build.Stderr = out, out
		if err := build.Run(); err != nil {
			return false, fmt.Errorf("build: %w", err)
		}
	}
	idp, err := startHostileIdP()
	if err != nil {
		return false, err
	}
	defer idp.srv.Close()
	var want map[string]bool
	if o.kinds != "" {
		want = map[string]bool{}
		for _, k := range strings.Split(o.kinds, ",") {
			want[strings.TrimSpace(k)] = true
		}
	}
	ok := true
	fmt.Fprintf(out, "binary %s, %d workers\n\n", binary, o.workers)
	for _, k := range hostileKinds {
		if want != nil && !want[k.name] {
			continue
		}
		res, err := runKind(binary, idp, k, o)
		if err != nil {
			return false, fmt.Errorf("%s: %w", k.name, err)
		}
		grew := float64(int64(res.hwmAfter)-int64(res.hwmBefore)) / (1 << 20)
		codes := make([]int, 0, len(res.statuses))
		for c := range res.statuses {
			codes = append(codes, c)
		}
		sort.Ints(codes)
		var sb strings.Builder
		for _, c := range codes {
			fmt.Fprintf(&sb, " %d×%d", res.statuses[c], c)
			if c >= 500 {
				ok = false
			}
		}
		verdict := "ok"
		if grew >= o.rssLimit {
			verdict, ok = fmt.Sprintf("FAIL: peak RSS grew by %.1f MiB, limit %.0f", grew, o.rssLimit), false
		}
		fmt.Fprintf(out, "%-27s %s\n", k.name, k.what)
		fmt.Fprintf(out, "  %d requests in %v:%s", res.n, res.took.Round(time.Millisecond), sb.String())
		if res.errors > 0 {
			fmt.Fprintf(out, " %d×transport error", res.errors)
		}
		fmt.Fprintf(out, "\n  peak RSS %s before → %s after (%+.1f MiB), RSS after %s; largest response header %d bytes",
			mib(res.hwmBefore), mib(res.hwmAfter), grew, mib(res.rssAfter), res.maxHeaderBytes)
		if k.name == "forged-logout-token" {
			fmt.Fprintf(out, "; JWKS fetched %d times", res.jwksAfter-res.jwksBefore)
		}
		fmt.Fprintf(out, "\n  %s\n\n", verdict)
	}
	return ok, nil
}

// runKind starts the app, warms it up (discovery and the JWKS fetched by
// one forged token), reads its peak RSS, sends the kind's requests from
// o.workers workers, reads the peak RSS again and stops the app.
func runKind(binary string, idp *hostileIdP, k hostileKind, o hostileOptions) (*hostileResult, error) {
	p, err := startAppProcess(binary, idp, io.Discard)
	if err != nil {
		return nil, err
	}
	defer p.stop()
	h := &hostileRun{base: p.base, issuer: idp.issuer, idp: idp, o: o}
	tr := &http.Transport{MaxIdleConnsPerHost: o.workers, MaxConnsPerHost: o.workers, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// Warm up: the same for every kind, so the figures compare.
	for _, warm := range []func() (*http.Request, error){
		func() (*http.Request, error) { return http.NewRequest(http.MethodGet, p.base+"/", nil) },
		func() (*http.Request, error) { return forgedLogout(h, 0) },
	} {
		req, err := warm()
		if err != nil {
			return nil, err
		}
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	time.Sleep(500 * time.Millisecond)
	res := &hostileResult{kind: k.name, n: k.n(o), statuses: map[int]int{}}
	res.hwmBefore = p.status("VmHWM")
	res.jwksBefore = idp.jwksHits.Load()
	var (
		next atomic.Int64
		mu   sync.Mutex
		wg   sync.WaitGroup
	)
	start := time.Now()
	for range o.workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= res.n {
					return
				}
				req, err := k.request(h, i)
				if err != nil {
					mu.Lock()
					res.errors++
					mu.Unlock()
					continue
				}
				resp, err := client.Do(req)
				if err != nil {
					mu.Lock()
					res.errors++
					mu.Unlock()
					continue
				}
				size := 0
				for name, vs := range resp.Header {
					for _, v := range vs {
						size += len(name) + len(v) + 4
					}
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				res.statuses[resp.StatusCode]++
				res.maxHeaderBytes = max(res.maxHeaderBytes, size)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	res.took = time.Since(start)
	res.hwmAfter = p.status("VmHWM")
	res.rssAfter = p.status("VmRSS")
	res.jwksAfter = idp.jwksHits.Load()
	if res.hwmBefore == 0 {
		return nil, errors.New("cannot read /proc/<pid>/status")
	}
	return res, nil
}
