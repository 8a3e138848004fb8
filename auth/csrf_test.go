package auth

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

func TestCSRFEndpoint(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	r := b.get("/api/auth/csrf")
	if got, want := r.status, http.StatusOK; got != want {
		t.Fatalf("status %d, want %d", got, want)
	}
	m := regexp.MustCompile(`^\{"csrfToken":"([0-9a-f]{64})"\}$`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf(`body = %s, want {"csrfToken":"<64 hex>"}`, r.body)
	}
	token := m[1]
	if got, want := r.header.Get("Cache-Control"), "no-store"; got != want {
		t.Errorf("Cache-Control = %q, want %q", got, want)
	}
	c := r.setCookie("signet.csrf-token")
	if c == nil {
		t.Fatal("no CSRF cookie set")
	}
	checkAttributes(t, c, false)
	tok, mac, ok := strings.Cut(c.Value, "|")
	if !ok || tok != token || !hex64.MatchString(mac) {
		t.Errorf("cookie = %q, want %q|<hmac hex>", c.Value, token)
	}
	if !c.Expires.IsZero() || c.MaxAge != 0 {
		t.Errorf("CSRF cookie lasts %v/%d, want a browser-session cookie", c.Expires, c.MaxAge)
	}

	// The same browser keeps its token; no new cookie.
	again := b.get("/api/auth/csrf")
	if !strings.Contains(again.body, token) {
		t.Errorf("second call gave %s, want the same token", again.body)
	}
	if again.setCookie("signet.csrf-token") != nil {
		t.Error("second call set the cookie again")
	}
	// Another browser gets another token.
	if other := e.browser().csrf(); other == token {
		t.Error("two browsers share a CSRF token")
	}
	// A forged cookie (a token of one's choosing with a bad MAC) is replaced.
	forged := e.browser()
	forged.setCookie("signet.csrf-token", strings.Repeat("a", 64)+"|"+strings.Repeat("0", 64))
	if got := forged.csrf(); got == strings.Repeat("a", 64) {
		t.Error("a forged CSRF cookie was accepted")
	}
}

func TestCSRFTokenHelper(t *testing.T) {
	e := newEnv(t, func(s *setup) { s.noServer = true })
	req := httptest.NewRequest(http.MethodGet, "http://app.test/page", nil)
	w := httptest.NewRecorder()
	t1 := e.auth.CSRFToken(w, req)
	t2 := e.auth.CSRFToken(w, req) // later reads in the same request see the new cookie
	if !hex64.MatchString(t1) || t1 != t2 {
		t.Errorf("CSRFToken = %q then %q, want one 64-hex token", t1, t2)
	}
	if got := len(w.Result().Cookies()); got != 1 {
		t.Errorf("%d cookies set, want 1", got)
	}
}

