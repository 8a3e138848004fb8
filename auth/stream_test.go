package auth

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/authtest"
	"github.com/signet-auth/signet/auth/store"
)

// sseClient is an open session stream.
type sseClient struct {
	res    *http.Response
	events chan string // event names, "" for comments; closed at the end
}

// openStream opens GET /api/auth/session/stream with b's cookies.
func (b *browser) openStream(ctx context.Context) (*sseClient, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.e.url("/api/auth/session/stream"), nil)
	if err != nil {
		return nil, err
	}
	c := &http.Client{Jar: b.jar, Transport: &http.Transport{}}
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		return nil, &streamStatus{res.StatusCode}
	}
	s := &sseClient{res: res, events: make(chan string, 16)}
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			line := sc.Text()
			if name, ok := strings.CutPrefix(line, "event: "); ok {
				s.events <- name
			}
		}
	}()
	return s, nil
}

type streamStatus struct{ code int }

func (e *streamStatus) Error() string { return http.StatusText(e.code) }

// waitSignout waits up to 2 s for the signout event and the stream's end.
func (s *sseClient) waitSignout(t *testing.T, what string) {
	t.Helper()
	timeout := time.After(2 * time.Second)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatalf("%s: the stream ended without a signout event", what)
			}
			if ev == "signout" {
				select {
				case _, more := <-s.events:
					if more {
						t.Fatalf("%s: an event after signout", what)
					}
				case <-time.After(2 * time.Second):
					t.Fatalf("%s: the stream stayed open after signout", what)
				}
				return
			}
		case <-timeout:
			t.Fatalf("%s: no signout event within 2 s", what)
		}
	}
}

// wantOpen checks that the stream has sent no signout.
func (s *sseClient) wantOpen(t *testing.T, what string) {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok || ev == "signout" {
			t.Fatalf("%s: the stream ended (%q)", what, ev)
		}
	default:
	}
}

// TestSessionStream: a session's stream hears of its end however it
// comes — a sign-out in another tab, a back-channel logout, a revoke from
// another device — while the streams of other sessions stay open; a
// request without a session gets signout at once.
func TestSessionStream(t *testing.T) {
	for _, strategy := range []Strategy{StrategyCookie, StrategyServer} {
		t.Run(string(strategy), func(t *testing.T) {
			e := newEnv(t, withConfig(func(c *Config) { c.Session.Strategy = strategy }))
			ctx := t.Context()

			// Sign-out in another tab of the same browser.
			tab := e.browser()
			tab.signIn()
			bystander := e.browser()
			bystander.signIn()
			watch, err := tab.openStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			other, err := bystander.openStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			tab.post("/api/auth/signout", map[string][]string{"csrfToken": {tab.csrf()}})
			watch.waitSignout(t, "sign-out in another tab")
			other.wantOpen(t, "another session's stream after a sign-out")

			// A reconnect after the end: signout at once.
			again, err := tab.openStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			again.waitSignout(t, "a reconnect after sign-out")

			// A back-channel logout by sid.
			victim := e.browser()
			victim.signIn()
			login, _ := e.idp.LastLogin()
			vs, err := victim.openStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if r := e.postLogoutToken(t, e.idp.LogoutToken(login.SID, "", authtest.RS256, nil)); r.status != http.StatusOK {
				t.Fatalf("back-channel logout: %d %s", r.status, r.body)
			}
			vs.waitSignout(t, "back-channel logout")

			// A revoke from another device of the same user.
			device := e.browser()
			device.signIn()
			ds, err := device.openStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if r := bystander.revoke("revoke-other-sessions", nil); r.status != http.StatusOK {
				t.Fatalf("revoke-other-sessions: %d %s", r.status, r.body)
			}
			ds.waitSignout(t, "revoked from another device")
			other.wantOpen(t, "the revoking session's own stream")
		})
	}
}

// lossyStore drops every published message, as a pub/sub that lost its
// connection would.
type lossyStore struct{ store.Store }

func (lossyStore) Publish(context.Context, string, []byte) error { return nil }

