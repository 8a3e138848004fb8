package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

//go:embed load.lua
var loadScript []byte

// target is one thing the load tests measure.
type target struct {
	ID       string `json:"id"`
	Label    string `json:"label"`
	Baseline bool   `json:"baseline,omitempty"`
	// Server names the process that serves the target (see servers).
	Server string `json:"server"`
	// Base is the target whose same-round requests/s this one's is
	// divided by: a hello-world of the same body size, or for the store
	// variants the configuration they are compared with.
	Base string `json:"base,omitempty"`
	// Store marks the store variants, measured at one connection count.
	Store    bool `json:"store,omitempty"`
	path     string
	htmx     bool
	signedIn bool   // send the sessions' cookies
	want     string // in every response body
}

// The processes under test. Every app runs the cookie strategy with its
// default store (a file) unless its name says otherwise.
const (
	srvHelloHome     = "hello-home"     // hello-world, the size of GET / signed in
	srvHelloSession  = "hello-session"  // hello-world, the size of GET /api/auth/session
	srvHelloFragment = "hello-fragment" // hello-world, the size of the nav fragment
	srvDev           = "dev"            // the app, signed in through the embedded development IdP
	srvOP            = "op"             // the app, signed in through oidc-provider (an external OP)
	srvMemory        = "memory"         // AUTH_STORE=memory:
	srvRedis         = "redis"          // AUTH_STORE=redis://…
	srvRedisServer   = "redis-server"   // AUTH_STORE=redis://…, AUTH_SESSION_STRATEGY=server
)

// targets: the baselines first; they get the signed-in cookies too, so
// wrk sends the same requests to them as to the app.
var targets = []target{
	{ID: "hello-home", Label: "hello-world, body of GET /", Baseline: true, Server: srvHelloHome, path: "/", signedIn: true},
	{ID: "hello-session", Label: "hello-world, body of /api/auth/session", Baseline: true, Server: srvHelloSession, path: "/", signedIn: true},
	{ID: "hello-fragment", Label: "hello-world, body of the fragment", Baseline: true, Server: srvHelloFragment, path: "/", signedIn: true},
	{ID: "home", Label: "GET / signed in (dev IdP)", Server: srvDev, Base: "hello-home", path: "/", signedIn: true, want: `id="welcome"`},
	{ID: "session", Label: "GET /api/auth/session (dev IdP)", Server: srvDev, Base: "hello-session", path: "/api/auth/session", signedIn: true, want: `"user":`},
	{ID: "fragment", Label: "GET /fragments/nav, htmx (dev IdP)", Server: srvDev, Base: "hello-fragment", path: "/fragments/nav", htmx: true, signedIn: true, want: `id="nav-sign-out"`},
	{ID: "op-home", Label: "GET / signed in (oidc-provider)", Server: srvOP, Base: "hello-home", path: "/", signedIn: true, want: `id="welcome"`},
	{ID: "op-session", Label: "GET /api/auth/session (oidc-provider)", Server: srvOP, Base: "hello-session", path: "/api/auth/session", signedIn: true, want: `"user":`},
	{ID: "op-fragment", Label: "GET /fragments/nav, htmx (oidc-provider)", Server: srvOP, Base: "hello-fragment", path: "/fragments/nav", htmx: true, signedIn: true, want: `id="nav-sign-out"`},
	{ID: "anon", Label: "GET / signed out", Server: srvDev, Base: "hello-home", path: "/", want: `id="sign-in"`},
	{ID: "memory-home", Label: "GET /, cookie strategy, memory store", Store: true, Server: srvMemory, Base: "hello-home", path: "/", signedIn: true, want: `id="welcome"`},
	{ID: "memory-session", Label: "/api/auth/session, cookie strategy, memory store", Store: true, Server: srvMemory, Base: "hello-session", path: "/api/auth/session", signedIn: true, want: `"user":`},
	{ID: "redis-home", Label: "GET /, cookie strategy, Redis store", Store: true, Server: srvRedis, Base: "memory-home", path: "/", signedIn: true, want: `id="welcome"`},
	{ID: "redis-session", Label: "/api/auth/session, cookie strategy, Redis store", Store: true, Server: srvRedis, Base: "memory-session", path: "/api/auth/session", signedIn: true, want: `"user":`},
	{ID: "redis-server-home", Label: "GET /, server strategy, Redis store", Store: true, Server: srvRedisServer, Base: "redis-home", path: "/", signedIn: true, want: `id="welcome"`},
	{ID: "redis-server-session", Label: "/api/auth/session, server strategy, Redis store", Store: true, Server: srvRedisServer, Base: "redis-session", path: "/api/auth/session", signedIn: true, want: `"user":`},
}