// TestCSRFRequired: a POST to signin or signout without a valid token, or
// from another site, changes nothing and ends on the MissingCSRF page.
func TestCSRFRequired(t *testing.T) {
	type req struct {
		form   url.Values
		header []string
	}
	tests := []struct {
		name string
		// make builds the POST for browser b, whose valid token is token.
		make func(e *env, b *browser, token string) req
		ok   bool
	}{
		{"valid token", func(e *env, b *browser, token string) req {
			return req{form: url.Values{"csrfToken": {token}}}
		}, true},
		{"valid token, same-origin fetch metadata", func(e *env, b *browser, token string) req {
			return req{form: url.Values{"csrfToken": {token}}, header: []string{"Sec-Fetch-Site", "same-origin"}}
		}, true},
		{"valid token, Origin of the app", func(e *env, b *browser, token string) req {
			return req{form: url.Values{"csrfToken": {token}}, header: []string{"Origin", e.app.URL}}
		}, true},
		{"no token", func(e *env, b *browser, token string) req {
			return req{form: url.Values{}}
		}, false},
		{"empty token", func(e *env, b *browser, token string) req {
			return req{form: url.Values{"csrfToken": {""}}}
		}, false},
		{"wrong token", func(e *env, b *browser, token string) req {
			return req{form: url.Values{"csrfToken": {strings.Repeat("0", 64)}}}
		}, false},
		{"token with a suffix", func(e *env, b *browser, token string) req {
			return req{form: url.Values{"csrfToken": {token + "0"}}}
		}, false},
		{"another browser's token", func(e *env, b *browser, token string) req {
			return req{form: url.Values{"csrfToken": {e.browser().csrf()}}}
		}, false},
		{"token in the query, not the form", func(e *env, b *browser, token string) req {
			return req{form: url.Values{"csrfToken": {token}}, header: []string{"X-Query-Token", "1"}}
		}, false},
		{"no CSRF cookie", func(e *env, b *browser, token string) req {
			b.setCookie("signet.csrf-token", "")
			return req{form: url.Values{"csrfToken": {token}}}
		}, false},
		{"cookie with a forged MAC", func(e *env, b *browser, token string) req {
			b.setCookie("signet.csrf-token", token+"|"+strings.Repeat("0", 64))
			return req{form: url.Values{"csrfToken": {token}}}
		}, false},
		{"cookie without a MAC", func(e *env, b *browser, token string) req {
			b.setCookie("signet.csrf-token", token)
			return req{form: url.Values{"csrfToken": {token}}}
		}, false},
		{"cross-site fetch metadata", func(e *env, b *browser, token string) req {
			return req{form: url.Values{"csrfToken": {token}}, header: []string{"Sec-Fetch-Site", "cross-site"}}
		}, false},
		{"same-site (sibling subdomain) fetch metadata", func(e *env, b *browser, token string) req {
			return req{form: url.Values{"csrfToken": {token}}, header: []string{"Sec-Fetch-Site", "same-site"}}
		}, false},
		{"Origin of another site", func(e *env, b *browser, token string) req {
			return req{form: url.Values{"csrfToken": {token}}, header: []string{"Origin", "https://evil.example"}}
		}, false},
		{"Origin null", func(e *env, b *browser, token string) req {
			return req{form: url.Values{"csrfToken": {token}}, header: []string{"Origin", "null"}}
		}, false},
	}
	for _, action := range []string{"signin/oidc", "signout"} {
		for _, tt := range tests {
			t.Run(action+"/"+tt.name, func(t *testing.T) {
				e := newEnv(t)
				b := e.browser()
				b.signIn()
				before := b.cookie("signet.session-token")
				token := b.csrf()
				rq := tt.make(e, b, token)
				path := "/api/auth/" + action
				if len(rq.header) == 2 && rq.header[0] == "X-Query-Token" {
					path += "?csrfToken=" + token
					rq.form = url.Values{}
					rq.header = nil
				}
				r := b.post(path, rq.form, rq.header...)
				if tt.ok {
					if r.status != http.StatusSeeOther || strings.Contains(r.header.Get("Location"), "/api/auth/error") {
						t.Fatalf("refused a valid POST: %d %s; log:\n%s", r.status, r.header.Get("Location"), e.logs.String())
					}
					return
				}
				b.wantErrorPage(t, r, CodeMissingCSRF)
				e.wantLog(t, "code=MissingCSRF")
				// Nothing changed: still signed in with the same cookie,
				// and no sign-in or sign-out was started.
				if got := b.cookie("signet.session-token"); got != before {
					t.Error("the session cookie changed")
				}
				if b.session() == nil {
					t.Error("signed out by a POST without a valid CSRF token")
				}
				for _, n := range []string{"signet.state", "signet.logout-state"} {
					if b.cookie(n) != "" {
						t.Errorf("%s set by a refused POST", n)
					}
				}
				if got := len(e.idp.Logouts()); got != 0 {
					t.Errorf("IdP logout called %d times", got)
				}
			})
		}
	}
}

// TestCSRFCrossOriginWithoutFetchMetadata: old browsers send neither
// Sec-Fetch-Site nor, sometimes, Origin; the double-submit token still
// guards them.
func TestCSRFCrossOriginWithoutFetchMetadata(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	r := b.post("/api/auth/signout", url.Values{"csrfToken": {"guess"}})
	b.wantErrorPage(t, r, CodeMissingCSRF)
	if b.session() == nil {
		t.Error("signed out")
	}
}

// A stale CSRF cookie (for example keyed by a secret that has since
// changed) is replaced once per request: a page that asks for the token
// twice gets the same token both times.
func TestCSRFTokenStaleCookieReplacedOnce(t *testing.T) {
	a := newEnv(t).auth
	r := httptest.NewRequest("GET", "http://app.test/", nil)
	r.AddCookie(&http.Cookie{Name: "signet.csrf-token", Value: strings.Repeat("a", 64) + "|00"})
	w := httptest.NewRecorder()
	first := a.CSRFToken(w, r)
	second := a.CSRFToken(w, r)
	if first != second {
		t.Errorf("second token = %q, want the first %q", second, first)
	}
	if got := len(w.Result().Cookies()); got != 1 {
		t.Errorf("set %d cookies, want 1", got)
	}
}
