// Command soak puts the app under a long, bounded load on loopback and
// checks that it stays correct and that its goroutines and memory are flat
// afterwards.
//
// It wires the app through internal/app, the code cmd/signet runs, with no
// identity provider configured — the default file store, auth, the
// handlers and the embedded development IdP under /dev-idp/ — and serves
// it in this process on 127.0.0.1 (a free port), so that the
// app's goroutines (runtime.NumGoroutine) and Go heap can be read without
// adding an endpoint to the app. Then, for -duration:
//
//   - journey workers run complete journeys, each with its own cookie jar,
//     over HTTP as a browser without JavaScript does: home → POST Sign in →
//     the IdP's authorize → its login form (the IdP's SSO session ended at
//     the previous sign-out, so the form must be there) → the callback →
//     home signed in → profile, session JSON and an htmx fragment → POST
//     Sign out → the IdP's end_session (which sends its back-channel logout
//     to the app) → /auth/sign-out → home signed out, session null;
//   - page workers, each signed in once, request signed-in pages and htmx
//     fragments (home, profile, account with its server-side userinfo
//     call, nav, home and profile fragments, /api/auth/session) in turn.
//
// Then the clients close their connections and the figures are taken
// after a settle (a GC, memory returned to the OS). Then the app's and the
// IdP's clock (Config.Now of both) jumps 50 minutes, past every lifetime
// but the ID token's and the remembered logouts', a few more journeys run,
// and the figures are taken again: what the heap still holds is what lives
// longer, or a leak.
//
// Every response is checked (status and content). Any unexpected answer,
// any WARN or ERROR line in the app's log, a target missed (-min-journeys,
// -min-requests), goroutines or RSS not back near where they started, or a
// heap after the jump above what may live longer, makes it exit 1. It
// prints journeys, requests, errors, duration, RSS start/peak/end, heap
// start/end and goroutines start/peak/end.
//
// The goroutines at the end may exceed the start by a few: the app's own
// keep-alive connections to its embedded IdP (auth's HTTP client calls
// /dev-idp/ over loopback), a client and a server goroutine each.
//
//	go tool -modfile=tools/go.mod task soak
//	go run ./soak -duration 10m -journey-workers 16 -page-workers 16
//
// With -hostile it runs the hostile mode instead (hostile.go): oversized
// and forged unauthenticated requests against the built app's binary.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/signet-auth/signet/devidp"
	"github.com/signet-auth/signet/internal/app"
)

