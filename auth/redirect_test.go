package auth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestSameOrigin(t *testing.T) {
	base, _ := url.Parse("https://app.example.com")
	const o = "https://app.example.com"
	tests := []struct {
		target string
		want   string // "" means refused
	}{
		{"/", o + "/"},
		{"/profile", o + "/profile"},
		{"/profile?tab=1&x=%2F", o + "/profile?tab=1&x=%2F"},
		{"/profile#section", o + "/profile#section"},
		{"/a/../b", o + "/a/../b"},
		{"/%2F%2Fevil.example", o + "/%2F%2Fevil.example"},
		{"/.//evil.example", o + "/.//evil.example"},
		{o, o + "/"},
		{o + "/profile?x=1", o + "/profile?x=1"},
		{"HTTPS://APP.EXAMPLE.COM/profile", o + "/profile"},
		{o + "//evil.example/x", ""}, // its path alone would read as another host

		{"", ""},
		{"profile", ""},
		{"?x=1", ""},
		{"#x", ""},
		{"//evil.example", ""},
		{"//evil.example/path", ""},
		{"///evil.example", ""},
		{`/\evil.example`, ""},
		{`\/evil.example`, ""},
		{`\\evil.example`, ""},
		{`/\/evil.example`, ""},
		{"/\t/evil.example", ""},
		{"/\n/evil.example", ""},
		{"/pro\rfile", ""},
		{"/\x00", ""},
		{"/\x7f", ""},
		{"javascript:alert(1)", ""},
		{"JaVaScRiPt:alert(1)", ""},
		{" javascript:alert(1)", ""},
		{"data:text/html,<script>alert(1)</script>", ""},
		{"vbscript:msgbox(1)", ""},
		{"https://evil.example/", ""},
		{"https://evil.example/?next=https://app.example.com", ""},
		{"http://app.example.com/", ""},
		{"https://app.example.com:8443/", ""},
		{"https://app.example.com.evil.example/", ""},
		{"https://app.example.com@evil.example/", ""},
		{"https://user:pass@app.example.com/", ""},
		{"https:app.example.com/x", ""},
		{"https:/evil.example", ""},
		{"ftp://app.example.com/", ""},
		{"/" + strings.Repeat("a", 2048), ""},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			got, ok := sameOrigin(tt.target, base)
			if tt.want == "" {
				if ok {
					t.Errorf("sameOrigin(%q) = %q, want refused", tt.target, got)
				}
				return
			}
			if !ok || got != tt.want {
				t.Errorf("sameOrigin(%q) = %q, %v; want %q", tt.target, got, ok, tt.want)
			}
		})
	}
}

func TestDefaultRedirect(t *testing.T) {
	tests := []struct {
		url, base, want string
	}{
		{"/profile", "http://127.0.0.1:3000", "http://127.0.0.1:3000/profile"},
		{"http://127.0.0.1:3000/x", "http://127.0.0.1:3000", "http://127.0.0.1:3000/x"},
		{"//evil.example", "http://127.0.0.1:3000", "http://127.0.0.1:3000/"},
		{"https://evil.example", "http://127.0.0.1:3000", "http://127.0.0.1:3000/"},
		{"/x", "::bad base", "/"},
	}
	for _, tt := range tests {
		if got := DefaultRedirect(RedirectParams{URL: tt.url, BaseURL: tt.base}); got != tt.want {
			t.Errorf("DefaultRedirect(%q, %q) = %q, want %q", tt.url, tt.base, got, tt.want)
		}
	}
}

func TestRelativeTo(t *testing.T) {
	const o = "https://app.example.com"
	tests := []struct {
		u, want string
	}{
		{o + "/", "/"},
		{o + "/profile?x=1#f", "/profile?x=1#f"},
		{o, "/"},
		{"https://evil.example/x", "/"},
		{o + ".evil.example/x", "/"},
		{o + "//evil.example/x", "/"},
		{o + `/\evil.example`, "/"},
	}
	for _, tt := range tests {
		if got := relativeTo(tt.u, o); got != tt.want {
			t.Errorf("relativeTo(%q) = %q, want %q", tt.u, got, tt.want)
		}
	}
}

// hostile are callbackUrl values that must never take the browser off the
// app's origin.
var hostile = []string{
	"https://evil.example/",
	"//evil.example",
	"//evil.example/profile",
	`/\evil.example`,
	`\\evil.example`,
	"/\t/evil.example",
	"javascript:alert(1)",
	"data:text/html,hi",
	"https://evil.example@APP/",
	"http://APP.evil.example/",
	"APP//evil.example/x", // same origin, protocol-relative path
}

func hostileFor(e *env) []string {
	var out []string
	for _, h := range hostile {
		h = strings.ReplaceAll(h, "http://APP", e.app.URL)
		h = strings.ReplaceAll(h, "APP/", strings.TrimPrefix(e.app.URL, "http://")+"/")
		if strings.HasPrefix(h, strings.TrimPrefix(e.app.URL, "http://")) {
			h = "http://" + h
		}
		out = append(out, h)
	}
	return out
}

