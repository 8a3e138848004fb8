package filestore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/store"
)

// TestReadCache: a Get after every kind of write returns what the file
// holds, whether the key was cached as present or as missing; a cached
// value is not served past its expiry, and a caller changing what Get
// returned does not change the next Get.
func TestReadCache(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s := openAt(t, filepath.Join(t.TempDir(), "store.db"), c)
	hour := c.now().Add(time.Hour)
	want := func(key, value string) {
		t.Helper()
		for range 2 { // the read that fills the cache, then one from it
			v, err := s.Get(ctx, key)
			switch {
			case value == "" && !errors.Is(err, store.ErrNotFound):
				t.Fatalf("Get(%s) = %q, %v; want not found", key, v, err)
			case value != "" && (err != nil || string(v) != value):
				t.Fatalf("Get(%s) = %q, %v; want %q", key, v, err, value)
			}
		}
	}
	steps := []struct {
		name  string
		write func() error
		value string // "" for not found
	}{
		{"missing", func() error { return nil }, ""},
		{"set", func() error { return s.Set(ctx, "k", []byte("1"), hour) }, "1"},
		{"set again", func() error { return s.Set(ctx, "k", []byte("2"), hour) }, "2"},
		{"max", func() error { return s.Max(ctx, "k", 7, hour) }, "7"},
		{"delete-if another value", func() error { _, err := s.DeleteIf(ctx, "k", []byte("6")); return err }, "7"},
		{"delete-if", func() error { _, err := s.DeleteIf(ctx, "k", []byte("7")); return err }, ""},
		{"add", func() error { _, err := s.Add(ctx, "k", []byte("a"), hour); return err }, "a"},
		{"delete", func() error { return s.Delete(ctx, "k") }, ""},
		{"set expired", func() error { return s.Set(ctx, "k", []byte("x"), c.now()) }, ""},
		{"set short-lived", func() error { return s.Set(ctx, "k", []byte("3"), c.now().Add(time.Minute)) }, "3"},
		{"expired while cached", func() error { c.advance(time.Minute); return nil }, ""},
	}
	for _, st := range steps {
		if err := st.write(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		want("k", st.value)
	}

	if err := s.Set(ctx, "m", []byte("abc"), hour); err != nil {
		t.Fatal(err)
	}
	v, _ := s.Get(ctx, "m")
	v[0] = 'X'
	want("m", "abc")
}

// TestReadCacheBounded: reading more keys than the cache holds keeps it
// bounded and every read right.
func TestReadCacheBounded(t *testing.T) {
	ctx := context.Background()
	s := openAt(t, filepath.Join(t.TempDir(), "store.db"), newClock())
	for i := range maxCached + 100 {
		if _, err := s.Get(ctx, fmt.Sprint("absent:", i)); !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
	}
	if n := s.cache.n.Load(); n > maxCached || n < 1 {
		t.Errorf("the cache holds %d keys, want 1 to %d", n, maxCached)
	}
}

// TestReadCacheConcurrentWrites: readers racing a writer never see, once
// the writer is done, anything but its last value.
func TestReadCacheConcurrentWrites(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s := openAt(t, filepath.Join(t.TempDir(), "store.db"), c)
	hour := c.now().Add(time.Hour)
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
					_, _ = s.Get(ctx, "k")
				}
			}
		}()
	}
	for i := range 200 {
		if err := s.Set(ctx, "k", []byte(fmt.Sprint(i)), hour); err != nil {
			t.Fatal(err)
		}
		if v, err := s.Get(ctx, "k"); err != nil || string(v) != fmt.Sprint(i) {
			t.Fatalf("after Set %d, Get = %q, %v", i, v, err)
		}
	}
	close(done)
	wg.Wait()
	if v, err := s.Get(ctx, "k"); err != nil || string(v) != "199" {
		t.Fatalf("Get = %q, %v; want 199", v, err)
	}
}
