package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// streamResult is what the session streams (GET /api/auth/session/stream,
// Server-Sent Events) cost on one instance.
type streamResult struct {
	Streams     int `json:"streams"`
	UserStreams int `json:"user_streams"` // of one user, all told of one sign-out
	Sessions    int `json:"sessions"`     // signed in for them (16 streams per session at most)
	// RSS of an app before and with Streams open streams, and of another
	// with as many idle keep-alive connections (the connection itself).
	RSSBeforekB, RSSStreamskB       int64   `json:"-"`
	RSSIdleBeforekB, RSSIdleConnskB int64   `json:"-"`
	RSSPerStreamKB                  float64 `json:"rss_per_stream_kb"`    // beyond an idle connection
	RSSPerConnKB                    float64 `json:"rss_per_idle_conn_kb"` // the idle connection
	LastHeardMS                     float64 `json:"last_heard_ms"`        // sign-out to the last stream's event
	FirstHeardMS                    float64 `json:"first_heard_ms"`
	MedianHeardMS                   float64 `json:"median_heard_ms"`
}

func (st *streamResult) markdown() string {
	return fmt.Sprintf("| session streams (SSE) | value |\n|---|--:|\n"+
		"| open streams on one instance | %d (%d sessions) |\n"+
		"| RSS per idle keep-alive connection (the connection itself) | %.1f KB |\n"+
		"| RSS per open stream beyond that | %.1f KB |\n"+
		"| revoke-sessions of a user with %d open streams: first / median / last stream hears it | %.0f / %.0f / %.0f ms |\n",
		st.Streams, st.Sessions, st.RSSPerConnKB, st.RSSPerStreamKB, st.UserStreams, st.FirstHeardMS, st.MedianHeardMS, st.LastHeardMS)
}

// raiseFileLimit lifts this process's open-file limit to its hard limit;
// the apps it starts inherit it.
func raiseFileLimit(need uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur < need {
		return fmt.Errorf("the open-file limit is %d, the stream test needs %d: raise it (ulimit -Hn)", lim.Cur, need)
	}
	return nil
}

// streamTest opens n session streams on one app (userStreams of them
// for one user, the rest for the others), measures the app's RSS against
// an app holding n idle connections, then signs that user out everywhere
// (POST /api/auth/revoke-sessions) and times until the last of the user's
// streams receives its signout event.
func streamTest(ctx context.Context, bins binaries, tmp string, n, userStreams int) (*streamResult, error) {
	const perSession = 16 // auth.DefaultMaxStreamsPerSession
	if err := raiseFileLimit(uint64(n) + 1000); err != nil {
		return nil, err
	}
	st := &streamResult{Streams: n, UserStreams: userStreams}

	// The connection itself: an app with n idle keep-alive connections.
	idle, err := startStreamApp(bins, tmp, "streams-idle")
	if err != nil {
		return nil, err
	}
	settle()
	if st.RSSIdleBeforekB, err = procStatus(idle.cmd.Process.Pid, "VmRSS"); err != nil {
		idle.stop()
		return nil, err
	}
	conns, err := openConns(idle.base, n, func(int) string { return "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n" }, "\r\n\r\n")
	if err == nil {
		settle()
		st.RSSIdleConnskB, err = procStatus(idle.cmd.Process.Pid, "VmRSS")
	}
	closeAll(conns)
	idle.stop()
	if err != nil {
		return nil, fmt.Errorf("idle connections: %w", err)
	}

	// The streams.
	app, err := startStreamApp(bins, tmp, "streams")
	if err != nil {
		return nil, err
	}
	defer app.stop()
	userSessions := (userStreams + perSession - 1) / perSession
	others := (n - userStreams + perSession - 1) / perSession
	step("signing in %d sessions for %d streams", userSessions+others, n)
	var sessions []*session
	for i := range userSessions + others {
		u := demoUsers[0]
		if i >= userSessions {
			u = demoUsers[1+i%2]
		}
		s, err := signIn(app.base, "dev", u)
		if err != nil {
			return nil, err
		}
		sessions = append(sessions, s)
	}
	st.Sessions = len(sessions)
	// Stream i belongs to session i/perSession among the user's, then the others'.
	sessionOf := func(i int) *session {
		if i < userStreams {
			return sessions[i/perSession]
		}
		return sessions[userSessions+(i-userStreams)/perSession]
	}
	settle()
	if st.RSSBeforekB, err = procStatus(app.cmd.Process.Pid, "VmRSS"); err != nil {
		return nil, err
	}
	step("opening %d session streams", n)
	streams, err := openConns(app.base, n, func(i int) string {
		return "GET /api/auth/session/stream HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\nCookie: " + sessionOf(i).cookie + "\r\n\r\n"
	}, ": signed in\n\n")
	defer closeAll(streams)
	if err != nil {
		return nil, fmt.Errorf("streams: %w", err)
	}
	settle()
	if st.RSSStreamskB, err = procStatus(app.cmd.Process.Pid, "VmRSS"); err != nil {
		return nil, err
	}
	st.RSSPerConnKB = float64(st.RSSIdleConnskB-st.RSSIdleBeforekB) * 1.024 / float64(n)
	st.RSSPerStreamKB = float64((st.RSSStreamskB-st.RSSBeforekB)-(st.RSSIdleConnskB-st.RSSIdleBeforekB)) * 1.024 / float64(n)

	// One sign-out everywhere of the user; every one of their streams
	// must hear it.
	heard := make([]time.Duration, userStreams)
	var wg sync.WaitGroup
	var began time.Time
	errs := make(chan error, userStreams)
	for i := range userStreams {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := streams[i]
			_ = c.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			for {
				line, err := c.r.ReadString('\n')
				if err != nil {
					errs <- fmt.Errorf("stream %d: %w", i, err)
					return
				}
				if strings.HasPrefix(line, "event: signout") {
					heard[i] = time.Since(began)
					return
				}
			}
		}(i)
	}
	step("signing %s out everywhere", demoUsers[0].username)
	began = time.Now()
	if err := revokeSessions(app.base, sessions[0]); err != nil {
		return nil, err
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	ms := make([]float64, len(heard))
	for i, d := range heard {
		ms[i] = float64(d.Microseconds()) / 1000
	}
	st.FirstHeardMS, st.MedianHeardMS, st.LastHeardMS = minF(ms), median(ms), maxF(ms)
	return st, nil
}

