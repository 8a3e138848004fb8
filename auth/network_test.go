package auth

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/authtest"
)

// clientTimeout bounds every call to the IdP in the failure tests.
const clientTimeout = 300 * time.Millisecond

// timeoutSlack is how much longer than its timeout a failed step may take
// before the test calls it unbounded: generous, for a machine loaded with
// other tests and the race detector, yet far below a hang.
const timeoutSlack = 5 * time.Second

func withClientTimeout(d time.Duration) option {
	return withConfig(func(c *Config) {
		c.HTTPClient = &http.Client{Timeout: d, Transport: &http.Transport{}}
	})
}

// TestIdPDownAtStart: with nothing listening at the issuer, the app starts,
// pages that do not need the IdP work, sign-in shows ProviderUnavailable,
// and once the IdP comes up sign-in works without a restart.
func TestIdPDownAtStart(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	e := newEnv(t, withClientTimeout(clientTimeout), withProvider(func(p *Provider) { p.Issuer = "http://" + addr }))
	b := e.browser()
	if got := b.get("/").body; got != "Sign in" {
		t.Errorf("home = %q", got)
	}
	if got := b.get("/api/auth/session").body; got != "null" {
		t.Errorf("session = %q", got)
	}
	if got := b.get("/api/auth/providers").status; got != http.StatusOK {
		t.Errorf("providers status %d", got)
	}
	if got := b.get("/api/auth/signin").status; got != http.StatusOK {
		t.Errorf("sign-in page status %d", got)
	}

	r := b.startSignIn("oidc", "/profile")
	b.wantErrorPage(t, r, CodeProviderUnavailable)
	e.wantLog(t, "code=ProviderUnavailable", `discovery for \"oidc\"`, "connection refused")
	if b.cookie("signet.state") != "" {
		t.Error("a sign-in that could not start left a state cookie")
	}

	// The IdP comes up at the address the app already knows.
	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	authtest.New(t, authtest.Options{Listener: l, Now: e.clock.Now})
	e.clock.Advance(2 * time.Second) // past the one-second retry pause
	b.signInWith("oidc", "/profile")
	if b.session() == nil {
		t.Fatal("not signed in after the IdP came back")
	}
}

// TestIdPFailures: every IdP endpoint Signet calls, dropping the
// connection, answering 500, answering garbage or hanging: each ends on a
// clear error page within the client timeout, and the next attempt after
// the IdP recovers signs in.
func TestIdPFailures(t *testing.T) {
	failures := []authtest.Failure{authtest.Down, authtest.Status500, authtest.Garbage, authtest.Hang}
	names := map[authtest.Failure]string{authtest.Down: "down", authtest.Status500: "500", authtest.Garbage: "garbage", authtest.Hang: "hang"}
	endpoints := []struct {
		ep   authtest.Endpoint
		code ErrorCode
	}{
		{authtest.Discovery, CodeProviderUnavailable},
		{authtest.JWKS, CodeOAuthCallback},
		{authtest.Token, CodeOAuthCallback},
		{authtest.Userinfo, CodeOAuthCallback},
	}
	for _, ep := range endpoints {
		for _, f := range failures {
			t.Run(fmt.Sprintf("%s %s", ep.ep, names[f]), func(t *testing.T) {
				e := newEnv(t, withClientTimeout(clientTimeout), withProvider(func(p *Provider) { p.Userinfo = true }))
				b := e.browser()
				e.idp.Fail(ep.ep, f)
				start := time.Now()
				var r response
				if ep.ep == authtest.Discovery {
					r = b.startSignIn("oidc", "")
				} else {
					r = b.callback(b.toIdP(b.startSignIn("oidc", "")))
				}
				elapsed := time.Since(start)
				b.wantErrorPage(t, r, ep.code)
				e.wantLog(t, "auth flow failed", "code="+string(ep.code))
				if e.idp.Hits(ep.ep) == 0 {
					t.Errorf("%s was never called", ep.ep)
				}
				if limit := clientTimeout + timeoutSlack; elapsed > limit {
					t.Errorf("the failed step took %v, more than %v", elapsed, limit)
				}
				if f == authtest.Hang && elapsed < clientTimeout {
					t.Errorf("a hanging %s returned after %v, before the client timeout", ep.ep, elapsed)
				}
				if s := b.session(); s != nil {
					t.Errorf("signed in: %v", s)
				}

				e.idp.Fail(ep.ep, authtest.OK)
				e.clock.Advance(2 * time.Second)
				b.signIn()
				if b.session() == nil {
					t.Error("not signed in after the IdP recovered")
				}
			})
		}
	}
}

