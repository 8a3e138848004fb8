package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/store"
	"github.com/signet-auth/signet/auth/store/redisstore/redistest"
)

// BenchmarkGet compares a cached Get with an uncached one and with the
// memory store: (cd auth/store/redisstore && go test -run - -bench Get .)
func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	url := "redis://" + redistest.StartServer(b)
	stores := []struct {
		name string
		s    store.Store
	}{
		{"cached", openStore(b, url, Options{})},
		{"uncached", openStore(b, url, Options{CacheSize: -1})},
		{"memory", store.NewMemory(nil)},
	}
	for _, st := range stores {
		if err := st.s.Set(ctx, "session", make([]byte, 512), time.Now().Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
		b.Run(st.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := st.s.Get(ctx, "session"); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
