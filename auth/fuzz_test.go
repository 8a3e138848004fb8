package auth

import (
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/authtest"
)

// The fuzz targets cover every decoder of untrusted input: the cookie
// header's chunks, the session cookie, the flow cookies, the CSRF cookie,
// redirect targets, the callback's query and back-channel logout tokens.
// Their seed corpora are in testdata/fuzz; plain `go test` runs the seeds.
// Run one for longer with, for example:
//
//	(cd auth && go test . -run '^$' -fuzz '^FuzzSessionCookie$' -fuzztime 20s)

// chunkedReference is readChunked written the slow, obvious way: the
// chunks name.0 … name.N-1, each exactly once, win; else the whole cookie
// (the last one, when a browser sends several: any of them must still
// authenticate).
func chunkedReference(r *http.Request, name string) (string, bool) {
	var whole *string
	chunks := map[int][]string{}
	max := -1
	for _, c := range r.Cookies() {
		if c.Name == name {
			v := c.Value
			whole = &v
			continue
		}
		rest, ok := strings.CutPrefix(c.Name, name+".")
		if !ok {
			continue
		}
		i, err := strconv.Atoi(rest)
		if err != nil || i < 0 || i >= maxChunks || strconv.Itoa(i) != rest {
			continue
		}
		chunks[i] = append(chunks[i], c.Value)
		max = maxInt(max, i)
	}
	if len(chunks) == 0 {
		if whole == nil {
			return "", false
		}
		return *whole, true
	}
	var sb strings.Builder
	for i := 0; i <= max; i++ {
		if len(chunks[i]) != 1 {
			return "", false
		}
		sb.WriteString(chunks[i][0])
	}
	return sb.String(), true
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func FuzzReadChunked(f *testing.F) {
	for _, s := range []string{
		"", "s=abc", "s.0=ab; s.1=cd", "s.1=cd; s.0=ab", "s.0=ab; s.2=ef", "s.0=a; s.0=b",
		"s=old; s.0=ab", "s.01=x; s.0=y", "s.15=x", "s.16=x", "s.64=x", "s.65=x", "s.-0=x", "s.0=; s.1=", `s.0="quoted"`,
		"s.0=a;s.1=b;;s.2=c", "s.\x00=1", "s.1=b; s.0=a; s.3=d; s.2=c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest(http.MethodGet, "http://app.test/", nil)
		r.Header.Set("Cookie", header)
		got, ok := readChunked(r, "s")
		want, wantOK := chunkedReference(r, "s")
		if got != want || ok != wantOK {
			t.Errorf("readChunked(%q) = %q, %v; reference %q, %v", header, got, ok, want, wantOK)
		}
		for _, n := range chunkNames(r, "s") {
			if n != "s" && !strings.HasPrefix(n, "s.") {
				t.Errorf("chunkNames gave %q", n)
			}
		}
	})
}

// fuzzEnv is one app shared by a fuzz target's inputs.
func fuzzEnv(f *testing.F, opts ...option) *env {
	f.Helper()
	return newEnv(f, append(opts, func(s *setup) { s.noServer = true })...)
}

// rawCookie adds name=value to r's Cookie header as a browser would send
// it, without net/http's sanitizing, and returns the value the server
// parses back for name ("" and false when it parses none).
func rawCookie(r *http.Request, name, value string) (string, bool) {
	h := r.Header.Get("Cookie")
	if h != "" {
		h += "; "
	}
	r.Header.Set("Cookie", h+name+"="+value)
	c, err := r.Cookie(name)
	if err != nil {
		return "", false
	}
	return c.Value, true
}

// sessionRequest is a GET /api/auth/session carrying cookies.
func sessionRequest(cookies ...*http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://app.test/api/auth/session", nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return r
}

