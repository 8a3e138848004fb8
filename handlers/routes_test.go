package handlers

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/signet-auth/signet/static"
)

// route is one row of the route table tests.
type route struct {
	name    string
	method  string
	path    string
	headers map[string]string
	status  int
	ctype   string // Content-Type prefix; "" for no check
	body    []string
	noBody  []string
	header  map[string]string // exact header values; "" means absent
	noStore bool
	vary    bool   // Vary contains HX-Request
	csp     string // "app": the app's CSP and X-Frame-Options; "none": neither; "auth": the auth handler's own
}

func checkRoute(t *testing.T, tc route, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != tc.status {
		t.Errorf("status = %d, want %d\n%s", resp.StatusCode, tc.status, body)
	}
	if ct := resp.Header.Get("Content-Type"); tc.ctype != "" && !strings.HasPrefix(ct, tc.ctype) {
		t.Errorf("Content-Type = %q, want %q", ct, tc.ctype)
	}
	for _, want := range tc.body {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
	for _, bad := range tc.noBody {
		if strings.Contains(body, bad) {
			t.Errorf("body contains %q", bad)
		}
	}
	if containsJWT(body) {
		t.Errorf("body carries a JWT:\n%s", body)
	}
	for k, want := range tc.header {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if tc.noStore && resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", resp.Header.Get("Cache-Control"))
	}
	if got := strings.Join(resp.Header.Values("Vary"), ","); tc.vary != strings.Contains(got, "HX-Request") {
		t.Errorf("Vary = %q, want HX-Request: %v", got, tc.vary)
	}
	if strings.Count(strings.Join(resp.Header.Values("Vary"), ","), "HX-Request") > 1 {
		t.Errorf("Vary names HX-Request twice: %q", resp.Header.Values("Vary"))
	}
	checkSecurityHeaders(t, resp, tc.csp)
}

// containsJWT reports whether s holds a JWT by its shape, not by a
// substring such as "eyJ" (which a random CSRF token or nonce can
// contain): a run of base64url characters and dots of three segments (a
// JWS) or five (a JWE) whose first segment decodes to a JSON object with
// an "alg" member.
func containsJWT(s string) bool {
	runs := strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	})
	for _, run := range runs {
		segs := strings.Split(run, ".")
		if len(segs) != 3 && len(segs) != 5 {
			continue
		}
		header, err := base64.RawURLEncoding.DecodeString(segs[0])
		if err != nil {
			continue
		}
		var h map[string]any
		if json.Unmarshal(header, &h) == nil && h["alg"] != nil {
			return true
		}
	}
	return false
}

func TestContainsJWT(t *testing.T) {
	for s, want := range map[string]bool{
		`<p>eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln</p>`: true,
		`{"t":"eyJhbGciOiJub25lIn0.e30."}`:                 true,
		`<input value="Qm9eyJxZ3RwLk9hPq">`:                false, // a random token with "eyJ" in it
		`eyJ4IjoxfQ.e30.c2ln`:                              false, // JSON header without alg
		`/static/app.min.js`:                               false,
	} {
		if got := containsJWT(s); got != want {
			t.Errorf("containsJWT(%q) = %v, want %v", s, got, want)
		}
	}
}

// checkSecurityHeaders checks the headers securityHeaders sets; mode is
// "app" (the app's CSP and frame protection), "auth" (the auth handler's
// own CSP, no X-Frame-Options) or "none" (no CSP from the app).
func checkSecurityHeaders(t *testing.T, resp *http.Response, mode string) {
	t.Helper()
	h := resp.Header
	if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
	}
	if got := h.Get("Referrer-Policy"); got != "strict-origin-when-cross-origin" {
		t.Errorf("Referrer-Policy = %q", got)
	}
	csp := h.Get("Content-Security-Policy")
	switch mode {
	case "app":
		if csp != contentSecurityPolicy {
			t.Errorf("Content-Security-Policy = %q, want the app's", csp)
		}
		for _, bad := range []string{"unsafe-inline", "unsafe-eval", "form-action"} {
			if strings.Contains(csp, bad) {
				t.Errorf("CSP contains %s: %q", bad, csp)
			}
		}
		if got := h.Get("X-Frame-Options"); got != "DENY" {
			t.Errorf("X-Frame-Options = %q, want DENY", got)
		}
	case "auth":
		if csp == contentSecurityPolicy || !strings.Contains(csp, "frame-ancestors 'self'") {
			t.Errorf("Content-Security-Policy = %q, want the front-channel receiver's own", csp)
		}
		if got := h.Get("X-Frame-Options"); got != "" {
			t.Errorf("X-Frame-Options = %q on a page the IdP frames", got)
		}
	case "none":
		if csp != "" {
			t.Errorf("Content-Security-Policy = %q, want none", csp)
		}
	}
}

