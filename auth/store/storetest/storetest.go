// Package storetest is the conformance suite every store.Store passes:
// the memory, file and Redis stores run it against themselves, and so
// should a new implementation.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Harness{New: func(t *testing.T) store.Store { ... }})
//	}
package storetest

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/store"
)

// Harness tells the suite how to make the stores it tests.
type Harness struct {
	// New returns an empty store. The suite closes it.
	New func(t *testing.T) store.Store
	// Clock, when set, is the store's clock and Advance moves it; the
	// suite then tests expiry without waiting. Without it the store uses
	// the real clock and the suite waits for short expiries (up to a few
	// seconds each).
	Clock   func() time.Time
	Advance func(d time.Duration)
	// Peer, when set, returns a second store over the same data as s, as
	// another instance of the app would have: what one writes or
	// publishes, the other sees.
	Peer func(t *testing.T, s store.Store) store.Store
}

func (h Harness) now() time.Time {
	if h.Clock != nil {
		return h.Clock()
	}
	return time.Now()
}

// expire lets d pass: on the store's clock, or by waiting.
func (h Harness) expire(d time.Duration) {
	if h.Advance != nil {
		h.Advance(d)
		return
	}
	time.Sleep(d)
}

// eventually polls cond for up to 5 s: how long a shared store may take to
// show another instance's write (a client-side cache's invalidation).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Run runs the conformance suite.
func Run(t *testing.T, h Harness) {
	tests := []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"GetSetDelete", testGetSetDelete},
		{"ValuesAreCopied", testValuesAreCopied},
		{"Expiry", testExpiry},
		{"PastExpiry", testPastExpiry},
		{"Add", testAdd},
		{"AddConcurrent", testAddConcurrent},
		{"DeleteIf", testDeleteIf},
		{"Max", testMax},
		{"MaxConcurrent", testMaxConcurrent},
		{"Members", testMembers},
		{"MemberExpiry", testMemberExpiry},
		{"PubSub", testPubSub},
		{"Limits", testLimits},
		{"BinaryValues", testBinaryValues},
		{"Close", testClose},
		{"Peer", testPeer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, h) })
	}
}

func open(t *testing.T, h Harness) store.Store {
	t.Helper()
	s := h.New(t)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func mustGet(t *testing.T, s store.Store, key string) []byte {
	t.Helper()
	v, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return v
}

func wantNotFound(t *testing.T, s store.Store, key string) {
	t.Helper()
	if v, err := s.Get(context.Background(), key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(%q) = %q, %v; want ErrNotFound", key, v, err)
	}
}

func testGetSetDelete(t *testing.T, h Harness) {
	ctx, s := context.Background(), open(t, h)
	wantNotFound(t, s, "k")
	exp := h.now().Add(time.Hour)
	if err := s.Set(ctx, "k", []byte("one"), exp); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "k"); string(got) != "one" {
		t.Errorf("Get = %q, want one", got)
	}
	if err := s.Set(ctx, "k", []byte("two"), exp); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "k"); string(got) != "two" {
		t.Errorf("Get after a second Set = %q, want two", got)
	}
	if err := s.Set(ctx, "empty", nil, exp); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "empty"); len(got) != 0 {
		t.Errorf("Get of an empty value = %q", got)
	}
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, s, "k")
	if err := s.Delete(ctx, "k"); err != nil {
		t.Errorf("Delete of a missing key: %v", err)
	}
}

