package filestore

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// benchStore returns a store holding 1000 keys of 200 bytes, the size of
// a server session's record.
func benchStore(b *testing.B) *Store {
	c := newClock()
	s := openAt(b, filepath.Join(b.TempDir(), "store.db"), c)
	exp := nanos(c.now().Add(time.Hour))
	must(b, s.update(func(tx *bolt.Tx) error { // one write, not a thousand
		for i := range 1000 {
			if err := tx.Bucket(bucketKV).Put([]byte("session/"+strconv.Itoa(i)), encode(exp, make([]byte, 200))); err != nil {
				return err
			}
		}
		return nil
	}))
	return s
}

func BenchmarkGet(b *testing.B) {
	s, ctx := benchStore(b), context.Background()
	for b.Loop() {
		if _, err := s.Get(ctx, "session/500"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetParallel(b *testing.B) {
	s, ctx := benchStore(b), context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Get(ctx, "session/500"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSet measures a write synced to disk: its time is the disk's.
func BenchmarkSet(b *testing.B) {
	s, ctx := benchStore(b), context.Background()
	v, exp := make([]byte, 200), s.now().Add(time.Hour)
	for b.Loop() {
		if err := s.Set(ctx, "session/500", v, exp); err != nil {
			b.Fatal(err)
		}
	}
}
