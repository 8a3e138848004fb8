package redisstore

import (
	"context"
	"errors"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/store"
	"github.com/signet-auth/signet/auth/store/redisstore/redistest"
)

// eventually polls cond for up to d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	// A port that was free a moment ago and has no listener.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	start := time.Now()
	s, err := Open(context.Background(), "redis://u:secret@"+addr, Options{})
	if err == nil {
		s.Close()
		t.Fatal("Open of a closed port succeeded")
	}
	if took := time.Since(start); took > DefaultDialTimeout+time.Second {
		t.Errorf("Open took %v, want at most the dial timeout", took)
	}
	if !strings.Contains(err.Error(), addr) || strings.Contains(err.Error(), "secret") {
		t.Errorf("error %q: want the address and no password", err)
	}
}

func TestOpenClusterURLOnStandalone(t *testing.T) {
	t.Parallel()
	addr := redistest.StartServer(t)
	s, err := Open(context.Background(), "redis-cluster://"+addr, Options{})
	if err == nil {
		s.Close()
		t.Fatal("redis-cluster:// on a standalone server succeeded")
	}
	if !strings.Contains(err.Error(), "not a Redis Cluster") {
		t.Errorf("error %q", err)
	}
}

func TestOpenBadPassword(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "--requirepass", "right")
	if _, err := Open(context.Background(), "redis://:wrong@"+srv.Addr, Options{}); err == nil {
		t.Fatal("Open with a wrong password succeeded")
	}
	s := openStore(t, "redis://:right@"+srv.Addr+"/2", Options{})
	if err := s.Set(context.Background(), "k", []byte("v"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// The database of the URL is the one written.
	other := openStore(t, "redis://:right@"+srv.Addr+"/0", Options{Prefix: s.prefix})
	if _, err := other.Get(context.Background(), "k"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("database 0 has the key written to database 2: %v", err)
	}
}

// getCalls reads how many GET commands the server has run.
func getCalls(t *testing.T, addr string) int {
	t.Helper()
	info, err := redistest.Do(addr, "INFO", "commandstats")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if rest, ok := strings.CutPrefix(line, "cmdstat_get:calls="); ok {
			n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
			return n
		}
	}
	return 0
}

// Once a key has been read, present or absent, reading it again sends
// nothing to Redis until Redis says it changed.
func TestGetIsServedFromTheClientCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	addr := redistest.StartServer(t)
	s := openStore(t, "redis://"+addr, Options{})
	if err := s.Set(ctx, "session", []byte("v1"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"session", "absent"} {
		_, first := s.Get(ctx, key)
		before := getCalls(t, addr)
		for range 100 {
			v, err := s.Get(ctx, key)
			if err != first || (err == nil && string(v) != "v1") {
				t.Fatalf("Get(%q) = %q, %v", key, v, err)
			}
		}
		if after := getCalls(t, addr); after != before {
			t.Errorf("100 Gets of %q, read before, sent %d GETs; want 0", key, after-before)
		}
	}
	// A write by another client reaches the cache.
	if _, err := redistest.Do(addr, "SET", s.key("absent"), "from-elsewhere"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the cache kept a key another client wrote", func() bool {
		v, err := s.Get(ctx, "absent")
		return err == nil && string(v) == "from-elsewhere"
	})
	// And without the cache every Get is a GET.
	nc := openStore(t, "redis://"+addr, Options{CacheSize: -1, Prefix: s.prefix})
	before := getCalls(t, addr)
	for range 10 {
		if _, err := nc.Get(ctx, "session"); err != nil {
			t.Fatal(err)
		}
	}
	if n := getCalls(t, addr) - before; n != 10 {
		t.Errorf("10 Gets without the cache sent %d GETs", n)
	}
}