type options struct {
	duration           time.Duration
	journeyWorkers     int
	pageWorkers        int
	minJourneys        int64
	minRequests        int64
	settle             time.Duration
	goroutineSlack     int
	heapSlackMiB       float64
	rssSlackMiB        float64
	progress           time.Duration
	logFile            string
	requestTimeout     time.Duration
	maxErrorSamples    int
	cpuProfile         string
	memProfile         string
	showGoroutines     bool
	agingJourneys      int
	logoutBytes        int
	introspectionBytes int
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 150*time.Second, "how long the load runs")
	flag.IntVar(&o.journeyWorkers, "journey-workers", 6, "concurrent sign-in/sign-out journeys")
	flag.IntVar(&o.pageWorkers, "page-workers", 6, "concurrent signed-in clients requesting pages")
	flag.Int64Var(&o.minJourneys, "min-journeys", 2000, "fail unless at least this many journeys complete")
	flag.Int64Var(&o.minRequests, "min-requests", 20000, "fail unless at least this many signed-in page requests succeed")
	flag.DurationVar(&o.settle, "settle", 10*time.Second, "at most this long for goroutines to wind down after the load")
	flag.IntVar(&o.goroutineSlack, "goroutine-slack", 5, "goroutines allowed above the start after the settle")
	flag.Float64Var(&o.heapSlackMiB, "heap-slack", 16, "MiB of Go heap allowed above the start after the clock jump")
	flag.IntVar(&o.logoutBytes, "logout-bytes", 512, "bytes of Go heap allowed per journey after the clock jump: the logout the app remembers for 30 days")
	flag.IntVar(&o.introspectionBytes, "introspection-bytes", 3072, "bytes of Go heap allowed per sign-in after the clock jump, for the first 10,000: the app's introspection cache")
	flag.Float64Var(&o.rssSlackMiB, "rss-slack", 96, "MiB of RSS allowed above the start after the settle")
	flag.IntVar(&o.agingJourneys, "aging-journeys", 300, "journeys after the clock jump, which let the app and the IdP drop what has expired")
	flag.DurationVar(&o.progress, "progress", 15*time.Second, "print progress this often (0: never)")
	flag.StringVar(&o.logFile, "log", "", "write the app's log (info and above) to this file")
	flag.DurationVar(&o.requestTimeout, "request-timeout", 30*time.Second, "timeout of one HTTP request")
	flag.IntVar(&o.maxErrorSamples, "error-samples", 20, "unexpected errors printed in full")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the load to this file")
	flag.StringVar(&o.memProfile, "memprofile", "", "write a heap profile, taken at the end, to this file")
	flag.BoolVar(&o.showGoroutines, "goroutines", false, "print the goroutines at the start and at the end")
	var hostile bool
	var ho hostileOptions
	flag.BoolVar(&hostile, "hostile", false, "instead of the soak, send hostile requests of each kind to the built app (see hostile.go)")
	flag.StringVar(&ho.binary, "binary", "", "with -hostile: the app's binary (default: build ./cmd/signet)")
	flag.IntVar(&ho.n, "hostile-n", 50000, "with -hostile: requests of each kind")
	flag.IntVar(&ho.bodyN, "hostile-body-n", 50000, "with -hostile: requests with a huge body")
	flag.IntVar(&ho.bodyBytes, "hostile-body-bytes", 10<<20, "with -hostile: the size of a huge body")
	flag.IntVar(&ho.workers, "hostile-workers", 8, "with -hostile: concurrent requests")
	flag.Float64Var(&ho.rssLimit, "hostile-rss-limit", 20, "with -hostile: MiB of peak RSS growth that fails a kind")
	flag.StringVar(&ho.kinds, "hostile-kinds", "", "with -hostile: a comma-separated list of the kinds to run (default: all)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "soak: no arguments expected")
		os.Exit(2)
	}
	if hostile {
		ok, err := runHostile(ho, os.Stdout)
		if err != nil {
			fmt.Fprintln(os.Stderr, "soak:", err)
			os.Exit(1)
		}
		if !ok {
			os.Exit(1)
		}
		return
	}
	ok, err := soak(o, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

// --- The app -------------------------------------------------------------------

// clockJump is how far the clock moves once the load is over (see soak).
const clockJump = 50 * time.Minute

// maxIntrospections is auth's bound on the introspection results it keeps
// (maxIntrospections in auth/tokens.go).
const maxIntrospections = 10000

// clock is the app's and the IdP's clock: the wall clock plus an offset the
// soak moves forward once the load is over, so that what the app keeps for a
// while can be told from what it keeps longer.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// served is the app served in this process.
type served struct {
	clock    *clock
	url      string
	stop     func() // shuts the app down and closes its store
	users    []devidp.User
	logLines *logCounter
}

// startApp wires the app through internal/app, as cmd/signet does, with
// no provider configured (so the development IdP runs), the default file
// store in a folder of its own, and the soak's clock; and serves it on a
// free port of 127.0.0.1.
func startApp(logOut io.Writer) (*served, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	publicURL := "http://" + ln.Addr().String()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	dataDir, err := os.MkdirTemp("", "signet-soak-")
	if err != nil {
		return nil, err
	}
	clk := &clock{}
	counter := &logCounter{out: logOut}
	log := slog.New(slog.NewTextHandler(counter, &slog.HandlerOptions{Level: slog.LevelInfo}))
	// zitadel/oidc's op logs its own protocol errors through slog's default
	// logger: count those too (cmd/signet sets it the same way).
	slog.SetDefault(log)
	env := map[string]string{
		"HOST":            "127.0.0.1",
		"PORT":            port,
		"AUTH_URL":        publicURL,
		"AUTH_SECRET":     randomSecret(),
		"SIGNET_DATA_DIR": dataDir,
	}
	var names []string
	for k := range env {
		names = append(names, k)
	}
	a, err := app.Configure(func(k string) string { return env[k] }, names, log, app.Options{Now: clk.Now})
	if err != nil {
		ln.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = app.Serve(ctx, ln, a.Handler, 5*time.Second, log, a.Shutdown)
	}()
	stop := func() {
		cancel()
		<-done
		_ = a.Store.Close()
		_ = os.RemoveAll(dataDir)
	}
	return &served{clock: clk, url: publicURL, stop: stop, users: devidp.DefaultUsers(), logLines: counter}, nil
}

func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// logCounter passes the app's log on and keeps every WARN and ERROR line.
type logCounter struct {
	out     io.Writer
	mu      sync.Mutex
	lines   int64
	bad     int64
	samples []string
}

func (c *logCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		c.lines++
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			c.bad++
			if len(c.samples) < 20 {
				c.samples = append(c.samples, line)
			}
		}
	}
	if c.out != nil {
		return c.out.Write(p)
	}
	return len(p), nil
}