// targetByID returns the target with id.
func targetByID(id string) target {
	for _, t := range targets {
		if t.ID == id {
			return t
		}
	}
	panic("bench: no target " + id)
}

// loadRun is one wrk run.
type loadRun struct {
	Target   string  `json:"target"`
	Conns    int     `json:"conns"`
	Round    int     `json:"round"`
	Requests int64   `json:"requests"`
	RPS      float64 `json:"rps"`
	P50      float64 `json:"p50_ms"`
	P90      float64 `json:"p90_ms"`
	P99      float64 `json:"p99_ms"`
	Max      float64 `json:"max_ms"`
	BytesReq float64 `json:"bytes_per_request"`
	CPUus    float64 `json:"cpu_us_per_request"` // server CPU (user+system) per request
	WrkCPUus float64 `json:"wrk_cpu_us_per_request"`
	// OtherCPU is the share of the machine's CPU time that neither the
	// server nor wrk used during the run: other processes, or idle.
	OtherCPU float64 `json:"other_cpu_share"`
	IdleCPU  float64 `json:"idle_cpu_share"`
	// RedisCalls are the commands Redis served during the run (INFO
	// commandstats), by command, for the apps on Redis.
	RedisCalls map[string]int64 `json:"redis_calls,omitempty"`
}

// app is a server under test and how its visitors sign in.
type app struct {
	*proc
	provider string // the sign-in provider's id; "" for a hello-world
	users    []user
	redis    *redisServer // the app's Redis, when it has one
	sessions []*session
}

