package auth

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func validConfig() Config {
	return Config{
		Providers: []*Provider{OIDC("https://idp.example", "client", "secret")},
		Secrets:   []string{testSecret},
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string
	}{
		{"no provider", func(c *Config) { c.Providers = nil }, "no provider"},
		{"nil provider", func(c *Config) { c.Providers = []*Provider{nil} }, "no id"},
		{"provider without id", func(c *Config) { c.Providers[0].ID = "" }, "no id"},
		{"provider twice", func(c *Config) { c.Providers = append(c.Providers, OIDC("https://b.example", "c", "s")) }, "configured twice"},
		{"no issuer", func(c *Config) { c.Providers[0].Issuer = "" }, "needs an issuer and a client id"},
		{"no client id", func(c *Config) { c.Providers[0].ClientID = "" }, "needs an issuer and a client id"},
		{"no secret", func(c *Config) { c.Secrets = nil }, "AUTH_SECRET"},
		{"AUTH_URL not a URL", func(c *Config) { c.URL = "app.example.com" }, "AUTH_URL"},
		{"AUTH_URL ftp", func(c *Config) { c.URL = "ftp://app.example.com" }, "AUTH_URL"},
		{"AUTH_URL without host", func(c *Config) { c.URL = "https://" }, "AUTH_URL"},
		{"AUTH_URL unparsable", func(c *Config) { c.URL = "https://a b/%zz" }, "AUTH_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.edit(&cfg)
			a, err := New(cfg)
			if err == nil {
				t.Fatalf("New = %v, want an error", a)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	tests := []struct {
		name                  string
		edit                  func(*Config)
		basePath, signOutPath string
		maxAge, updateAge     time.Duration
		prefix, providerName  string
	}{
		{"zero values", func(*Config) {}, "/api/auth", "/auth/sign-out", DefaultMaxAge, DefaultUpdateAge, "signet", "OpenID Connect"},
		{"AUTH_URL path sets the base path", func(c *Config) { c.URL = "https://app.example.com/custom/auth/" }, "/custom/auth", "/auth/sign-out", DefaultMaxAge, DefaultUpdateAge, "signet", "OpenID Connect"},
		{"AUTH_URL root", func(c *Config) { c.URL = "https://app.example.com/" }, "/api/auth", "/auth/sign-out", DefaultMaxAge, DefaultUpdateAge, "signet", "OpenID Connect"},
		{"BasePath wins over AUTH_URL path", func(c *Config) { c.URL = "https://app.example.com/x"; c.BasePath = "auth/" }, "/auth", "/auth/sign-out", DefaultMaxAge, DefaultUpdateAge, "signet", "OpenID Connect"},
		{"explicit values", func(c *Config) {
			c.SignOutPath = "/bye"
			c.Session.MaxAge = time.Hour
			c.Session.UpdateAge = time.Minute
			c.CookiePrefix = "app"
			c.Providers[0].Name = ""
		}, "/api/auth", "/bye", time.Hour, time.Minute, "app", "oidc"},
		{"negative ages", func(c *Config) { c.Session.MaxAge = -1; c.Session.UpdateAge = -1 }, "/api/auth", "/auth/sign-out", DefaultMaxAge, DefaultUpdateAge, "signet", "OpenID Connect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.edit(&cfg)
			a, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := a.BasePath(); got != tt.basePath {
				t.Errorf("BasePath = %q, want %q", got, tt.basePath)
			}
			if got := a.SignOutPath(); got != tt.signOutPath {
				t.Errorf("SignOutPath = %q, want %q", got, tt.signOutPath)
			}
			if a.cfg.Session.MaxAge != tt.maxAge || a.cfg.Session.UpdateAge != tt.updateAge {
				t.Errorf("ages = %v, %v; want %v, %v", a.cfg.Session.MaxAge, a.cfg.Session.UpdateAge, tt.maxAge, tt.updateAge)
			}
			if got := a.cfg.CookiePrefix; got != tt.prefix {
				t.Errorf("CookiePrefix = %q, want %q", got, tt.prefix)
			}
			if got := a.order[0].Name; got != tt.providerName {
				t.Errorf("provider name = %q, want %q", got, tt.providerName)
			}
			if got, want := a.SignInURL("/p?x=1"), tt.basePath+"/signin?callbackUrl=%2Fp%3Fx%3D1"; got != want {
				t.Errorf("SignInURL = %q, want %q", got, want)
			}
		})
	}
	if got, want := (&Auth{basePath: "/api/auth"}).SignInURL(""), "/api/auth/signin"; got != want {
		t.Errorf("SignInURL(\"\") = %q, want %q", got, want)
	}
}

// TestCustomPathsAndPrefix: a whole journey under another base path,
// sign-out path and cookie prefix.
func TestCustomPathsAndPrefix(t *testing.T) {
	e := newEnv(t, withConfig(func(c *Config) {
		c.BasePath = "/auth"
		c.SignOutPath = "/signed-out"
		c.CookiePrefix = "myapp"
	}))
	b := e.browser()
	form := map[string][]string{"csrfToken": {b.csrfAt("/auth/csrf")}}
	start := b.post("/auth/signin/oidc", form)
	if got := start.location(t).Query().Get("redirect_uri"); got != e.app.URL+"/auth/callback/oidc" {
		t.Errorf("redirect_uri = %q", got)
	}
	b.callback(b.toIdP(start))
	if b.cookie("myapp.session-token") == "" {
		t.Fatalf("no myapp.session-token; cookies %v", b.cookieNames())
	}
	if got := b.get("/auth/session").body; !strings.Contains(got, "Ada Lovelace") {
		t.Errorf("session = %s", got)
	}
	out := b.post("/auth/signout", map[string][]string{"csrfToken": {b.csrfAt("/auth/csrf")}})
	if got := out.location(t).Query().Get("post_logout_redirect_uri"); got != e.app.URL+"/signed-out" {
		t.Errorf("post_logout_redirect_uri = %q", got)
	}
	page := b.get(b.get(out.location(t).String()).location(t).String())
	if page.status != http.StatusOK || len(b.cookieNames()) != 0 {
		t.Errorf("post-logout: %d, cookies left %v", page.status, b.cookieNames())
	}
}

// TestOrigin: AUTH_URL wins; otherwise the request's host, and the
// forwarded headers only with TrustHost.
func TestOrigin(t *testing.T) {
	tests := []struct {
		name      string
		url       string
		trustHost bool
		host      string
		tls       bool
		header    []string
		want      string
		secure    bool
	}{
		{"request host", "", false, "app.test:3000", false, nil, "http://app.test:3000", false},
		{"request over TLS", "", false, "app.test", true, nil, "https://app.test", true},
		{"forwarded headers ignored", "", false, "app.test", false, []string{"X-Forwarded-Host", "evil.example", "X-Forwarded-Proto", "https"}, "http://app.test", false},
		{"forwarded headers trusted", "", true, "10.0.0.1:8080", false, []string{"X-Forwarded-Host", "app.example.com", "X-Forwarded-Proto", "https"}, "https://app.example.com", true},
		{"first forwarded value", "", true, "10.0.0.1", false, []string{"X-Forwarded-Host", "app.example.com, proxy.internal", "X-Forwarded-Proto", "https,http"}, "https://app.example.com", true},
		{"forwarded host that is not a host", "", true, "app.test", false, []string{"X-Forwarded-Host", "evil.example/path?x", "X-Forwarded-Proto", "javascript"}, "http://app.test", false},
		{"AUTH_URL wins over everything", "https://app.example.com/api/auth", true, "10.0.0.1", false, []string{"X-Forwarded-Host", "evil.example"}, "https://app.example.com", true},
		{"AUTH_URL http", "http://localhost:3000", false, "127.0.0.1:3000", true, nil, "http://localhost:3000", false},
		{"bad Host header", "", false, "evil.example/<script>", false, nil, "http://localhost", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			cfg.URL, cfg.TrustHost = tt.url, tt.trustHost
			a, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Host = tt.host
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for i := 0; i+1 < len(tt.header); i += 2 {
				r.Header.Set(tt.header[i], tt.header[i+1])
			}
			if got := a.origin(r); got != tt.want {
				t.Errorf("origin = %q, want %q", got, tt.want)
			}
			if got := a.secure(r); got != tt.secure {
				t.Errorf("secure = %v, want %v", got, tt.secure)
			}
		})
	}
}

func TestCheckIssuer(t *testing.T) {
	tests := []struct {
		issuer string
		ok     bool
	}{
		{"https://idp.example", true},
		{"https://idp.example/realms/app", true},
		{"http://localhost:8080", true},
		{"http://app.localhost", true},
		{"http://127.0.0.1:9000", true},
		{"http://127.8.9.10", true},
		{"http://[::1]:8080", true},
		{"http://idp.example", false},
		{"http://10.0.0.1", false},
		{"http://localhost.evil.example", false},
		{"ftp://idp.example", false},
		{"idp.example", false},
		{"https://", false},
		{"", false},
	}
	for _, tt := range tests {
		err := CheckIssuer(tt.issuer)
		if (err == nil) != tt.ok {
			t.Errorf("CheckIssuer(%q) = %v, want ok %v", tt.issuer, err, tt.ok)
		}
	}
}

func TestEnvName(t *testing.T) {
	for id, want := range map[string]string{
		"oidc": "AUTH_OIDC_", "asgardeo": "AUTH_ASGARDEO_", "microsoft-entra-id": "AUTH_MICROSOFT_ENTRA_ID_",
	} {
		if got := EnvName(id); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", id, got, want)
		}
	}
}

