package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/signet-auth/signet/internal/app"
)

// run is the whole program: it reads the configuration through getenv (and
// the .env files), wires auth, the dev IdP and the handlers, and serves until
// ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	start := time.Now()
	if len(args) > 1 && args[1] == "secret" {
		return runSecret(args[2:], stdout)
	}
	fs := flag.NewFlagSet("signet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unknown command %q (commands: secret)", fs.Arg(0))
	}
	env, err := loadEnv(".", getenv)
	if err != nil {
		return err
	}
	logOut := newLogWriter(stderr)
	defer logOut.Close()
	log := newLogger(env, logOut)
	// zitadel/oidc, which the development IdP is built on, logs through
	// slog's default logger only (its WithLogger options have no effect):
	// this makes its lines, and the standard log package's, come out in
	// the app's format.
	slog.SetDefault(log)

	// PORT and SHUTDOWN_TIMEOUT are checked and the port is bound before
	// anything else starts, so a bad value or a busy port is the first
	// and only thing said.
	addr, err := app.ListenAddr(env)
	if err != nil {
		return err
	}
	drain, err := app.ShutdownTimeout(env)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s (set PORT to use another port): %w", addr, err)
	}
	defer ln.Close()
	a, err := app.Configure(env, envNames(".", env), log, app.Options{})
	if err != nil {
		return err
	}
	defer a.Store.Close()
	log.Info("listening", "url", a.PublicURL, "addr", ln.Addr().String(), "startup", time.Since(start).Round(time.Millisecond).String())
	if a.Dev {
		log.Info("ready: open " + a.PublicURL + " in a browser and sign in as one of the demo users")
	}
	return app.Serve(ctx, ln, a.Handler, drain, log, a.Shutdown)
}

// newLogger logs text to stderr, or JSON when LOG_FORMAT=json; LOG_LEVEL
// sets the level (debug, info, warn, error).
func newLogger(getenv func(string) string, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(getenv("LOG_LEVEL"))); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(getenv("LOG_FORMAT"), "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// envNames lists the variables set in the environment or in the .env files
// in dir, for the unknown-variable warnings. Only names env answers are
// kept, so a run with an injected getenv sees only its own variables.
func envNames(dir string, env func(string) string) []string {
	var names []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		names = append(names, k)
	}
	for _, f := range []string{".env", ".env.local"} {
		vals, _ := readDotenv(filepath.Join(dir, f)) // loadEnv already reported bad files
		for k := range vals {
			names = append(names, k)
		}
	}
	out := names[:0]
	for _, k := range names {
		if env(k) != "" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
