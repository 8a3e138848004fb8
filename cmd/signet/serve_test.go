package main

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/signet-auth/signet/internal/testlog"
)

// runOnce runs the whole program with env and returns what it wrote to
// stderr and its error.
func runOnce(t *testing.T, env map[string]string) (stderr string, err error) {
	t.Helper()
	prev := slog.Default()
	t.Cleanup(func() { slog.SetDefault(prev) })
	getenv, _ := mapEnv(env)
	var out testlog.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // serve, should it get that far, stops at once
	err = run(ctx, []string{"signet"}, getenv, &out, &out)
	return out.String(), err
}

// TestStartRefusals: a bad PORT, a bad SHUTDOWN_TIMEOUT or a busy port is
// the first and only thing the start says: nothing (the development IdP's
// banner included) is logged before it.
func TestStartRefusals(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, busyPort, _ := net.SplitHostPort(busy.Addr().String())
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"PORT abc", map[string]string{"PORT": "abc"}, `PORT: "abc" is not a port number`},
		{"PORT 0", map[string]string{"PORT": "0"}, `PORT: "0" is not a port number`},
		{"PORT 70000", map[string]string{"PORT": "70000"}, `PORT: "70000" is not a port number`},
		{"SHUTDOWN_TIMEOUT", map[string]string{"HOST": "127.0.0.1", "PORT": busyPort, "SHUTDOWN_TIMEOUT": "soon"}, `SHUTDOWN_TIMEOUT: "soon" is not a duration`},
		{"port busy", map[string]string{"HOST": "127.0.0.1", "PORT": busyPort}, "listen on 127.0.0.1:" + busyPort},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stderr, err := runOnce(t, tc.env)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("run: %v, want an error starting %q", err, tc.want)
			}
			if strings.TrimSpace(stderr) != "" {
				t.Errorf("the start logged before refusing:\n%s", stderr)
			}
		})
	}
}
