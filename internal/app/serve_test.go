package app

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet/internal/testlog"
)

// TestListenAddr: PORT must be a port number; anything else stops the
// start with a line naming PORT.
func TestListenAddr(t *testing.T) {
	for _, tc := range []struct {
		host, port string
		want, err  string
	}{
		{"", "", "localhost:3000", ""},
		{"127.0.0.1", "8080", "127.0.0.1:8080", ""},
		{"::1", "65535", "[::1]:65535", ""},
		{"", "abc", "", `PORT: "abc" is not a port number: set it to one from 1 to 65535, e.g. 3000`},
		{"", "0", "", `PORT: "0" is not a port number: set it to one from 1 to 65535, e.g. 3000`},
		{"", "70000", "", `PORT: "70000" is not a port number: set it to one from 1 to 65535, e.g. 3000`},
		{"", "-1", "", `PORT: "-1" is not a port number: set it to one from 1 to 65535, e.g. 3000`},
		{"", " 3000", "", `PORT: " 3000" is not a port number: set it to one from 1 to 65535, e.g. 3000`},
		{"", "03000", "", `PORT: "03000" is not a port number: set it to one from 1 to 65535, e.g. 3000`},
	} {
		getenv, _ := mapEnv(map[string]string{"HOST": tc.host, "PORT": tc.port})
		got, err := ListenAddr(getenv)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("PORT %q: error %v, want %s", tc.port, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("HOST %q PORT %q: %q, %v; want %q", tc.host, tc.port, got, err, tc.want)
		}
	}
}

// TestShutdownTimeoutSetting: SHUTDOWN_TIMEOUT takes a duration or
// seconds, default 10s; a bad value names the variable.
func TestShutdownTimeoutSetting(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want time.Duration
		err  bool
	}{
		{"", 10 * time.Second, false},
		{"30s", 30 * time.Second, false},
		{"2m", 2 * time.Minute, false},
		{"5", 5 * time.Second, false},
		{"0", 0, true},
		{"-1s", 0, true},
		{"2h", 0, true},
		{"soon", 0, true},
	} {
		getenv, _ := mapEnv(map[string]string{"SHUTDOWN_TIMEOUT": tc.v})
		got, err := ShutdownTimeout(getenv)
		if tc.err {
			if err == nil || !strings.HasPrefix(err.Error(), "SHUTDOWN_TIMEOUT: ") {
				t.Errorf("%q: error %v, want one naming SHUTDOWN_TIMEOUT", tc.v, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %v, %v; want %v", tc.v, got, err, tc.want)
		}
	}
}

// TestServeDrain: on shutdown the requests in flight get the drain time;
// when it runs out they are cut, the log says how many, and the shutdown
// is still clean (nil, exit 0). Requests that finish in time are simply
// waited for.
func TestServeDrain(t *testing.T) {
	for _, tc := range []struct {
		name    string
		finish  bool // the request in flight finishes once shutdown begins
		wantLog string
	}{
		{"drain time runs out", false, "ran out with 1 request(s) still in flight, which were cut"},
		{"requests finish", true, "every request in flight finished"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			entered, release := make(chan struct{}), make(chan struct{})
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				close(entered)
				<-release
			})
			var logs testlog.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			// With a request that never finishes by itself the drain
			// time must run out; one that finishes must be waited for.
			drain := 50 * time.Millisecond
			if tc.finish {
				drain = time.Minute
			}
			go func() { done <- Serve(ctx, ln, h, drain, log, nil) }()
			go func() {
				resp, err := http.Get("http://" + ln.Addr().String() + "/")
				if err == nil {
					resp.Body.Close()
				}
			}()
			<-entered
			cancel()
			if tc.finish {
				for !strings.Contains(logs.String(), "shutting down") {
					time.Sleep(time.Millisecond)
				}
				close(release)
			}
			if err := <-done; err != nil {
				t.Errorf("serve = %v, want a clean shutdown", err)
			}
			if !tc.finish {
				close(release)
			}
			if !strings.Contains(logs.String(), tc.wantLog) {
				t.Errorf("log lacks %q:\n%s", tc.wantLog, logs.String())
			}
		})
	}
}
