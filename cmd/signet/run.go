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
	log := newLogger(env, stderr)

	app, err := configure(env, log)
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

// configure builds the app from the environment. With no provider
// configured it runs the embedded development IdP.
func configure(getenv func(string) string, log *slog.Logger) (*app, error) {
	host := getenv("HOST")
	if host == "" {
		host = "localhost"
	}
	port := getenv("PORT")
	if port == "" {
		port = "3000"
	}
	providers, err := auth.ProvidersFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	publicURL := strings.TrimSuffix(getenv("AUTH_URL"), "/")
	if publicURL != "" {
		if _, err := checkAuthURL(publicURL); err != nil {
			return nil, err
		}
	}
	secrets := auth.ParseSecrets(getenv("AUTH_SECRET"))
	deps := handlers.Deps{Logger: log}
	if len(providers) == 0 {
		if publicURL == "" {
			publicURL = "http://localhost:" + port
		}
		dev, err := startDevIdP(publicURL, log)
		if err != nil {
			return nil, err
		}
		providers = []*auth.Provider{dev.provider}
		deps.DevIdP = dev.handler
		deps.DevUsers = dev.users
		if len(secrets) == 0 {
			secrets = []string{randomSecret()}
			log.Warn("AUTH_SECRET is not set: using a random secret, so sessions end when the app restarts (run `go tool -modfile=tools/go.mod task secret` to keep them)")
		}
	} else if len(secrets) == 0 {
		return nil, &auth.ConfigError{Var: "AUTH_SECRET", Problem: "is empty: run `signet secret` (or `go tool -modfile=tools/go.mod task secret`) to write one to .env.local"}
	} else if err := checkSecrets(secrets); err != nil {
		return nil, err
	}
	a, err := auth.New(auth.Config{
		Providers: providers,
		Secrets:   secrets,
		URL:       publicURL,
		TrustHost: parseBool(getenv("AUTH_TRUST_HOST")),
		Callbacks: callbacks(),
		Pages:     handlers.AuthPages(),
		Logger:    log,
	})
	if err != nil {
		return nil, err
	}
	deps.Auth = a
	if publicURL == "" {
		publicURL = "http://" + net.JoinHostPort(host, port)
	}
	return &app{addr: net.JoinHostPort(host, port), publicURL: publicURL, handler: handlers.New(deps)}, nil
}

// checkAuthURL accepts an absolute http(s) URL.
func checkAuthURL(v string) (string, error) {
	if !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") || len(v) <= len("https://") {
		return "", &auth.ConfigError{Var: "AUTH_URL", Problem: fmt.Sprintf("%q is not an absolute URL: set it to the app's public URL, e.g. https://app.example.com", v)}
	}
	return v, nil
}

// checkSecrets refuses secrets too short to key the cookies.
func checkSecrets(secrets []string) error {
	for i, s := range secrets {
		if len(s) < auth.MinSecretLength {
			return &auth.ConfigError{Var: "AUTH_SECRET", Problem: fmt.Sprintf("secret %d of %d is %d characters, fewer than %d: run `signet secret` to make a strong one", i+1, len(secrets), len(s), auth.MinSecretLength)}
		}
	}
	return nil
}

// parseBool reads AUTH_TRUST_HOST: "true", "1" and "yes" are true; "false"
// means false (unlike Auth.js, where any non-empty string is true).
func parseBool(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}
