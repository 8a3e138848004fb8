package devidp

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func minimalConfig() Config {
	return Config{
		Issuer: "http://localhost:3000/dev-idp",
		Clients: []Client{{
			ID:           "app",
			Secret:       "s",
			RedirectURIs: []string{"http://localhost:3000/api/auth/callback/dev"},
		}},
	}
}

// TestNewIsFast: the app must start and serve within 100 ms, so New must
// not wait for the RSA key.
func TestNewIsFast(t *testing.T) {
	const budget = 50 * time.Millisecond
	start := time.Now()
	s, err := New(minimalConfig())
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("New took %v", took)
	if took > budget {
		t.Errorf("New took %v, want under %v", took, budget)
	}

	// The first request that needs the key waits for it.
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/dev-idp/keys", nil))
	t.Logf("New + first JWKS took %v", time.Since(start))
	var jwks struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &jwks); err != nil {
		t.Fatalf("JWKS: %v: %s", err, rec.Body)
	}
	if got, want := len(jwks.Keys), 1; got != want {
		t.Fatalf("keys = %d, want %d", got, want)
	}
	k := jwks.Keys[0]
	for claim, want := range map[string]any{"kty": "RSA", "alg": "RS256", "use": "sig"} {
		if got := k[claim]; got != want {
			t.Errorf("key %s = %v, want %v", claim, got, want)
		}
	}
	if k["kid"] == "" || k["d"] != nil {
		t.Errorf("key = %v, want a kid and no private part", k)
	}
}

// TestKeyMadeWithoutRequest: with no request at all, the key is made
// shortly after New, ready for the first sign-in.
func TestKeyMadeWithoutRequest(t *testing.T) {
	s, err := New(minimalConfig())
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.store.keys.ready:
		if s.store.keys.err != nil {
			t.Fatal(s.store.keys.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no key 10 s after New")
	}
}

func BenchmarkNew(b *testing.B) {
	cfg := minimalConfig()
	keys := testKeyPair()
	for b.Loop() {
		if _, err := newServer(cfg, keys); err != nil {
			b.Fatal(err)
		}
	}
}

func TestNewRejects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"no issuer", func(c *Config) { c.Issuer = "" }, "Issuer is empty"},
		{"relative issuer", func(c *Config) { c.Issuer = "/dev-idp" }, "not an absolute"},
		{"issuer with query", func(c *Config) { c.Issuer = "http://localhost/dev-idp?x=1" }, "query"},
		{"client without ID", func(c *Config) { c.Clients[0].ID = "" }, "empty ID"},
		{"client without redirect", func(c *Config) { c.Clients[0].RedirectURIs = nil }, "no RedirectURIs"},
		{"relative redirect", func(c *Config) { c.Clients[0].RedirectURIs = []string{"/cb"} }, "absolute URL"},
		{"duplicate client", func(c *Config) { c.Clients = append(c.Clients, c.Clients[0]) }, "duplicate ID"},
		{"empty users", func(c *Config) { c.Users = []User{} }, "no users"},
		{"user without password", func(c *Config) { c.Users = []User{{ID: "1", Username: "a"}} }, "empty Password"},
		{"user ID with colon", func(c *Config) { c.Users = []User{{ID: "a:b", Username: "a", Password: "p"}} }, "':'"},
		{"duplicate username", func(c *Config) {
			c.Users = []User{{ID: "1", Username: "a", Password: "p"}, {ID: "2", Username: "A", Password: "p"}}
		}, "duplicate Username"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := minimalConfig()
			tc.mutate(&cfg)
			_, err := newServer(cfg, testKeyPair())
			if err == nil {
				t.Fatal("New succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestDefaultUsers(t *testing.T) {
	users := DefaultUsers()
	want := []struct{ username, password, name, email string }{
		{"ada", "lovelace", "Ada Lovelace", "ada@example.com"},
		{"alan", "turing", "Alan Turing", "alan@example.com"},
		{"grace", "hopper", "Grace Hopper", "grace@example.com"},
	}
	if got := len(users); got != len(want) {
		t.Fatalf("len = %d, want %d", got, len(want))
	}
	for i, w := range want {
		u := users[i]
		if u.Username != w.username || u.Password != w.password || u.Name() != w.name || u.Email != w.email || u.ID == "" {
			t.Errorf("user %d = %+v, want %+v", i, u, w)
		}
	}
	users[0].Username = "changed"
	if DefaultUsers()[0].Username != "ada" {
		t.Error("DefaultUsers shares its slice")
	}
}

func TestPages(t *testing.T) {
	s, err := newServer(minimalConfig(), testKeyPair())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, path string
		status       int
		want         string
	}{
		{"GET", "/dev-idp/", http.StatusOK, "Development identity provider"},
		{"GET", "/dev-idp/", http.StatusOK, "http://localhost:3000/dev-idp/.well-known/openid-configuration"},
		{"GET", "/dev-idp/nope", http.StatusNotFound, "Page not found"},
		{"GET", "/dev-idpx/login", http.StatusNotFound, "Page not found"},
		{"GET", "/dev-idp/login?authRequestID=unknown", http.StatusBadRequest, "This sign-in has expired"},
		{"PUT", "/dev-idp/login", http.StatusMethodNotAllowed, "Method not allowed"},
		{"DELETE", "/dev-idp/end_session", http.StatusMethodNotAllowed, "Method not allowed"},
		{"GET", "/dev-idp/authorize/callback?id=unknown", http.StatusBadRequest, "This sign-in has expired"},
		{"GET", "/dev-idp/authorize?client_id=app&redirect_uri=http://evil.example/&response_type=code&scope=openid", http.StatusBadRequest, "The sign-in request is not valid"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			if got := rec.Code; got != tc.status {
				t.Errorf("status = %d, want %d", got, tc.status)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type = %q, want text/html", ct)
			}
			body := rec.Body.String()
			if !strings.Contains(body, tc.want) {
				t.Errorf("body lacks %q:\n%s", tc.want, body)
			}
			if strings.Contains(body, "goroutine ") || strings.Contains(body, ".go:") {
				t.Errorf("body looks like a stack trace:\n%s", body)
			}
		})
	}
}

// TestDefaultLoggerUntouched: the IdP logs to its own logger and leaves
// slog's default alone.
func TestDefaultLoggerUntouched(t *testing.T) {
	before := slog.Default()
	e := newEnv(t)
	get(t, e.browser(), e.issuer+"/")
	if slog.Default() != before {
		t.Error("slog.Default changed")
	}
}