func FuzzSessionCookie(f *testing.F) {
	e := fuzzEnv(f)
	cfg := e.cfg
	cfg.Session.Strategy, cfg.Store = StrategyServer, newMemoryStore(e.clock.Now)
	server, err := New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	// Signet sealed only rec: an input that opens must be rec (the fuzz
	// workers are other processes, with the same secret but other seals).
	now := e.clock.Now()
	rec := &Record{Provider: "oidc", Subject: "u", Token: Token{"sub": "u"}, Expires: now.Add(time.Hour), UpdatedAt: now}
	for _, a := range []*Auth{e.auth, server} {
		w := httptest.NewRecorder()
		r := sessionRequest()
		if _, err := a.sessions.save(w, r, a.cookiesFor(r), rec, ""); err != nil {
			f.Fatal(err)
		}
		for _, c := range w.Result().Cookies() {
			f.Add(c.Value)
			f.Add(c.Value[:len(c.Value)/2])
			f.Add(flipChar(c.Value, len(c.Value)/2))
		}
	}
	for _, s := range []string{"", "x", "a|b|c", "MTcwMDAwMDAwMHx4fHk=", strings.Repeat("A", 5000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		for _, a := range []*Auth{e.auth, server} {
			r := sessionRequest()
			rawCookie(r, "signet.session-token", value)
			got, _, err := a.sessions.load(r, a.cookiesFor(r))
			if err == nil && (got == nil || got.Subject != rec.Subject || got.Provider != rec.Provider || !got.Expires.Equal(rec.Expires)) {
				t.Errorf("load(%q) = %+v, want no session", value, got)
			}
			w := httptest.NewRecorder()
			if l := a.load(w, r); l != nil && err != nil {
				t.Errorf("Auth.load accepted %q that sessions.load refused", value)
			}
		}
	})
}

// FuzzDecodeRecord seals arbitrary bytes with the real key, as if the
// secret had leaked or a bug had written junk: reading them never panics
// and yields only well-formed, live records.
func FuzzDecodeRecord(f *testing.F) {
	e := fuzzEnv(f)
	now := e.clock.Now()
	good, _ := encodeRecord(&Record{Provider: "oidc", Token: Token{"name": "Ada"}, Expires: now.Add(time.Hour)})
	for _, s := range [][]byte{good, nil, []byte("{}"), []byte(`{"v":1,"p":"oidc","e":1}`), []byte(`{"v":1,"p":"oidc","e":99999999999,"t":{"a":[1,{"b":null}]}}`), []byte(`{"v":1,"p":"x","e":1e300}`), []byte(`[`)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := e.auth.sessionKeys.seal(sessionSealName, b)
		if err != nil {
			return
		}
		r := sessionRequest()
		rawCookie(r, "signet.session-token", v)
		rec, _, err := e.auth.sessions.load(r, e.auth.cookiesFor(r))
		if err != nil {
			return
		}
		if rec.Provider == "" || !now.Before(rec.Expires) {
			t.Errorf("load accepted a record without provider or expired: %+v", rec)
		}
		w := httptest.NewRecorder()
		e.auth.load(w, r) // the session callback and re-issue must not panic
		if _, err := encodeRecord(rec); err != nil {
			t.Errorf("an accepted record does not encode again: %v", err)
		}
	})
}

func FuzzFlowCookie(f *testing.F) {
	e := fuzzEnv(f)
	jar := e.auth.cookiesFor(sessionRequest())
	w := httptest.NewRecorder()
	for _, c := range []struct{ name, seal string }{
		{jar.names.state, sealState}, {jar.names.pkce, sealPKCE}, {jar.names.nonce, sealNonce},
		{jar.names.callbackURL, sealCallbackURL}, {jar.names.logoutState, sealLogoutState},
	} {
		if err := e.auth.setFlow(w, jar, c.name, c.seal, "oidc", "value"); err != nil {
			f.Fatal(err)
		}
	}
	// Signet sealed only "value" for "oidc": nothing else may open.
	for _, c := range w.Result().Cookies() {
		f.Add(c.Value, "oidc")
		f.Add(flipChar(c.Value, 10), "oidc")
	}
	f.Add("", "")
	f.Add("garbage", "oidc")
	names := []struct{ name, seal string }{
		{jar.names.state, sealState}, {jar.names.pkce, sealPKCE}, {jar.names.nonce, sealNonce},
		{jar.names.callbackURL, sealCallbackURL}, {jar.names.logoutState, sealLogoutState},
	}
	f.Fuzz(func(t *testing.T, value, provider string) {
		r := sessionRequest()
		for _, n := range names {
			rawCookie(r, n.name, value)
		}
		for _, n := range names {
			if v, err := e.auth.readFlow(r, n.name, n.seal, provider); err == nil && (v != "value" || provider != "oidc") {
				t.Errorf("readFlow(%s, %q, %q) = %q, want an error", n.seal, value, provider, v)
			}
		}
		if err := e.auth.checkState(r, jar, provider, value); err == nil {
			t.Errorf("checkState accepted the cookie's own value %q as state", value)
		}
	})
}