// loadTests starts the apps, oidc-provider, Redis and the baselines, signs
// users in, and runs every target at every connection count (the store
// variants at one), round after round.
func loadTests(ctx context.Context, o options, bins binaries, tmp string, res *results) error {
	servers := map[string]*app{}
	defer func() {
		for _, s := range servers {
			s.stop()
			s.redis.stop()
		}
	}()
	startDevApp := func(name string, env ...string) error {
		dir, err := os.MkdirTemp(tmp, name+"-")
		if err != nil {
			return err
		}
		p, err := startApp(bins.app, dir, filepath.Join(tmp, name+".log"), 0, env...)
		if err != nil {
			return err
		}
		servers[name] = &app{proc: p, provider: "dev", users: demoUsers}
		_, err = p.waitFor("/", time.Now(), 10*time.Second)
		return err
	}
	if err := startDevApp(srvDev); err != nil {
		return err
	}
	step("starting oidc-provider (an external OpenID Provider)")
	opApp, err := startOPApp(ctx, bins, tmp)
	if err != nil {
		return err
	}
	servers[srvOP] = opApp
	if err := startDevApp(srvMemory, "AUTH_STORE=memory:"); err != nil {
		return err
	}
	for _, v := range []struct{ name, strategy string }{{srvRedis, "cookie"}, {srvRedisServer, "server"}} {
		rs, err := startRedis(tmp, v.name)
		if err != nil {
			return err
		}
		if err := startDevApp(v.name, "AUTH_STORE="+rs.url(), "AUTH_SESSION_STRATEGY="+v.strategy); err != nil {
			rs.stop()
			return err
		}
		servers[v.name].redis = rs
	}

	signInEvery := func() error {
		for _, name := range []string{srvDev, srvOP, srvMemory, srvRedis, srvRedisServer} {
			a := servers[name]
			s, err := signInAll(a.base, a.provider, a.users, o.sessions)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			a.sessions = s
		}
		return nil
	}
	step("signing in %d sessions per app through the development IdP and oidc-provider", o.sessions*len(demoUsers))
	if err := signInEvery(); err != nil {
		return err
	}
	res.RealCookie = realCookie(servers[srvDev].sessions)
	res.OPCookie = realCookie(servers[srvOP].sessions)
	sizes := map[string]int{}
	for _, v := range []struct{ hello, id string }{{srvHelloHome, "home"}, {srvHelloSession, "session"}, {srvHelloFragment, "fragment"}} {
		size, err := checkTarget(servers[srvDev].base, targetByID(v.id), servers[srvDev].sessions)
		if err != nil {
			return err
		}
		sizes[v.hello] = size
	}
	res.HomeBodyBytes = sizes[srvHelloHome]
	res.BodyBytes = sizes
	if res.IdleRSSkB, err = procStatus(servers[srvDev].cmd.Process.Pid, "VmRSS"); err != nil {
		return err
	}
	for name, size := range sizes {
		h, err := startHello(bins.hello, filepath.Join(tmp, name+".log"), size)
		if err != nil {
			return err
		}
		servers[name] = &app{proc: h, sessions: servers[srvDev].sessions}
		if _, err := h.waitFor("/", time.Now(), 10*time.Second); err != nil {
			return err
		}
	}
	script := filepath.Join(tmp, "load.lua")
	if err := os.WriteFile(script, loadScript, 0o600); err != nil {
		return err
	}
	check := func() error {
		for _, t := range targets {
			s := servers[t.Server]
			if _, err := checkTarget(s.base, t, s.sessions); err != nil {
				return fmt.Errorf("%s: %w", t.Server, err)
			}
		}
		return nil
	}
	if err := check(); err != nil {
		return err
	}
	if o.hold {
		return hold(ctx, tmp, servers)
	}

	step("warming up")
	for _, t := range targets {
		s := servers[t.Server]
		if _, err := measure(ctx, s, t, script, 32, time.Second); err != nil {
			return err
		}
	}
	storeConns := o.conns[len(o.conns)-1]
	var plan []struct {
		t target
		c int
	}
	for _, c := range o.conns {
		for _, t := range targets {
			if !t.Store || c == storeConns {
				plan = append(plan, struct {
					t target
					c int
				}{t, c})
			}
		}
	}
	total := o.rounds * len(plan)
	step("%d load tests of %s each (about %s)", total, o.duration, (time.Duration(total) * (o.duration + 700*time.Millisecond)).Round(time.Minute))
	for round := 1; round <= o.rounds; round++ {
		if round > 1 {
			// Fresh sessions each round, as browsers keep their cookies
			// fresh: the app refreshes access tokens that are about to
			// expire, and the dev IdP's last 15 minutes.
			if err := signInEvery(); err != nil {
				return err
			}
			for _, name := range []string{srvHelloHome, srvHelloSession, srvHelloFragment} {
				servers[name].sessions = servers[srvDev].sessions
			}
			if err := check(); err != nil {
				return err
			}
		}
		for _, pt := range plan {
			r, err := measure(ctx, servers[pt.t.Server], pt.t, script, pt.c, o.duration)
			if err != nil {
				return err
			}
			r.Round = round
			res.Runs = append(res.Runs, r)
			redis := ""
			if r.RedisCalls != nil {
				redis = fmt.Sprintf("  Redis %.3f cmd/req", redisPerRequest(r))
			}
			step("round %d  %-48s c=%-3d %8.0f req/s  p50 %5.2f ms  p99 %6.2f ms  %5.1f µs CPU/req (wrk %4.1f)  others %2.0f%% idle %2.0f%%%s",
				round, pt.t.Label, pt.c, r.RPS, r.P50, r.P99, r.CPUus, r.WrkCPUus, 100*r.OtherCPU, 100*r.IdleCPU, redis)
		}
	}
	if res.PeakRSSkB, err = procStatus(servers[srvDev].cmd.Process.Pid, "VmHWM"); err != nil {
		return err
	}
	if res.OPPeakRSSkB, err = procStatus(servers[srvOP].cmd.Process.Pid, "VmHWM"); err != nil {
		return err
	}
	if res.HelloPeakRSSkB, err = procStatus(servers[srvHelloHome].cmd.Process.Pid, "VmHWM"); err != nil {
		return err
	}
	res.Targets = targets
	res.Conns = o.conns
	res.StoreConns = storeConns
	return nil
}