func TestErrorCodes(t *testing.T) {
	codes := []ErrorCode{
		CodeConfiguration, CodeAccessDenied, CodeVerification, CodeMissingCSRF, CodeOAuthSignin, CodeOAuthCallback,
		CodeCallback, CodeSessionRequired, CodeProviderUnavailable, CodeUnknownProvider, CodeUnknownAction,
	}
	status := map[ErrorCode]int{
		CodeConfiguration: 500, CodeAccessDenied: 403, CodeVerification: 403, CodeMissingCSRF: 403,
		CodeProviderUnavailable: 503, CodeUnknownProvider: 404, CodeUnknownAction: 404, CodeOAuthCallback: 400,
	}
	for _, c := range codes {
		if got := knownCode(string(c)); got != c {
			t.Errorf("knownCode(%q) = %q", c, got)
		}
		if c.Title() == "" || c.Message() == "" {
			t.Errorf("%s has no title or message", c)
		}
		if want, ok := status[c]; ok && c.Status() != want {
			t.Errorf("%s.Status() = %d, want %d", c, c.Status(), want)
		}
	}
	for _, s := range []string{"", "whatever", "<script>", "configuration"} {
		if got := knownCode(s); got != "Default" {
			t.Errorf("knownCode(%q) = %q, want Default", s, got)
		}
	}
	if got := codeOf(errTest); got != CodeConfiguration {
		t.Errorf("codeOf(plain error) = %q, want Configuration", got)
	}
	wrapped := &Error{Code: CodeVerification, Err: errTest}
	if got := codeOf(wrapped); got != CodeVerification {
		t.Errorf("codeOf = %q", got)
	}
	if !strings.Contains(wrapped.Error(), "test failure") || (&Error{Code: CodeVerification}).Error() != "auth: Verification" {
		t.Errorf("Error() = %q", wrapped.Error())
	}
}
