package main

import (
	"context"
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
	"github.com/signet-auth/signet/auth/store"
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
	// zitadel/oidc, which the development IdP is built on, logs through
	// slog's default logger only (its WithLogger options have no effect):
	// this makes its lines, and the standard log package's, come out in
	// the app's format.
	slog.SetDefault(log)

	// PORT and SHUTDOWN_TIMEOUT are checked and the port is bound before
	// anything else starts, so a bad value or a busy port is the first
	// and only thing said.
	addr, err := listenAddr(env)
	if err != nil {
		return err
	}
	drain, err := shutdownTimeout(env)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s (set PORT to use another port): %w", addr, err)
	}
	defer ln.Close()
	app, err := configure(env, envNames(".", env), log)
	if err != nil {
		return err
	}
	defer app.store.Close()
	log.Info("listening", "url", app.publicURL, "addr", ln.Addr().String(), "startup", time.Since(start).Round(time.Millisecond).String())
	if app.dev {
		log.Info("ready: open " + app.publicURL + " in a browser and sign in as one of the demo users")
	}
	return serve(ctx, ln, app.handler, drain, log, app.shutdown)
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

// requestLogFrom reads LOG_REQUESTS: all (the default), errors or off.
func requestLogFrom(getenv func(string) string) (handlers.RequestLog, error) {
	switch v := handlers.RequestLog(strings.ToLower(strings.TrimSpace(getenv("LOG_REQUESTS")))); v {
	case "":
		return handlers.RequestLogAll, nil
	case handlers.RequestLogAll, handlers.RequestLogErrors, handlers.RequestLogOff:
		return v, nil
	default:
		return "", &auth.ConfigError{Var: "LOG_REQUESTS", Problem: fmt.Sprintf("%q is not all, errors or off", string(v))}
	}
}

// app is the wired program, ready to serve.
type app struct {
	addr      string
	publicURL string
	dev       bool // the embedded development IdP runs
	handler   http.Handler
	store     store.Store // closed when the app stops
	shutdown  func()      // run as the server shuts down
}

// configure builds the app from the environment. auth.ConfigFromEnv reads
// and checks the AUTH_* variables and stops the start on the first bad one
// with a line that names it; its warnings (unknown AUTH_* variables, a
// public client, an issuer that looks wrong) go to the log. environ lists
// the variables that are set. With no provider configured it runs the
// embedded development IdP.
func configure(getenv func(string) string, environ []string, log *slog.Logger) (a *app, err error) {
	addr, err := listenAddr(getenv)
	if err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(addr)
	cfg, warnings, err := auth.ConfigFromEnv(getenv, environ)
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		log.Warn(w)
	}
	// The store first: a locked file or an unreachable Redis stops the
	// start before anything else is said.
	st, where, err := openStore(context.Background(), getenv, log)
	if err != nil {
		return nil, err
	}
	defer func() {
		if a == nil {
			_ = st.Close()
		}
	}()
	cfg.Store = st
	log.Info("session store", "store", where, "strategy", string(cfg.Session.Strategy))
	publicURL := origin(cfg.URL)
	requestLog, err := requestLogFrom(getenv)
	if err != nil {
		return nil, err
	}
	deps := handlers.Deps{Logger: log, RequestLog: requestLog}
	dev := len(cfg.Providers) == 0
	defaultOrigin := false // the development origin, http://localhost:PORT
	if dev {
		if publicURL == "" {
			publicURL = "http://localhost:" + port
			defaultOrigin = true
		}
		// What the development setup does by design is news, not
		// trouble, on this machine; on a public origin it is a
		// misconfiguration.
		level := slog.LevelInfo
		if !isLoopbackOrigin(publicURL) {
			level = slog.LevelWarn
		}
		d, err := startDevIdP(publicURL, basePath(cfg), log, level)
		if err != nil {
			return nil, err
		}
		cfg.Providers = []*auth.Provider{d.provider}
		deps.DevIdP = d.handler
		deps.DevUsers = d.users
		if len(cfg.Secrets) == 0 {
			cfg.Secrets = []string{randomSecret()}
			log.Log(context.Background(), level, "AUTH_SECRET is not set, which is fine for trying the app: it uses a random secret, so sessions end when the app restarts (run `go tool -modfile=tools/go.mod task secret` to keep them)")
		}
	}
	cfg.Callbacks = handlers.AuthCallbacks()
	cfg.Pages = handlers.AuthPages()
	cfg.Logger = log
	au, err := auth.New(cfg)
	if err != nil {
		return nil, err
	}
	deps.Auth = au
	if publicURL == "" {
		publicURL = "http://" + net.JoinHostPort(host, port)
	}
	h := handlers.New(deps)
	if defaultOrigin {
		h = sameLoopbackOrigin(publicURL, []string{"/healthz"}, h)
	}
	return &app{addr: net.JoinHostPort(host, port), publicURL: publicURL, dev: dev, handler: h, store: st, shutdown: au.Shutdown}, nil
}

// isLoopbackOrigin reports whether origin is on this machine's loopback
// interface (localhost, 127.0.0.1, ::1).
func isLoopbackOrigin(origin string) bool {
	u, err := url.Parse(origin)
	return err == nil && isLoopbackHost(u.Hostname())
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