// offOrigin reports whether a browser at the app's origin that follows
// target (a Location, a meta refresh or an href) would leave it.
func offOrigin(appURL, target string) bool {
	target = strings.TrimSpace(target)
	// Browsers drop tabs and newlines and read backslashes as slashes.
	target = strings.NewReplacer("\t", "", "\n", "", "\r", "", `\`, "/").Replace(target)
	base, _ := url.Parse(appURL)
	u, err := url.Parse(target)
	if err != nil {
		return true
	}
	r := base.ResolveReference(u)
	return r.Scheme != base.Scheme || r.Host != base.Host
}

func TestSignInCallbackURLStaysOnOrigin(t *testing.T) {
	e := newEnv(t)
	for _, target := range hostileFor(e) {
		t.Run(target, func(t *testing.T) {
			b := e.browser()
			cb := b.signInWith("oidc", target)
			l := cb.header.Get("Location")
			if offOrigin(e.app.URL, l) {
				t.Errorf("callbackUrl %q sent the browser to %q", target, l)
			}
			// The sign-in page's hidden field stays on the origin too.
			page := b.get("/api/auth/signin?callbackUrl=" + url.QueryEscape(target))
			m := regexp.MustCompile(`name="callbackUrl" value="([^"]*)"`).FindStringSubmatch(page.body)
			if m == nil || offOrigin(e.app.URL, htmlUnescape(m[1])) {
				t.Errorf("sign-in page callbackUrl field = %v", m)
			}
			// redirectTo (Auth.js v5's name) is held to the same rule.
			start := b.post("/api/auth/signin/oidc", url.Values{"csrfToken": {b.csrf()}, "redirectTo": {target}})
			cb = b.callback(b.toIdP(start))
			if l := cb.header.Get("Location"); offOrigin(e.app.URL, l) {
				t.Errorf("redirectTo %q sent the browser to %q", target, l)
			}
		})
	}
	t.Run("same origin kept", func(t *testing.T) {
		for _, target := range []string{"/profile?tab=2", e.app.URL + "/profile?tab=2"} {
			cb := e.browser().signInWith("oidc", target)
			if got, want := cb.header.Get("Location"), e.app.URL+"/profile?tab=2"; got != want {
				t.Errorf("callbackUrl %q landed on %q, want %q", target, got, want)
			}
		}
	})
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">", "&#43;", "+").Replace(s)
}

// TestSignOutCallbackURLStaysOnOrigin: the post-logout page sends the
// browser home (its Continue link) and never off the origin.
func TestSignOutCallbackURLStaysOnOrigin(t *testing.T) {
	e := newEnv(t)
	homeOf := func(body string) string {
		m := regexp.MustCompile(`<a href="([^"]*)">Continue</a>`).FindStringSubmatch(body)
		if m == nil {
			return ""
		}
		return htmlUnescape(m[1])
	}
	for _, target := range append(hostileFor(e), "/profile?x=1") {
		t.Run(target, func(t *testing.T) {
			b := e.browser()
			b.signIn()
			out := b.post("/api/auth/signout", url.Values{"csrfToken": {b.csrf()}, "callbackUrl": {target}})
			back := b.get(out.location(t).String()) // the IdP's end_session
			page := b.get(back.location(t).String())
			if page.status != http.StatusOK {
				t.Fatalf("post-logout page: %d", page.status)
			}
			home := homeOf(page.body)
			if home == "" {
				t.Fatalf("no Continue link in %s", page.body)
			}
			if offOrigin(e.app.URL, home) {
				t.Errorf("sign-out callbackUrl %q ends at %q, off the origin", target, home)
			}
			if target == "/profile?x=1" && home != "/profile?x=1" {
				t.Errorf("same-origin callbackUrl lost: home = %q", home)
			}
		})
	}
}

func TestRedirectCallback(t *testing.T) {
	var calls []RedirectParams
	e := newEnv(t, withConfig(func(c *Config) {
		c.Callbacks.Redirect = func(_ context.Context, p RedirectParams) (string, error) {
			calls = append(calls, p)
			switch p.URL {
			case "https://partner.example/welcome": // its own answer, at the callback
				return p.URL, nil
			case "/fail":
				return "", errors.New("boom")
			case "/partner":
				return "https://partner.example/welcome", nil
			case "/long":
				return "https://partner.example/" + strings.Repeat("a", 3000), nil
			}
			return DefaultRedirect(p), nil
		}
	}))
	tests := []struct {
		target, want string
	}{
		{"/profile", e.app.URL + "/profile"},
		{"/fail", e.app.URL + "/"},
		{"/partner", "https://partner.example/welcome"},    // the app's own choice
		{"/long", e.app.URL + "/"},                         // the callback's answer over the bound
		{"/" + strings.Repeat("a", 3000), e.app.URL + "/"}, // the target over the bound
	}
	for _, tt := range tests {
		cb := e.browser().signInWith("oidc", tt.target)
		if got := cb.header.Get("Location"); got != tt.want {
			t.Errorf("callbackUrl %q landed on %q, want %q", tt.target, got, tt.want)
		}
	}
	if len(calls) == 0 || calls[0].BaseURL != e.app.URL {
		t.Errorf("Redirect got %+v, want BaseURL %q", calls, e.app.URL)
	}
	e.wantLog(t, "redirect callback failed", "redirect callback returned a URL longer than the bound")
}
