//go:build unix

package e2e

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive lock on path (created when missing) and waits
// for it. Test binaries of several packages, run in parallel by go test, use
// it to install the same node_modules one at a time. The lock goes away with
// the process, so a killed run leaves no stale lock.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
