// Package testlog is the one log sink of the app's tests: a buffer that
// servers and child processes may write to from any goroutine, which a
// test reads whole or waits on for a line.
package testlog

import (
	"bytes"
	"strings"
	"sync"
	"time"
)

// Buffer collects log output. It is safe for concurrent use; the zero
// value is ready.
type Buffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced at every write
}

// Write implements io.Writer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
	return n, err
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// WaitFor waits until the output contains s, the timeout passes or done
// closes (done may be nil), and reports whether s was seen.
func (b *Buffer) WaitFor(s string, timeout time.Duration, done <-chan struct{}) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		b.mu.Lock()
		found := strings.Contains(b.buf.String(), s)
		if b.changed == nil {
			b.changed = make(chan struct{})
		}
		changed := b.changed
		b.mu.Unlock()
		if found {
			return true
		}
		select {
		case <-changed:
		case <-done:
			return strings.Contains(b.String(), s)
		case <-deadline.C:
			return false
		}
	}
}
