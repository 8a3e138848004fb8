package auth

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestCookieNames(t *testing.T) {
	tests := []struct {
		secure bool
		want   cookieNames
	}{
		{false, cookieNames{
			session: "signet.session-token", csrf: "signet.csrf-token", callbackURL: "signet.callback-url",
			pkce: "signet.pkce.code_verifier", state: "signet.state", nonce: "signet.nonce", logoutState: "signet.logout-state",
		}},
		{true, cookieNames{
			session: "__Secure-signet.session-token", csrf: "__Host-signet.csrf-token", callbackURL: "__Secure-signet.callback-url",
			pkce: "__Secure-signet.pkce.code_verifier", state: "__Secure-signet.state", nonce: "__Secure-signet.nonce",
			logoutState: "__Secure-signet.logout-state",
		}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("secure=%v", tt.secure), func(t *testing.T) {
			if got := newCookieNames("signet", tt.secure); got != tt.want {
				t.Errorf("newCookieNames = %+v, want %+v", got, tt.want)
			}
			if got, want := len(tt.want.all()), 7; got != want {
				t.Errorf("all() has %d names, want %d", got, want)
			}
		})
	}
}

// requestWith returns a GET request carrying the cookie header.
func requestWith(cookieHeader string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://app.test/", nil)
	if cookieHeader != "" {
		r.Header.Set("Cookie", cookieHeader)
	}
	return r
}

