package filestore

import (
	"bytes"
	"context"
	"sync"

	"github.com/signet-auth/signet/auth/store"
)

// sub is one subscription.
type sub struct {
	ctx context.Context
	mu  sync.Mutex // one delivery at a time
	fn  func([]byte)
}

// Publish implements store.Store: it reaches the subscribers in this
// process, called before Publish returns. Messages are not written to
// the file.
func (s *Store) Publish(_ context.Context, topic string, msg []byte) error {
	if err := store.Check(topic, msg); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return store.ErrClosed
	}
	subs := make([]*sub, 0, len(s.subs[topic]))
	for x := range s.subs[topic] {
		subs = append(subs, x)
	}
	s.mu.Unlock()
	for _, x := range subs {
		x.mu.Lock()
		if x.ctx.Err() == nil {
			x.fn(bytes.Clone(msg))
		}
		x.mu.Unlock()
	}
	return nil
}

// Subscribe implements store.Store.
func (s *Store) Subscribe(ctx context.Context, topic string, fn func([]byte)) error {
	if err := store.Check(topic, nil); err != nil {
		return err
	}
	x := &sub{ctx: ctx, fn: fn}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return store.ErrClosed
	}
	if s.subs[topic] == nil {
		s.subs[topic] = map[*sub]struct{}{}
	}
	s.subs[topic][x] = struct{}{}
	context.AfterFunc(ctx, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.subs[topic], x)
		if len(s.subs[topic]) == 0 {
			delete(s.subs, topic)
		}
	})
	return nil
}