func testValuesAreCopied(t *testing.T, h Harness) {
	ctx, s := context.Background(), open(t, h)
	v := []byte("abc")
	if err := s.Set(ctx, "k", v, h.now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	v[0] = 'X'
	got := mustGet(t, s, "k")
	if string(got) != "abc" {
		t.Fatalf("the store kept the caller's slice: %q", got)
	}
	got[1] = 'Y'
	if again := mustGet(t, s, "k"); string(again) != "abc" {
		t.Fatalf("Get returned the store's own slice: %q", again)
	}
}

func testExpiry(t *testing.T, h Harness) {
	ctx, s := context.Background(), open(t, h)
	now := h.now()
	if err := s.Set(ctx, "short", []byte("v"), now.Add(1500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "long", []byte("v"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, "short")
	h.expire(2 * time.Second)
	if h.Advance != nil {
		wantNotFound(t, s, "short")
	} else {
		eventually(t, "an expired key is still there", func() bool {
			_, err := s.Get(ctx, "short")
			return errors.Is(err, store.ErrNotFound)
		})
	}
	mustGet(t, s, "long")
}

func testPastExpiry(t *testing.T, h Harness) {
	ctx, s := context.Background(), open(t, h)
	past := h.now().Add(-time.Second)
	if err := s.Set(ctx, "k", []byte("v"), past); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, s, "k")
	if err := s.Set(ctx, "k", []byte("v"), h.now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "k", []byte("v"), past); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, s, "k")
}

func testAdd(t *testing.T, h Harness) {
	ctx, s := context.Background(), open(t, h)
	exp := h.now().Add(1500 * time.Millisecond)
	ok, err := s.Add(ctx, "k", []byte("first"), exp)
	if err != nil || !ok {
		t.Fatalf("first Add = %v, %v; want true", ok, err)
	}
	ok, err = s.Add(ctx, "k", []byte("second"), exp)
	if err != nil || ok {
		t.Fatalf("second Add = %v, %v; want false", ok, err)
	}
	if got := mustGet(t, s, "k"); string(got) != "first" {
		t.Errorf("Get = %q, want first", got)
	}
	h.expire(2 * time.Second)
	added := func() bool {
		ok, err := s.Add(ctx, "k", []byte("third"), h.now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if h.Advance != nil {
		if !added() {
			t.Fatal("Add over an expired key = false, want true")
		}
	} else {
		eventually(t, "Add over an expired key keeps failing", added)
	}
	if got := mustGet(t, s, "k"); string(got) != "third" {
		t.Errorf("Get = %q, want third", got)
	}
}

func testAddConcurrent(t *testing.T, h Harness) {
	ctx, s := context.Background(), open(t, h)
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			ok, err := s.Add(ctx, "lock", []byte(strconv.Itoa(i)), h.now().Add(time.Hour))
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Fatalf("%d of 32 concurrent Adds won, want exactly 1", n)
	}
}

func testDeleteIf(t *testing.T, h Harness) {
	ctx, s := context.Background(), open(t, h)
	if err := s.Set(ctx, "lock", []byte("owner-a"), h.now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.DeleteIf(ctx, "lock", []byte("owner-b")); err != nil || ok {
		t.Fatalf("DeleteIf with another value = %v, %v; want false", ok, err)
	}
	mustGet(t, s, "lock")
	if ok, err := s.DeleteIf(ctx, "lock", []byte("owner-a")); err != nil || !ok {
		t.Fatalf("DeleteIf with the value = %v, %v; want true", ok, err)
	}
	wantNotFound(t, s, "lock")
	if ok, err := s.DeleteIf(ctx, "lock", []byte("owner-a")); err != nil || ok {
		t.Fatalf("DeleteIf of a missing key = %v, %v; want false", ok, err)
	}
}

func testMax(t *testing.T, h Harness) {
	ctx, s := context.Background(), open(t, h)
	now := h.now()
	steps := []struct {
		n    int64
		want string
	}{{100, "100"}, {50, "100"}, {101, "101"}, {-5, "101"}}
	for _, st := range steps {
		if err := s.Max(ctx, "cut", st.n, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got := mustGet(t, s, "cut"); string(got) != st.want {
			t.Errorf("after Max(%d): %q, want %s", st.n, got, st.want)
		}
	}
	// A smaller number with a later expiry keeps the number and takes
	// the expiry; a shorter expiry never shortens the entry.
	if err := s.Max(ctx, "keep", 7, now.Add(1500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := s.Max(ctx, "keep", 3, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Max(ctx, "keep", 1, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	h.expire(2 * time.Second)
	if got := mustGet(t, s, "keep"); string(got) != "7" {
		t.Errorf("after the first expiry: %q, want 7", got)
	}
	if err := s.Max(ctx, "big", 1<<62, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "big"); string(got) != strconv.FormatInt(1<<62, 10) {
		t.Errorf("a large number came back as %q", got)
	}
}

func testMaxConcurrent(t *testing.T, h Harness) {
	ctx, s := context.Background(), open(t, h)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			n := int64((i*17)%40 + 1) // 1..40 in a scrambled order
			if err := s.Max(ctx, "cut", n, h.now().Add(time.Hour)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := mustGet(t, s, "cut"); string(got) != "40" {
		t.Fatalf("after concurrent Max of 1..40: %q, want 40", got)
	}
}

func testMembers(t *testing.T, h Harness) {
	ctx, s := context.Background(), open(t, h)
	got, err := s.Members(ctx, "g")
	if err != nil || len(got) != 0 {
		t.Fatalf("Members of an unknown group = %v, %v; want none", got, err)
	}
	exp := h.now().Add(time.Hour)
	for _, m := range []string{"a", "b", "c"} {
		if err := s.PutMember(ctx, "g", m, []byte("v-"+m), exp); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutMember(ctx, "g", "b", []byte("v-b2"), exp); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMember(ctx, "other", "z", []byte("z"), exp); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMember(ctx, "g", "c"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMember(ctx, "g", "missing"); err != nil {
		t.Errorf("DeleteMember of a missing member: %v", err)
	}
	got, err = s.Members(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "v-a", "b": "v-b2"}
	if len(got) != len(want) {
		t.Fatalf("Members = %q, want %q", got, want)
	}
	for k, v := range want {
		if string(got[k]) != v {
			t.Errorf("member %q = %q, want %q", k, got[k], v)
		}
	}
	// Groups and keys are separate namespaces.
	wantNotFound(t, s, "g")
}

func testMemberExpiry(t *testing.T, h Harness) {
	ctx, s := context.Background(), open(t, h)
	now := h.now()
	if err := s.PutMember(ctx, "g", "short", []byte("s"), now.Add(1500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMember(ctx, "g", "long", []byte("l"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMember(ctx, "g", "past", []byte("p"), now.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	h.expire(2 * time.Second)
	check := func() bool {
		got, err := s.Members(ctx, "g")
		if err != nil {
			t.Fatal(err)
		}
		_, long := got["long"]
		return len(got) == 1 && long
	}
	if h.Advance != nil {
		if !check() {
			got, _ := s.Members(ctx, "g")
			t.Fatalf("Members after the short one expired = %q, want only long", got)
		}
	} else {
		eventually(t, "an expired member is still listed", check)
	}
	// The group outlives a member that expires first.
	if err := s.PutMember(ctx, "g2", "a", []byte("a"), h.now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMember(ctx, "g2", "b", []byte("b"), h.now().Add(1500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	h.expire(2 * time.Second)
	eventually(t, "a group lost a live member when another expired", func() bool {
		got, err := s.Members(ctx, "g2")
		if err != nil {
			t.Fatal(err)
		}
		return len(got) == 1 && string(got["a"]) == "a"
	})
}

// collector gathers the messages a subscription receives.
type collector struct {
	mu  sync.Mutex
	got []string
}

func (c *collector) add(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, string(b))
}

func (c *collector) has(msg string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, g := range c.got {
		if g == msg {
			return true
		}
	}
	return false
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got)
}

func testPubSub(t *testing.T, h Harness) {
	ctx, s := context.Background(), open(t, h)
	var a, b, other collector
	actx, cancelA := context.WithCancel(ctx)
	defer cancelA()
	if err := s.Subscribe(actx, "ended", a.add); err != nil {
		t.Fatal(err)
	}
	if err := s.Subscribe(ctx, "ended", b.add); err != nil {
		t.Fatal(err)
	}
	if err := s.Subscribe(ctx, "elsewhere", other.add); err != nil {
		t.Fatal(err)
	}
	if err := s.Publish(ctx, "ended", []byte("m1")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both subscribers hear m1", func() bool { return a.has("m1") && b.has("m1") })
	cancelA()
	// fn is never called once its context is done; b's subscription goes on.
	before := a.count()
	if err := s.Publish(ctx, "ended", []byte("m2")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b hears m2", func() bool { return b.has("m2") })
	if err := s.Publish(ctx, "ended", []byte("m3")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b hears m3", func() bool { return b.has("m3") })
	if a.count() != before {
		t.Errorf("a cancelled subscription still receives: %q", a.got)
	}
	if other.count() != 0 {
		t.Errorf("another topic's subscriber got %q", other.got)
	}
	// Binary-safe payloads.
	msg := string([]byte{0, 1, 2, 255, '\n'})
	if err := s.Publish(ctx, "ended", []byte(msg)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b hears a binary message", func() bool { return b.has(msg) })
}

func testLimits(t *testing.T, h Harness) {
	ctx, s := context.Background(), open(t, h)
	exp := h.now().Add(time.Hour)
	bad := []string{"", strings.Repeat("k", store.MaxKeyLen+1), "has space", "new\nline", "ünicode"}
	for _, k := range bad {
		if err := s.Set(ctx, k, []byte("v"), exp); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Set(%.20q) = %v, want ErrInvalid", k, err)
		}
		if _, err := s.Get(ctx, k); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Get(%.20q) = %v, want ErrInvalid", k, err)
		}
	}
	if err := s.Set(ctx, "big", make([]byte, store.MaxValueLen+1), exp); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Set of a value over MaxValueLen = %v, want ErrInvalid", err)
	}
	long := strings.Repeat("k", store.MaxKeyLen)
	if err := s.Set(ctx, long, make([]byte, store.MaxValueLen), exp); err != nil {
		t.Errorf("Set at the limits: %v", err)
	}
	if got := mustGet(t, s, long); len(got) != store.MaxValueLen {
		t.Errorf("value at the limit came back with %d bytes", len(got))
	}
}

func testBinaryValues(t *testing.T, h Harness) {
	ctx, s := context.Background(), open(t, h)
	v := make([]byte, 256)
	for i := range v {
		v[i] = byte(i)
	}
	if err := s.Set(ctx, "bin", v, h.now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "bin"); !bytes.Equal(got, v) {
		t.Fatalf("binary value changed: %x", got)
	}
	if err := s.PutMember(ctx, "g", "m", v, h.now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Members(ctx, "g")
	if err != nil || !bytes.Equal(got["m"], v) {
		t.Fatalf("binary member value changed: %x, %v", got["m"], err)
	}
}

func testClose(t *testing.T, h Harness) {
	s := h.New(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(context.Background(), "k"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after Close = %v, want an error other than ErrNotFound", err)
	}
}

func testPeer(t *testing.T, h Harness) {
	if h.Peer == nil {
		t.Skip("a store of one process: no peer")
	}
	ctx := context.Background()
	a := open(t, h)
	b := h.Peer(t, a)
	t.Cleanup(func() { _ = b.Close() })
	exp := h.now().Add(time.Hour)

	// b reads the key first, so that a client-side cache holds "absent".
	wantNotFound(t, b, "shared")
	if err := a.Set(ctx, "shared", []byte("v1"), exp); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b does not see a's write", func() bool {
		v, err := b.Get(ctx, "shared")
		return err == nil && string(v) == "v1"
	})
	if err := a.Set(ctx, "shared", []byte("v2"), exp); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b does not see a's second write", func() bool {
		v, err := b.Get(ctx, "shared")
		return err == nil && string(v) == "v2"
	})
	if err := a.Delete(ctx, "shared"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b still sees a deleted key", func() bool {
		_, err := b.Get(ctx, "shared")
		return errors.Is(err, store.ErrNotFound)
	})
	if err := a.Max(ctx, "cut", 5, exp); err != nil {
		t.Fatal(err)
	}
	if err := b.Max(ctx, "cut", 3, exp); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Max across instances lost the larger number", func() bool {
		v, err := b.Get(ctx, "cut")
		return err == nil && string(v) == "5"
	})
	if ok, err := a.Add(ctx, "jti", []byte("a"), exp); err != nil || !ok {
		t.Fatalf("Add on a = %v, %v", ok, err)
	}
	if ok, err := b.Add(ctx, "jti", []byte("b"), exp); err != nil || ok {
		t.Fatalf("Add of the same key on b = %v, %v; want false", ok, err)
	}
	if err := a.PutMember(ctx, "user", "s1", []byte("x"), exp); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b does not list a's member", func() bool {
		got, err := b.Members(ctx, "user")
		return err == nil && string(got["s1"]) == "x"
	})

	var heard collector
	if err := b.Subscribe(ctx, "ended", heard.add); err != nil {
		t.Fatal(err)
	}
	if err := a.Publish(ctx, "ended", []byte("from-a")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b does not hear a's message", func() bool { return heard.has("from-a") })
}
