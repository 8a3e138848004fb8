// Command bench measures Signet against a plain Go hello-world server on
// loopback, in one run, and writes the results to bench/results.
//
// It builds the app and the baseline (bench/hello), times the app's start
// to its first page, and starts the apps under test: one signed in through
// the embedded development IdP, one through oidc-provider (the external
// OpenID Provider of the browser tests, e2e/oidc-provider, with an ID
// token of ordinary size and claims), and the store variants (the cookie
// strategy on the memory store and on Redis, the server strategy on
// Redis; the bench starts its own redis-server). It signs users in
// through the real flow (the app's sign-in form, the IdP's login form,
// the callback) and drives load with wrk: signed-in GET /, GET
// /api/auth/session, an htmx fragment, signed-out GET /, each against a
// hello-world returning a body of the same size, at several connection
// counts; the store variants against each other, with the Redis commands
// per request (INFO commandstats). Every round measures every target, so
// each figure has a same-round baseline; the report gives medians over
// the rounds. Then it opens thousands of session streams (Server-Sent
// Events) on one instance, measures their memory and how long one
// sign-out everywhere takes to reach a user's streams, and runs the Go
// micro-benchmarks and the cookie-size report of auth and handlers.
//
// Any socket error, timeout or response other than the expected 200 fails
// the run.
//
// Usage, from the repository root:
//
//	go run ./bench            # full run, about fifteen minutes
//	go run ./bench -quick     # a short run, for trying things
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the command line.
type options struct {
	quick     bool
	duration  time.Duration
	rounds    int
	conns     []int
	sessions  int // signed-in sessions per demo user
	startups  int
	out       string
	micro     bool
	benchtime string
	streams   int // open session streams in the stream test; 0: none
	userOf    int // of them, one user's
	hold      bool
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench: FAIL:", err)
		os.Exit(1)
	}
}

func run() error {
	var o options
	var conns string
	flag.BoolVar(&o.quick, "quick", false, "short run: 2 s per load test, 3 rounds, fewer start-ups, short micro-benchmarks")
	flag.DurationVar(&o.duration, "d", 5*time.Second, "duration of each load test")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds of load tests (figures are medians over rounds; at least 3)")
	flag.StringVar(&conns, "c", "1,8,32", "connection counts (the store variants run at the last)")
	flag.IntVar(&o.streams, "streams", 10000, "session streams opened in the stream test (0: no stream test)")
	flag.IntVar(&o.userOf, "user-streams", 1000, "of them, the streams of the user signed out everywhere")
	flag.IntVar(&o.sessions, "sessions", 4, "sessions signed in per demo user")
	flag.IntVar(&o.startups, "startups", 7, "start-ups timed (median reported)")
	flag.StringVar(&o.out, "out", "bench/results", "results folder")
	flag.BoolVar(&o.micro, "micro", true, "run the Go micro-benchmarks and the cookie-size report")
	flag.StringVar(&o.benchtime, "benchtime", "1s", "go test -benchtime for the micro-benchmarks")
	flag.BoolVar(&o.hold, "hold", false, "start the apps, sign in, write their addresses and Cookie headers to bench-hold.json in the work folder, and wait for Ctrl-C (for profiling by hand)")
	render := flag.Bool("render", false, "only write results.md and throughput.svg again from the results folder's results.json")
	flag.Parse()
	if *render {
		return rerender(o.out)
	}
	if o.quick {
		o.duration = 2 * time.Second
		o.startups = 3
		o.benchtime = "200ms"
		o.streams = min(o.streams, 2000)
	}
	o.userOf = min(o.userOf, o.streams)
	if o.rounds < 3 {
		return errors.New("-rounds must be at least 3: the report gives medians")
	}
	for _, s := range strings.Split(conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 4096 {
			return fmt.Errorf("bad connection count %q", s)
		}
		o.conns = append(o.conns, n)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Bound the whole run, whatever happens.
	ctx, cancel := context.WithTimeout(ctx, 40*time.Minute)
	defer cancel()

	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("wrk is not installed: run `go tool -modfile=tools/go.mod task system-deps` (Debian package wrk)")
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	if err := os.Chdir(root); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "signet-bench-")
	step("work folder %s", tmp)
	if err != nil {
		return err
	}
	defer func() {
		if os.Getenv("BENCH_KEEP") == "" {
			os.RemoveAll(tmp)
		}
	}()

	began := time.Now()
	res := &results{Started: began.UTC(), Options: o.describe(), Machine: describeMachine()}
	step("building the app and the baseline")
	bins, err := build(ctx, tmp)
	if err != nil {
		return err
	}
	step("timing start-up to the first 200 (%d starts)", o.startups)
	if res.Startup, err = measureStartup(ctx, bins, tmp, o.startups); err != nil {
		return err
	}
	if err := loadTests(ctx, o, bins, tmp, res); err != nil {
		return err
	}
	if o.streams > 0 {
		step("session streams: %d open, %d of one user", o.streams, o.userOf)
		if res.Streams, err = streamTest(ctx, bins, tmp, o.streams, o.userOf); err != nil {
			return err
		}
	}
	if o.micro {
		step("Go micro-benchmarks and the cookie-size report")
		if res.Micro, err = microBenchmarks(ctx, tmp, o.benchtime); err != nil {
			return err
		}
		if res.Cookies, err = cookieReport(ctx, tmp); err != nil {
			return err
		}
	}
	res.Elapsed = time.Since(began).Round(time.Second).String()
	res.evaluate()
	if err := res.write(o.out); err != nil {
		return err
	}
	fmt.Println()
	fmt.Print(res.markdown())
	fmt.Printf("\nwrote %s\n", strings.Join([]string{
		filepath.Join(o.out, "results.md"), filepath.Join(o.out, "throughput.svg"), filepath.Join(o.out, "results.json"),
	}, ", "))
	if missed := res.missed(); len(missed) > 0 {
		fmt.Printf("targets missed: %s\n", strings.Join(missed, "; "))
	}
	return nil
}

// rerender writes results.md and throughput.svg from results.json, for a
// change to the report's form.
func rerender(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		return err
	}
	var r results
	if err := json.Unmarshal(b, &r); err != nil {
		return err
	}
	r.evaluate()
	if err := r.write(dir); err != nil {
		return err
	}
	fmt.Print(r.markdown())
	return nil
}

func (o options) describe() string {
	cs := make([]string, len(o.conns))
	for i, c := range o.conns {
		cs[i] = strconv.Itoa(c)
	}
	s := fmt.Sprintf("%d rounds × %s per load test; connections %s; %d sessions per demo user", o.rounds, o.duration, strings.Join(cs, ", "), o.sessions)
	if o.quick {
		s = "quick: " + s
	}
	return s
}

// step prints a progress line to stderr.
func step(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// moduleRoot is the directory of the main module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run the bench inside the Signet repository")
	}
	return filepath.Dir(gomod), nil
}
