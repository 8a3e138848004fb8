// Package store defines where Signet keeps the state that outlives a
// request: server sessions and the cookie strategy's overflow, the
// session index, revocations, the logout-token replay set, the refresh
// lock and its result, and the "session ended" events every instance
// hears.
//
// A Store is a small key-value store with expiry, a few atomic operations
// and publish/subscribe. Signet gives the keys their meaning (see auth's
// state.go); a store only keeps bytes. This package holds the interface
// and Memory, the in-process implementation. Others live in packages of
// their own, so that an app compiles in only the one it uses:
// auth/store/filestore (embedded, durable, one instance) and
// auth/store/redisstore (many instances). Every implementation passes
// the conformance suite in auth/store/storetest.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by Get for a key the store does not hold, or no
// longer holds because it expired.
var ErrNotFound = errors.New("store: not found")

// Store keeps bytes under string keys until they expire. Every method is
// safe for concurrent use, from one process or, for a shared store, from
// many. An error other than ErrNotFound means the store could not be
// reached or failed: callers treat the state as unknown, never as absent.
//
// Keys are at most 512 bytes of printable ASCII; values at most 1 MiB.
// An expiry in the past stores nothing (Set and Add) or removes the
// entry.
type Store interface {
	// Get returns the value under key, or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key until expires, replacing what was there.
	Set(ctx context.Context, key string, value []byte, expires time.Time) error
	// Add stores value under key until expires only if the key holds
	// nothing, and reports whether it did. One caller wins among any
	// number of concurrent ones, on every instance: it is how a logout
	// token's jti is claimed and how a lock is taken.
	Add(ctx context.Context, key string, value []byte, expires time.Time) (bool, error)
	// Delete removes key. A missing key is not an error.
	Delete(ctx context.Context, key string) error
	// DeleteIf removes key only while it holds value, and reports whether
	// it did: a lock is released only by its holder.
	DeleteIf(ctx context.Context, key string, value []byte) (bool, error)
	// Max stores n under key, as decimal text, unless the key holds a
	// larger number; the entry then lives until the later of the two
	// expiries. It records a revocation's cutoff, which only ever moves
	// forward however the instances' messages interleave.
	Max(ctx context.Context, key string, n int64, expires time.Time) error

	// PutMember stores value under member in the group, until expires;
	// the group lives as long as its longest-lived member. A group is
	// how a user's sessions are listed.
	PutMember(ctx context.Context, group, member string, value []byte, expires time.Time) error
	// Members returns the group's unexpired members; an unknown group has
	// none (an empty map, no error).
	Members(ctx context.Context, group string) (map[string][]byte, error)
	// DeleteMember removes member from the group. A missing one is not an
	// error.
	DeleteMember(ctx context.Context, group, member string) error

	// Publish sends msg to every subscriber of topic, in this process and,
	// for a shared store, on every instance. Delivery is at most once: a
	// subscriber that is disconnected at the time misses it.
	Publish(ctx context.Context, topic string, msg []byte) error
	// Subscribe calls fn with each message published to topic until ctx
	// is done. The subscription is active when Subscribe returns; fn is
	// called from one goroutine at a time, never once ctx is done, and
	// must neither block for long nor publish.
	// A shared store resubscribes by itself after a lost connection.
	Subscribe(ctx context.Context, topic string, fn func(msg []byte)) error

	// Close releases the store's resources. Calls after Close fail.
	Close() error
}

// Limits on keys and values, checked by every implementation.
const (
	MaxKeyLen   = 512
	MaxValueLen = 1 << 20
)

// ErrInvalid is returned for an empty key, a key over MaxKeyLen or with
// bytes outside printable ASCII, and a value over MaxValueLen.
var ErrInvalid = errors.New("store: key or value out of bounds")

// ErrClosed is returned by a Store's methods after Close.
var ErrClosed = errors.New("store: closed")

// Check returns ErrInvalid for a key or value out of bounds. Every
// implementation calls it first, so they all refuse the same inputs.
func Check(key string, value []byte) error {
	if len(key) == 0 || len(key) > MaxKeyLen || len(value) > MaxValueLen {
		return ErrInvalid
	}
	for i := 0; i < len(key); i++ {
		if key[i] <= ' ' || key[i] > '~' {
			return ErrInvalid
		}
	}
	return nil
}
