package redisstore

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/signet-auth/signet/auth/store"
	"github.com/signet-auth/signet/auth/store/redisstore/redistest"
	"github.com/signet-auth/signet/auth/store/storetest"
)

// prefixes gives every store of a test run keys of its own, so that the
// suite's "empty store" holds on a shared server.
var prefixes atomic.Int64

func freshPrefix() string { return fmt.Sprintf("test%d:", prefixes.Add(1)) }

// openStore opens a store on url and closes it when the test ends.
func openStore(t testing.TB, url string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// harness runs the suite on url, each store under a prefix of its own,
// and a peer under the same prefix on a connection of its own.
func harness(url string) storetest.Harness {
	return storetest.Harness{
		New: func(t *testing.T) store.Store {
			s, err := Open(context.Background(), url, Options{Prefix: freshPrefix()})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		Peer: func(t *testing.T, s store.Store) store.Store {
			p, err := Open(context.Background(), url, Options{Prefix: s.(*Store).prefix})
			if err != nil {
				t.Fatal(err)
			}
			return p
		},
	}
}

func TestConformanceStandalone(t *testing.T) {
	t.Parallel()
	storetest.Run(t, harness("redis://"+redistest.StartServer(t)))
}

func TestConformanceCluster(t *testing.T) {
	t.Parallel()
	storetest.Run(t, harness("redis-cluster://"+strings.Join(redistest.StartCluster(t), ",")))
}

func TestConformanceSentinel(t *testing.T) {
	t.Parallel()
	master := redistest.StartServer(t)
	sentinel := redistest.StartSentinel(t, "mymaster", master)
	storetest.Run(t, harness("redis-sentinel://"+sentinel+"?master=mymaster"))
}
