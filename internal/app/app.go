// Package app wires Signet's app from its environment: the store, auth,
// the development IdP when no provider is configured, and the handlers;
// and serves it. cmd/signet runs it; the soak starts it the same way, so
// what they test is what ships.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/auth/store"
	"github.com/signet-auth/signet/handlers"
)

// App is the wired program, ready to serve.
type App struct {
	// Addr is where to listen: HOST:PORT.
	Addr string
	// PublicURL is the app's origin, as people open it.
	PublicURL string
	// Dev is true when the embedded development IdP runs.
	Dev bool
	// Handler serves every route.
	Handler http.Handler
	// Store holds the app's state; close it when the app stops.
	Store store.Store
	// Shutdown ends the open session streams: run it as the server shuts
	// down (Serve does).
	Shutdown func()
}

// Options are what a caller sets besides the environment.
type Options struct {
	// Now is the clock of auth and the development IdP; nil means
	// time.Now. The soak moves it forward to reach expiries.
	Now func() time.Time
}

// Configure builds the app from the environment. auth.ConfigFromEnv reads
// and checks the AUTH_* variables and stops the start on the first bad one
// with a line that names it; its warnings (unknown AUTH_* variables, a
// public client, an issuer that looks wrong) go to the log. environ lists
// the variables that are set. With no provider configured it runs the
// embedded development IdP.
func Configure(getenv func(string) string, environ []string, log *slog.Logger, opts Options) (a *App, err error) {
	addr, err := ListenAddr(getenv)
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
		d, err := startDevIdP(publicURL, basePath(cfg), log, level, opts.Now)
		if err != nil {
			return nil, err
		}
		cfg.Providers = []*auth.Provider{d.provider}
		deps.DevIdP = d.handler
		deps.DevUsers = d.users
		if len(cfg.Secrets) == 0 {
			cfg.Secrets = []string{RandomSecret()}
			log.Log(context.Background(), level, "AUTH_SECRET is not set, which is fine for trying the app: it uses a random secret, so sessions end when the app restarts (run `go tool -modfile=tools/go.mod task secret` to keep them)")
		}
	}
	cfg.Callbacks = handlers.AuthCallbacks()
	cfg.Pages = handlers.AuthPages()
	cfg.Logger = log
	cfg.Now = opts.Now
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
	return &App{Addr: net.JoinHostPort(host, port), PublicURL: publicURL, Dev: dev, Handler: h, Store: st, Shutdown: au.Shutdown}, nil
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
