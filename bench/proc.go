package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// binaries are the programs under test.
type binaries struct{ app, hello string }

func build(ctx context.Context, tmp string) (binaries, error) {
	b := binaries{app: filepath.Join(tmp, "signet"), hello: filepath.Join(tmp, "hello")}
	for _, t := range []struct{ out, pkg string }{{b.app, "./cmd/signet"}, {b.hello, "./bench/hello"}} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", t.out, t.pkg)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return b, fmt.Errorf("go build %s: %w", t.pkg, err)
		}
	}
	return b, nil
}

// proc is a started server.
type proc struct {
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:port
	logPath string
	logFile *os.File
	done    chan struct{}
	// companion is stopped with the process: the OP of an app.
	companion *proc
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// appEnv is the app's environment: the caller's without any AUTH_*, LOG_*,
// HOST or PORT (a developer's provider settings would replace the
// embedded IdP), plus the bench's own.
func appEnv(port int, secret string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AUTH_") || strings.HasPrefix(k, "LOG_") || k == "HOST" || k == "PORT" || k == "GODEBUG" {
			continue
		}
		env = append(env, kv)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	return append(env, "HOST=127.0.0.1", "PORT="+strconv.Itoa(port), "AUTH_URL="+base, "AUTH_SECRET="+secret)
}

func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// startApp starts the app on port (0: a free one) in dir (so no .env file
// of the repository is read), with env added to its environment, its log
// appended to logPath.
func startApp(bin, dir, logPath string, port int, env ...string) (*proc, error) {
	if port == 0 {
		var err error
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append(appEnv(port, newSecret()), env...)
	return start(cmd, fmt.Sprintf("http://127.0.0.1:%d", port), logPath)
}

// startHello starts the baseline returning size bytes.
func startHello(bin, logPath string, size int) (*proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-addr", fmt.Sprintf("127.0.0.1:%d", port), "-size", strconv.Itoa(size))
	return start(cmd, fmt.Sprintf("http://127.0.0.1:%d", port), logPath)
}

func start(cmd *exec.Cmd, base, logPath string) (*proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	p := &proc{cmd: cmd, base: base, logPath: logPath, logFile: f, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

// stop ends the process (SIGTERM, then SIGKILL after 5 s).
func (p *proc) stop() {
	if p == nil {
		return
	}
	defer p.companion.stop()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	if p.logFile != nil {
		p.logFile.Close()
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitFor polls GET path every millisecond until it answers 200, for at
// most limit. It returns the time since the process was started.
func (p *proc) waitFor(path string, started time.Time, limit time.Duration) (time.Duration, error) {
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := started.Add(limit)
	for time.Now().Before(deadline) {
		if p.exited() {
			return 0, fmt.Errorf("%s exited while starting; log:\n%s", p.cmd.Path, tail(p.logPath))
		}
		resp, err := c.Get(p.base + path)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(started), nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	return 0, fmt.Errorf("%s gave no 200 for %s within %s; log:\n%s", p.cmd.Path, path, limit, tail(p.logPath))
}

// tail is the end of a log file, for error messages.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// startupResult is the time from spawning the app to its first 200 on
// GET /, embedded IdP included.
type startupResult struct {
	RunsMS      []float64 `json:"runs_ms"`
	MedianMS    float64   `json:"median_ms"`
	LoggedMS    []float64 `json:"logged_ms"` // what the app logs as its own start-up
	LoggedMedMS float64   `json:"logged_median_ms"`
}

var startupLog = regexp.MustCompile(`msg=listening .*startup=([0-9.]+)(µs|ms|s)\b`)

func measureStartup(ctx context.Context, bins binaries, tmp string, n int) (startupResult, error) {
	var r startupResult
	for i := range n {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		dir, err := os.MkdirTemp(tmp, "start-")
		if err != nil {
			return r, err
		}
		port, err := freePort()
		if err != nil {
			return r, err
		}
		cmd := exec.Command(bins.app)
		cmd.Dir = dir
		cmd.Env = appEnv(port, newSecret())
		logPath := filepath.Join(tmp, fmt.Sprintf("startup-%d.log", i))
		began := time.Now()
		p, err := start(cmd, fmt.Sprintf("http://127.0.0.1:%d", port), logPath)
		if err != nil {
			return r, err
		}
		d, err := p.waitFor("/", began, 10*time.Second)
		p.stop()
		if err != nil {
			return r, err
		}
		r.RunsMS = append(r.RunsMS, ms(d))
		if m := startupLog.FindStringSubmatch(tail(logPath)); m != nil {
			v, _ := strconv.ParseFloat(m[1], 64)
			switch m[2] {
			case "µs":
				v /= 1000
			case "s":
				v *= 1000
			}
			r.LoggedMS = append(r.LoggedMS, v)
		}
		time.Sleep(200 * time.Millisecond) // let the machine settle
	}
	r.MedianMS = median(r.RunsMS)
	if len(r.LoggedMS) > 0 {
		r.LoggedMedMS = median(r.LoggedMS)
	}
	return r, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// procStatus reads a field of /proc/<pid>/status in kB (VmHWM, VmRSS).
func procStatus(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// cpuTicks is the process's user + system CPU time in clock ticks.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces: fields count from after ")".
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("bad /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("bad /proc stat times")
	}
	return u + s, nil
}

// clockTick is the length of a /proc clock tick (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// ticks are the machine's CPU time in clock ticks, from /proc/stat.
type ticks struct{ total, idle int64 }

func machineTicks() (ticks, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return ticks{}, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return ticks{}, errors.New("bad /proc/stat")
	}
	var t ticks
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return ticks{}, errors.New("bad /proc/stat")
		}
		if i >= 8 { // guest time is counted in user time already
			break
		}
		t.total += n
		if i == 3 || i == 4 { // idle, iowait
			t.idle += n
		}
	}
	return t, nil
}