// A store reads its own writes at once, even of a key it has cached.
func TestReadsOwnWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, "redis://"+redistest.StartServer(t), Options{})
	exp := time.Now().Add(time.Hour)
	for i := range 200 {
		want := strconv.Itoa(i)
		if _, err := s.Get(ctx, "k"); err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		var err error
		switch i % 4 {
		case 0:
			err = s.Set(ctx, "k", []byte(want), exp)
		case 1:
			err = s.Delete(ctx, "k")
			if err == nil {
				_, err = s.Add(ctx, "k", []byte(want), exp)
			}
		case 2:
			if err = s.Delete(ctx, "k"); err == nil {
				err = s.Max(ctx, "k", int64(i), exp)
			}
		case 3:
			if err = s.Set(ctx, "k", []byte("x"), exp); err == nil {
				_, _ = s.Get(ctx, "k")
				_, err = s.DeleteIf(ctx, "k", []byte("x"))
				want = ""
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		v, err := s.Get(ctx, "k")
		if want == "" {
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("round %d: Get after DeleteIf = %q, %v", i, v, err)
			}
			continue
		}
		if err != nil || string(v) != want {
			t.Fatalf("round %d: Get = %q, %v; want %q", i, v, err, want)
		}
	}
}

func TestMaxComparesInt64s(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, "redis://"+redistest.StartServer(t), Options{})
	exp := time.Now().Add(time.Hour)
	tests := []struct {
		name  string
		start string // set first, "" for none
		n     int64
		want  string
	}{
		{"absent", "", -7, "-7"},
		{"negatives, larger", "-5", -3, "-3"},
		{"negatives, smaller", "-3", -5, "-3"},
		{"sign", "-10", 9, "9"},
		{"sign, smaller", "9", -10, "9"},
		{"zero", "0", -1, "0"},
		{"minus zero", "-0", 0, "0"},
		{"leading zeros", "007", 8, "8"},
		{"leading zeros kept", "009", 8, "009"},
		{"more digits", "99", 100, "100"},
		{"beyond 2^53", "9007199254740993", 9007199254740992, "9007199254740993"},
		{"int64 max", "9223372036854775806", 9223372036854775807, "9223372036854775807"},
		{"int64 min", "-9223372036854775808", -9223372036854775807, "-9223372036854775807"},
		{"not a number", "abc", 3, "3"},
	}
	for i, tt := range tests {
		key := "cut" + strconv.Itoa(i)
		if tt.start != "" {
			if err := s.Set(ctx, key, []byte(tt.start), exp); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Max(ctx, key, tt.n, exp); err != nil {
			t.Fatal(err)
		}
		if v, err := s.Get(ctx, key); err != nil || string(v) != tt.want {
			t.Errorf("%s: Max(%s, %d) = %q, %v; want %s", tt.name, tt.start, tt.n, v, err, tt.want)
		}
	}
}