// TestDiscoveryRetryPause: a failed discovery is not retried for a second,
// so a down IdP is not hammered; then it is.
func TestDiscoveryRetryPause(t *testing.T) {
	e := newEnv(t)
	e.idp.Fail(authtest.Discovery, authtest.Status500)
	b := e.browser()
	b.wantErrorPage(t, b.startSignIn("oidc", ""), CodeProviderUnavailable)
	b.wantErrorPage(t, b.startSignIn("oidc", ""), CodeProviderUnavailable)
	if got, want := e.idp.Hits(authtest.Discovery), 1; got != want {
		t.Errorf("discovery fetched %d times within a second, want %d", got, want)
	}
	e.idp.Fail(authtest.Discovery, authtest.OK)
	e.clock.Advance(time.Second)
	b.signIn()
	if got, want := e.idp.Hits(authtest.Discovery), 2; got != want {
		t.Errorf("discovery fetched %d times, want %d", got, want)
	}
}

// TestDiscoverySingleFlight: concurrent first sign-ins share one discovery
// fetch, whether it succeeds or hangs until the timeout.
func TestDiscoverySingleFlight(t *testing.T) {
	for _, f := range []authtest.Failure{authtest.OK, authtest.Hang} {
		t.Run(fmt.Sprint("failure=", f), func(t *testing.T) {
			e := newEnv(t, withClientTimeout(clientTimeout))
			e.idp.Fail(authtest.Discovery, f)
			var wg sync.WaitGroup
			statuses := make([]int, 12)
			for i := range statuses {
				b := e.browser()
				wg.Go(func() {
					r := b.get("/api/auth/signin/oidc")
					statuses[i] = r.status
					if f == authtest.Hang && !strings.Contains(r.header.Get("Location"), "ProviderUnavailable") {
						statuses[i] = -1
					}
				})
			}
			wg.Wait()
			for i, s := range statuses {
				if s != http.StatusFound {
					t.Errorf("request %d: status %d", i, s)
				}
			}
			if got, want := e.idp.Hits(authtest.Discovery), 1; got != want {
				t.Errorf("discovery fetched %d times, want %d", got, want)
			}
		})
	}
}

// TestDiscoveryDocumentChecked: a discovery document for another issuer,
// or without the endpoints Signet needs, is refused with a clear log line.
func TestDiscoveryDocumentChecked(t *testing.T) {
	tests := []struct {
		name   string
		doc    func(issuer string) string
		status int
		logWhy string
	}{
		{"issuer mismatch", func(iss string) string {
			return `{"issuer":"https://evil.example","authorization_endpoint":"` + iss + `/a","token_endpoint":"` + iss + `/t","jwks_uri":"` + iss + `/j"}`
		}, 200, "does not match the configured issuer"},
		{"no jwks_uri", func(iss string) string {
			return `{"issuer":"` + iss + `","authorization_endpoint":"` + iss + `/a","token_endpoint":"` + iss + `/t"}`
		}, 200, "discovery lacks"},
		{"not found", func(string) string { return "no" }, 404, "status 404"},
		{"huge", func(string) string { return `{"issuer":"` + strings.Repeat("a", 2<<20) + `"}` }, 200, "decode discovery"},
		{"JSON array", func(string) string { return `[]` }, 200, "decode discovery"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc *httptest.Server
			doc = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.doc(doc.URL))
			}))
			t.Cleanup(doc.Close)
			e := newEnv(t, withProvider(func(p *Provider) {
				p.Issuer = doc.URL
				p.DiscoveryURL = doc.URL + "/.well-known/openid-configuration"
			}))
			b := e.browser()
			b.wantErrorPage(t, b.startSignIn("oidc", ""), CodeProviderUnavailable)
			e.wantLog(t, tt.logWhy)
		})
	}
}

// TestNoGoroutineLeak: after hanging discovery, JWKS, token and userinfo
// calls have timed out and the servers are closed, the goroutine count is
// back to where it started.
func TestNoGoroutineLeak(t *testing.T) {
	settle := func(limit int) int {
		deadline := time.Now().Add(5 * time.Second)
		for {
			runtime.GC()
			n := runtime.NumGoroutine()
			if n <= limit || time.Now().After(deadline) {
				return n
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// The baseline: once earlier tests' goroutines have wound down, i.e.
	// the count holds still for a moment.
	before := runtime.NumGoroutine()
	for i := 0; i < 20; i++ {
		time.Sleep(25 * time.Millisecond)
		n := runtime.NumGoroutine()
		if n == before {
			break
		}
		before = n
	}
	t.Run("hanging IdP", func(t *testing.T) {
		for _, ep := range []authtest.Endpoint{authtest.Discovery, authtest.JWKS, authtest.Token, authtest.Userinfo} {
			e := newEnv(t, withClientTimeout(clientTimeout), withProvider(func(p *Provider) { p.Userinfo = true }))
			e.idp.Fail(ep, authtest.Hang)
			b := e.browser()
			if ep == authtest.Discovery {
				b.startSignIn("oidc", "")
			} else {
				b.callback(b.toIdP(b.startSignIn("oidc", "")))
			}
		}
	})
	const slack = 4
	if after := settle(before + slack); after > before+slack {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Errorf("goroutines: %d before, %d after (slack %d)\n%s", before, after, slack, buf)
	}
}
