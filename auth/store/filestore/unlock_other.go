//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package filestore

import "os"

// unlock does nothing where bbolt's lock ends when the file is closed.
func unlock(*os.File) {}
