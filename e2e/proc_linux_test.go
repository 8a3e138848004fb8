//go:build linux

package e2e

import (
	"os/exec"
	"syscall"
)

// dieWithTest makes the kernel kill the child when the test binary dies
// (a panic, a -timeout, a kill), so no app or OP outlives a run.
func dieWithTest(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
