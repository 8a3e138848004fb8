package filestore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/signet-auth/signet/auth/store"
	"github.com/signet-auth/signet/auth/store/storetest"
)

// clock is the stores' clock in tests: it moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// openAt opens the store at path on clock c, closed at the test's end.
func openAt(t testing.TB, path string, c *clock) *Store {
	t.Helper()
	s, err := Open(path, Options{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	c := newClock()
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) store.Store {
			s, err := Open(filepath.Join(t.TempDir(), "store.db"), Options{Now: c.now})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		Clock:   c.now,
		Advance: c.advance,
	})
}

func TestRestart(t *testing.T) {
	ctx, c := context.Background(), newClock()
	path := filepath.Join(t.TempDir(), "store.db")
	s := openAt(t, path, c)
	hour, minute := c.now().Add(time.Hour), c.now().Add(time.Minute)
	must(t, s.Set(ctx, "session", []byte("alice"), hour))
	must(t, s.Set(ctx, "short", []byte("s"), minute))
	must(t, s.Max(ctx, "cutoff", 42, hour))
	must(t, s.PutMember(ctx, "user", "s1", []byte("one"), hour))
	must(t, s.PutMember(ctx, "user", "s2", []byte("two"), minute))
	if ok, err := s.Add(ctx, "jti", []byte("x"), hour); err != nil || !ok {
		t.Fatalf("Add = %v, %v", ok, err)
	}
	must(t, s.Close())

	s = openAt(t, path, c)
	for key, want := range map[string]string{"session": "alice", "short": "s", "cutoff": "42", "jti": "x"} {
		if got, err := s.Get(ctx, key); err != nil || string(got) != want {
			t.Errorf("after a restart, Get(%q) = %q, %v; want %q", key, got, err, want)
		}
	}
	if ok, err := s.Add(ctx, "jti", []byte("y"), hour); err != nil || ok {
		t.Errorf("after a restart, Add of a claimed key = %v, %v; want false", ok, err)
	}
	if got := members(t, s, "user"); !slices.Equal(got, []string{"s1", "s2"}) {
		t.Errorf("after a restart, members = %q", got)
	}

	// Expiries survive too.
	must(t, s.Close())
	c.advance(2 * time.Minute)
	s = openAt(t, path, c)
	if _, err := s.Get(ctx, "short"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an expired key after a restart: %v, want ErrNotFound", err)
	}
	if got := members(t, s, "user"); !slices.Equal(got, []string{"s1"}) {
		t.Errorf("after a member expired, members = %q", got)
	}
	if got := stored(t, s); !slices.Equal(got, []string{"kv/cutoff", "kv/jti", "kv/session", "user/s1"}) {
		t.Errorf("the file holds %q after Open's sweep", got)
	}

	// Once all have expired, the file holds nothing.
	must(t, s.Close())
	c.advance(2 * time.Hour)
	s = openAt(t, path, c)
	if got := stored(t, s); len(got) != 0 {
		t.Errorf("the file still holds %q after everything expired", got)
	}
}

func TestSweep(t *testing.T) {
	ctx, c := context.Background(), newClock()
	s := openAt(t, filepath.Join(t.TempDir(), "store.db"), c)
	hour, minute := c.now().Add(time.Hour), c.now().Add(time.Minute)
	must(t, s.Set(ctx, "live", []byte("v"), hour))
	must(t, s.Set(ctx, "dead", []byte("v"), minute))
	must(t, s.PutMember(ctx, "gone", "a", []byte("v"), minute))
	must(t, s.PutMember(ctx, "kept", "a", []byte("v"), hour))
	must(t, s.PutMember(ctx, "kept", "b", []byte("v"), minute))
	// An entry this package would not write: swept too.
	must(t, s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketKV).Put([]byte("bad"), []byte("x")) }))

	if n, err := s.sweep(); err != nil || n != 1 {
		t.Fatalf("sweep before anything expired = %d, %v; want 1 (the bad entry)", n, err)
	}
	c.advance(2 * time.Minute)
	if n, err := s.sweep(); err != nil || n != 3 {
		t.Fatalf("sweep = %d, %v; want 3", n, err)
	}
	if got := stored(t, s); !slices.Equal(got, []string{"kept/a", "kv/live"}) {
		t.Errorf("after the sweep the file holds %q", got)
	}
}

