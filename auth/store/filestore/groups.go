package filestore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/signet-auth/signet/auth/store"
)

// PutMember implements store.Store.
func (s *Store) PutMember(_ context.Context, group, member string, value []byte, expires time.Time) error {
	if err := store.Check(group, value); err != nil {
		return err
	}
	if err := store.Check(member, nil); err != nil {
		return err
	}
	now, exp := nanos(s.now()), nanos(expires)
	err := s.update(func(tx *bolt.Tx) error {
		groups := tx.Bucket(bucketGroups)
		if now >= exp {
			return deleteMember(groups, []byte(group), []byte(member))
		}
		g, err := groups.CreateBucketIfNotExists([]byte(group))
		if err != nil {
			return err
		}
		return g.Put([]byte(member), encode(exp, value))
	})
	return wrap("put member of", group, err)
}

// Members implements store.Store.
func (s *Store) Members(_ context.Context, group string) (map[string][]byte, error) {
	if err := store.Check(group, nil); err != nil {
		return nil, err
	}
	now := nanos(s.now())
	out := map[string][]byte{}
	err := s.view(func(tx *bolt.Tx) error {
		g := tx.Bucket(bucketGroups).Bucket([]byte(group))
		if g == nil {
			return nil
		}
		return g.ForEach(func(k, raw []byte) error {
			exp, v, err := decode(raw)
			if err != nil {
				return fmt.Errorf("member %q: %w", k, err)
			}
			if now < exp {
				out[string(k)] = bytes.Clone(v)
			}
			return nil
		})
	})
	if err != nil {
		return nil, wrap("members of", group, err)
	}
	return out, nil
}

// DeleteMember implements store.Store.
func (s *Store) DeleteMember(_ context.Context, group, member string) error {
	if err := store.Check(group, nil); err != nil {
		return err
	}
	if err := store.Check(member, nil); err != nil {
		return err
	}
	err := s.update(func(tx *bolt.Tx) error {
		return deleteMember(tx.Bucket(bucketGroups), []byte(group), []byte(member))
	})
	return wrap("delete member of", group, err)
}

// deleteMember removes member from the group, and the group once it has
// no members.
func deleteMember(groups *bolt.Bucket, group, member []byte) error {
	g := groups.Bucket(group)
	if g == nil {
		return nil
	}
	if err := g.Delete(member); err != nil {
		return err
	}
	if k, _ := g.Cursor().First(); k == nil {
		return groups.DeleteBucket(group)
	}
	return nil
}