func (c *logCounter) counts() (lines, bad int64, samples []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lines, c.bad, append([]string(nil), c.samples...)
}

// --- Measurements --------------------------------------------------------------

type sample struct {
	goroutines int
	heap       uint64 // HeapAlloc after a GC
	rss        uint64 // VmRSS
}

func measure() sample {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return sample{goroutines: runtime.NumGoroutine(), heap: ms.HeapAlloc, rss: procStatus("VmRSS")}
}

// procStatus reads a size in kB from /proc/self/status (VmRSS, VmHWM) and
// returns it in bytes, or 0 where there is no /proc.
func procStatus(field string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
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

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// settle waits until the goroutine count is at most limit or holds still
// for a second, within timeout.
func settle(limit int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	last, still := runtime.NumGoroutine(), time.Now()
	for time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(100 * time.Millisecond)
		n := runtime.NumGoroutine()
		if n <= limit {
			return
		}
		if n != last {
			last, still = n, time.Now()
		} else if time.Since(still) > time.Second && limit < 0 {
			return
		}
	}
}

// --- The clients -----------------------------------------------------------------

// stats are the run's counters.
type stats struct {
	journeys      atomic.Int64 // complete sign-in/sign-out journeys
	journeyPages  atomic.Int64 // signed-in page requests made inside journeys
	requests      atomic.Int64 // signed-in page requests of the page workers
	httpRequests  atomic.Int64 // every HTTP request, redirects included
	forms         atomic.Int64 // sign-ins that showed the IdP's login form
	errors        atomic.Int64
	mu            sync.Mutex
	errorSamples  []string
	maxSamples    int
	errorsByWhere map[string]int
}

func (s *stats) fail(where string, err error) {
	s.errors.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errorsByWhere[where]++
	if len(s.errorSamples) < s.maxSamples {
		s.errorSamples = append(s.errorSamples, where+": "+err.Error())
	}
}

// client is a browser without JavaScript: its own cookie jar, redirects
// followed one at a time.
type client struct {
	base  string
	http  *http.Client
	stats *stats
}

