//go:build !linux

package e2e

import "os/exec"

// dieWithTest does nothing here: only Linux can tie a child's life to its
// parent's. The cleanups of the tests stop the children.
func dieWithTest(cmd *exec.Cmd) {}