// TestSessionStreamLostMessage: an ended event that never arrives is made
// up for by the heartbeat's check of the store.
func TestSessionStreamLostMessage(t *testing.T) {
	e := newEnv(t, withConfig(func(c *Config) {
		c.Store = lossyStore{newMemoryStore(c.Now)}
		c.Streams.Heartbeat = 50 * time.Millisecond
	}))
	b, c := e.browser(), e.browser()
	b.signIn()
	c.signIn()
	s, err := b.openStream(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	c.revoke("revoke-other-sessions", nil)
	s.waitSignout(t, "a revoke whose event was lost")
}

// TestSessionStreamBounds: a session's streams are capped (429), the
// instance's too (503); a client that never reads is dropped; 1,000
// streams opened and dropped, and Shutdown, leave no goroutine behind.
func TestSessionStreamBounds(t *testing.T) {
	e := newEnv(t, withConfig(func(c *Config) {
		c.Streams = StreamConfig{MaxPerSession: 3, MaxTotal: 5, Heartbeat: time.Hour}
	}))
	b := e.browser()
	b.signIn()
	ctx, cancel := context.WithCancel(t.Context())
	var open []*sseClient
	for range 3 {
		s, err := b.openStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, s)
	}
	var st *streamStatus
	if _, err := b.openStream(ctx); !errors.As(err, &st) || st.code != http.StatusTooManyRequests {
		t.Fatalf("a fourth stream of one session: %v, want 429", err)
	}
	c := e.browser()
	c.signIn()
	for range 2 {
		if _, err := c.openStream(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.openStream(ctx); !errors.As(err, &st) || st.code != http.StatusServiceUnavailable {
		t.Fatalf("a stream over the instance's cap: %v, want 503", err)
	}
	cancel()
	eventually(t, "every stream closed", func() bool { return e.auth.streams.count() == 0 })
	_ = open
}

func TestSessionStreamLeavesNothingBehind(t *testing.T) {
	e := newEnv(t, withConfig(func(c *Config) {
		c.Streams = StreamConfig{MaxPerSession: 2000, MaxTotal: 2000, Heartbeat: time.Hour}
	}))
	b := e.browser()
	b.signIn()
	cookie := b.cookie("signet.session-token")
	base := runtime.NumGoroutine()

	// 1,000 streams opened and dropped by their clients.
	var wg sync.WaitGroup
	var opened atomic.Int32
	for range 1000 {
		wg.Go(func() {
			conn, err := net.Dial("tcp", strings.TrimPrefix(e.app.URL, "http://"))
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			_, _ = conn.Write([]byte("GET /api/auth/session/stream HTTP/1.1\r\nHost: app\r\nCookie: signet.session-token=" + cookie + "\r\n\r\n"))
			line, err := bufio.NewReader(conn).ReadString('\n')
			if err == nil && strings.Contains(line, "200") {
				opened.Add(1)
			}
		})
	}
	wg.Wait()
	if n := opened.Load(); n != 1000 {
		t.Fatalf("%d of 1000 streams opened", n)
	}
	eventually(t, "the dropped streams closed", func() bool { return e.auth.streams.count() == 0 })
	eventually(t, "goroutines back to where they were", func() bool { return runtime.NumGoroutine() <= base+5 })

	// A client that never reads: the server's writes fill the socket and
	// time out; Shutdown ends the rest.
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.app.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = conn.Write([]byte("GET /api/auth/session/stream HTTP/1.1\r\nHost: app\r\nCookie: signet.session-token=" + cookie + "\r\n\r\n"))
	eventually(t, "the stream of a client that never reads registered", func() bool { return e.auth.streams.count() == 1 })
	e.auth.Shutdown()
	eventually(t, "Shutdown closed the streams", func() bool { return e.auth.streams.count() == 0 })
	if _, err := b.openStream(t.Context()); err == nil {
		t.Error("a stream opened after Shutdown")
	}
}

// TestSessionStreamRefreshFailsForGood: when a session's refresh token is
// refused for good, its open streams hear signout.
func TestSessionStreamRefreshFailsForGood(t *testing.T) {
	e := newTokenEnv(t)
	b := e.browser()
	b.signIn()
	cookie := b.sessionCookies()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.app.URL+"/api/auth/session/stream", nil)
	req.Header.Set("Cookie", cookie)
	res, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	s := &sseClient{res: res, events: make(chan string, 16)}
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if name, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				s.events <- name
			}
		}
	}()
	eventually(t, "the stream registered", func() bool { return e.auth.streams.count() == 1 })
	e.idp.SetTokens(func(tk *authtest.Tokens) { tk.RefreshFailure = authtest.InvalidGrant })
	e.clock.Advance(5 * time.Minute)
	b.session()
	s.waitSignout(t, "a refresh refused for good")
}
