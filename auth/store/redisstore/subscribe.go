package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/signet-auth/signet/auth/store"
)

// Backoff between attempts to subscribe again after a lost connection.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// Subscribe implements store.Store with SUBSCRIBE on the store's shared
// connection. It returns once Redis has confirmed the subscription. A
// goroutine then delivers the messages, subscribes again by itself
// after a lost connection (backing off from 100 ms to 5 s), and ends
// when ctx is done or the store is closed; messages published while it
// is disconnected are missed.
func (s *Store) Subscribe(ctx context.Context, topic string, fn func(msg []byte)) error {
	if err := store.Check(topic, nil); err != nil {
		return err
	}
	if s.closed.Load() {
		return store.ErrClosed
	}
	channel := s.topic(topic)

	// run ends with ctx or with the store.
	run, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.base, cancel)

	ready := make(chan struct{})
	var once sync.Once
	// confirmed is set by each confirmation and cleared when an attempt
	// ends, so that an outage is logged once, however many attempts fail.
	// rueidis calls the hook of every subscription to the channel on this
	// connection, so a confirmation may be another's: either way the
	// channel is subscribed.
	var confirmed atomic.Bool
	hooked := rueidis.WithOnSubscriptionHook(run, func(sub rueidis.PubSubSubscription) {
		if sub.Kind == "subscribe" && sub.Channel == channel {
			confirmed.Store(true)
			once.Do(func() { close(ready) })
		}
	})
	deliver := func(m rueidis.PubSubMessage) {
		if ctx.Err() == nil {
			fn([]byte(m.Message))
		}
	}
	failed := make(chan error, 1)

	s.subs.Add(1)
	go func() {
		defer s.subs.Done()
		defer stop()
		defer cancel()
		backoff := minBackoff
		for {
			err := s.client.Receive(hooked, s.client.B().Subscribe().Channel(channel).Build(), deliver)
			if run.Err() != nil {
				return
			}
			select {
			case <-ready:
			default:
				// Never subscribed: Subscribe reports it and gives up.
				failed <- err
				return
			}
			if confirmed.Swap(false) {
				backoff = minBackoff
				s.log.Warn("redisstore: subscription lost; subscribing again", "topic", topic, "err", err)
			}
			t := time.NewTimer(backoff)
			select {
			case <-run.Done():
				t.Stop()
				return
			case <-t.C:
			}
			backoff = min(2*backoff, maxBackoff)
		}
	}()

	timer := time.NewTimer(s.timeout)
	defer timer.Stop()
	select {
	case <-ready:
		return nil
	case err := <-failed:
		if err == nil {
			err = errors.New("unsubscribed at once")
		}
		return fmt.Errorf("redisstore: subscribe %q: %w", topic, err)
	case <-timer.C:
		cancel()
		return fmt.Errorf("redisstore: subscribe %q: no confirmation from Redis within %v", topic, s.timeout)
	case <-run.Done():
		if s.closed.Load() {
			return store.ErrClosed
		}
		return fmt.Errorf("redisstore: subscribe %q: %w", topic, ctx.Err())
	}
}