// replay returns a request carrying the cookies that w set and did not
// expire, as a browser would send them back.
func replay(w *httptest.ResponseRecorder) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://app.test/", nil)
	for _, c := range w.Result().Cookies() {
		if c.MaxAge >= 0 {
			r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	return r
}

func TestSetChunkedSizes(t *testing.T) {
	sizes := []int{1, 100, chunkSize - 1, chunkSize, chunkSize + 1, 2 * chunkSize, 2*chunkSize + 1, 3*chunkSize + 5, 10 * chunkSize}
	for _, secure := range []bool{false, true} {
		cw := cookieWriter{names: newCookieNames("signet", secure), secure: secure}
		name := cw.names.session
		for _, n := range sizes {
			t.Run(fmt.Sprintf("secure=%v/%d", secure, n), func(t *testing.T) {
				value := strings.Repeat("abcdefghij", n/10+1)[:n]
				w := httptest.NewRecorder()
				cw.setChunked(w, requestWith(""), name, value, time.Now().Add(time.Hour))
				set := w.Result().Cookies()

				var wantNames []string
				if n <= chunkSize {
					wantNames = []string{name}
				} else {
					for i := 0; i < (n+chunkSize-1)/chunkSize; i++ {
						wantNames = append(wantNames, name+"."+strconv.Itoa(i))
					}
				}
				var gotNames []string
				for _, c := range set {
					gotNames = append(gotNames, c.Name)
					if len(c.Value) > chunkSize {
						t.Errorf("%s holds %d bytes, more than chunkSize %d", c.Name, len(c.Value), chunkSize)
					}
				}
				if !slices.Equal(gotNames, wantNames) {
					t.Errorf("Set-Cookie names = %v, want %v", gotNames, wantNames)
				}
				for _, line := range w.Result().Header.Values("Set-Cookie") {
					if len(line) > 4096 {
						t.Errorf("a Set-Cookie line is %d bytes, over the 4096 browsers keep", len(line))
					}
				}
				got, ok := readChunked(replay(w), name)
				if !ok || got != value {
					t.Errorf("readChunked = %d bytes, %v; want the %d bytes written", len(got), ok, n)
				}
			})
		}
	}
}

func TestSetChunkedExpiresOldCookies(t *testing.T) {
	cw := cookieWriter{names: newCookieNames("signet", false)}
	const n = "signet.session-token"
	tests := []struct {
		name        string
		have        string // the request's cookies
		size        int    // the new value's length
		wantSet     []string
		wantCleared []string
	}{
		{"shrink chunks to one cookie", n + ".0=a; " + n + ".1=b; " + n + ".2=c", 10,
			[]string{n}, []string{n + ".0", n + ".1", n + ".2"}},
		{"grow one cookie to chunks", n + "=a", 2*chunkSize + 1,
			[]string{n + ".0", n + ".1", n + ".2"}, []string{n}},
		{"fewer chunks", n + ".0=a; " + n + ".1=b; " + n + ".2=c; " + n + ".3=d", chunkSize + 1,
			[]string{n + ".0", n + ".1"}, []string{n + ".2", n + ".3"}},
		{"same chunks", n + ".0=a; " + n + ".1=b", chunkSize + 1,
			[]string{n + ".0", n + ".1"}, nil},
		{"one cookie stays one", n + "=a", 5, []string{n}, nil},
		{"other cookies untouched", "other=1; " + n + "x=2; " + n + ".0=a", 5, []string{n}, []string{n + ".0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			cw.setChunked(w, requestWith(tt.have), n, strings.Repeat("v", tt.size), time.Now().Add(time.Hour))
			var set, cleared []string
			for _, c := range w.Result().Cookies() {
				if c.MaxAge < 0 {
					cleared = append(cleared, c.Name)
				} else {
					set = append(set, c.Name)
				}
			}
			slices.Sort(set)
			slices.Sort(cleared)
			if !slices.Equal(set, tt.wantSet) {
				t.Errorf("set %v, want %v", set, tt.wantSet)
			}
			if !slices.Equal(cleared, tt.wantCleared) {
				t.Errorf("cleared %v, want %v", cleared, tt.wantCleared)
			}
		})
	}
}

func TestReadChunked(t *testing.T) {
	const n = "s"
	many := make([]string, 0, 12)
	want := ""
	for i := 11; i >= 0; i-- { // numeric order must win over string order
		many = append(many, fmt.Sprintf("s.%d=%c", i, 'a'+i))
	}
	for i := 0; i < 12; i++ {
		want += string(rune('a' + i))
	}
	tests := []struct {
		name   string
		header string
		want   string
		ok     bool
	}{
		{"no cookie", "", "", false},
		{"other cookies only", "t=1; s2=2", "", false},
		{"whole", "s=abc", "abc", true},
		{"empty whole", "s=", "", true},
		{"chunks in order", "s.0=ab; s.1=cd", "abcd", true},
		{"chunks re-ordered", "s.1=cd; s.0=ab", "abcd", true},
		{"twelve chunks reversed", strings.Join(many, "; "), want, true},
		{"a chunk missing in the middle", "s.0=ab; s.2=ef", "", false},
		{"the first chunk missing", "s.1=cd; s.2=ef", "", false},
		{"a chunk twice", "s.0=ab; s.0=zz; s.1=cd", "", false},
		{"chunks win over a stale whole", "s=old; s.0=ab; s.1=cd", "abcd", true},
		{"non-canonical suffixes ignored", "s.0=ab; s.01=xx; s.+1=yy; s.-1=zz; s.1=cd", "abcd", true},
		{"suffix out of range ignored", "s.0=ab; s.65=zz", "ab", true},
		{"not a number", "s.x=1", "", false},
		{"prefix lookalike", "s.0x=1; ss.0=2", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := readChunked(requestWith(tt.header), n)
			if got != tt.want || ok != tt.ok {
				t.Errorf("readChunked(%q) = %q, %v; want %q, %v", tt.header, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestClearChunked(t *testing.T) {
	cw := cookieWriter{names: newCookieNames("signet", false)}
	tests := []struct {
		header string
		want   []string
	}{
		{"", []string{"s"}},
		{"s=1", []string{"s"}},
		{"s.0=1; s.1=2; t=3", []string{"s.0", "s.1"}},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		cw.clearChunked(w, requestWith(tt.header), "s")
		var got []string
		for _, c := range w.Result().Cookies() {
			if c.MaxAge >= 0 {
				t.Errorf("%q: %s not expired", tt.header, c.Name)
			}
			got = append(got, c.Name)
		}
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("clearChunked(%q) cleared %v, want %v", tt.header, got, tt.want)
		}
	}
}

// checkAttributes checks a Set-Cookie line has Signet's attributes.
func checkAttributes(t *testing.T, c *http.Cookie, secure bool) {
	t.Helper()
	if !c.HttpOnly {
		t.Errorf("%s is not HttpOnly", c.Name)
	}
	if c.SameSite != http.SameSiteLaxMode {
		t.Errorf("%s SameSite = %v, want Lax", c.Name, c.SameSite)
	}
	if c.Path != "/" {
		t.Errorf("%s Path = %q, want /", c.Name, c.Path)
	}
	if c.Domain != "" {
		t.Errorf("%s Domain = %q, want none (host-only)", c.Name, c.Domain)
	}
	if c.Secure != secure {
		t.Errorf("%s Secure = %v, want %v", c.Name, c.Secure, secure)
	}
	prefixed := strings.HasPrefix(c.Name, "__Secure-") || strings.HasPrefix(c.Name, "__Host-")
	if prefixed != secure {
		t.Errorf("%s: prefixed %v, want %v", c.Name, prefixed, secure)
	}
	if strings.HasPrefix(c.Name, "__Host-") && (c.Path != "/" || c.Domain != "" || !c.Secure) {
		t.Errorf("%s breaks the __Host- rules", c.Name)
	}
}

// TestCookieAttributes runs the whole journey over http and https and
// checks every cookie Signet sets.
func TestCookieAttributes(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(fmt.Sprintf("https=%v", secure), func(t *testing.T) {
			var opts []option
			p := ""
			if secure {
				opts = append(opts, withTLS())
				p = "__Secure-"
			}
			e := newEnv(t, opts...)
			b := e.browser()
			seen := map[string]bool{}
			check := func(r response) {
				t.Helper()
				for _, c := range r.cookies {
					checkAttributes(t, c, secure)
					seen[c.Name] = true
				}
			}
			csrf := b.get("/api/auth/csrf")
			check(csrf)
			start := b.startSignIn("oidc", "/profile")
			check(start)
			for _, name := range []string{"state", "nonce", "pkce.code_verifier", "callback-url"} {
				c := start.setCookie(p + "signet." + name)
				if c == nil {
					t.Fatalf("no %ssignet.%s cookie", p, name)
				}
				if got, want := c.Expires, e.clock.Now().Add(15*time.Minute).UTC(); !got.Equal(want) {
					t.Errorf("%s Expires = %v, want %v (15 minutes)", c.Name, got, want)
				}
			}
			cb := b.callback(b.toIdP(start))
			check(cb)
			sc := cb.setCookie(p + "signet.session-token")
			if sc == nil {
				t.Fatalf("no session cookie; got %v", cb.cookies)
			}
			if got, want := sc.Expires, e.clock.Now().Add(DefaultMaxAge).UTC(); !got.Equal(want) {
				t.Errorf("session Expires = %v, want %v", got, want)
			}
			if b.session() == nil {
				t.Fatal("not signed in")
			}
			out := b.post("/api/auth/signout", map[string][]string{"csrfToken": {b.csrf()}})
			check(out)
			check(b.get(out.location(t).String()))
			for _, want := range []string{
				p + "signet.session-token", "signet.csrf-token", p + "signet.state", p + "signet.logout-state",
			} {
				if secure && want == "signet.csrf-token" {
					want = "__Host-signet.csrf-token"
				}
				if !seen[want] {
					t.Errorf("never saw a Set-Cookie for %s (saw %v)", want, seen)
				}
			}
		})
	}
}

// bigTokens makes the JWT callback add size random bytes to the token, so
// that the session outgrows one cookie.
func bigTokens(size *atomic.Int64) option {
	return withConfig(func(c *Config) {
		inner := c.Callbacks.JWT
		c.Callbacks.JWT = func(ctx context.Context, p JWTParams) (Token, error) {
			tok, err := inner(ctx, p)
			if n := size.Load(); n > 0 && tok != nil {
				tok["blob"] = randomString(int(n))
			}
			return tok, err
		}
	})
}

func chunkNamesOf(cs []*http.Cookie) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	slices.Sort(out)
	return out
}

// wantChunks checks that cs are the chunks .0 … .n-1 of the session
// cookie, at least min of them, in jar order (which a browser keeps).
func wantChunks(t *testing.T, cs []*http.Cookie, min int) {
	t.Helper()
	names := chunkNamesOf(cs)
	if len(names) < min {
		t.Fatalf("session cookies %v, want at least %d chunks", names, min)
	}
	var want []string
	for i := range names {
		want = append(want, "signet.session-token."+strconv.Itoa(i))
	}
	slices.SortFunc(want, strings.Compare)
	if !slices.Equal(names, want) {
		t.Fatalf("session cookies %v, want %v", names, want)
	}
}

// TestChunkedSessionJourney signs in with a session several cookies long
// and checks that it reads back, survives re-ordering, dies with a missing
// or altered chunk, and that shrinking or growing it leaves no stale chunk.
func TestChunkedSessionJourney(t *testing.T) {
	var size atomic.Int64
	size.Store(9000)
	e := newEnv(t, bigTokens(&size), withConfig(func(c *Config) { c.Session.Chunked = true }))
	b := e.browser()
	b.signIn()
	chunks := b.sessionCookies()
	wantChunks(t, chunks, 4)
	if b.session() == nil {
		t.Fatal("a chunked session does not read back")
	}

	header := func(cs []*http.Cookie) string {
		var parts []string
		for _, c := range cs {
			parts = append(parts, c.Name+"="+c.Value)
		}
		return strings.Join(parts, "; ")
	}
	sessionWith := func(h string) (string, *httptest.ResponseRecorder) {
		req := httptest.NewRequest(http.MethodGet, e.app.URL+"/api/auth/session", nil)
		req.Header.Set("Cookie", h)
		w := e.serve(req)
		return w.Body.String(), w
	}

	t.Run("re-ordered", func(t *testing.T) {
		rev := slices.Clone(chunks)
		slices.Reverse(rev)
		if body, _ := sessionWith(header(rev)); body == "null" {
			t.Error("re-ordered chunks refused")
		}
		// Odd chunks first, then even ones.
		var mixed []*http.Cookie
		for _, parity := range []int{1, 0} {
			for i, c := range chunks {
				if i%2 == parity {
					mixed = append(mixed, c)
				}
			}
		}
		if body, _ := sessionWith(header(mixed)); body == "null" {
			t.Error("shuffled chunks refused")
		}
	})
	for _, tt := range []struct {
		name string
		edit func([]*http.Cookie) []*http.Cookie
	}{
		{"middle chunk missing", func(cs []*http.Cookie) []*http.Cookie { return slices.Delete(slices.Clone(cs), 1, 2) }},
		{"last chunk missing", func(cs []*http.Cookie) []*http.Cookie { return cs[:len(cs)-1] }},
		{"first chunk missing", func(cs []*http.Cookie) []*http.Cookie { return cs[1:] }},
		{"chunk altered", func(cs []*http.Cookie) []*http.Cookie {
			out := slices.Clone(cs)
			out[1] = &http.Cookie{Name: out[1].Name, Value: flipChar(out[1].Value, 100)}
			return out
		}},
		{"chunks swapped", func(cs []*http.Cookie) []*http.Cookie {
			out := slices.Clone(cs)
			out[0] = &http.Cookie{Name: cs[0].Name, Value: cs[1].Value}
			out[1] = &http.Cookie{Name: cs[1].Name, Value: cs[0].Value}
			return out
		}},
		{"last chunk truncated", func(cs []*http.Cookie) []*http.Cookie {
			out := slices.Clone(cs)
			last := out[len(out)-1]
			out[len(out)-1] = &http.Cookie{Name: last.Name, Value: last.Value[:len(last.Value)/2]}
			return out
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body, w := sessionWith(header(tt.edit(chunks)))
			if body != "null" {
				t.Fatalf("session = %.80s…, want null", body)
			}
			var cleared []string
			for _, c := range w.Result().Cookies() {
				if c.MaxAge < 0 {
					cleared = append(cleared, c.Name)
				}
			}
			slices.Sort(cleared)
			if len(cleared) == 0 {
				t.Error("the broken session's cookies were not cleared")
			}
			e.wantLog(t, "session cookie rejected")
		})
	}

	t.Run("shrinking expires the old chunks", func(t *testing.T) {
		size.Store(0)
		b.signIn()
		if got, want := chunkNamesOf(b.sessionCookies()), []string{"signet.session-token"}; !slices.Equal(got, want) {
			t.Errorf("after a smaller session the jar holds %v, want %v", got, want)
		}
		if b.session() == nil {
			t.Error("not signed in")
		}
	})
	t.Run("growing expires the single cookie", func(t *testing.T) {
		size.Store(3000)
		b.signIn()
		wantChunks(t, b.sessionCookies(), 2)
		if b.session() == nil {
			t.Error("not signed in")
		}
	})
	t.Run("re-issue keeps the chunks whole", func(t *testing.T) {
		e.clock.Advance(DefaultUpdateAge + time.Minute)
		r := b.get("/api/auth/session")
		if r.setCookie("signet.session-token.0") == nil {
			t.Fatal("not re-issued")
		}
		if b.session() == nil {
			t.Error("the re-issued chunked session does not read back")
		}
	})
	t.Run("sign-out clears every chunk", func(t *testing.T) {
		b.post("/api/auth/signout", map[string][]string{"csrfToken": {b.csrf()}})
		if got := b.sessionCookies(); len(got) != 0 {
			t.Errorf("after sign-out the jar holds %v", chunkNamesOf(got))
		}
	})
}