func newClient(base string, tr http.RoundTripper, timeout time.Duration, st *stats) *client {
	jar, _ := cookiejar.New(nil)
	return &client{base: base, stats: st, http: &http.Client{
		Jar:           jar,
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type page struct {
	url    *url.URL
	status int
	header http.Header
	body   string
}

func (c *client) do(ctx context.Context, method, target string, form url.Values, header map[string]string) (*page, error) {
	if !strings.HasPrefix(target, "http") {
		target = c.base + target
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	c.stats.httpRequests.Add(1)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read: %w", method, req.URL.Path, err)
	}
	return &page{url: req.URL, status: resp.StatusCode, header: resp.Header, body: string(b)}, nil
}

// follow follows redirects from p with GETs, at most ten.
func (c *client) follow(ctx context.Context, p *page) (*page, error) {
	for i := 0; p.status >= 300 && p.status < 400; i++ {
		if i == 10 {
			return nil, fmt.Errorf("more than 10 redirects from %s", p.url.Path)
		}
		loc := p.header.Get("Location")
		if loc == "" {
			return nil, fmt.Errorf("%d from %s without Location", p.status, p.url.Path)
		}
		next, err := p.url.Parse(loc)
		if err != nil {
			return nil, err
		}
		if next.Host != p.url.Host {
			return nil, fmt.Errorf("redirect off loopback to %s", next)
		}
		if p, err = c.do(ctx, http.MethodGet, next.String(), nil, nil); err != nil {
			return nil, err
		}
	}
	return p, nil
}

var (
	formActionRE = regexp.MustCompile(`<form[^>]*\baction="([^"]+)"`)
	fieldREs     sync.Map // name → *regexp.Regexp
)

func field(html, name string) (string, error) {
	re, ok := fieldREs.Load(name)
	if !ok {
		re, _ = fieldREs.LoadOrStore(name, regexp.MustCompile(`name="`+regexp.QuoteMeta(name)+`"\s+value="([^"]*)"`))
	}
	m := re.(*regexp.Regexp).FindStringSubmatch(html)
	if m == nil {
		return "", fmt.Errorf("no %s field", name)
	}
	return strings.ReplaceAll(m[1], "&amp;", "&"), nil
}

func expect(p *page, status int, path string, contains ...string) error {
	if p.status != status {
		return fmt.Errorf("%s: status %d, want %d", p.url.Path, p.status, status)
	}
	if path != "" && p.url.Path != path {
		return fmt.Errorf("at %s, want %s", p.url.Path, path)
	}
	for _, s := range contains {
		if !strings.Contains(p.body, s) {
			return fmt.Errorf("%s (%d) lacks %q", p.url.Path, p.status, s)
		}
	}
	return nil
}

// signIn signs u in from the home page through the IdP's login form. form
// says whether the form must be shown (the IdP has no session for this
// browser); it returns whether it was.
func (c *client) signIn(ctx context.Context, u devidp.User, wantForm bool) (home *page, err error) {
	p, err := c.do(ctx, http.MethodGet, "/", nil, nil)
	if err != nil {
		return nil, err
	}
	if err := expect(p, 200, "/", `id="sign-in"`); err != nil {
		return nil, err
	}
	csrf, err := field(p.body, "csrfToken")
	if err != nil {
		return nil, err
	}
	action := ""
	for _, m := range formActionRE.FindAllStringSubmatch(p.body, -1) {
		if strings.Contains(m[1], "/api/auth/signin/") {
			action = m[1]
			break
		}
	}
	if action == "" {
		return nil, errors.New("home has no sign-in form")
	}
	if p, err = c.do(ctx, http.MethodPost, action, url.Values{"csrfToken": {csrf}, "callbackUrl": {"/"}}, nil); err != nil {
		return nil, err
	}
	if p.status != http.StatusSeeOther {
		return nil, fmt.Errorf("POST sign-in: status %d", p.status)
	}
	if p, err = c.follow(ctx, p); err != nil {
		return nil, err
	}
	if strings.HasSuffix(p.url.Path, "/dev-idp/login") && strings.Contains(p.body, `name="password"`) {
		c.stats.forms.Add(1)
		id, err := field(p.body, "authRequestID")
		if err != nil {
			return nil, err
		}
		token, err := field(p.body, "csrf_token")
		if err != nil {
			return nil, err
		}
		if p, err = c.do(ctx, http.MethodPost, p.url.String(), url.Values{
			"authRequestID": {id}, "csrf_token": {token}, "username": {u.Username}, "password": {u.Password},
		}, nil); err != nil {
			return nil, err
		}
		if p, err = c.follow(ctx, p); err != nil {
			return nil, err
		}
	} else if wantForm {
		return nil, fmt.Errorf("sign-in went through without the IdP's form (at %s): its session outlived the sign-out", p.url.Path)
	}
	if err := expect(p, 200, "/", `id="welcome"`, u.Name()); err != nil {
		return nil, err
	}
	return p, nil
}

// signedInPages are the pages a signed-in user requests, with what each
// must hold.
var signedInPages = []struct {
	path string
	htmx bool
	want func(u devidp.User) []string
}{
	{"/", false, func(u devidp.User) []string { return []string{`id="welcome"`, u.Name()} }},
	{"/profile", false, func(u devidp.User) []string { return []string{`id="profile-email">` + u.Email + `<`} }},
	{"/fragments/nav", true, func(u devidp.User) []string { return []string{`id="nav-profile"`, u.Name()} }},
	{"/fragments/home", true, func(u devidp.User) []string { return []string{`data-state="signed-in"`, u.Email} }},
	{"/fragments/profile", true, func(u devidp.User) []string { return []string{`id="profile-card"`, u.Email} }},
	{"/api/auth/session", false, func(u devidp.User) []string { return []string{`"email":"` + u.Email + `"`} }},
	{"/account", false, func(u devidp.User) []string { return []string{`id="token-card"`, `id="userinfo-claims"`, u.Email} }},
}

func (c *client) signedInPage(ctx context.Context, i int, u devidp.User) error {
	sp := signedInPages[i%len(signedInPages)]
	var header map[string]string
	if sp.htmx {
		header = map[string]string{"HX-Request": "true", "HX-Current-URL": c.base + "/"}
	}
	p, err := c.do(ctx, http.MethodGet, sp.path, nil, header)
	if err != nil {
		return err
	}
	return expect(p, 200, sp.path, sp.want(u)...)
}

// journey is one complete sign-in and sign-out. wantForm: the IdP has no
// session for this browser.
func (c *client) journey(ctx context.Context, u devidp.User, wantForm bool, n int) error {
	home, err := c.signIn(ctx, u, wantForm)
	if err != nil {
		return fmt.Errorf("sign-in: %w", err)
	}
	for i := range 3 {
		if err := c.signedInPage(ctx, n+i, u); err != nil {
			return err
		}
		c.stats.journeyPages.Add(1)
	}
	csrf, err := field(home.body, "csrfToken")
	if err != nil {
		return err
	}
	p, err := c.do(ctx, http.MethodPost, "/api/auth/signout", url.Values{"csrfToken": {csrf}}, nil)
	if err != nil {
		return err
	}
	if p.status != http.StatusSeeOther || !strings.Contains(p.header.Get("Location"), "/dev-idp/end_session?") {
		return fmt.Errorf("POST sign-out: %d to %q, want 303 to the IdP's end_session", p.status, p.header.Get("Location"))
	}
	if p, err = c.follow(ctx, p); err != nil {
		return fmt.Errorf("sign-out: %w", err)
	}
	if err := expect(p, 200, "/auth/sign-out", `id="signing-out"`); err != nil {
		return fmt.Errorf("sign-out: %w", err)
	}
	if p, err = c.do(ctx, http.MethodGet, "/api/auth/session", nil, nil); err != nil {
		return err
	}
	if strings.TrimSpace(p.body) != "null" {
		return fmt.Errorf("session after sign-out: %.200s", p.body)
	}
	return nil
}

// --- The run -----------------------------------------------------------------------

func soak(o options, out io.Writer) (bool, error) {
	var logOut io.Writer
	if o.logFile != "" {
		f, err := os.Create(o.logFile)
		if err != nil {
			return false, err
		}
		defer f.Close()
		logOut = f
	}
	a, err := startApp(logOut)
	if err != nil {
		return false, err
	}
	defer a.stop()
	st := &stats{maxSamples: o.maxErrorSamples, errorsByWhere: map[string]int{}}
	tr := &http.Transport{MaxIdleConns: 1000, MaxIdleConnsPerHost: 1000, IdleConnTimeout: 90 * time.Second}

	fmt.Fprintf(out, "soak: app on %s (in this process: auth, handlers, development IdP), %s of load, %d journey workers, %d page workers, Go %s, GOMAXPROCS %d\n",
		a.url, o.duration, o.journeyWorkers, o.pageWorkers, runtime.Version(), runtime.GOMAXPROCS(0))

	// Warm up: one journey and one of each page, so that what is made once
	// (the IdP's key, discovery, JWKS, templates) is in the baseline.
	warm := newClient(a.url, tr, o.requestTimeout, st)
	ctx := context.Background()
	if err := warm.journey(ctx, a.users[0], true, 0); err != nil {
		return false, fmt.Errorf("warm-up journey: %w", err)
	}
	if _, err := warm.signIn(ctx, a.users[0], true); err != nil {
		return false, fmt.Errorf("warm-up sign-in: %w", err)
	}
	for i := range signedInPages {
		if err := warm.signedInPage(ctx, i, a.users[0]); err != nil {
			return false, fmt.Errorf("warm-up page: %w", err)
		}
	}
	tr.CloseIdleConnections()
	settle(-1, o.settle)
	start := measure()
	if o.showGoroutines {
		fmt.Fprintln(out, "soak: goroutines at the start:")
		_ = pprof.Lookup("goroutine").WriteTo(out, 1)
	}
	st.journeys.Store(0)
	st.journeyPages.Store(0)
	st.forms.Store(0)
	st.httpRequests.Store(0)

	// Peaks, sampled while the load runs.
	var peakRSS atomic.Uint64
	var peakGoroutines atomic.Int64
	peakRSS.Store(start.rss)
	peakGoroutines.Store(int64(start.goroutines))
	stopSampling := make(chan struct{})
	var sampling sync.WaitGroup
	sampling.Go(func() {
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-tick.C:
				if r := procStatus("VmRSS"); r > peakRSS.Load() {
					peakRSS.Store(r)
				}
				if g := int64(runtime.NumGoroutine()); g > peakGoroutines.Load() {
					peakGoroutines.Store(g)
				}
			}
		}
	})

	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return false, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return false, err
		}
	}
	loadCtx, stop := context.WithTimeout(ctx, o.duration)
	defer stop()
	began := time.Now()
	var workers sync.WaitGroup
	for w := range o.journeyWorkers {
		workers.Go(func() {
			c := newClient(a.url, tr, o.requestTimeout, st)
			wantForm := true
			for n := 0; loadCtx.Err() == nil; n++ {
				u := a.users[(w+n)%len(a.users)]
				// The journey under way finishes after the load's end: a
				// request cut short would make the app log the cancellation.
				err := c.journey(ctx, u, wantForm, n)
				switch {
				case err == nil:
					st.journeys.Add(1)
					wantForm = true
				default:
					st.fail("journey", err)
					// Start again with a new browser: this one's state is unknown.
					c = newClient(a.url, tr, o.requestTimeout, st)
				}
			}
		})
	}
	for w := range o.pageWorkers {
		workers.Go(func() {
			u := a.users[w%len(a.users)]
			var c *client
			var signedInAt time.Time
			for n := w; loadCtx.Err() == nil; n++ {
				// A new browser signs in now and then: the IdP's access
				// tokens last 15 minutes, and the app gets none to refresh
				// them with.
				if c == nil || time.Since(signedInAt) > 10*time.Minute {
					c = newClient(a.url, tr, o.requestTimeout, st)
					if _, err := c.signIn(ctx, u, true); err != nil {
						st.fail("page worker sign-in", err)
						c = nil
						continue
					}
					signedInAt = time.Now()
				}
				err := c.signedInPage(ctx, n, u)
				switch {
				case err == nil:
					st.requests.Add(1)
				default:
					st.fail("page "+signedInPages[n%len(signedInPages)].path, err)
				}
			}
		})
	}
	if o.progress > 0 {
		go func() {
			tick := time.NewTicker(o.progress)
			defer tick.Stop()
			for {
				select {
				case <-loadCtx.Done():
					return
				case <-tick.C:
					fmt.Fprintf(out, "soak: %5.0fs  journeys %d  page requests %d  errors %d  goroutines %d  RSS %s\n",
						time.Since(began).Seconds(), st.journeys.Load(), st.requests.Load()+st.journeyPages.Load(),
						st.errors.Load(), runtime.NumGoroutine(), mib(procStatus("VmRSS")))
				}
			}
		}()
	}
	workers.Wait()
	elapsed := time.Since(began)
	if o.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	close(stopSampling)
	sampling.Wait()

	// The clients close their connections; the server's goroutines for them
	// end. Then the figures at the end.
	tr.CloseIdleConnections()
	settle(start.goroutines+o.goroutineSlack, o.settle)
	end := measure()
	if o.showGoroutines {
		fmt.Fprintln(out, "soak: goroutines at the end:")
		_ = pprof.Lookup("goroutine").WriteTo(out, 1)
	}
	hwm := procStatus("VmHWM")
	if hwm > peakRSS.Load() {
		peakRSS.Store(hwm)
	}

	// Then the clock moves on by clockJump: past the lifetimes of the
	// IdP's sign-in requests (15 minutes), codes (1 minute, remembered 10)
	// and access tokens (15 minutes), and of the app's introspection
	// results (the access token's), but not of an ID token (1 hour: the
	// IdP's token library stamps them with the wall clock, so a longer jump
	// would fail every sign-in). A few more journeys let the app and the
	// IdP drop what has expired (they sweep as they go, with no timers).
	// What the heap then holds above the start is what lives longer: the
	// remembered logouts (30 days, -logout-bytes per journey), the bounded
	// session cache, or a leak.
	a.clock.advance(clockJump)
	var aged atomic.Int64
	var aging sync.WaitGroup
	const agingWorkers = 4
	for w := range agingWorkers {
		aging.Go(func() {
			c := newClient(a.url, tr, o.requestTimeout, st)
			for n := w; n < o.agingJourneys; n += agingWorkers {
				if err := c.journey(ctx, a.users[n%len(a.users)], true, n); err != nil {
					st.fail("journey after the clock jump", err)
					c = newClient(a.url, tr, o.requestTimeout, st)
					continue
				}
				aged.Add(1)
			}
		})
	}
	aging.Wait()
	tr.CloseIdleConnections()
	settle(start.goroutines+o.goroutineSlack, o.settle)
	after := measure()
	logLines, logBad, logSamples := a.logLines.counts()
	if o.memProfile != "" {
		f, err := os.Create(o.memProfile)
		if err != nil {
			return false, err
		}
		err = pprof.WriteHeapProfile(f)
		f.Close()
		if err != nil {
			return false, err
		}
	}

	journeys, requests := st.journeys.Load(), st.requests.Load()+st.journeyPages.Load()
	fmt.Fprintf(out, "\nsoak results (%s of load on 127.0.0.1):\n", elapsed.Round(time.Millisecond))
	fmt.Fprintf(out, "  journeys             %d complete sign-in/sign-out journeys (%.1f/s), %d through the IdP's login form\n",
		journeys, float64(journeys)/elapsed.Seconds(), st.forms.Load())
	fmt.Fprintf(out, "  signed-in requests   %d (%d by page workers, %d inside journeys; %.0f/s)\n",
		requests, st.requests.Load(), st.journeyPages.Load(), float64(requests)/elapsed.Seconds())
	fmt.Fprintf(out, "  HTTP requests        %d in all, redirects included\n", st.httpRequests.Load())
	fmt.Fprintf(out, "  unexpected errors    %d\n", st.errors.Load())
	fmt.Fprintf(out, "  app log              %d lines, %d WARN or ERROR\n", logLines, logBad)
	fmt.Fprintf(out, "  RSS                  start %s, peak %s, end %s; after the clock jump %s\n",
		mib(start.rss), mib(peakRSS.Load()), mib(end.rss), mib(after.rss))
	fmt.Fprintf(out, "  Go heap (after GC)   start %s, end %s (%+.0f bytes per journey: state with a lifetime); after the clock jump %s\n",
		mib(start.heap), mib(end.heap), (float64(end.heap)-float64(start.heap))/float64(max(journeys, 1)), mib(after.heap))
	fmt.Fprintf(out, "  goroutines           start %d, peak %d, end %d; after the clock jump %d\n",
		start.goroutines, peakGoroutines.Load(), end.goroutines, after.goroutines)
	fmt.Fprintf(out, "  clock jump           %v, then %d of %d journeys\n", clockJump, aged.Load(), o.agingJourneys)
	// What may stay after the jump: the remembered logouts (30 days), the
	// introspection results (kept until the cache of at most
	// maxIntrospections is full, then swept), and -heap-slack for the rest
	// (the bounded session cache, the IdP's live state, the runtime).
	signIns := st.forms.Load()
	allowed := o.heapSlackMiB*(1<<20) + float64(o.logoutBytes)*float64(journeys+aged.Load()) +
		float64(o.introspectionBytes)*float64(min(signIns, maxIntrospections))
	fmt.Fprintf(out, "  heap allowed after   %s (-heap-slack %.0f MiB, %d B per journey for remembered logouts, %d B per sign-in for up to %d introspection results)\n",
		mib(uint64(allowed)), o.heapSlackMiB, o.logoutBytes, o.introspectionBytes, maxIntrospections)

	ok := true
	failf := func(format string, args ...any) {
		ok = false
		fmt.Fprintf(out, "FAIL: "+format+"\n", args...)
	}
	if n := st.errors.Load(); n > 0 {
		failf("%d unexpected errors %v; the first ones:\n    %s", n, st.errorsByWhere, strings.Join(st.errorSamples, "\n    "))
	}
	if logBad > 0 {
		failf("the app logged %d WARN or ERROR lines; the first ones:\n    %s", logBad, strings.Join(logSamples, "\n    "))
	}
	if journeys < o.minJourneys {
		failf("%d journeys, fewer than -min-journeys %d", journeys, o.minJourneys)
	}
	if requests < o.minRequests {
		failf("%d signed-in requests, fewer than -min-requests %d", requests, o.minRequests)
	}
	if st.forms.Load() < journeys {
		failf("%d of %d sign-ins showed the IdP's form", st.forms.Load(), journeys)
	}
	if int64(aged.Load()) < int64(o.agingJourneys) {
		failf("%d of %d journeys after the clock jump", aged.Load(), o.agingJourneys)
	}
	for _, m := range []struct {
		when string
		s    sample
	}{{"at the end", end}, {"after the clock jump", after}} {
		if m.s.goroutines > start.goroutines+o.goroutineSlack {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			failf("goroutines %d %s, %d at the start (slack %d):\n%s", m.s.goroutines, m.when, start.goroutines, o.goroutineSlack, buf)
		}
		if start.rss > 0 && float64(m.s.rss) > float64(start.rss)+o.rssSlackMiB*(1<<20) {
			failf("RSS %s %s, %s at the start (slack %.0f MiB)", mib(m.s.rss), m.when, mib(start.rss), o.rssSlackMiB)
		}
	}
	if float64(after.heap) > float64(start.heap)+allowed {
		failf("Go heap %s after the clock jump, %s at the start, more than the %s allowed: something is kept past its lifetime",
			mib(after.heap), mib(start.heap), mib(uint64(allowed)))
	}
	if ok {
		fmt.Fprintln(out, "PASS: zero unexpected errors; goroutines, heap and RSS back near their start")
	}
	return ok, nil
}