// Members keep their expiry in the field, the hash lives as long as the
// longest-lived one, and Members deletes the expired ones it meets.
func TestMemberLayout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	addr := redistest.StartServer(t)
	s := openStore(t, "redis://"+addr, Options{})
	now := time.Now()
	if err := s.PutMember(ctx, "u", "long", []byte("l"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMember(ctx, "u", "short", []byte("s"), now.Add(200*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	key := s.group("u")
	pttl, err := redistest.Do(addr, "PTTL", key)
	if err != nil {
		t.Fatal(err)
	}
	if ms, _ := strconv.Atoi(pttl); ms < int((59 * time.Minute).Milliseconds()) {
		t.Errorf("the group's PTTL is %s ms, want the longest member's hour", pttl)
	}
	field, err := redistest.Do(addr, "HGET", key, "long")
	if err != nil {
		t.Fatal(err)
	}
	exp, val, _ := strings.Cut(field, ":")
	if ms, err := strconv.ParseInt(exp, 10, 64); err != nil || ms < now.Add(59*time.Minute).UnixMilli() || val != "l" {
		t.Errorf("the field is %q, want the expiry in Unix ms, a colon and the value", field)
	}
	time.Sleep(300 * time.Millisecond)
	got, err := s.Members(ctx, "u")
	if err != nil || len(got) != 1 || string(got["long"]) != "l" {
		t.Fatalf("Members = %q, %v", got, err)
	}
	if n, err := redistest.Do(addr, "HLEN", key); err != nil || n != "1" {
		t.Errorf("HLEN after Members = %s, %v; want the expired member deleted", n, err)
	}
}

func TestPrefixesSeparateApps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := "redis://" + redistest.StartServer(t)
	a := openStore(t, url, Options{Prefix: "app-a:"})
	b := openStore(t, url, Options{Prefix: "app-b:"})
	if err := a.Set(ctx, "k", []byte("a"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another prefix sees the key: %v", err)
	}
	if _, err := Open(ctx, url, Options{Prefix: "has space"}); err == nil {
		t.Error("a prefix with a space was accepted")
	}
}

// Redis killed: calls fail fast with an error that is not ErrNotFound.
// Redis back on the same port: the same store works again, subscription
// included, without reopening.
func TestRedisDownAndBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	s := openStore(t, "redis://"+srv.Addr, Options{})
	exp := time.Now().Add(time.Hour)
	if err := s.Set(ctx, "session", []byte("v"), exp); err != nil {
		t.Fatal(err)
	}
	var heard collector
	if err := s.Subscribe(ctx, "ended", heard.add); err != nil {
		t.Fatal(err)
	}

	srv.Kill()
	var getErr error
	eventually(t, 2*time.Second, "Get keeps answering with Redis killed", func() bool {
		start := time.Now()
		_, getErr = s.Get(ctx, "session")
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("Get took %v with Redis down", took)
		}
		return getErr != nil
	})
	if errors.Is(getErr, store.ErrNotFound) {
		t.Fatalf("Get with Redis down = %v, want an error other than ErrNotFound", getErr)
	}
	for name, call := range map[string]func() error{
		"Set":     func() error { return s.Set(ctx, "k", []byte("v"), exp) },
		"Max":     func() error { return s.Max(ctx, "k", 1, exp) },
		"Members": func() error { _, err := s.Members(ctx, "g"); return err },
		"Publish": func() error { return s.Publish(ctx, "ended", []byte("m")) },
	} {
		start := time.Now()
		err := call()
		if err == nil {
			t.Errorf("%s with Redis down succeeded", name)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("%s took %v with Redis down", name, took)
		}
	}

	srv.Restart()
	eventually(t, 5*time.Second, "Get does not recover after Redis is back", func() bool {
		v, err := s.Get(ctx, "session")
		return err == nil && string(v) == "v"
	})
	if err := s.Set(ctx, "after", []byte("w"), exp); err != nil {
		t.Fatal(err)
	}
	// A restarted Redis has forgotten the scripts (NOSCRIPT): they are
	// sent again.
	if err := s.Max(ctx, "cut", 7, exp); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Members(ctx, "g"); err != nil || len(got) != 0 {
		t.Fatalf("Members after the restart = %q, %v", got, err)
	}
	// The subscription is back once a message gets through; delivery is
	// at most once, so keep publishing until one does.
	eventually(t, 10*time.Second, "the subscription does not come back", func() bool {
		_ = s.Publish(ctx, "ended", []byte("back"))
		time.Sleep(50 * time.Millisecond)
		return heard.has("back")
	})
}

// Subscriptions end with their context and with the store, and leave no
// goroutine behind.
func TestNoGoroutineLeaks(t *testing.T) {
	ctx := context.Background()
	url := "redis://" + redistest.StartServer(t)
	before := runtime.NumGoroutine()

	s, err := Open(ctx, url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "warm"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	open := runtime.NumGoroutine()
	for i := range 20 {
		sctx, cancel := context.WithCancel(ctx)
		if err := s.Subscribe(sctx, "t"+strconv.Itoa(i%3), func([]byte) {}); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	eventually(t, 5*time.Second, "cancelled subscriptions left goroutines", func() bool {
		return runtime.NumGoroutine() <= open
	})
	for range 5 {
		if err := s.Subscribe(ctx, "live", func([]byte) {}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Subscribe(ctx, "live", func([]byte) {}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Subscribe after Close = %v, want ErrClosed", err)
	}
	eventually(t, 5*time.Second, "a closed store left goroutines", func() bool {
		return runtime.NumGoroutine() <= before
	})
}

// A subscriber's fn is not called once its context is done, even for
// messages already on their way.
func TestNoDeliveryAfterCancel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, "redis://"+redistest.StartServer(t), Options{})
	sctx, cancel := context.WithCancel(ctx)
	var after collector
	cancelled := make(chan struct{})
	if err := s.Subscribe(sctx, "t", func(m []byte) {
		select {
		case <-cancelled:
			after.add(m)
		default:
		}
	}); err != nil {
		t.Fatal(err)
	}
	var live collector
	if err := s.Subscribe(ctx, "t", live.add); err != nil {
		t.Fatal(err)
	}
	cancel()
	close(cancelled)
	for i := range 50 {
		if err := s.Publish(ctx, "t", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 5*time.Second, "the live subscriber misses messages", func() bool { return live.count() == 50 })
	if n := after.count(); n != 0 {
		t.Errorf("a cancelled subscriber got %d messages", n)
	}
}

// A Redis that does not answer (stopped, or a lost network) is an error
// within the timeout, for a key that is not cached; recovery needs no
// reopening.
func TestRedisHung(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t)
	s := openStore(t, "redis://"+srv.Addr, Options{Timeout: 500 * time.Millisecond})
	if err := s.Set(ctx, "k", []byte("v"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	srv.Pause()
	calls := map[string]func() error{
		"Get": func() error { _, err := s.Get(ctx, "uncached"); return err },
		"Set": func() error { return s.Set(ctx, "k", []byte("w"), time.Now().Add(time.Hour)) },
		"Subscribe": func() error {
			return s.Subscribe(ctx, "t", func([]byte) {})
		},
	}
	for name, call := range calls {
		start := time.Now()
		err := call()
		if err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s with Redis stopped = %v, want an error", name, err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("%s with Redis stopped took %v, want about the 500 ms timeout", name, took)
		}
	}
	srv.Resume()
	// The Set that timed out may still have been applied: its outcome is
	// unknown, as with any timeout. A new write and read must work.
	eventually(t, 5*time.Second, "the store does not recover after Redis answers again", func() bool {
		if err := s.Set(ctx, "after", []byte("x"), time.Now().Add(time.Hour)); err != nil {
			return false
		}
		v, err := s.Get(ctx, "after")
		return err == nil && string(v) == "x"
	})
}

// Every node of a Cluster killed and restarted: the store and its
// subscription come back without reopening.
func TestClusterDownAndBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	nodes := redistest.StartClusterServers(t)
	addrs := make([]string, len(nodes))
	for i, n := range nodes {
		addrs[i] = n.Addr
	}
	s := openStore(t, "redis-cluster://"+strings.Join(addrs, ","), Options{})
	var heard collector
	if err := s.Subscribe(ctx, "ended", heard.add); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		n.Kill()
	}
	eventually(t, 2*time.Second, "Get keeps answering with the Cluster down", func() bool {
		_, err := s.Get(ctx, "k")
		return err != nil && !errors.Is(err, store.ErrNotFound)
	})
	for _, n := range nodes {
		n.Restart()
	}
	redistest.WaitCluster(t, addrs...)
	eventually(t, 10*time.Second, "the store does not recover after the Cluster is back", func() bool {
		return s.Set(ctx, "k", []byte("v"), time.Now().Add(time.Hour)) == nil
	})
	eventually(t, 10*time.Second, "the subscription does not come back", func() bool {
		_ = s.Publish(ctx, "ended", []byte("back"))
		time.Sleep(50 * time.Millisecond)
		return heard.has("back")
	})
}
