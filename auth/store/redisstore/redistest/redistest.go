// Package redistest starts real Redis servers for tests: a standalone
// server, a three-master Cluster and a Sentinel, each from Debian's
// redis-server on free loopback ports in the test's temporary
// directory, stopped when the test ends.
//
// When redis-server is not installed the test is skipped, unless the
// environment variable CI is set: then it fails, so that a CI machine
// without Redis cannot pass by skipping.
package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// readyTimeout bounds how long a server may take to answer PING.
const readyTimeout = 10 * time.Second

// binary returns the path of a Redis program, or skips or fails the test
// when it is missing.
func binary(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("redistest: %s is not installed (apt-get install redis-server), and CI is set: %v", name, err)
	}
	t.Skipf("redistest: %s is not installed (apt-get install redis-server); skipping", name)
	return ""
}

// FreePort returns a loopback TCP port that was free a moment ago. A
// server that then fails to bind it is started again on another one.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Server is one redis-server process. Its address and data directory
// stay the same across Kill and Restart, so a test can take Redis away
// and bring it back.
type Server struct {
	// Addr is host:port on 127.0.0.1.
	Addr string
	// Dir is the server's working directory: its log (redis.log) and any
	// data files.
	Dir string

	t    testing.TB
	args []string // after --port

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start starts redis-server with args added to the defaults (loopback
// only, no persistence: --save ” --appendonly no; later arguments win,
// so --appendonly yes turns it on) and waits until it answers PING. It
// is stopped when the test ends.
func Start(t testing.TB, args ...string) *Server {
	t.Helper()
	return start(t, func() []string { return args })
}

// start starts a server whose extra arguments mkArgs gives; mkArgs is
// called again for each attempt, so that it can pick fresh ports too.
func start(t testing.TB, mkArgs func() []string) *Server {
	t.Helper()
	bin := binary(t, "redis-server")
	dir := t.TempDir()
	var last error
	for range 5 {
		port := FreePort(t)
		s := &Server{
			Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
			Dir:  dir,
			t:    t,
			args: mkArgs(),
		}
		err := s.launch(bin)
		if err == nil {
			t.Cleanup(s.Kill)
			return s
		}
		last = err
		if !strings.Contains(err.Error(), "in use") {
			break
		}
	}
	t.Fatalf("redistest: %v", last)
	return nil
}

// StartServer starts a standalone redis-server without persistence and
// returns its address.
func StartServer(t testing.TB) string {
	t.Helper()
	return Start(t).Addr
}

// launch runs the process and waits until it answers PING or exits.
func (s *Server) launch(bin string) error {
	_, port, _ := net.SplitHostPort(s.Addr)
	logfile := filepath.Join(s.Dir, "redis.log")
	args := append([]string{
		"--port", port,
		"--bind", "127.0.0.1",
		"--dir", s.Dir,
		"--logfile", logfile,
		"--daemonize", "no",
		"--save", "",
		"--appendonly", "no",
	}, s.args...)
	// The log of an earlier run stays readable in the directory; only
	// this run's lines are reported on failure.
	offset := int64(0)
	if fi, err := os.Stat(logfile); err == nil {
		offset = fi.Size()
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = s.Dir
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()

	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-exited:
			return fmt.Errorf("redis-server on %s exited at start: %s", s.Addr, logTail(logfile, offset))
		default:
		}
		// Any reply will do: NOAUTH is an answer too.
		if _, err := Do(s.Addr, "PING"); err == nil || errors.As(err, new(ReplyError)) {
			return nil
		}
		if time.Now().After(deadline) {
			s.Kill()
			return fmt.Errorf("redis-server on %s did not answer PING within %v: %s", s.Addr, readyTimeout, logTail(logfile, offset))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logTail returns the end of a log written since offset.
func logTail(path string, offset int64) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if offset < int64(len(b)) {
		b = b[offset:]
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// Kill ends the server at once with SIGKILL, as a crash would, and waits
// for the process to exit. Killing a stopped server does nothing.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

// Pause stops the server with SIGSTOP: its connections stay open but
// nothing answers, as with a hung server or a lost network. Resume
// continues it.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume continues a paused server with SIGCONT.
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.t.Helper()
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd == nil {
		s.t.Fatalf("redistest: %v to %s, which is not running", sig, s.Addr)
	}
	if err := cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("redistest: %v to %s: %v", sig, s.Addr, err)
	}
}

// Restart starts a killed server again on the same address and directory
// with the same arguments, so a server run with --appendonly yes comes
// back with its data.
func (s *Server) Restart() {
	s.t.Helper()
	s.mu.Lock()
	running := s.cmd != nil
	s.mu.Unlock()
	if running {
		s.t.Fatalf("redistest: Restart of %s, which is running", s.Addr)
	}
	bin := binary(s.t, "redis-server")
	// The port was ours a moment ago; the kernel may take a moment to let
	// it go.
	var err error
	for range 20 {
		if err = s.launch(bin); err == nil || !strings.Contains(err.Error(), "in use") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("redistest: restart: %v", err)
	}
}

// StartCluster starts three redis-server processes in cluster mode, joins
// them as three masters with no replicas (redis-cli --cluster create),
// waits until every node reports cluster_state:ok and knows the others,
// and returns their addresses.
func StartCluster(t testing.TB) []string {
	t.Helper()
	nodes := StartClusterServers(t)
	addrs := make([]string, len(nodes))
	for i, n := range nodes {
		addrs[i] = n.Addr
	}
	return addrs
}

// StartClusterServers is StartCluster returning the servers, for a test
// that kills and restarts nodes: a restarted node keeps its nodes.conf
// and so its place in the Cluster (WaitCluster waits for it).
func StartClusterServers(t testing.TB) []*Server {
	t.Helper()
	cli := binary(t, "redis-cli")
	nodes := make([]*Server, 3)
	addrs := make([]string, 3)
	for i := range nodes {
		nodes[i] = start(t, func() []string {
			return []string{
				"--cluster-enabled", "yes",
				"--cluster-config-file", "nodes.conf",
				"--cluster-port", strconv.Itoa(FreePort(t)),
				"--cluster-node-timeout", "5000",
			}
		})
		addrs[i] = nodes[i].Addr
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	out, err := exec.Command(cli, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	WaitCluster(t, addrs...)
	return nodes
}

// WaitCluster waits until every node at addrs reports cluster_state:ok,
// all 16384 slots served and three nodes known.
func WaitCluster(t testing.TB, addrs ...string) {
	t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for _, addr := range addrs {
		for {
			info, err := Do(addr, "CLUSTER", "INFO")
			if err == nil && strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, "cluster_known_nodes:3") &&
				strings.Contains(info, "cluster_slots_ok:16384") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("redistest: cluster node %s not ready within %v: %q, %v", addr, readyTimeout, info, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// StartSentinel starts one Sentinel that monitors master (host:port,
// from StartServer) under the name masterName with a quorum of one,
// waits until it reports the master, and returns the Sentinel's address.
func StartSentinel(t testing.TB, masterName, master string) string {
	t.Helper()
	bin := binary(t, "redis-server")
	host, port, err := net.SplitHostPort(master)
	if err != nil {
		t.Fatalf("redistest: master address %q: %v", master, err)
	}
	dir := t.TempDir()
	var last error
	for range 5 {
		sport := FreePort(t)
		// Sentinel rewrites its configuration file, so it lives in dir.
		conf := filepath.Join(dir, "sentinel.conf")
		text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\nsentinel monitor %s %s %s 1\n",
			sport, dir, filepath.Join(dir, "sentinel.log"), masterName, host, port)
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(sport)), Dir: dir, t: t}
		if last = s.launchSentinel(bin, conf, masterName); last == nil {
			t.Cleanup(s.Kill)
			return s.Addr
		}
		if !strings.Contains(last.Error(), "in use") {
			break
		}
	}
	t.Fatalf("redistest: %v", last)
	return ""
}

func (s *Server) launchSentinel(bin, conf, masterName string) error {
	logfile := filepath.Join(s.Dir, "sentinel.log")
	offset := int64(0)
	if fi, err := os.Stat(logfile); err == nil {
		offset = fi.Size()
	}
	cmd := exec.Command(bin, conf, "--sentinel")
	cmd.Dir = s.Dir
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server --sentinel: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-exited:
			return fmt.Errorf("sentinel on %s exited at start: %s", s.Addr, logTail(logfile, offset))
		default:
		}
		if v, err := Do(s.Addr, "SENTINEL", "get-master-addr-by-name", masterName); err == nil && v != "" {
			return nil
		}
		if time.Now().After(deadline) {
			s.Kill()
			return fmt.Errorf("sentinel on %s did not report %s within %v: %s", s.Addr, masterName, readyTimeout, logTail(logfile, offset))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Do sends one command to the server at addr on a new connection and
// returns the reply as text: a simple or bulk string as is, an integer in
// decimal, an array's elements one per line, a nil reply as "". An error
// reply is returned as a ReplyError. It is for tests reading INFO, CLUSTER
// INFO and the like without going through the client under test.
func Do(addr string, args ...string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	return readReply(bufio.NewReader(conn))
}

// ReplyError is an error reply from Redis, such as "ERR unknown command".
type ReplyError string

func (e ReplyError) Error() string { return string(e) }

func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", errors.New("redistest: empty reply line")
	}
	switch body := line[1:]; line[0] {
	case '+', ':':
		return body, nil
	case '-':
		return "", ReplyError(body)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return "", err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return "", err
		}
		parts := make([]string, n)
		for i := range parts {
			if parts[i], err = readReply(r); err != nil {
				return "", err
			}
		}
		return strings.Join(parts, "\n"), nil
	}
	return "", fmt.Errorf("redistest: unexpected reply %q", line)
}
