package redistest

import "syscall"

// sysProcAttr makes the kernel kill a server whose test process died
// before its cleanup could run.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
