package e2e

// Two instances of the app that share one Redis (AUTH_STORE=redis://…) and
// one AUTH_SECRET behave as one, with either session strategy: a session
// signed in on A is valid on B; a back-channel logout that the IdP posts to
// B ends it on A at once; a sign-in right after survives; and concurrent
// reads of one session on both instances, once its access token has
// expired, make one refresh grant at an IdP that rotates refresh tokens
// (where a second grant with the retired token would revoke the grant).

import (
	"context"
	"encoding/json"
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

// sessionRead is one GET /api/auth/session.
type sessionRead struct {
	Status    int
	Body      string
	Session   *sessionWithError // nil: signed out (null)
	SetCookie []*http.Cookie
}

// sessionWithError is /api/auth/session with its error field.
type sessionWithError struct {
	User  map[string]any `json:"user"`
	Error string         `json:"error"`
}

// Email is the session's user's email, "" when signed out.
func (r sessionRead) Email() string {
	if r.Session == nil {
		return ""
	}
	s, _ := r.Session.User["email"].(string)
	return s
}

func (r sessionRead) String() string {
	return fmt.Sprintf("%d %.300s", r.Status, r.Body)
}

// plainClient is an HTTP client that follows no redirect and keeps no
// cookie: each request carries exactly the Cookie header it is given.
var plainClient = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// fetchSession GETs base/api/auth/session with the Cookie header cookie.
func fetchSession(base, cookie string) (sessionRead, error) {
	req, err := http.NewRequest(http.MethodGet, base+"/api/auth/session", nil)
	if err != nil {
		return sessionRead{}, err
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := plainClient.Do(req)
	if err != nil {
		return sessionRead{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return sessionRead{}, err
	}
	r := sessionRead{Status: resp.StatusCode, Body: string(b), SetCookie: resp.Cookies()}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, &r.Session); err != nil {
			return r, fmt.Errorf("GET %s/api/auth/session: %w: %.300s", base, err, b)
		}
	}
	return r, nil
}

// readSession is fetchSession that fails the test on an error.
func readSession(t testing.TB, base, cookie string) sessionRead {
	t.Helper()
	r, err := fetchSession(base, cookie)
	if err != nil {
		t.Fatalf("GET %s/api/auth/session: %v", base, err)
	}
	return r
}

// sessionCookie is the Cookie header of the session cookie (or its chunks)
// the browser holds for appURL.
func sessionCookie(t testing.TB, ctx context.Context, appURL string) string {
	t.Helper()
	var parts []string
	for _, c := range appCookies(t, ctx, appURL) {
		if isSessionCookie(c.Name) {
			parts = append(parts, c.Name+"="+c.Value)
		}
	}
	if len(parts) == 0 {
		t.Fatalf("the browser holds no session cookie for %s", appURL)
	}
	return strings.Join(parts, "; ")
}

// withCookies returns the Cookie header cookie with the cookies set
// replaced or added, and those cleared (Max-Age < 0) removed.
func withCookies(cookie string, set []*http.Cookie) string {
	req := http.Request{Header: http.Header{"Cookie": {cookie}}}
	have := req.Cookies()
	for _, c := range set {
		kept := have[:0]
		for _, h := range have {
			if h.Name != c.Name {
				kept = append(kept, h)
			}
		}
		have = kept
		if c.MaxAge >= 0 && c.Value != "" {
			have = append(have, &http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	parts := make([]string, len(have))
	for i, c := range have {
		parts[i] = c.Name + "=" + c.Value
	}
	return strings.Join(parts, "; ")
}

// waitSignedOut polls base's /api/auth/session with cookie until it answers
// null, and fails the test if it does not by deadline. It returns when.
func waitSignedOut(t testing.TB, base, cookie string, deadline time.Time) time.Time {
	t.Helper()
	for {
		r := readSession(t, base, cookie)
		if r.Status == http.StatusOK && r.Session == nil {
			return time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still answers the ended session: %s", base, r)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTwoInstancesShareRedis: see the top of the file.
func TestTwoInstancesShareRedis(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	redis := redistest.StartServer(t)
	// Long enough for the steps before the burst on a loaded machine: the
	// token is due at three quarters of it.
	const accessTTL = 10 * time.Second

	// One OP for both strategies: each has its own client, registered with
	// both instances' callbacks, and its back-channel logout receiver on B
	// only, so that a logout reaches A through the store alone. No
	// front-channel logout: the browser would end the session itself.
	type slot struct {
		strategy     string
		portA, portB int
		urlA, urlB   string
		client       OPClient
	}
	var slots []*slot
	var clients []OPClient
	for _, strategy := range []string{"cookie", "server"} {
		s := &slot{strategy: strategy}
		s.portA, s.urlA = reserveApp(t)
		s.portB, s.urlB = reserveApp(t)
		for s.portB == s.portA {
			s.portB, s.urlB = reserveApp(t)
		}
		s.client = appClient(s.urlA, "oidc")
		s.client.ClientID = "signet-" + strategy
		s.client.RedirectURIs = append(s.client.RedirectURIs, s.urlB+"/api/auth/callback/oidc")
		s.client.PostLogoutRedirectURIs = append(s.client.PostLogoutRedirectURIs, s.urlB+signOutPagePath)
		s.client.BackchannelLogoutURI = s.urlB + "/api/auth/backchannel-logout"
		s.client.FrontchannelLogoutURI = ""
		slots = append(slots, s)
		clients = append(clients, s.client)
	}
	op := startOP(t, OPConfig{
		Clients:             clients,
		TTL:                 map[string]int{"AccessToken": int(accessTTL / time.Second)},
		RotateRefreshTokens: true,
	})
	endSession, _ := op.Discovery(t)["end_session_endpoint"].(string)

	for db, sl := range slots {
		t.Run(sl.strategy, func(t *testing.T) {
			t.Parallel()
			secret := randomSecret()
			env := func(port int, url string) map[string]string {
				return map[string]string{
					"PORT":                  strconv.Itoa(port),
					"AUTH_URL":              url,
					"AUTH_SECRET":           secret,
					"AUTH_STORE":            fmt.Sprintf("redis://%s/%d", redis, db),
					"AUTH_SESSION_STRATEGY": sl.strategy,
					"AUTH_OIDC_ISSUER":      op.Issuer,
					"AUTH_OIDC_ID":          sl.client.ClientID,
					"AUTH_OIDC_SECRET":      sl.client.ClientSecret,
				}
			}
			a, b := startApp(t, env(sl.portA, sl.urlA)), startApp(t, env(sl.portB, sl.urlB))
			e := &journeyEnv{
				app: a, op: op, providerSel: `button[data-provider="oidc"]`,
				loginSel: opLoginSel, passwordSel: opPasswordSel, submitSel: opSubmitSel,
				username: "ada", password: "lovelace", idpPrefix: op.Issuer + "/",
			}
			ctx := newBrowser(t)

			// Sign in on A: the session is valid on B, in the browser (cookies
			// name a host, not a port) and for a client that sends the cookie.
			e.signInFromHome(t, ctx, "")
			signedIn := time.Now()
			cookie := sessionCookie(t, ctx, a.URL)
			navigate(t, ctx, b.URL+"/api/auth/session")
			var onB sessionWithError
			if raw := textOf(t, ctx, "body"); json.Unmarshal([]byte(raw), &onB) != nil || onB.User["email"] != defaultWantedEmail {
				t.Fatalf("B's /api/auth/session in the browser = %s, want Ada's session from A", raw)
			}
			for _, app := range []*App{a, b} {
				if r := readSession(t, app.URL, cookie); r.Email() != defaultWantedEmail || r.Session.Error != "" {
					t.Fatalf("%s/api/auth/session = %s, want Ada's session", app.URL, r)
				}
			}

			// 30 reads at once, split over A and B, after the access token
			// expired: one refresh grant at the rotating OP.
			if n := op.Grants(sl.client.ClientID, "refresh_token"); n != 0 {
				t.Fatalf("%d refresh grants before the burst (the steps after sign-in took %v): raise accessTTL", n, time.Since(signedIn))
			}
			time.Sleep(time.Until(signedIn.Add(accessTTL + 500*time.Millisecond)))
			const readers = 30
			results := make([]sessionRead, readers)
			errs := make([]error, readers)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range readers {
				base := a.URL
				if i%2 == 1 {
					base = b.URL
				}
				wg.Go(func() {
					<-start
					results[i], errs[i] = fetchSession(base, cookie)
				})
			}
			close(start)
			wg.Wait()
			grants := op.Grants(sl.client.ClientID, "refresh_token")
			refreshed := strings.Count(a.Logs(), "access token refreshed") + strings.Count(b.Logs(), "access token refreshed")
			t.Logf("%d concurrent reads on two instances after the %v access token expired: %d refresh grant(s) at the OP, %d refresh(es) logged",
				readers, accessTTL, grants, refreshed)
			if grants != 1 || refreshed != 1 {
				t.Errorf("refresh grants = %d, refreshes logged = %d; want 1 and 1\n%s", grants, refreshed, tail(op.Log(), 3000))
			}
			var setCookies []*http.Cookie
			for i, r := range results {
				switch {
				case errs[i] != nil:
					t.Errorf("read %d: %v", i, errs[i])
				case r.Email() != defaultWantedEmail || r.Session.Error != "":
					t.Errorf("read %d: %s, want Ada's session without error", i, r)
				case len(setCookies) == 0 && len(r.SetCookie) > 0:
					setCookies = r.SetCookie
				}
			}
			// The session as re-issued, and the old cookie within the grace
			// period, read on both: the new tokens, no other grant.
			renewed := withCookies(cookie, setCookies)
			for _, c := range []string{renewed, cookie} {
				for _, app := range []*App{a, b} {
					if r := readSession(t, app.URL, c); r.Email() != defaultWantedEmail || r.Session.Error != "" {
						t.Errorf("%s after the refresh: %s", app.URL, r)
					}
				}
			}
			if n := op.Grants(sl.client.ClientID, "refresh_token"); n != grants {
				t.Errorf("refresh grants went from %d to %d on later reads", grants, n)
			}

			// A logout at the OP: its back-channel logout token goes to B,
			// and A refuses the session within 2 seconds of B's receipt.
			navigate(t, ctx, endSession)
			waitVisible(t, ctx, "#op-logout-success")
			b.WaitLog(t, `msg="back-channel logout"`, 10*time.Second)
			received := time.Now()
			var took time.Duration
			for _, c := range []string{renewed, cookie} {
				for _, app := range []*App{a, b} {
					took = max(took, waitSignedOut(t, app.URL, c, received.Add(2*time.Second)).Sub(received))
				}
			}
			t.Logf("back-channel logout received by B; A and B refuse the session %v later", took.Round(time.Millisecond))
			if strings.Contains(a.Logs(), `msg="back-channel logout"`) {
				t.Errorf("A received a back-channel logout itself: the test shows nothing about the store")
			}

			// Signing in right after survives, on both instances.
			e.signInFromHome(t, ctx, "")
			again := sessionCookie(t, ctx, a.URL)
			if again == cookie || again == renewed {
				t.Fatalf("the new sign-in kept the old session cookie")
			}
			for _, app := range []*App{a, b} {
				if r := readSession(t, app.URL, again); r.Email() != defaultWantedEmail {
					t.Errorf("%s: the session signed in after the logout = %s, want Ada's", app.URL, r)
				}
			}
			navigate(t, ctx, b.URL+"/")
			waitVisible(t, ctx, selWelcome)
		})
	}
}
