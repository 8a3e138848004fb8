package filestore

import (
	"encoding/binary"
	"errors"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/signet-auth/signet/auth/store"
)

// errBadEntry is an entry shorter than its expiry: the file was written
// by something else than this package.
var errBadEntry = errors.New("entry shorter than its expiry")

// nanos is t in Unix nanoseconds, the largest int64 for times after it.
func nanos(t time.Time) int64 {
	if t.After(maxTime) {
		return math.MaxInt64
	}
	return t.UnixNano()
}

var maxTime = time.Unix(0, math.MaxInt64)

// encode returns an entry: expires ‖ value.
func encode(expires int64, value []byte) []byte {
	b := make([]byte, 8+len(value))
	binary.BigEndian.PutUint64(b, uint64(expires))
	copy(b[8:], value)
	return b
}

// decode splits an entry into its expiry and value. value is the file's
// memory: valid only during the transaction, never to be written to.
func decode(raw []byte) (expires int64, value []byte, err error) {
	if len(raw) < 8 {
		return 0, nil, errBadEntry
	}
	return int64(binary.BigEndian.Uint64(raw)), raw[8:], nil
}

// live returns the entry under key in b while it is live at now.
func live(b *bolt.Bucket, key []byte, now int64) (expires int64, value []byte, ok bool, err error) {
	raw := b.Get(key)
	if raw == nil {
		return 0, nil, false, nil
	}
	expires, value, err = decode(raw)
	if err != nil || now >= expires {
		return 0, nil, false, err
	}
	return expires, value, true, nil
}

// view runs fn in a read-only transaction.
func (s *Store) view(fn func(tx *bolt.Tx) error) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	return closedErr(s.db.View(fn))
}

// update runs fn in a write transaction, committed and synced to disk
// when fn returns nil.
func (s *Store) update(fn func(tx *bolt.Tx) error) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	return closedErr(s.db.Update(fn))
}

// closedErr turns bbolt's error for a closed database, met by a call
// racing Close, into store.ErrClosed.
func closedErr(err error) error {
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return store.ErrClosed
	}
	return err
}
