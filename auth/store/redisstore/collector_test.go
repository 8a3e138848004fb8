package redisstore

import "sync"

// collector gathers the messages a subscription receives.
type collector struct {
	mu  sync.Mutex
	got []string
}

func (c *collector) add(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, string(b))
}

func (c *collector) has(msg string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, g := range c.got {
		if g == msg {
			return true
		}
	}
	return false
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got)
}