func FuzzCSRFCookie(f *testing.F) {
	e := fuzzEnv(f)
	r := sessionRequest()
	token := e.auth.CSRFToken(httptest.NewRecorder(), r)
	cookie, _ := r.Cookie("signet.csrf-token")
	f.Add(cookie.Value, token)
	f.Add(token+"|", token)
	f.Add(strings.Repeat("a", 64)+"|"+strings.Repeat("0", 64), strings.Repeat("a", 64))
	f.Add("", "")
	f.Fuzz(func(t *testing.T, value, form string) {
		r := httptest.NewRequest(http.MethodPost, "http://app.test/api/auth/signout", strings.NewReader(url.Values{"csrfToken": {form}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		sent, _ := rawCookie(r, "signet.csrf-token", value)
		got, ok := e.auth.csrfFromCookie(r, e.auth.cookiesFor(r))
		// Only a token with Signet's own MAC opens (the workers are other
		// processes: same secret, other tokens).
		if ok && sent != got+"|"+hex.EncodeToString(csrfMAC(e.auth.sessionKeys.csrf[0], got)) {
			t.Errorf("csrfFromCookie(%q) = %q, accepted", value, got)
		}
		if err := e.auth.checkCSRF(r); err == nil && (!ok || form != got) {
			t.Errorf("checkCSRF accepted cookie %q with form %q", value, form)
		}
	})
}

var fuzzBases = []string{"https://app.example.com", "http://127.0.0.1:3000", "http://localhost", "https://[::1]:8443"}

func FuzzSameOrigin(f *testing.F) {
	for _, s := range []string{
		"/", "/profile?x=1#y", "//evil.example", `/\evil.example`, "javascript:alert(1)", "https://app.example.com//evil.example/x",
		"https://app.example.com@evil.example", "/%2F%2Fevil.example", "/\t/evil.example", "HTTPS://APP.EXAMPLE.COM/", "http://127.0.0.1:3000/a",
		"https://[::1]:8443/x", "/.//evil", "https:evil.example", "\\\\evil", "/a?b=//evil#//evil",
	} {
		for i := range fuzzBases {
			f.Add(s, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, target string, bi uint8) {
		origin := fuzzBases[int(bi)%len(fuzzBases)]
		base, _ := url.Parse(origin)
		got, ok := sameOrigin(target, base)
		if ok {
			u, err := url.Parse(got)
			if err != nil {
				t.Fatalf("sameOrigin(%q) = %q, which does not parse: %v", target, got, err)
			}
			if u.Scheme != base.Scheme || u.Host != base.Host || u.User != nil {
				t.Errorf("sameOrigin(%q) = %q, off the origin %s", target, got, origin)
			}
		}
		for _, out := range []string{
			DefaultRedirect(RedirectParams{URL: target, BaseURL: origin}),
		} {
			if !strings.HasPrefix(out, origin+"/") || offOrigin(origin, out) {
				t.Errorf("DefaultRedirect(%q) = %q, off the origin %s", target, out, origin)
			}
			rel := relativeTo(out, origin)
			if !strings.HasPrefix(rel, "/") || offOrigin(origin, rel) {
				t.Errorf("relativeTo(DefaultRedirect(%q)) = %q: a browser would leave %s", target, rel, origin)
			}
		}
		if rel := relativeTo(target, origin); offOrigin(origin, rel) {
			t.Errorf("relativeTo(%q) = %q: a browser would leave %s", target, rel, origin)
		}
	})
}

// FuzzCallbackQuery sends arbitrary query strings to the callback, with
// the browser's flow cookies in place (state "fuzz-state"), against a live
// fake IdP: the answer is never a 5xx and never a Configuration error,
// nothing panics, and no session is set.
func FuzzCallbackQuery(f *testing.F) {
	e := fuzzEnv(f)
	r0 := sessionRequest()
	jar := e.auth.cookiesFor(r0)
	w := httptest.NewRecorder()
	for _, c := range []struct{ name, seal, value string }{
		{jar.names.state, sealState, "fuzz-state"},
		{jar.names.nonce, sealNonce, "fuzz-nonce"},
		{jar.names.pkce, sealPKCE, "fuzz-verifier-0123456789012345678901234567890123"},
		{jar.names.callbackURL, sealCallbackURL, "/profile"},
	} {
		if err := e.auth.setFlow(w, jar, c.name, c.seal, "oidc", c.value); err != nil {
			f.Fatal(err)
		}
	}
	flow := w.Result().Cookies()
	for _, s := range []string{
		"", "code=x&state=fuzz-state", "state=fuzz-state", "code=x", "error=access_denied&state=fuzz-state",
		"error=server_error&error_description=%00%ff", "code=x&state=fuzz-state&state=other", "code=%zz",
		"code=x&state=fuzz-state&iss=https://evil.example", "state=" + strings.Repeat("A", 4096), ";;&&==",
	} {
		f.Add(s)
	}
	allowed := map[string]bool{string(CodeVerification): true, string(CodeOAuthCallback): true, string(CodeAccessDenied): true}
	f.Fuzz(func(t *testing.T, query string) {
		r := httptest.NewRequest(http.MethodGet, "http://app.test/api/auth/callback/oidc", nil)
		r.URL.RawQuery = query
		for _, c := range flow {
			rawCookie(r, c.Name, c.Value)
		}
		w := e.serve(r)
		if w.Code >= 500 {
			t.Fatalf("callback?%s: status %d", query, w.Code)
		}
		loc, _ := url.Parse(w.Header().Get("Location"))
		if loc == nil || loc.Path != "/api/auth/error" {
			t.Fatalf("callback?%s: %d to %q, want the error page", query, w.Code, w.Header().Get("Location"))
		}
		if code := loc.Query().Get("error"); !allowed[code] {
			t.Errorf("callback?%s: error %q", query, code)
		}
		for _, c := range w.Result().Cookies() {
			if strings.HasPrefix(c.Name, "signet.session-token") && c.MaxAge >= 0 {
				t.Errorf("callback?%s set a session", query)
			}
		}
	})
}

// FuzzLogoutToken: back-channel logout tokens of any shape never panic
// and are accepted only when the IdP signed them.
func FuzzLogoutToken(f *testing.F) {
	e := fuzzEnv(f)
	issued := map[string]bool{}
	sign := func(mode authtest.SignMode, edit func(map[string]any)) string {
		tok := e.idp.LogoutToken("sid-1", "user-ada", mode, edit)
		if mode == authtest.RS256 {
			issued[tok] = true
		}
		return tok
	}
	for _, s := range []string{
		sign(authtest.RS256, nil),
		sign(authtest.AlgNone, nil),
		sign(authtest.HS256ClientSecret, nil),
		sign(authtest.BadSignature, nil),
		sign(authtest.RS256, func(c map[string]any) { c["nonce"] = "n" }),
		sign(authtest.RS256, func(c map[string]any) { delete(c, "events") }),
		sign(authtest.RS256, func(c map[string]any) { c["iss"] = 7 }),
		sign(authtest.RS256, func(c map[string]any) { c["events"] = []any{1} }),
		"", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30.", "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		lt, err := e.auth.verifyLogoutToken(t.Context(), raw)
		if err == nil && !issued[raw] {
			t.Errorf("accepted a logout token the IdP never issued: %q (%+v)", raw, lt)
		}
		r := httptest.NewRequest(http.MethodPost, "http://app.test/api/auth/backchannel-logout",
			strings.NewReader(url.Values{"logout_token": {raw}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if w := e.serve(r); w.Code != http.StatusOK && w.Code != http.StatusBadRequest {
			t.Errorf("backchannel-logout: status %d", w.Code)
		}
	})
}
