package e2e

// Redis killed and started again while a user is signed in, with either
// session strategy: while it is down, every request that carries the
// session gets the 503 "Unavailable" page (htmx requests too, with
// HX-Retarget), never a 500, and nothing clears the session cookie — a
// session whose revocation cannot be checked is neither trusted nor
// destroyed; the app logs the outage once, not per request; a request
// without a session still gets its page. When Redis is back (same port,
// its append-only file kept), the same browser is signed in again without
// a restart of the app.

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/store/redisstore/redistest"
)

// outageLine is what the app logs when the store stops answering.
const outageLine = "session store unavailable"

// plainGet GETs base+path with the Cookie header cookie and extra headers,
// following no redirect.
func plainGet(t testing.TB, base, path, cookie string, header map[string]string) (*http.Response, string) {
	t.Helper()
	resp, body, err := tryGet(base, path, cookie, header)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// tryGet is plainGet that returns its error, for use in goroutines.
func tryGet(base, path, cookie string, header map[string]string) (*http.Response, string, error) {
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		return nil, "", err
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := plainClient.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("GET %s%s: %w", base, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", fmt.Errorf("GET %s%s: %w", base, path, err)
	}
	return resp, string(b), nil
}

// checkDown checks one request with the session while the store is down:
// 503 with the Unavailable page, HX-Retarget for htmx, the session cookie
// untouched.
func checkDown(t *testing.T, round int, base, path string, hx bool, cookie string) {
	header := map[string]string{}
	what := "GET " + path
	if hx {
		header["HX-Request"] = "true"
		header["HX-Current-URL"] = base + "/profile"
		what = "htmx " + what
	}
	resp, body, err := tryGet(base, path, cookie, header)
	if err != nil {
		t.Errorf("round %d: %v", round, err)
		return
	}
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "Unavailable") {
		t.Errorf("round %d, Redis down: %s = %s %.200q, want 503 with the Unavailable page", round, what, resp.Status, body)
	}
	if hx && resp.Header.Get("HX-Retarget") != "body" {
		t.Errorf("round %d: %s: HX-Retarget %q, want body", round, what, resp.Header.Get("HX-Retarget"))
	}
	if set := clearsSession(resp); len(set) > 0 {
		t.Errorf("round %d: %s touched the session cookie while Redis was down: %v", round, what, set)
	}
}

// clearsSession reports the Set-Cookie lines of resp that set or clear a
// session cookie.
func clearsSession(resp *http.Response) []string {
	var out []string
	for _, c := range resp.Cookies() {
		if isSessionCookie(c.Name) {
			out = append(out, c.String())
		}
	}
	return out
}

// logLinesOutsideRequests are the app's log lines at WARN or ERROR that
// are not the request log.
func logLinesOutsideRequests(logs string) []string {
	var out []string
	for _, l := range lines(logs) {
		if strings.Contains(l, `msg=request `) {
			continue
		}
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			out = append(out, l)
		}
	}
	return out
}

