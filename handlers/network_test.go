package handlers

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/auth/authtest"
	"github.com/signet-auth/signet/internal/testlog"
)

// hangingIdP is auth's fake IdP, with a userinfo endpoint for the account
// page, whose endpoints can be told to hang (answer nothing until the
// caller gives up), by path.
type hangingIdP struct {
	*authtest.IdP
}

func newHangingIdP(t *testing.T) *hangingIdP {
	t.Helper()
	return &hangingIdP{newFakeIdP(t, map[string]any{"name": "Ada Lovelace", "given_name": "Ada", "family_name": "Lovelace", "email": "ada@example.com"}, true)}
}

// endpointAt names the IdP's endpoint at path.
var endpointAt = map[string]authtest.Endpoint{
	authtest.DiscoveryPath: authtest.Discovery,
	authtest.JWKSPath:      authtest.JWKS,
	authtest.TokenPath:     authtest.Token,
	authtest.UserinfoPath:  authtest.Userinfo,
}

func (p *hangingIdP) setHang(path string, on bool) {
	ep, ok := endpointAt[path]
	if !ok {
		panic("no endpoint at " + path)
	}
	f := authtest.OK
	if on {
		f = authtest.Hang
	}
	p.Fail(ep, f)
}

func (p *hangingIdP) hitCount(path string) int {
	return p.Hits(endpointAt[path])
}

// idpTimeout bounds auth's calls to the IdP in these tests.
const idpTimeout = 300 * time.Millisecond

// timeoutSlack is how much longer than its timeout a request may take
// before the test calls it unbounded: generous, for eight concurrent
// browsers on a machine loaded with other tests and the race detector,
// yet far below a hang.
const timeoutSlack = 5 * time.Second

