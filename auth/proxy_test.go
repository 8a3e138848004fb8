package auth

// Signet behind a TLS-terminating reverse proxy, as nginx runs it: the
// browser talks https to the proxy's public host, the app gets plain http
// with Host, X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-For.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// publicOrigin is where the proxy serves the app in these tests.
const publicOrigin = "https://app.example.com"

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// proxiedBrowser is a browser whose requests to app.example.com go to the
// app the way nginx forwards them (proxy_set_header Host $host,
// X-Forwarded-Proto $scheme, X-Forwarded-Host $host, X-Forwarded-For);
// requests to the IdP go straight to it.
func (e *env) proxiedBrowser() *browser {
	b := e.browser()
	app, err := url.Parse(e.app.URL)
	if err != nil {
		e.t.Fatal(err)
	}
	direct := &http.Transport{}
	e.t.Cleanup(direct.CloseIdleConnections)
	b.c.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host != "app.example.com" {
			return direct.RoundTrip(r)
		}
		out := r.Clone(r.Context())
		out.URL.Scheme, out.URL.Host = app.Scheme, app.Host
		out.Host = r.URL.Hostname()
		out.Header.Set("X-Forwarded-Proto", r.URL.Scheme)
		out.Header.Set("X-Forwarded-Host", r.URL.Host)
		out.Header.Set("X-Forwarded-For", "203.0.113.7")
		return direct.RoundTrip(out)
	})
	return b
}

// TestBehindTLSProxy signs in and out through the proxy. With TrustHost
// (AUTH_TRUST_HOST) the app's origin is the proxy's https one: redirect_uri,
// post_logout_redirect_uri and redirects use it, and every cookie is Secure
// with the __Secure-/__Host- prefix. Without it the forwarded headers are
// ignored: the origin is the Host header's, on http, and no cookie is
// Secure.
func TestBehindTLSProxy(t *testing.T) {
	for _, tt := range []struct {
		name      string
		trustHost bool
		origin    string // the app's origin as Signet sees it
		secure    bool
	}{
		{"AUTH_TRUST_HOST", true, publicOrigin, true},
		{"forwarded headers not trusted", false, "http://app.example.com", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, withConfig(func(c *Config) { c.TrustHost = tt.trustHost }))
			b := e.proxiedBrowser()
			p := ""
			if tt.secure {
				p = "__Secure-"
			}
			seen := map[string]bool{}
			checkCookies := func(r response) {
				t.Helper()
				for _, c := range r.cookies {
					checkAttributes(t, c, tt.secure)
					seen[c.Name] = true
				}
			}
			csrf := func() string {
				t.Helper()
				r := b.get(publicOrigin + "/api/auth/csrf")
				checkCookies(r)
				var v struct {
					CSRFToken string `json:"csrfToken"`
				}
				if err := json.Unmarshal([]byte(r.body), &v); err != nil || v.CSRFToken == "" {
					t.Fatalf("csrf: %d %q", r.status, r.body)
				}
				return v.CSRFToken
			}

			start := b.post(publicOrigin+"/api/auth/signin/oidc", url.Values{"csrfToken": {csrf()}, "callbackUrl": {"/profile"}})
			checkCookies(start)
			if got, want := start.location(t).Query().Get("redirect_uri"), tt.origin+"/api/auth/callback/oidc"; got != want {
				t.Errorf("redirect_uri = %q, want %q", got, want)
			}
			fromIdP := b.toIdP(start)
			cb := fromIdP.location(t)
			if tt.origin != publicOrigin {
				// The IdP sends the browser where the app said: the app's own
				// idea of its origin. The proxy serves it on https anyway.
				cb.Scheme = "https"
			}
			back := b.get(cb.String())
			if back.status != http.StatusFound {
				t.Fatalf("callback: %d %.300s; log:\n%s", back.status, back.body, e.logs.String())
			}
			checkCookies(back)
			if got, want := back.location(t).String(), tt.origin+"/profile"; got != want {
				t.Errorf("after sign-in the browser goes to %q, want %q", got, want)
			}
			if back.setCookie(p+"signet.session-token") == nil {
				t.Fatalf("no %ssignet.session-token; cookies %v", p, back.cookies)
			}
			if r := b.get(publicOrigin + "/profile"); r.status != http.StatusOK || !strings.Contains(r.body, "Ada") {
				t.Errorf("GET /profile through the proxy: %d %.200q", r.status, r.body)
			}
			var info map[string]ProviderInfo
			if err := json.Unmarshal([]byte(b.get(publicOrigin+"/api/auth/providers").body), &info); err != nil {
				t.Fatal(err)
			}
			if got, want := info["oidc"].CallbackURL, tt.origin+"/api/auth/callback/oidc"; got != want {
				t.Errorf("providers callbackUrl = %q, want %q", got, want)
			}

			out := b.post(publicOrigin+"/api/auth/signout", url.Values{"csrfToken": {csrf()}})
			checkCookies(out)
			if got, want := out.location(t).Query().Get("post_logout_redirect_uri"), tt.origin+"/auth/sign-out"; got != want {
				t.Errorf("post_logout_redirect_uri = %q, want %q", got, want)
			}
			if s := b.get(publicOrigin + "/api/auth/session"); s.body != "null" {
				t.Errorf("session after sign-out = %s", s.body)
			}
			csrfName := "signet.csrf-token"
			if tt.secure {
				csrfName = "__Host-" + csrfName
			}
			for _, name := range []string{csrfName, p + "signet.state", p + "signet.pkce.code_verifier", p + "signet.session-token", p + "signet.logout-state"} {
				if !seen[name] {
					t.Errorf("never saw a Set-Cookie for %s (saw %v)", name, seen)
				}
			}
		})
	}
}
