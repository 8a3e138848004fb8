package filestore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/signet-auth/signet/auth/store"
)

// Get implements store.Store.
func (s *Store) Get(_ context.Context, key string) ([]byte, error) {
	if err := store.Check(key, nil); err != nil {
		return nil, err
	}
	now := nanos(s.now())
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	if v, found, ok := s.cache.get(key, now); ok {
		if !found {
			return nil, store.ErrNotFound
		}
		return v, nil
	}
	gen := s.cache.start()
	var out []byte
	var exp int64
	err := s.view(func(tx *bolt.Tx) error {
		var ok bool
		var v []byte
		var err error
		exp, v, ok, err = live(tx.Bucket(bucketKV), []byte(key), now)
		if err != nil {
			return err
		}
		if !ok {
			return store.ErrNotFound
		}
		out = bytes.Clone(v)
		if out == nil {
			out = []byte{}
		}
		return nil
	})
	switch {
	case err == nil:
		s.cache.put(key, gen, &cached{value: bytes.Clone(out), expires: exp, found: true})
		return out, nil
	case errors.Is(err, store.ErrNotFound):
		s.cache.put(key, gen, &cached{})
		return nil, err
	case errors.Is(err, store.ErrClosed):
		return nil, err
	}
	return nil, fmt.Errorf("filestore: get %q: %w", keyKind(key), err)
}

// Set implements store.Store.
func (s *Store) Set(_ context.Context, key string, value []byte, expires time.Time) error {
	if err := store.Check(key, value); err != nil {
		return err
	}
	now, exp := nanos(s.now()), nanos(expires)
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketKV)
		if now >= exp {
			return b.Delete([]byte(key))
		}
		return b.Put([]byte(key), encode(exp, value))
	})
	s.cache.drop(key)
	return wrap("set", key, err)
}

// Add implements store.Store.
func (s *Store) Add(_ context.Context, key string, value []byte, expires time.Time) (bool, error) {
	if err := store.Check(key, value); err != nil {
		return false, err
	}
	now, exp := nanos(s.now()), nanos(expires)
	var added bool
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketKV)
		_, _, ok, err := live(b, []byte(key), now)
		if added = !ok; err != nil || ok {
			return err
		}
		if now >= exp {
			// Stored and expired at once; an expired entry goes too.
			return b.Delete([]byte(key))
		}
		return b.Put([]byte(key), encode(exp, value))
	})
	s.cache.drop(key)
	if err != nil {
		return false, wrap("add", key, err)
	}
	return added, nil
}

// Delete implements store.Store.
func (s *Store) Delete(_ context.Context, key string) error {
	if err := store.Check(key, nil); err != nil {
		return err
	}
	err := s.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketKV).Delete([]byte(key))
	})
	s.cache.drop(key)
	return wrap("delete", key, err)
}

// DeleteIf implements store.Store.
func (s *Store) DeleteIf(_ context.Context, key string, value []byte) (bool, error) {
	if err := store.Check(key, value); err != nil {
		return false, err
	}
	now := nanos(s.now())
	var deleted bool
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketKV)
		_, v, ok, err := live(b, []byte(key), now)
		if err != nil || !ok || !bytes.Equal(v, value) {
			deleted = false
			return err
		}
		deleted = true
		return b.Delete([]byte(key))
	})
	s.cache.drop(key)
	if err != nil {
		return false, wrap("delete-if", key, err)
	}
	return deleted, nil
}

// Max implements store.Store.
func (s *Store) Max(_ context.Context, key string, n int64, expires time.Time) error {
	if err := store.Check(key, nil); err != nil {
		return err
	}
	now, exp := nanos(s.now()), nanos(expires)
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketKV)
		curExp, v, ok, err := live(b, []byte(key), now)
		if err != nil {
			return err
		}
		num, until := n, exp
		if ok {
			if cur, err := strconv.ParseInt(string(v), 10, 64); err == nil && cur > num {
				num = cur
			}
			until = max(until, curExp)
		}
		if now >= until {
			// Nothing live before, nothing live now; an expired entry goes.
			return b.Delete([]byte(key))
		}
		return b.Put([]byte(key), encode(until, strconv.AppendInt(nil, num, 10)))
	})
	s.cache.drop(key)
	return wrap("max", key, err)
}

// wrap names the operation and the key's kind (see keyKind) in an error
// from a transaction; store.ErrClosed and nil pass unchanged.
func wrap(op, key string, err error) error {
	if err == nil || errors.Is(err, store.ErrClosed) {
		return err
	}
	return fmt.Errorf("filestore: %s %q: %w", op, keyKind(key), err)
}

// keyKind is key up to its last colon, the rest shown as "…": the end of a
// key can be a credential, such as a server session's id, and errors end
// up in logs.
func keyKind(key string) string {
	i := strings.LastIndexByte(key, ':')
	if i == len(key)-1 {
		return key
	}
	return key[:i+1] + "…"
}