// TestRedisDownAndBack: see the top of the file.
func TestRedisDownAndBack(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	type slot struct {
		strategy string
		port     int
		url      string
		client   OPClient
	}
	var slots []*slot
	var clients []OPClient
	for _, strategy := range []string{"server", "cookie"} {
		s := &slot{strategy: strategy}
		s.port, s.url = reserveApp(t)
		s.client = appClient(s.url, "oidc")
		s.client.ClientID = "signet-" + strategy
		slots = append(slots, s)
		clients = append(clients, s.client)
	}
	op := startOP(t, OPConfig{Clients: clients})

	for _, sl := range slots {
		t.Run(sl.strategy, func(t *testing.T) {
			t.Parallel()
			redis := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
			app := startApp(t, map[string]string{
				"PORT":                  strconv.Itoa(sl.port),
				"AUTH_URL":              sl.url,
				"AUTH_STORE":            "redis://" + redis.Addr + "/0",
				"AUTH_SESSION_STRATEGY": sl.strategy,
				"AUTH_OIDC_ISSUER":      op.Issuer,
				"AUTH_OIDC_ID":          sl.client.ClientID,
				"AUTH_OIDC_SECRET":      sl.client.ClientSecret,
			})
			e := &journeyEnv{
				app: app, op: op, providerSel: `button[data-provider="oidc"]`,
				loginSel: opLoginSel, passwordSel: opPasswordSel, submitSel: opSubmitSel,
				username: "ada", password: "lovelace", idpPrefix: op.Issuer + "/",
			}
			ctx := newBrowser(t)
			e.signInFromHome(t, ctx, "")
			cookie := sessionCookie(t, ctx, app.URL)
			navigate(t, ctx, app.URL+"/profile")
			waitVisible(t, ctx, selProfileEmail)

			redis.Kill()

			// The open page: its next htmx request (the focus refresh)
			// gets the 503 page, which htmx puts in place of the body.
			focusWindow(t, ctx)
			waitVisible(t, ctx, "#error-code")
			if code := textOf(t, ctx, "#error-code"); code != "Unavailable" {
				t.Errorf("with Redis down, the profile page's refresh shows error code %q, want Unavailable", code)
			}
			screenshot(t, ctx, "redis-down-htmx")

			// The browser: the Unavailable page, and its cookie kept.
			navigate(t, ctx, app.URL+"/profile")
			waitVisible(t, ctx, "#error-code")
			if code := textOf(t, ctx, "#error-code"); code != "Unavailable" {
				t.Errorf("with Redis down, /profile shows error code %q, want Unavailable", code)
			}
			screenshot(t, ctx, "redis-down")
			if got := sessionCookie(t, ctx, app.URL); got != cookie {
				t.Errorf("the browser's session cookie changed while Redis was down")
			}

			// Every request that carries the session, all at once, twice
			// over: 503, the Unavailable page, nothing cleared; htmx
			// requests are told to put the page in the body.
			check := func(round int) {
				var wg sync.WaitGroup
				for _, tc := range []struct {
					path string
					hx   bool
				}{
					{"/", false}, {"/profile", false}, {"/account", false}, {"/api/auth/session", false},
					{"/fragments/profile", true}, {"/fragments/nav", true},
				} {
					wg.Go(func() { checkDown(t, round, app.URL, tc.path, tc.hx, cookie) })
				}
				wg.Wait()
			}
			check(1)
			logged := logLinesOutsideRequests(app.Logs())
			check(2)
			later := logLinesOutsideRequests(app.Logs())
			if len(later) != len(logged) {
				t.Errorf("the app logged more as requests went on during the outage (not once):\n%s", strings.Join(later[len(logged):], "\n"))
			}
			t.Logf("while Redis was down, 12 requests with the session: 503 each; the app's log outside the request log:\n%s", strings.Join(later, "\n"))
			if n := strings.Count(app.Logs(), outageLine); n != 1 {
				t.Errorf("the app logged %q %d times, want once:\n%s", outageLine, n, tail(app.Logs(), 4000))
			}
			if strings.Contains(app.Logs(), "status=500") {
				t.Errorf("a request got 500 while Redis was down")
			}
			// A visitor without a session needs no store.
			if resp, _ := plainGet(t, app.URL, "/", "", nil); resp.StatusCode != http.StatusOK {
				t.Errorf("signed out, with Redis down: GET / = %s, want 200", resp.Status)
			}

			// Redis back on the same port with its data: the same cookie
			// works again, without a restart of the app.
			redis.Restart()
			back := time.Now()
			deadline := back.Add(15 * time.Second)
			for {
				r := readSession(t, app.URL, cookie)
				if r.Email() == defaultWantedEmail {
					break
				}
				if r.Status != http.StatusServiceUnavailable || time.Now().After(deadline) {
					t.Fatalf("after Redis came back: /api/auth/session = %s, want Ada's session (or 503 until the app reconnects)", r)
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Logf("Redis back: the session answered again %v later", time.Since(back).Round(time.Millisecond))
			navigate(t, ctx, app.URL+"/profile")
			waitVisible(t, ctx, selProfileEmail)
			checkProfileFields(t, ctx, defaultWantedEmail)
			app.WaitLog(t, "session store available again", 5*time.Second)
			screenshot(t, ctx, "redis-back")
		})
	}
}
