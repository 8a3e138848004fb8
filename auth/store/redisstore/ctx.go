package redisstore

import (
	"context"
	"sync"
	"time"
)

// lazyTimeout is the caller's context bounded by a timeout that starts
// only when the client first waits on it. A Get answered from the
// client-side cache never does, and so costs no timer: a third of the
// price of a cached Get otherwise. A Get that goes to Redis gets its
// bound as soon as rueidis asks for Done, Err or Deadline, before it
// sends anything.
type lazyTimeout struct {
	context.Context // the caller's
	timeout         time.Duration

	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
}

func (c *lazyTimeout) start() context.Context {
	c.once.Do(func() { c.ctx, c.cancel = context.WithTimeout(c.Context, c.timeout) })
	return c.ctx
}

func (c *lazyTimeout) Deadline() (time.Time, bool) { return c.start().Deadline() }
func (c *lazyTimeout) Done() <-chan struct{}       { return c.start().Done() }
func (c *lazyTimeout) Err() error                  { return c.start().Err() }

// release frees the timer, if it was started.
func (c *lazyTimeout) release() {
	c.once.Do(func() {})
	if c.cancel != nil {
		c.cancel()
	}
}
