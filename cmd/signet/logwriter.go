package main

import (
	"io"
	"sync"
	"time"
)

// logWindow is how long log lines may wait to be written together.
const logWindow = 10 * time.Millisecond

// maxLogBuffer is how much may wait before it is written anyway.
const maxLogBuffer = 32 << 10

// logWriter writes log lines in batches under load, like nginx's buffered
// access_log: a line written while the log is quiet goes out at once and
// opens a window of logWindow in which further lines are gathered and then
// written together. One write(2) per request line cost a fifth of the
// CPU time of a GET /api/auth/session under load. Close writes what is
// left.
type logWriter struct {
	mu     sync.Mutex
	w      io.Writer
	wait   time.Duration // how long a window stays open: logWindow
	buf    []byte
	window *time.Timer // open window, nil when the log is quiet
	closed bool
}

func newLogWriter(w io.Writer) *logWriter { return &logWriter{w: w, wait: logWindow} }

// Write writes p, or keeps it for the end of the open window. slog writes
// one whole record per call.
func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return l.w.Write(p)
	}
	if l.window == nil {
		l.window = time.AfterFunc(l.wait, l.endWindow)
		return l.w.Write(p)
	}
	l.buf = append(l.buf, p...)
	if len(l.buf) >= maxLogBuffer {
		return len(p), l.flushLocked()
	}
	return len(p), nil
}

// endWindow writes what the window gathered and closes it.
func (l *logWriter) endWindow() {
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = l.flushLocked()
	l.window = nil
}

func (l *logWriter) flushLocked() error {
	if len(l.buf) == 0 {
		return nil
	}
	_, err := l.w.Write(l.buf)
	l.buf = l.buf[:0]
	return err
}

// Close writes what is waiting. Lines written after it go out at once.
func (l *logWriter) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if l.window != nil {
		l.window.Stop()
		l.window = nil
	}
	return l.flushLocked()
}
