package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingWriter records each Write it gets.
type countingWriter struct {
	mu     sync.Mutex
	writes []string
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes = append(c.writes, string(p))
	return len(p), nil
}

func (c *countingWriter) snapshot() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.writes...)
}

func TestLogWriterQuietLineGoesOutAtOnce(t *testing.T) {
	out := &countingWriter{}
	l := newLogWriter(out)
	// A window that cannot end by itself while the test runs, however
	// slowly: the test ends it, as the timer would.
	l.wait = time.Hour
	defer l.Close()
	l.Write([]byte("first\n"))
	if got := out.snapshot(); len(got) != 1 || got[0] != "first\n" {
		t.Fatalf("writes = %q, want the first line at once", got)
	}
	l.Write([]byte("second\n"))
	l.Write([]byte("third\n"))
	if got := out.snapshot(); len(got) != 1 {
		t.Fatalf("writes = %q, want the window's lines held", got)
	}
	l.endWindow()
	if got := out.snapshot(); len(got) != 2 || got[1] != "second\nthird\n" {
		t.Fatalf("writes = %q, want the window's lines in one write", got)
	}
	l.Write([]byte("fourth\n"))
	if got := out.snapshot(); len(got) != 3 || got[2] != "fourth\n" {
		t.Fatalf("writes = %q, want a line after the window at once", got)
	}
}

func TestLogWriterWindowEnds(t *testing.T) {
	out := &countingWriter{}
	l := newLogWriter(out)
	defer l.Close()
	l.Write([]byte("first\n"))
	l.Write([]byte("second\n")) // held, unless the window has already ended
	// The window's timer writes what it held, without Close; how soon
	// depends on the machine, so the wait is generous.
	deadline := time.Now().Add(10 * time.Second)
	for strings.Join(out.snapshot(), "") != "first\nsecond\n" && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := strings.Join(out.snapshot(), ""); got != "first\nsecond\n" {
		t.Fatalf("written %q, want both lines without Close", got)
	}
}

func TestLogWriterClose(t *testing.T) {
	out := &countingWriter{}
	l := newLogWriter(out)
	l.Write([]byte("a\n"))
	l.Write([]byte("b\n"))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l.Write([]byte("c\n"))
	if got := strings.Join(out.snapshot(), ""); got != "a\nb\nc\n" {
		t.Errorf("written %q, want every line, in order, by Close and after it", got)
	}
}

func TestLogWriterBatchesUnderLoad(t *testing.T) {
	out := &countingWriter{}
	l := newLogWriter(out)
	var wg sync.WaitGroup
	const writers, lines = 8, 2000
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				fmt.Fprintf(l, "writer=%d line=%04d %s\n", w, i, strings.Repeat("x", 40))
			}
		}()
	}
	wg.Wait()
	l.Close()
	all := strings.Join(out.snapshot(), "")
	got := strings.Split(strings.TrimSuffix(all, "\n"), "\n")
	if len(got) != writers*lines {
		t.Fatalf("%d lines written, want %d", len(got), writers*lines)
	}
	for _, line := range got {
		if !strings.HasPrefix(line, "writer=") || !strings.HasSuffix(line, strings.Repeat("x", 40)) {
			t.Fatalf("a line was cut or mixed: %q", line)
		}
	}
	if n := len(out.snapshot()); n > writers*lines/10 {
		t.Errorf("%d writes for %d lines: not batched", n, writers*lines)
	}
	if n := bytes.Count([]byte(all), []byte("\n")); n != writers*lines {
		t.Errorf("%d newlines", n)
	}
}
