//go:build !unix

package e2e

import (
	"errors"
	"io/fs"
	"os"
	"time"
)

// lockFile takes an exclusive lock on path by creating it, and waits for it
// (up to ten minutes). See lock_unix_test.go.
func lockFile(path string) (unlock func(), err error) {
	deadline := time.Now().Add(10 * time.Minute)
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o644)
		if err == nil {
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, fs.ErrExist) || time.Now().After(deadline) {
			return nil, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}
