package testlog

import (
	"sync"
	"testing"
	"time"
)

func TestBuffer(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { _, _ = b.Write([]byte("x")) })
	}
	wg.Wait()
	if got := b.String(); got != "xxxxxxxx" {
		t.Fatalf("String = %q", got)
	}
	go func() { _, _ = b.Write([]byte(" ready\n")) }()
	if !b.WaitFor("ready", 10*time.Second, nil) {
		t.Fatal("WaitFor missed a line written later")
	}
	done := make(chan struct{})
	close(done)
	if b.WaitFor("never", time.Hour, done) {
		t.Fatal("WaitFor saw a line nobody wrote")
	}
}