func TestRoutesSignedOut(t *testing.T) {
	t.Parallel()
	dev := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("dev idp at " + r.URL.Path))
	})
	app := newTestApp(t, testAppOptions{devIdP: dev, devUsers: []DevUser{{"ada", "lovelace", "Ada Lovelace"}}})
	css := static.New().URL(static.CSS)
	htmx := map[string]string{"HX-Request": "true", "HX-Current-URL": app.srv.URL + "/profile"}
	for _, tc := range []route{
		{name: "home", method: "GET", path: "/", status: 200, ctype: "text/html", noStore: true, csp: "app",
			body:   []string{`<button id="sign-in"`, `action="` + app.srv.URL + `/api/auth/signin/test"`, `name="csrfToken"`, `name="callbackUrl" value="/"`, `id="dev-idp-banner"`, "lovelace", `id="nav-sign-in"`, css},
			noBody: []string{`id="welcome"`}},
		{name: "home HEAD", method: "HEAD", path: "/", status: 200, ctype: "text/html", noStore: true, csp: "app"},
		{name: "profile redirects a browser to sign in", method: "GET", path: "/profile", status: 302, noStore: true, vary: true, csp: "app",
			header: map[string]string{"Location": "/api/auth/signin?callbackUrl=%2Fprofile", "HX-Redirect": ""}},
		{name: "profile for htmx gets HX-Redirect", method: "GET", path: "/profile", headers: htmx, status: 200, noStore: true, vary: true, csp: "app",
			header: map[string]string{"HX-Redirect": "/api/auth/signin?callbackUrl=%2Fprofile", "Location": ""}},
		{name: "nav fragment", method: "GET", path: "/fragments/nav", headers: htmx, status: 200, ctype: "text/html", noStore: true, vary: true, csp: "app",
			body: []string{`<nav id="nav"`, `id="nav-sign-in"`, `name="callbackUrl" value="/profile"`}, noBody: []string{"<html", `id="nav-profile"`}},
		{name: "home fragment", method: "GET", path: "/fragments/home", headers: htmx, status: 200, ctype: "text/html", noStore: true, vary: true, csp: "app",
			body: []string{`id="home-panel"`, `data-state="signed-out"`, `<button id="sign-in"`, "dev-idp-banner"}, noBody: []string{"<html"}},
		{name: "home fragment without htmx", method: "GET", path: "/fragments/home", status: 200, ctype: "text/html", noStore: true, vary: true, csp: "app",
			body: []string{`id="home-panel"`}},
		{name: "profile fragment for htmx gets HX-Redirect", method: "GET", path: "/fragments/profile", headers: htmx, status: 200, noStore: true, vary: true, csp: "app",
			header: map[string]string{"HX-Redirect": "/api/auth/signin?callbackUrl=%2Fprofile", "Location": ""}},
		{name: "profile fragment for a browser redirects", method: "GET", path: "/fragments/profile", status: 302, noStore: true, vary: true, csp: "app",
			header: map[string]string{"Location": "/api/auth/signin?callbackUrl=%2Ffragments%2Fprofile"}},
		{name: "sign-in page", method: "GET", path: "/api/auth/signin?callbackUrl=%2Fprofile", status: 200, ctype: "text/html", noStore: true, csp: "app",
			body: []string{`data-provider="test"`, "Sign in with Test IdP", `name="callbackUrl" value="/profile"`, `id="dev-idp-banner"`, css}, noBody: []string{`id="error-code"`}},
		{name: "sign-in page with an error", method: "GET", path: "/api/auth/signin?error=OAuthCallbackError", status: 200, ctype: "text/html", noStore: true, csp: "app",
			body: []string{`id="error-code"`, `data-code="OAuthCallbackError"`}},
		{name: "sign-out page, signed out", method: "GET", path: "/api/auth/signout", status: 200, ctype: "text/html", noStore: true, csp: "app",
			body: []string{`<h1 id="signed-out"`, "You’re signed out", `id="continue"`}, noBody: []string{`<button id="sign-out"`, "Are you sure"}},
		{name: "favicon", method: "GET", path: "/favicon.ico", status: 200, ctype: "image/svg+xml", csp: "app", body: []string{"<svg"}},
		{name: "error page", method: "GET", path: "/api/auth/error?error=Verification", status: 403, ctype: "text/html", noStore: true, csp: "app",
			body: []string{`<code id="error-code">Verification</code>`, `href="/api/auth/signin"`, css}},
		{name: "session JSON", method: "GET", path: "/api/auth/session", status: 200, ctype: "application/json", noStore: true, csp: "app",
			body: []string{"null"}},
		{name: "post-logout page", method: "GET", path: "/auth/sign-out", status: 200, ctype: "text/html", noStore: true, csp: "app",
			body: []string{`id="signing-out"`, `id="continue"`}, noBody: []string{`http-equiv="refresh"`}},
		{name: "front-channel logout without iss and sid is refused with the auth handler's CSP", method: "GET", path: "/api/auth/frontchannel-logout", status: 400, noStore: true, csp: "auth"},
		{name: "dev IdP mounted with its prefix", method: "GET", path: "/dev-idp/authorize", status: 200, ctype: "text/plain", csp: "none",
			body: []string{"dev idp at /dev-idp/authorize"}, header: map[string]string{"X-Frame-Options": "DENY"}},
		{name: "static file", method: "GET", path: css, status: 200, ctype: "text/css", csp: "app",
			header: map[string]string{"Cache-Control": "public, max-age=31536000, immutable"}},
		{name: "health", method: "GET", path: "/healthz", status: 200, ctype: "text/plain", noStore: true, csp: "app", body: []string{"ok"}},
		{name: "unknown path", method: "GET", path: "/nope", status: 404, ctype: "text/html", noStore: true, csp: "app",
			body: []string{`id="not-found"`, "Page not found", `<nav id="nav"`}},
		{name: "unknown static file", method: "GET", path: "/static/nope.css", status: 404, ctype: "text/html", noStore: true, csp: "app",
			body: []string{`id="not-found"`}},
		{name: "POST to a page", method: "POST", path: "/profile", status: 405, ctype: "text/plain", noStore: true, csp: "app",
			header: map[string]string{"Allow": "GET, HEAD"}},
		{name: "DELETE home", method: "DELETE", path: "/", status: 405, noStore: true, csp: "app", header: map[string]string{"Allow": "GET, HEAD"}},
		{name: "POST a static file", method: "POST", path: css, status: 405, noStore: true, csp: "app", header: map[string]string{"Allow": "GET, HEAD"}},
		{name: "POST the post-logout page", method: "POST", path: "/auth/sign-out", status: 405, noStore: true, csp: "app", header: map[string]string{"Allow": "GET, HEAD"}},
		{name: "POST the sign-in page", method: "POST", path: "/api/auth/signin", status: 405, noStore: true, csp: "app", header: map[string]string{"Allow": "GET, HEAD"}},
		{name: "GET the back-channel receiver", method: "GET", path: "/api/auth/backchannel-logout", status: 405, noStore: true, csp: "app", header: map[string]string{"Allow": "POST"}},
		{name: "POST an unknown path", method: "POST", path: "/nope", status: 404, ctype: "text/html", noStore: true, csp: "app", header: map[string]string{"Allow": ""}},
		{name: "unknown auth action", method: "GET", path: "/api/auth/nope", status: 404, ctype: "text/html", noStore: true, csp: "app",
			body: []string{`id="error-code">UnknownAction<`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := app.do(app.browser(), tc.method, tc.path, tc.headers, nil)
			checkRoute(t, tc, resp, body)
		})
	}
}