// hold writes the apps' addresses and their sessions' Cookie headers to
// bench-hold.json and waits until ctx ends.
func hold(ctx context.Context, tmp string, servers map[string]*app) error {
	type held struct {
		Base    string   `json:"base"`
		PID     int      `json:"pid"`
		Cookies []string `json:"cookies"`
	}
	out := map[string]held{}
	for name, a := range servers {
		h := held{Base: a.base, PID: a.cmd.Process.Pid}
		for _, s := range a.sessions {
			h.Cookies = append(h.Cookies, s.cookie)
		}
		out[name] = h
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(tmp, "bench-hold.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return err
	}
	step("holding; the apps and their cookies are in %s; Ctrl-C ends", path)
	<-ctx.Done()
	return nil
}

func signInAll(base, provider string, users []user, perUser int) ([]*session, error) {
	var out []*session
	for range perUser {
		for _, u := range users {
			s, err := signIn(base, provider, u)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// realCookie summarises the session cookies the real flow produced.
func realCookie(sessions []*session) realCookieResult {
	r := realCookieResult{Min: sessions[0].sessionBytes, Max: sessions[0].sessionBytes}
	var signIns []float64
	for _, s := range sessions {
		r.Min = min(r.Min, s.sessionBytes)
		r.Max = max(r.Max, s.sessionBytes)
		r.Chunks = max(r.Chunks, s.chunks)
		r.HeaderMax = max(r.HeaderMax, len(s.cookie))
		signIns = append(signIns, ms(s.elapsed))
	}
	r.SignInMS = median(signIns)
	return r
}

// checkTarget requests t once per session the way wrk will and checks the
// answer: 200, the expected content, and no Set-Cookie for a signed-in
// request (the session is read, not re-issued). It returns the body size.
func checkTarget(base string, t target, sessions []*session) (int, error) {
	c := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	cookies := []string{""}
	if t.signedIn {
		cookies = cookies[:0]
		for _, s := range sessions {
			cookies = append(cookies, s.cookie)
		}
	}
	size := 0
	for i, ck := range cookies {
		req, err := http.NewRequest(http.MethodGet, base+t.path, nil)
		if err != nil {
			return 0, err
		}
		if ck != "" {
			req.Header.Set("Cookie", ck)
		}
		if t.htmx {
			req.Header.Set("HX-Request", "true")
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", t.Label, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", t.Label, err)
		}
		switch {
		case resp.StatusCode != http.StatusOK:
			return 0, fmt.Errorf("%s: status %d, want 200", t.Label, resp.StatusCode)
		case t.want != "" && !bytes.Contains(body, []byte(t.want)):
			return 0, fmt.Errorf("%s: the response lacks %q", t.Label, t.want)
		case t.signedIn && !t.Baseline && len(resp.Header.Values("Set-Cookie")) > 0:
			return 0, fmt.Errorf("%s: a signed-in request got Set-Cookie %q", t.Label, resp.Header.Values("Set-Cookie"))
		case t.signedIn && !t.Baseline && t.ID != "session" && !bytes.Contains(body, []byte(sessions[i].name)):
			return 0, fmt.Errorf("%s: the page does not name %s", t.Label, sessions[i].name)
		}
		size = len(body)
	}
	return size, nil
}

// measure runs wrk against t with conns connections for d and checks
// that every response was a 200: wrk's socket errors and error statuses,
// and for the app its request log, which names every response's status.
func measure(ctx context.Context, a *app, t target, script string, conns int, d time.Duration) (loadRun, error) {
	p, sessions := a.proc, a.sessions
	r := loadRun{Target: t.ID, Conns: conns}
	threads := min(conns, 2)
	args := []string{
		"-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns), "-d", fmt.Sprintf("%ds", max(1, int(d.Round(time.Second).Seconds()))),
		"--timeout", "5s", "--latency", "-s", script, p.base + t.path, "--", t.path, "0",
	}
	if t.htmx {
		args[len(args)-1] = "1"
	}
	if t.signedIn {
		for _, s := range sessions {
			args = append(args, s.cookie)
		}
	}
	if err := os.Truncate(p.logPath, 0); err != nil {
		return r, err
	}
	if a.redis != nil {
		if err := a.redis.resetStats(); err != nil {
			return r, err
		}
	}
	pid := p.cmd.Process.Pid
	before, err := cpuTicks(pid)
	if err != nil {
		return r, err
	}
	machineBefore, err := machineTicks()
	if err != nil {
		return r, err
	}
	// wrk stops at about began + d; requests it leaves unanswered then
	// are logged after end.
	began := time.Now()
	end := began.Add(max(time.Second, d.Round(time.Second)) - 50*time.Millisecond)
	runCtx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(runCtx, "wrk", args...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return r, fmt.Errorf("wrk %s c=%d: %w\n%s%s", t.Label, conns, err, out.String(), stderr.String())
	}
	after, err := cpuTicks(pid)
	if err != nil {
		return r, err
	}
	machineAfter, err := machineTicks()
	if err != nil {
		return r, err
	}
	time.Sleep(100 * time.Millisecond) // let the last requests reach the log
	if a.redis != nil {
		if r.RedisCalls, err = a.redis.commandStats(); err != nil {
			return r, err
		}
	}
	w, err := parseWrk(out.String())
	if err != nil {
		return r, fmt.Errorf("wrk %s c=%d: %w\n%s", t.Label, conns, err, out.String())
	}
	if w.requests == 0 {
		return r, fmt.Errorf("wrk %s c=%d: no requests completed", t.Label, conns)
	}
	if errs := w.socketErrors(); errs != "" || w.non2xx3xx > 0 || w.status > 0 {
		return r, fmt.Errorf("wrk %s c=%d: %s; %d non-2xx/3xx responses, %d error statuses\n%s",
			t.Label, conns, errs, w.non2xx3xx, w.status, out.String())
	}
	if !t.Baseline {
		if err := checkLog(p.logPath, w.requests, conns, end); err != nil {
			return r, fmt.Errorf("%s c=%d: %w", t.Label, conns, err)
		}
	}
	r.Requests = w.requests
	r.RPS = float64(w.requests) / (float64(w.durationUS) / 1e6)
	r.P50, r.P90, r.P99, r.Max = w.p50/1000, w.p90/1000, w.p99/1000, w.max/1000
	r.BytesReq = float64(w.bytes) / float64(w.requests)
	r.CPUus = float64(after-before) * float64(clockTick.Microseconds()) / float64(w.requests)
	wrkCPU := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	r.WrkCPUus = float64(wrkCPU.Microseconds()) / float64(w.requests)
	if total := machineAfter.total - machineBefore.total; total > 0 {
		server := float64(after - before)
		client := float64(wrkCPU) / float64(clockTick)
		idle := float64(machineAfter.idle - machineBefore.idle)
		r.IdleCPU = idle / float64(total)
		r.OtherCPU = max(0, (float64(total)-idle-server-client)/float64(total))
	}
	time.Sleep(500 * time.Millisecond) // TIME_WAIT and the machine settle a little
	return r, nil
}

// wrkOutput is what measure reads from wrk: the BENCH line the script's
// done() prints (exact counts, latency percentiles in µs) and wrk's own
// summary lines.
type wrkOutput struct {
	requests, durationUS, bytes                  int64
	connect, read, write, status, timeout        int64
	p50, p90, p99, max                           float64
	non2xx3xx                                    int64
	sawLatency, sawRequests                      bool
	sockConnect, sockRead, sockWrite, sockTimout int64
}

func (w wrkOutput) socketErrors() string {
	if w.connect+w.read+w.write+w.timeout+w.sockConnect+w.sockRead+w.sockWrite+w.sockTimout == 0 {
		return ""
	}
	return fmt.Sprintf("socket errors: connect %d, read %d, write %d, timeout %d",
		max(w.connect, w.sockConnect), max(w.read, w.sockRead), max(w.write, w.sockWrite), max(w.timeout, w.sockTimout))
}

var (
	benchLine   = regexp.MustCompile(`(?m)^BENCH (.*)$`)
	non2xxLine  = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses:\s*(\d+)`)
	socketLine  = regexp.MustCompile(`(?m)^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	latencyLine = regexp.MustCompile(`(?m)^\s*Latency Distribution`)
	reqsLine    = regexp.MustCompile(`(?m)^\s*Requests/sec:\s*[0-9.]+`)
)

func parseWrk(out string) (wrkOutput, error) {
	var w wrkOutput
	m := benchLine.FindStringSubmatch(out)
	if m == nil {
		return w, errors.New("no BENCH line in wrk's output (is load.lua's done() running?)")
	}
	for _, kv := range strings.Fields(m[1]) {
		k, v, _ := strings.Cut(kv, "=")
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return w, fmt.Errorf("bad %s in BENCH line", kv)
		}
		switch k {
		case "requests":
			w.requests = int64(f)
		case "duration_us":
			w.durationUS = int64(f)
		case "bytes":
			w.bytes = int64(f)
		case "connect":
			w.connect = int64(f)
		case "read":
			w.read = int64(f)
		case "write":
			w.write = int64(f)
		case "status":
			w.status = int64(f)
		case "timeout":
			w.timeout = int64(f)
		case "p50":
			w.p50 = f
		case "p90":
			w.p90 = f
		case "p99":
			w.p99 = f
		case "max":
			w.max = f
		}
	}
	if m := non2xxLine.FindStringSubmatch(out); m != nil {
		w.non2xx3xx, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := socketLine.FindStringSubmatch(out); m != nil {
		w.sockConnect, _ = strconv.ParseInt(m[1], 10, 64)
		w.sockRead, _ = strconv.ParseInt(m[2], 10, 64)
		w.sockWrite, _ = strconv.ParseInt(m[3], 10, 64)
		w.sockTimout, _ = strconv.ParseInt(m[4], 10, 64)
	}
	w.sawLatency = latencyLine.MatchString(out)
	w.sawRequests = reqsLine.MatchString(out)
	if !w.sawLatency || !w.sawRequests || w.durationUS <= 0 {
		return w, errors.New("wrk's output lacks its latency distribution or requests/sec")
	}
	return w, nil
}

// checkLog reads the app's request log of one run: every request it
// answered must have been a 200, and it must have answered at least as
// many as wrk counted. Any error logged fails the run too, except for the
// requests wrk abandons when its time is up: at most one per connection,
// answered 500 after end (the app logs a request whose visitor left
// mid-render as a 500 that no client receives).
func checkLog(path string, wrkRequests int64, conns int, end time.Time) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var logged, bad, abandoned int64
	statuses := map[string]int64{}
	var problems []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if status, ok := requestStatus(line); ok {
			logged++
			switch {
			case status == "200":
			case status == "500" && !logTime(line).Before(end):
				abandoned++
			default:
				bad++
				statuses[status]++
			}
			continue
		}
		if strings.Contains(line, "level=ERROR") || strings.Contains(line, "level=WARN") {
			if len(problems) < 5 {
				problems = append(problems, line)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if abandoned > int64(conns) {
		bad += abandoned
		statuses["500"] += abandoned
	}
	switch {
	case bad > 0:
		return fmt.Errorf("the app answered %d requests with another status than 200: %v", bad, statuses)
	case len(problems) > 0:
		return fmt.Errorf("the app logged problems:\n%s", strings.Join(problems, "\n"))
	case logged < wrkRequests:
		return fmt.Errorf("the app logged %d requests, wrk counted %d", logged, wrkRequests)
	}
	return nil
}

// logTime is the time of a log line ("time=2006-01-02T15:04:05.000Z …"),
// or the zero time.
func logTime(line string) time.Time {
	v, ok := strings.CutPrefix(line, "time=")
	if !ok {
		return time.Time{}
	}
	v, _, _ = strings.Cut(v, " ")
	t, _ := time.Parse(time.RFC3339Nano, v)
	return t
}

// requestStatus returns the status of a request-log line
// ("... msg=request method=GET path=/ status=200 ...").
func requestStatus(line string) (string, bool) {
	if !strings.Contains(line, " msg=request ") {
		return "", false
	}
	_, rest, ok := strings.Cut(line, " status=")
	if !ok {
		return "", false
	}
	status, _, _ := strings.Cut(rest, " ")
	return status, true
}
