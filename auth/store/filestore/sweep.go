package filestore

import (
	"bytes"
	"context"
	"time"

	bolt "go.etcd.io/bbolt"
)

// sweeper deletes expired entries every sweepEvery until ctx is done.
func (s *Store) sweeper(ctx context.Context) {
	defer close(s.swept)
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.sweep(); err != nil {
				s.log.Error("filestore: sweeping expired entries failed", "path", s.path, "err", err)
			} else if n > 0 {
				s.log.Debug("filestore: swept expired entries", "path", s.path, "entries", n)
			}
		}
	}
}

// sweep deletes the expired keys and members, and the groups left
// without members, in one write transaction, and reports how many
// entries it deleted. An entry too short to hold an expiry, which this
// package never writes and never returns, goes too.
func (s *Store) sweep() (int, error) {
	now := nanos(s.now())
	dead := func(raw []byte) bool {
		exp, _, err := decode(raw)
		return err != nil || now >= exp
	}
	var n int
	err := s.update(func(tx *bolt.Tx) error {
		n = 0
		kv := tx.Bucket(bucketKV)
		keys := expired(kv, dead)
		for _, k := range keys {
			if err := kv.Delete(k); err != nil {
				return err
			}
		}
		n += len(keys)

		groups := tx.Bucket(bucketGroups)
		var names, empty [][]byte
		c := groups.Cursor()
		for name, v := c.First(); name != nil; name, v = c.Next() {
			if v == nil { // a nested bucket; nothing else is written here
				names = append(names, bytes.Clone(name))
			}
		}
		for _, name := range names {
			g := groups.Bucket(name)
			members := expired(g, dead)
			for _, m := range members {
				if err := g.Delete(m); err != nil {
					return err
				}
			}
			n += len(members)
			if k, _ := g.Cursor().First(); k == nil {
				empty = append(empty, name)
			}
		}
		for _, name := range empty {
			if err := groups.DeleteBucket(name); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// expired returns copies of the keys in b whose entries are dead. They
// are deleted after the walk: a cursor does not survive deletes.
func expired(b *bolt.Bucket, dead func([]byte) bool) [][]byte {
	var keys [][]byte
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v != nil && dead(v) {
			keys = append(keys, bytes.Clone(k))
		}
	}
	return keys
}