// newHangingApp is the app's whole handler (New) with auth calling idp
// with a client that gives up after idpTimeout.
func newHangingApp(t *testing.T, idp *hangingIdP) *testApp {
	t.Helper()
	logs := &testlog.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	transport := &http.Transport{}
	t.Cleanup(transport.CloseIdleConnections)
	a, err := auth.New(auth.Config{
		Providers:  []*auth.Provider{auth.NewProvider("test", "Test IdP", idp.Issuer, idp.ClientID, idp.ClientSecret)},
		Secrets:    []string{"test-secret-test-secret-test-secret-0123456789"},
		Callbacks:  AuthCallbacks(),
		Pages:      AuthPages(),
		Logger:     log,
		HTTPClient: &http.Client{Timeout: idpTimeout, Transport: transport},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(Deps{Auth: a, Logger: log}))
	t.Cleanup(srv.Close)
	return &testApp{t: t, srv: srv, auth: a, idp: idp.IdP, logs: logs}
}

// settledGoroutines waits until the goroutine count is at most limit or
// holds still, and returns it.
func settledGoroutines(limit int) int {
	deadline := time.Now().Add(5 * time.Second)
	n := runtime.NumGoroutine()
	for time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(25 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m <= limit || (limit < 0 && m == n) {
			return m
		}
		n = m
	}
	return n
}

// TestHangingIdPLeavesNoGoroutines is the app-level check of a hanging
// identity provider: the whole handler (New), with auth's calls to the IdP
// bounded by its HTTP client and the account page's own userinfo call
// bounded by userinfoTimeout. Discovery, JWKS, token and userinfo each hang
// in turn, with several browsers at once; pages that need no IdP answer
// meanwhile, each hanging step ends on a clear page within its timeout, and
// once the servers are closed the goroutine count is back where it began.
//
// It does not run in parallel: it counts the goroutines of the whole test
// binary (the parallel tests wait, paused, until it is done).
func TestHangingIdPLeavesNoGoroutines(t *testing.T) {
	before := settledGoroutines(-1)
	const browsers = 8

	t.Run("discovery", func(t *testing.T) {
		idp := newHangingIdP(t)
		app := newHangingApp(t, idp)
		idp.setHang("/.well-known/openid-configuration", true)
		var wg sync.WaitGroup
		for range browsers {
			c := app.browser()
			wg.Go(func() {
				start := time.Now()
				_, home := app.get(c, "/", nil)
				if !strings.Contains(home, `id="sign-in"`) {
					t.Errorf("home without the IdP:\n%s", home)
				}
				resp, body := app.do(c, http.MethodPost, "/api/auth/signin/test", nil,
					map[string][]string{"csrfToken": {hiddenValue(t, home, "csrfToken")}})
				resp, body = app.follow(c, resp, body)
				if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "ProviderUnavailable") {
					t.Errorf("sign-in with discovery hanging: %d\n%s", resp.StatusCode, body)
				}
				if d := time.Since(start); d > idpTimeout+timeoutSlack {
					t.Errorf("sign-in with discovery hanging took %v", d)
				}
			})
		}
		wg.Wait()
		if idp.hitCount("/.well-known/openid-configuration") == 0 {
			t.Error("discovery was never called")
		}
	})

	for _, path := range []string{"/jwks", "/token"} {
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			idp := newHangingIdP(t)
			app := newHangingApp(t, idp)
			idp.setHang(path, true)
			var wg sync.WaitGroup
			for range browsers {
				c := app.browser()
				wg.Go(func() {
					start := time.Now()
					_, home := app.get(c, "/", nil)
					resp, body := app.do(c, http.MethodPost, "/api/auth/signin/test", nil,
						map[string][]string{"csrfToken": {hiddenValue(t, home, "csrfToken")}, "callbackUrl": {"/"}})
					resp, body = app.follow(c, resp, body)
					if resp.StatusCode < 400 || !strings.Contains(body, `id="error-code"`) {
						t.Errorf("sign-in with %s hanging: %d\n%s", path, resp.StatusCode, body)
					}
					if d := time.Since(start); d > idpTimeout+timeoutSlack {
						t.Errorf("sign-in with %s hanging took %v", path, d)
					}
					if _, s := app.get(c, "/api/auth/session", nil); s != "null" {
						t.Errorf("signed in with %s hanging: %s", path, s)
					}
				})
			}
			wg.Wait()
			if idp.hitCount(path) == 0 {
				t.Errorf("%s was never called", path)
			}
			idp.setHang(path, false)
			app.signIn(app.browser()) // recovers without a restart
		})
	}

	t.Run("userinfo on the account page", func(t *testing.T) {
		idp := newHangingIdP(t)
		app := newHangingApp(t, idp)
		clients := make([]*http.Client, browsers)
		for i := range clients {
			clients[i] = app.browser()
			app.signIn(clients[i])
		}
		idp.setHang("/userinfo", true)
		var wg sync.WaitGroup
		for _, c := range clients {
			wg.Go(func() {
				start := time.Now()
				resp, body := app.get(c, "/account", nil)
				if resp.StatusCode != http.StatusOK || !strings.Contains(body, "did not answer usefully") {
					t.Errorf("account page with userinfo hanging: %d\n%s", resp.StatusCode, body)
				}
				if d := time.Since(start); d > userinfoTimeout+timeoutSlack {
					t.Errorf("account page with userinfo hanging took %v", d)
				}
				if _, home := app.get(c, "/", nil); !strings.Contains(home, `id="welcome"`) {
					t.Error("home after the hanging userinfo call is not signed in")
				}
			})
		}
		wg.Wait()
		if idp.hitCount("/userinfo") < browsers {
			t.Errorf("userinfo called %d times, want %d", idp.hitCount("/userinfo"), browsers)
		}
		if !bytes.Contains([]byte(app.logs.String()), []byte("userinfo call failed")) {
			t.Errorf("the log does not say the userinfo call failed:\n%s", app.logs.String())
		}
	})

	const slack = 4
	if after := settledGoroutines(before + slack); after > before+slack {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Errorf("goroutines: %d before, %d after (slack %d)\n%s", before, after, slack, buf)
	} else {
		t.Logf("goroutines: %d before, %d after", before, after)
	}
}
