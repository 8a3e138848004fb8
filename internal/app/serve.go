package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/signet-auth/signet/auth"
)

// defaultShutdownTimeout is how long a shutdown waits for the requests in
// flight when SHUTDOWN_TIMEOUT is not set.
const defaultShutdownTimeout = 10 * time.Second

// maxHeaderBytes bounds a request's header block (the request line, the
// cookies and every other header): a larger one is answered 431.
const maxHeaderBytes = 64 << 10

// ListenAddr is HOST:PORT (default localhost:3000), with PORT checked: a
// decimal number from 1 to 65535.
func ListenAddr(getenv func(string) string) (string, error) {
	host := getenv("HOST")
	if host == "" {
		host = "localhost"
	}
	port := getenv("PORT")
	if port == "" {
		port = "3000"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		return "", &auth.ConfigError{Var: "PORT", Problem: fmt.Sprintf("%q is not a port number: set it to one from 1 to 65535, e.g. 3000", port)}
	}
	return net.JoinHostPort(host, port), nil
}

// ShutdownTimeout reads SHUTDOWN_TIMEOUT: a duration ("30s", "1m") or a
// number of seconds, more than 0 and at most an hour; default 10s.
func ShutdownTimeout(getenv func(string) string) (time.Duration, error) {
	v := strings.TrimSpace(getenv("SHUTDOWN_TIMEOUT"))
	if v == "" {
		return defaultShutdownTimeout, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		n, nerr := strconv.Atoi(v)
		if nerr != nil {
			return 0, &auth.ConfigError{Var: "SHUTDOWN_TIMEOUT", Problem: fmt.Sprintf("%q is not a duration: set it to e.g. 10s or 1m", v)}
		}
		d = time.Duration(n) * time.Second
	}
	if d <= 0 || d > time.Hour {
		return 0, &auth.ConfigError{Var: "SHUTDOWN_TIMEOUT", Problem: fmt.Sprintf("%q is out of range: set it to more than 0 and at most 1h", v)}
	}
	return d, nil
}

// Serve serves h on ln until ctx ends, then shuts down: it stops
// accepting, waits up to drain for the requests in flight, and when the
// drain time runs out closes the connections that are left and logs how
// many requests it cut. Either way the shutdown is clean (nil): only a
// failure to serve is an error.
//
// onShutdown, if not nil, runs as the shutdown starts: it ends the
// long-lived session streams, which would otherwise hold the drain open.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, drain time.Duration, log *slog.Logger, onShutdown func()) error {
	var inflight atomic.Int64
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inflight.Add(1)
			defer inflight.Add(-1)
			h.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if onShutdown != nil {
		srv.RegisterOnShutdown(onShutdown)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "drain", drain.String(), "in_flight", inflight.Load())
	start := time.Now()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		cut := inflight.Load()
		_ = srv.Close()
		log.Warn(fmt.Sprintf("shut down: the drain time (SHUTDOWN_TIMEOUT=%s) ran out with %d request(s) still in flight, which were cut", drain, cut),
			"drain", drain.String(), "cut", cut)
		return nil
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("shut down: every request in flight finished", "took", time.Since(start).Round(time.Millisecond).String())
	return nil
}
