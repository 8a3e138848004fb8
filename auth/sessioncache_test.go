package auth

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cachedRequest is a request carrying rec's session cookie, sealed by a.
func cachedRequest(t *testing.T, a *Auth, rec *Record) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "http://app.bench/", nil)
	for _, c := range benchCookies(t, a, rec) {
		r.AddCookie(c)
	}
	return r
}

func TestSessionCacheServesCopies(t *testing.T) {
	clock := newTestClock()
	a := benchAuth(t, nil, clock.Now)
	rec := benchSeedsRecord(t, 0, true)
	rec.Token["roles"] = []any{"reader"}
	rec.Expires = clock.Now().Add(time.Hour)
	r := cachedRequest(t, a, rec)

	first, _, err := a.sessions.load(r, a.cookiesFor(r))
	if err != nil {
		t.Fatal(err)
	}
	if got := a.sessions.cache.len(); got != 1 {
		t.Fatalf("cache holds %d sessions after a read, want 1", got)
	}
	second, _, err := a.sessions.load(r, a.cookiesFor(r))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first, second) {
		t.Errorf("cached read differs:\n got %+v\nwant %+v", second, first)
	}
	// Callers change what they get (re-issue, refresh, the JWT callback):
	// the cached record stays as it was decoded.
	second.Token["name"] = "Mallory"
	second.Token["roles"].([]any)[0] = "admin"
	second.Expires = second.Expires.Add(time.Hour)
	third, _, err := a.sessions.load(r, a.cookiesFor(r))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first, third) {
		t.Errorf("a caller's change reached the cache:\n got %+v\nwant %+v", third, first)
	}
}

func TestSessionCacheChecksEveryHit(t *testing.T) {
	clock := newTestClock()
	a := benchAuth(t, nil, clock.Now)
	rec := benchSeedsRecord(t, 0, false)
	rec.IssuedAt, rec.UpdatedAt = clock.Now(), clock.Now()
	rec.Expires = clock.Now().Add(time.Hour)
	r := cachedRequest(t, a, rec)
	w := httptest.NewRecorder()
	if a.load(w, r) == nil {
		t.Fatal("not signed in")
	}
	if a.sessions.cache.len() != 1 {
		t.Fatal("the session was not cached")
	}

	t.Run("revoked by the IdP", func(t *testing.T) {
		if err := a.state.revoke(t.Context(), rec.Issuer, rec.SID, "", clock.Now()); err != nil {
			t.Fatal(err)
		}
		defer func() {
			a.state = newState(newMemoryStore(a.now), a.now, a.cfg.Session.MaxAge, a.log)
			a.sessions.state = a.state
		}()
		if l := a.load(httptest.NewRecorder(), r); l != nil {
			t.Errorf("a cached session outlived a back-channel logout: %+v", l.session)
		}
	})
	t.Run("cookie older than MaxAge", func(t *testing.T) {
		c := a.sessions.cache
		defer func() { c.now = time.Now }()
		c.now = func() time.Time { return time.Now().Add(a.cfg.Session.MaxAge + time.Minute) }
		if _, ok := c.get(r.Header.Get("Cookie")[len("signet.session-token="):]); ok {
			t.Error("the cache served a cookie securecookie would refuse as too old")
		}
	})
	t.Run("expired", func(t *testing.T) {
		if a.load(httptest.NewRecorder(), r) == nil {
			t.Fatal("not signed in before expiry")
		}
		clock.Advance(time.Hour)
		if _, _, err := a.sessions.load(r, a.cookiesFor(r)); err == nil {
			t.Error("the cache served an expired session")
		}
	})
}

func TestSessionCacheBounded(t *testing.T) {
	c := newSessionCache(8, time.Hour)
	rec := &Record{Provider: "p", Expires: time.Now().Add(time.Hour)}
	v := "MTgwMDAwMDAwMHxhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5enxtYWM="
	for i := range 20 {
		c.put(fmt.Sprintf("%s%02d", v, i), rec, "", nil)
	}
	if got := c.len(); got != 8 {
		t.Errorf("cache holds %d sessions, want at most 8", got)
	}
	if _, ok := c.get(v + "19"); !ok {
		t.Error("the last session put is not cached")
	}
}