func startStreamApp(bins binaries, tmp, name string) (*proc, error) {
	dir, err := os.MkdirTemp(tmp, name+"-")
	if err != nil {
		return nil, err
	}
	p, err := startApp(bins.app, dir, filepath.Join(tmp, name+".log"), 0, "AUTH_STORE=memory:", "LOG_LEVEL=warn")
	if err != nil {
		return nil, err
	}
	if _, err := p.waitFor("/healthz", time.Now(), 10*time.Second); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// settle lets the app's GC and the kernel catch up before RSS is read.
func settle() { time.Sleep(1500 * time.Millisecond) }

type rawConn struct {
	conn net.Conn
	r    *bufio.Reader
}

// openConns opens n connections to base, sends each its request (a
// format with the host for %s) and reads until the answer holds until.
func openConns(base string, n int, request func(i int) string, until string) ([]*rawConn, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	out := make([]*rawConn, 0, n)
	for i := range n {
		c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
		if err != nil {
			return out, err
		}
		rc := &rawConn{conn: c, r: bufio.NewReaderSize(c, 1024)}
		out = append(out, rc)
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := fmt.Fprintf(c, request(i), u.Host); err != nil {
			return out, err
		}
		var seen strings.Builder
		for !strings.Contains(seen.String(), until) {
			line, err := rc.r.ReadString('\n')
			seen.WriteString(line)
			if err != nil {
				return out, fmt.Errorf("connection %d: %w after %q", i, err, seen.String())
			}
			if strings.HasPrefix(seen.String(), "HTTP/1.1 ") && !strings.HasPrefix(seen.String(), "HTTP/1.1 200") {
				return out, fmt.Errorf("connection %d: %q", i, strings.TrimSpace(line))
			}
			if seen.Len() > 64<<10 {
				return out, fmt.Errorf("connection %d: no %q in %d bytes", i, until, seen.Len())
			}
		}
		_ = c.SetDeadline(time.Time{})
	}
	return out, nil
}

func closeAll(conns []*rawConn) {
	for _, c := range conns {
		c.conn.Close()
	}
}

// revokeSessions signs s's user out of every session: POST
// /api/auth/revoke-sessions with the CSRF token, from the app's origin.
func revokeSessions(base string, s *session) error {
	c := &http.Client{Timeout: 10 * time.Second}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/auth/csrf", nil)
	req.Header.Set("Cookie", s.cookie)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	var csrf struct {
		CSRFToken string `json:"csrfToken"`
	}
	err = json.NewDecoder(resp.Body).Decode(&csrf)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("csrf: %w", err)
	}
	cookie := s.cookie
	for _, sc := range resp.Cookies() {
		cookie += "; " + sc.Name + "=" + sc.Value
	}
	req, _ = http.NewRequest(http.MethodPost, base+"/api/auth/revoke-sessions", strings.NewReader(url.Values{"csrfToken": {csrf.CSRFToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Cookie", cookie)
	resp, err = c.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("revoke-sessions: %d %s", resp.StatusCode, body)
	}
	return nil
}

func minF(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = min(m, x)
	}
	return m
}

func maxF(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
