package auth

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/authtest"
)

// TestJWKSRefreshRateLimited: tokens naming a key the JWKS does not hold
// (forged with a configured iss) make Signet fetch the JWKS again at most
// once per 10 s per provider, the fetch shared by concurrent requests and
// the refusal logged once; logout tokens and ID tokens alike. Valid tokens
// keep verifying with the cached keys meanwhile.
func TestJWKSRefreshRateLimited(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	login, _ := e.idp.LastLogin()
	if got, want := e.idp.Hits(authtest.JWKS), 1; got != want {
		t.Fatalf("JWKS fetched %d times for the first login, want %d", got, want)
	}
	forge := func() string { return e.idp.LogoutToken("sid-forged", "", authtest.ForeignKey, nil) }
	const n, workers = 200, 8
	tokens := make(chan string, n)
	for range n {
		tokens <- forge()
	}
	close(tokens)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
	)
	client := &http.Client{Timeout: 5 * time.Second}
	for range workers {
		wg.Go(func() {
			for tok := range tokens {
				resp, err := client.PostForm(e.url("/api/auth/backchannel-logout"), url.Values{"logout_token": {tok}})
				mu.Lock()
				if err != nil {
					statuses[0]++
				} else {
					statuses[resp.StatusCode]++
					resp.Body.Close()
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if statuses[http.StatusBadRequest] != n {
		t.Errorf("statuses %v, want %d × 400", statuses, n)
	}
	if got, want := e.idp.Hits(authtest.JWKS), 2; got != want {
		t.Errorf("JWKS fetched %d times after %d forged logout tokens, want %d (one refresh)", got, n, want)
	}
	if got := strings.Count(e.logs.String(), "JWKS refresh rate-limited"); got != 1 {
		t.Errorf("the rate limit was logged %d times, want once", got)
	}

	// ID tokens share the limit: a forged one at the callback fetches nothing.
	e.idp.SetSign(authtest.ForeignKey)
	for range 3 {
		b.wantErrorPage(t, b.callback(b.toIdP(b.startSignIn("oidc", ""))), CodeOAuthCallback)
	}
	e.idp.SetSign(authtest.RS256)
	if got, want := e.idp.Hits(authtest.JWKS), 2; got != want {
		t.Errorf("JWKS fetched %d times after forged ID tokens in the window, want %d", got, want)
	}
	// A valid token verifies with the cached key all along.
	if r := e.postLogoutToken(t, e.idp.LogoutToken(login.SID, "", authtest.RS256, nil)); r.status != http.StatusOK {
		t.Errorf("a valid logout token in the window: %d %s", r.status, r.body)
	}
	if b.session() != nil {
		t.Error("the valid logout token did not end the session")
	}

	// After the interval, the next unknown key fetches once more: a key
	// rotation is picked up.
	e.clock.Advance(keyRefreshInterval)
	e.idp.RotateKey(false)
	c := e.browser()
	c.signIn()
	if c.session() == nil {
		t.Fatal("not signed in with the rotated key after the interval")
	}
	if got, want := e.idp.Hits(authtest.JWKS), 3; got != want {
		t.Errorf("JWKS fetched %d times after the interval, want %d", got, want)
	}
	for range 20 {
		e.postLogoutToken(t, forge())
	}
	if got, want := e.idp.Hits(authtest.JWKS), 3; got != want {
		t.Errorf("JWKS fetched %d times after more forged tokens, want %d", got, want)
	}
	if got := strings.Count(e.logs.String(), "JWKS refresh rate-limited"); got != 2 {
		t.Errorf("the rate limit was logged %d times over two windows, want twice", got)
	}
}