// TestSessionCacheServerStore: a session kept in the store is read from
// the store on every request, whatever the cache holds: the cached record
// is used only while the store holds the bytes it was decoded from.
func TestSessionCacheServerStore(t *testing.T) {
	for _, server := range []bool{true, false} {
		t.Run(fmt.Sprintf("server=%v", server), func(t *testing.T) {
			clock := newTestClock()
			a := benchAuth(t, nil, clock.Now)
			a.sessions.server = server
			a.sessions.overflow = !server
			rec := benchSeedsRecord(t, 0, true)
			if !server {
				// Too large for a cookie, even compressed: it overflows
				// to the store.
				rng := rand.New(rand.NewPCG(1, 2))
				var pad strings.Builder
				for pad.Len() < 2*maxCookieSession {
					pad.WriteString(strconv.FormatUint(rng.Uint64(), 36))
				}
				rec.Token["padding"] = pad.String()
			}
			rec.Expires = clock.Now().Add(time.Hour)
			r := cachedRequest(t, a, rec)
			ctx := context.Background()

			first, id, err := a.sessions.load(r, a.cookiesFor(r))
			if err != nil {
				t.Fatal(err)
			}
			if id == "" {
				t.Fatal("the session is not in the store")
			}
			if got := a.sessions.cache.len(); got != 1 {
				t.Fatalf("cache holds %d sessions after a read, want 1", got)
			}
			second, _, err := a.sessions.load(r, a.cookiesFor(r))
			if err != nil || !reflect.DeepEqual(first, second) {
				t.Fatalf("second read = %+v, %v; want %+v", second, err, first)
			}

			// Changed in the store (by another instance): the change is read.
			changed := first.clone()
			changed.Token["name"] = "Changed Elsewhere"
			b, err := encodeRecord(changed)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.sessions.storeRecord(ctx, id, b, changed.Expires); err != nil {
				t.Fatal(err)
			}
			third, _, err := a.sessions.load(r, a.cookiesFor(r))
			if err != nil || third.Token.String("name") != "Changed Elsewhere" {
				t.Fatalf("after a change in the store, read %v, %v; want the change", third.Token["name"], err)
			}

			// Deleted from the store: gone, cached or not.
			if err := a.state.st.Delete(ctx, keySession+id); err != nil {
				t.Fatal(err)
			}
			if got, _, err := a.sessions.load(r, a.cookiesFor(r)); err == nil {
				t.Fatalf("a session deleted from the store was read: %+v", got)
			}
		})
	}
}

func TestSealedAt(t *testing.T) {
	a := benchAuth(t, nil, nil)
	v, err := a.sessionKeys.seal(sessionSealName, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := sealedAt(v)
	if now := time.Now().Unix(); !ok || got < now-5 || got > now {
		t.Errorf("sealedAt = %d, %v; want about %d", got, ok, now)
	}
	for _, bad := range []string{"", "short", "!!!!!!!!!!!!!!!!!!!!!!!!!!!!", "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo="} {
		if _, ok := sealedAt(bad); ok {
			t.Errorf("sealedAt(%q) is ok", bad)
		}
	}
}

func TestSessionCacheSkipsChunkedSessions(t *testing.T) {
	a := benchAuth(t, nil, nil)
	rec := benchSeedsRecord(t, 0, false)
	rec.Token["blob"] = randomString(4000)
	r := cachedRequest(t, a, rec)
	if len(r.Cookies()) < 2 {
		t.Fatalf("the session is not chunked: %d cookies", len(r.Cookies()))
	}
	if _, _, err := a.sessions.load(r, a.cookiesFor(r)); err != nil {
		t.Fatal(err)
	}
	if got := a.sessions.cache.len(); got != 0 {
		t.Errorf("a chunked session was cached (%d)", got)
	}
}
