package app

import (
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/auth/store/redisstore/redistest"
	"github.com/signet-auth/signet/handlers"
	"github.com/signet-auth/signet/internal/testlog"
)

// testSecret is a strong AUTH_SECRET.
const testSecret = "q7Rk2vXw9LpB4mZs8TnY3cHf6JdG1aQe5Uo0"

func mapEnv(m map[string]string) (func(string) string, []string) {
	var names []string
	for k := range m {
		names = append(names, k)
	}
	return func(k string) string { return m[k] }, names
}

// TestConfigureErrors: a bad environment stops the start with exactly one
// line naming the variable, which main prints after "signet: ".
func TestConfigureErrors(t *testing.T) {
	provider := map[string]string{
		"AUTH_OIDC_ID":     "app",
		"AUTH_OIDC_SECRET": "client-secret",
		"AUTH_OIDC_ISSUER": "https://idp.example.com",
	}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range provider {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no AUTH_SECRET outside development", with(),
			`AUTH_SECRET: is empty: set it to at least 32 random characters (run "signet secret" to write one to .env.local, or use openssl rand -base64 32)`},
		{"weak AUTH_SECRET", with("AUTH_SECRET", "changeme"),
			`AUTH_SECRET: the secret is 8 characters, fewer than 32: set a random one of at least 32 characters (run "signet secret" to make one)`},
		{"AUTH_SECRET placeholder", with("AUTH_SECRET", "please-change-me-before-going-live!!"),
			`AUTH_SECRET: the secret is not random (it contains "change-me"): set a random one of at least 32 characters (run "signet secret" to make one)`},
		{"http issuer", with("AUTH_SECRET", testSecret, "AUTH_OIDC_ISSUER", "http://idp.example.com"),
			`AUTH_OIDC_ISSUER: "http://idp.example.com" uses plain http on a host that is not loopback: use https (http is allowed only for localhost, 127.0.0.1 and ::1)`},
		{"relative AUTH_URL", with("AUTH_SECRET", testSecret, "AUTH_URL", "localhost:3000"),
			`AUTH_URL: "localhost:3000" is not an absolute URL: set it to the app's public URL, e.g. https://app.example.com`},
		{"AUTH_TRUST_HOST not a boolean", with("AUTH_SECRET", testSecret, "AUTH_TRUST_HOST", "sometimes"),
			`AUTH_TRUST_HOST: "sometimes" is not a boolean: set it to true or false`},
		{"Google without a secret", map[string]string{"AUTH_SECRET": testSecret, "AUTH_GOOGLE_ID": "123.apps.googleusercontent.com"},
			`AUTH_GOOGLE_SECRET: is empty: set it to the client secret Google issued for client "123.apps.googleusercontent.com" (Google requires one for web apps)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv, environ := mapEnv(tc.env)
			app, err := testConfigure(t, getenv, environ, slog.New(slog.DiscardHandler))
			if app != nil || err == nil {
				t.Fatalf("configure = %v, %v; want an error", app, err)
			}
			var ce *auth.ConfigError
			if !errors.As(err, &ce) {
				t.Errorf("error %T, want *auth.ConfigError", err)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestConfigureWarnings: a misspelt variable is logged with the name meant,
// and the app still starts with the providers that are configured.
func TestConfigureWarnings(t *testing.T) {
	getenv, environ := mapEnv(map[string]string{
		"AUTH_SECRET":          testSecret,
		"AUTH_URL":             "https://app.example.com/auth-api",
		"AUTH_OIDC_ID":         "app",
		"AUTH_OIDC_SECRET":     "client-secret",
		"AUTH_OIDC_ISSUER":     "https://idp.example.com",
		"AUTH_KEYCLOK_ID":      "app",
		"AUTH_KEYCLOAK_SECRET": "",
	})
	var logs testlog.Buffer
	app, err := testConfigure(t, getenv, environ, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if app.PublicURL != "https://app.example.com" {
		t.Errorf("publicURL %q, want the origin of AUTH_URL", app.PublicURL)
	}
	if !strings.Contains(logs.String(), "AUTH_KEYCLOK_ID is not a variable Signet reads: did you mean AUTH_KEYCLOAK_ID?") {
		t.Errorf("no warning about AUTH_KEYCLOK_ID in the log:\n%s", logs.String())
	}
}

// testConfigure is Configure with the default file store in a folder of
// the test's own, closed when the test ends.
func testConfigure(t *testing.T, getenv func(string) string, environ []string, log *slog.Logger) (*App, error) {
	t.Helper()
	dir := t.TempDir()
	a, err := Configure(func(k string) string {
		if k == "SIGNET_DATA_DIR" && getenv(k) == "" {
			return dir
		}
		return getenv(k)
	}, environ, log, Options{})
	if err == nil {
		t.Cleanup(func() { _ = a.Store.Close() })
	}
	return a, err
}

// TestStoreFromEnv: AUTH_STORE's forms open their store, and a bad value
// or an unreachable Redis stops the start within seconds with a line that
// names AUTH_STORE.
func TestStoreFromEnv(t *testing.T) {
	closed := func() string { // a loopback port nothing listens on
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}()
	dir := t.TempDir()
	redis := redistest.StartServer(t)
	tests := []struct {
		value, want, err string
	}{
		{"memory:", "memory", ""},
		{"redis://" + redis + "/0", "redis redis://" + redis + "/0", ""},
		{"file:" + filepath.Join(dir, "s.db"), "file " + filepath.Join(dir, "s.db"), ""},
		{"memory:x", "", "AUTH_STORE: "},
		{"file:", "", "AUTH_STORE: file: needs a path"},
		{"postgres://db", "", `AUTH_STORE: "postgres://db" is not`},
		{"redis://user:secret@" + closed + "/0", "", "AUTH_STORE: "},
		{"redis-sentinel://" + closed, "", "AUTH_STORE: "},
		{"file:" + filepath.Join(dir, "s.db", "sub", "x.db"), "", "AUTH_STORE: "},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			start := time.Now()
			getenv, _ := mapEnv(map[string]string{"AUTH_STORE": tt.value})
			st, where, err := openStore(t.Context(), getenv, slog.New(slog.DiscardHandler))
			if time.Since(start) > 10*time.Second {
				t.Errorf("took %v, want a few seconds at most", time.Since(start))
			}
			if tt.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one starting %q", err, tt.err)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("the error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if where != tt.want {
				t.Errorf("store = %q, want %q", where, tt.want)
			}
		})
	}
}

// TestRequestLogFromEnv: LOG_REQUESTS is all (the default), errors or
// off, in any case; anything else names LOG_REQUESTS.
func TestRequestLogFromEnv(t *testing.T) {
	tests := []struct {
		value string
		want  handlers.RequestLog
		err   bool
	}{
		{"", handlers.RequestLogAll, false},
		{"all", handlers.RequestLogAll, false},
		{" Errors ", handlers.RequestLogErrors, false},
		{"OFF", handlers.RequestLogOff, false},
		{"sampled", "", true},
		{"none", "", true},
	}
	for _, tt := range tests {
		getenv, _ := mapEnv(map[string]string{"LOG_REQUESTS": tt.value})
		got, err := requestLogFrom(getenv)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("LOG_REQUESTS=%q: %q, %v; want %q, error %v", tt.value, got, err, tt.want, tt.err)
		}
		if err != nil && !strings.Contains(err.Error(), "LOG_REQUESTS") {
			t.Errorf("LOG_REQUESTS=%q: the error does not name LOG_REQUESTS: %v", tt.value, err)
		}
	}
}