func TestFarFuture(t *testing.T) {
	ctx, c := context.Background(), newClock()
	s := openAt(t, filepath.Join(t.TempDir(), "store.db"), c)
	must(t, s.Set(ctx, "k", []byte("v"), time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)))
	if got, err := s.Get(ctx, "k"); err != nil || string(got) != "v" {
		t.Fatalf("Get of an entry that expires in the year 3000 = %q, %v", got, err)
	}
}

func TestClosed(t *testing.T) {
	ctx, c := context.Background(), newClock()
	s := openAt(t, filepath.Join(t.TempDir(), "store.db"), c)
	must(t, s.Close())
	exp := c.now().Add(time.Hour)
	calls := map[string]func() error{
		"Get":          func() error { _, err := s.Get(ctx, "k"); return err },
		"Set":          func() error { return s.Set(ctx, "k", nil, exp) },
		"Add":          func() error { _, err := s.Add(ctx, "k", nil, exp); return err },
		"Delete":       func() error { return s.Delete(ctx, "k") },
		"DeleteIf":     func() error { _, err := s.DeleteIf(ctx, "k", nil); return err },
		"Max":          func() error { return s.Max(ctx, "k", 1, exp) },
		"PutMember":    func() error { return s.PutMember(ctx, "g", "m", nil, exp) },
		"Members":      func() error { _, err := s.Members(ctx, "g"); return err },
		"DeleteMember": func() error { return s.DeleteMember(ctx, "g", "m") },
		"Publish":      func() error { return s.Publish(ctx, "t", nil) },
		"Subscribe":    func() error { return s.Subscribe(ctx, "t", func([]byte) {}) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("a second Close = %v", err)
	}
}

func TestOpenCreates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "data", "signet", "store.db")
	openAt(t, path, newClock())
	for p, want := range map[string]os.FileMode{
		filepath.Join(dir, "data"):           0o700 | os.ModeDir,
		filepath.Join(dir, "data", "signet"): 0o700 | os.ModeDir,
		path:                                 0o600,
	} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode(), want)
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// members returns the names of the group's live members, sorted.
func members(t *testing.T, s *Store, group string) []string {
	t.Helper()
	m, err := s.Members(context.Background(), group)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// stored lists what the file holds, expired or not: "kv/key" for keys,
// "group/member" for members.
func stored(t *testing.T, s *Store) []string {
	t.Helper()
	var out []string
	err := s.db.View(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketKV).ForEach(func(k, _ []byte) error {
			out = append(out, "kv/"+string(k))
			return nil
		}); err != nil {
			return err
		}
		groups := tx.Bucket(bucketGroups)
		return groups.ForEach(func(name, _ []byte) error {
			return groups.Bucket(name).ForEach(func(m, _ []byte) error {
				out = append(out, string(name)+"/"+string(m))
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// fill writes n keys of 1 KiB to the store at path, so that the file
// spans several pages, and closes it.
func fill(t *testing.T, path string, n int) {
	t.Helper()
	c := newClock()
	s, err := Open(path, Options{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		must(t, s.Set(context.Background(), "key-"+strconv.Itoa(i), make([]byte, 1024), c.now().Add(time.Hour)))
	}
	must(t, s.Close())
}

// Errors name a key's kind, never the rest of the key: a server session's
// id is a credential, and store errors are logged.
func TestErrorsHideKeys(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "store.db"), newClock())
	const secret = "Zm9vYmFyYmF6cXV4c2VjcmV0"
	// An entry shorter than its expiry, as no Store writes it.
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketKV).Put([]byte("sess:"+secret), []byte("x"))
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Get(context.Background(), "sess:"+secret)
	if err == nil || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get of a damaged entry = %v, want an error", err)
	}
	if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), `"sess:…"`) {
		t.Errorf("Get: %v, want the key's kind only", err)
	}
	err = s.Max(context.Background(), "sess:"+secret, 1, time.Now().Add(time.Hour))
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("Max on a damaged entry: %v, want an error without the key", err)
	}
	for key, want := range map[string]string{"sess:abc": "sess:…", "rev:sid:abc": "rev:sid:…", "abc": "…", "user:": "user:"} {
		if got := keyKind(key); got != want {
			t.Errorf("keyKind(%q) = %q, want %q", key, got, want)
		}
	}
}