func TestRoutesSignedIn(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testAppOptions{})
	c := app.browser()
	app.signIn(c)
	_, sessionJSON := app.get(c, "/api/auth/session", nil)
	var indented bytes.Buffer
	if err := json.Indent(&indented, []byte(sessionJSON), "", "  "); err != nil || sessionJSON == "null" {
		t.Fatalf("session = %s (%v)", sessionJSON, err)
	}
	htmx := map[string]string{"HX-Request": "true", "HX-Current-URL": app.srv.URL + "/"}
	for _, tc := range []route{
		{name: "home", method: "GET", path: "/", status: 200, ctype: "text/html", noStore: true, csp: "app",
			body: []string{`<h1 id="welcome" class="welcome-title">Welcome, Ada Lovelace</h1>`, `id="session-json"`,
				`id="nav-profile"`, `<button id="nav-sign-out"`, `action="/api/auth/signout"`, "ada@example.com"},
			noBody: []string{`id="sign-in"`, "dev-idp-banner", `<button id="sign-out"`}},
		{name: "profile", method: "GET", path: "/profile", status: 200, ctype: "text/html", noStore: true, vary: true, csp: "app",
			body: []string{`<dd id="profile-email">ada@example.com</dd>`, `<dd id="profile-given-name">Ada</dd>`,
				`<dd id="profile-family-name">Lovelace</dd>`, `<button id="sign-out"`, `name="csrfToken"`}},
		{name: "nav fragment", method: "GET", path: "/fragments/nav", headers: htmx, status: 200, ctype: "text/html", noStore: true, vary: true, csp: "app",
			body: []string{`id="nav-profile"`, "Ada Lovelace", `<button id="nav-sign-out"`}, noBody: []string{"<html"}},
		{name: "home fragment", method: "GET", path: "/fragments/home", headers: htmx, status: 200, ctype: "text/html", noStore: true, vary: true, csp: "app",
			body: []string{`data-state="signed-in"`, `id="welcome"`, `id="session-json"`}, noBody: []string{"<html"}},
		{name: "profile fragment", method: "GET", path: "/fragments/profile", headers: htmx, status: 200, ctype: "text/html", noStore: true, vary: true, csp: "app",
			body: []string{`id="profile-card"`, `<dd id="profile-given-name">Ada</dd>`}, noBody: []string{"<html"}},
		{name: "error page shows the user", method: "GET", path: "/api/auth/error?error=AccessDenied", status: 403, ctype: "text/html", noStore: true, csp: "app",
			body: []string{`id="error-code">AccessDenied<`, "Ada Lovelace", `id="nav-sign-out"`, `href="/api/auth/signout"`}},
		{name: "404 shows the user", method: "GET", path: "/nope", status: 404, ctype: "text/html", noStore: true, csp: "app",
			body: []string{`id="nav-profile"`, `<button id="nav-sign-out"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := app.do(c, tc.method, tc.path, tc.headers, nil)
			checkRoute(t, tc, resp, body)
		})
	}

	t.Run("session JSON on home is /api/auth/session's, indented", func(t *testing.T) {
		_, body := app.get(c, "/", nil)
		want := `<pre id="session-json" class="code-block" tabindex="0">` + htmlEscape(indented.String()) + `</pre>`
		if !strings.Contains(body, want) {
			t.Errorf("home lacks\n%s\nin\n%s", want, body)
		}
	})
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// TestProtectedRoutes: a signed-out browser is redirected to sign in and
// back; an htmx request gets 200 and HX-Redirect, never a redirect htmx
// would swap into the page.
func TestProtectedRoutes(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testAppOptions{})
	for _, tc := range []struct {
		name, path           string
		headers              map[string]string
		status               int
		location, hxRedirect string
	}{
		{"browser, page", "/profile", nil, 302, "/api/auth/signin?callbackUrl=%2Fprofile", ""},
		{"browser, page with query", "/profile?tab=1", nil, 302, "/api/auth/signin?callbackUrl=%2Fprofile%3Ftab%3D1", ""},
		{"htmx, fragment", "/fragments/profile", map[string]string{"HX-Request": "true", "HX-Current-URL": app.srv.URL + "/profile"}, 200, "", "/api/auth/signin?callbackUrl=%2Fprofile"},
		{"htmx from another origin", "/fragments/profile", map[string]string{"HX-Request": "true", "HX-Current-URL": "https://evil.example/x"}, 200, "", "/api/auth/signin?callbackUrl=%2F"},
		{"boosted htmx navigates like a browser", "/profile", map[string]string{"HX-Request": "true", "HX-Boosted": "true"}, 302, "/api/auth/signin?callbackUrl=%2Fprofile", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := app.get(app.browser(), tc.path, tc.headers)
			if resp.StatusCode != tc.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.status)
			}
			if got := resp.Header.Get("Location"); got != tc.location {
				t.Errorf("Location = %q, want %q", got, tc.location)
			}
			if got := resp.Header.Get("HX-Redirect"); got != tc.hxRedirect {
				t.Errorf("HX-Redirect = %q, want %q", got, tc.hxRedirect)
			}
			if strings.Contains(body, "profile-email") {
				t.Error("a signed-out request got the profile")
			}
		})
	}

	t.Run("sign-in returns to the profile", func(t *testing.T) {
		c := app.browser()
		resp, body := app.get(c, "/profile", nil)
		_, body = app.follow(c, resp, body) // the sign-in page
		token := hiddenValue(t, body, "csrfToken")
		back := hiddenValue(t, body, "callbackUrl")
		resp, body = app.do(c, "POST", "/api/auth/signin/test", nil, url.Values{"csrfToken": {token}, "callbackUrl": {back}})
		resp, body = app.follow(c, resp, body)
		if resp.Request.URL.Path != "/profile" || !strings.Contains(body, `id="profile-email"`) {
			t.Errorf("landed on %s (%d)", resp.Request.URL, resp.StatusCode)
		}
	})
}

// TestSignOut: the profile's sign-out form ends the local session, visits
// the IdP's end_session endpoint and lands on the signed-out page.
func TestSignOut(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testAppOptions{})
	c := app.browser()
	app.signIn(c)
	_, profile := app.get(c, "/profile", nil)
	token := hiddenValue(t, profile, "csrfToken")
	resp, body := app.do(c, "POST", "/api/auth/signout", nil, url.Values{"csrfToken": {token}})
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, app.idp.Issuer+"/logout?") {
		t.Fatalf("sign-out went to %q, want the IdP's end_session endpoint", loc)
	}
	resp, body = app.follow(c, resp, body)
	if resp.Request.URL.Path != "/auth/sign-out" || !strings.Contains(body, `<h1 id="signing-out"`) {
		t.Fatalf("landed on %s:\n%s", resp.Request.URL, body)
	}
	if strings.Contains(body, `http-equiv="refresh"`) || !strings.Contains(body, "signed out of this app and of your identity provider") ||
		!strings.Contains(body, `<a id="continue" class="btn btn-primary" href="/">`) {
		t.Errorf("the signed-out page after an IdP logout does not say so and link home, or moves on by itself:\n%s", body)
	}
	_, home := app.get(c, "/", nil)
	if !strings.Contains(home, `id="sign-in"`) {
		t.Error("home is not signed out after sign-out")
	}
}

// TestSeveralProviders: with more than one provider, home links to the
// sign-in page, which lists them all.
func TestSeveralProviders(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testAppOptions{providers: 2})
	_, home := app.get(app.browser(), "/", nil)
	if !strings.Contains(home, `<a id="sign-in" class="btn btn-primary btn-lg" href="/api/auth/signin?callbackUrl=%2F">`) {
		t.Errorf("home does not link to the sign-in page:\n%s", home)
	}
	_, page := app.get(app.browser(), "/api/auth/signin", nil)
	if n := strings.Count(page, "data-provider="); n != 3 {
		t.Errorf("the sign-in page lists %d providers, want 3", n)
	}
}

// TestStaleCSRFCookie: with a CSRF cookie from an old secret, a page sets
// one new CSRF cookie and every form on it carries its token, so the first
// click on Sign in works.
func TestStaleCSRFCookie(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testAppOptions{})
	stale := "signet.csrf-token=" + strings.Repeat("a", 64) + "|" + strings.Repeat("0", 64)
	for _, path := range []string{"/", "/nope", "/fragments/nav", "/fragments/home"} {
		t.Run(path, func(t *testing.T) {
			resp, body := app.get(&http.Client{}, path, map[string]string{"Cookie": stale})
			var set []string
			for _, c := range resp.Cookies() {
				if c.Name == "signet.csrf-token" {
					set = append(set, c.Value)
				}
			}
			if len(set) != 1 {
				t.Fatalf("%d CSRF cookies set, want 1", len(set))
			}
			token, _, _ := strings.Cut(set[0], "|")
			if n, m := strings.Count(body, `name="csrfToken"`), strings.Count(body, `name="csrfToken" value="`+token+`"`); n == 0 || n != m {
				t.Errorf("%d of %d forms carry the cookie's token", m, n)
			}
		})
	}

	c := app.browser()
	c.Jar.SetCookies(mustURL(t, app.srv.URL), []*http.Cookie{{Name: "signet.csrf-token", Value: strings.Repeat("a", 64) + "|" + strings.Repeat("0", 64)}})
	app.signIn(c)
}
