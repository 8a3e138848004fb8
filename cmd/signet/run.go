package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/handlers"
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

	app, err := configure(env, envNames(".", env), log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", app.addr)
	if err != nil {
		return fmt.Errorf("listen on %s (set PORT to use another port): %w", app.addr, err)
	}
	srv := &http.Server{
		Handler:           app.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("listening", "url", app.publicURL, "addr", ln.Addr().String(), "startup", time.Since(start).Round(time.Millisecond).String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
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

// app is the wired program, ready to serve.
type app struct {
	addr      string
	publicURL string
	handler   http.Handler
}

// configure builds the app from the environment. auth.ConfigFromEnv reads
// and checks the AUTH_* variables and stops the start on the first bad one
// with a line that names it; its warnings (unknown AUTH_* variables, a
// public client, an issuer that looks wrong) go to the log. environ lists
// the variables that are set. With no provider configured it runs the
// embedded development IdP.
func configure(getenv func(string) string, environ []string, log *slog.Logger) (*app, error) {
	host := getenv("HOST")
	if host == "" {
		host = "localhost"
	}
	port := getenv("PORT")
	if port == "" {
		port = "3000"
	}
	cfg, warnings, err := auth.ConfigFromEnv(getenv, environ)
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		log.Warn(w)
	}
	publicURL := origin(cfg.URL)
	deps := handlers.Deps{Logger: log}
	if len(cfg.Providers) == 0 {
		if publicURL == "" {
			publicURL = "http://localhost:" + port
		}
		dev, err := startDevIdP(publicURL, basePath(cfg), log)
		if err != nil {
			return nil, err
		}
		cfg.Providers = []*auth.Provider{dev.provider}
		deps.DevIdP = dev.handler
		deps.DevUsers = dev.users
		if len(cfg.Secrets) == 0 {
			cfg.Secrets = []string{randomSecret()}
			log.Warn("AUTH_SECRET is not set: using a random secret, so sessions end when the app restarts (run `go tool -modfile=tools/go.mod task secret` to keep them)")
		}
	}
	cfg.Callbacks = handlers.AuthCallbacks()
	cfg.Pages = handlers.AuthPages()
	cfg.Logger = log
	a, err := auth.New(cfg)
	if err != nil {
		return nil, err
	}
	deps.Auth = a
	if publicURL == "" {
		publicURL = "http://" + net.JoinHostPort(host, port)
	}
	return &app{addr: net.JoinHostPort(host, port), publicURL: publicURL, handler: handlers.New(deps)}, nil
}

// basePath is where auth will serve its routes: Config.BasePath, else
// AUTH_URL's path when it has one, else /api/auth (auth.New's rule).
func basePath(cfg auth.Config) string {
	if cfg.BasePath != "" {
		return "/" + strings.Trim(cfg.BasePath, "/")
	}
	if u, err := url.Parse(cfg.URL); err == nil && strings.Trim(u.Path, "/") != "" {
		return "/" + strings.Trim(u.Path, "/")
	}
	return auth.DefaultBasePath
}

// origin returns the scheme and host of AUTH_URL (which ConfigFromEnv
// checked), without the base path, or "".
func origin(authURL string) string {
	u, err := url.Parse(authURL)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
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
