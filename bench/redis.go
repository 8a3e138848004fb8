package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// redisServer is a redis-server of the bench's own, on loopback, without
// persistence.
type redisServer struct {
	*proc
	addr string
}

func startRedis(tmp, name string) (*redisServer, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, fmt.Errorf("redis-server is not installed: run `go tool -modfile=tools/go.mod task system-deps`")
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--save", "", "--appendonly", "no", "--dir", tmp)
	p, err := start(cmd, "", filepath.Join(tmp, name+"-redis.log"))
	if err != nil {
		return nil, err
	}
	rs := &redisServer{proc: p, addr: addr}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := rs.do("PING"); err == nil {
			return rs, nil
		}
		if time.Now().After(deadline) || p.exited() {
			p.stop()
			return nil, fmt.Errorf("redis-server did not start; log:\n%s", tail(p.logPath))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (rs *redisServer) url() string { return "redis://" + rs.addr + "/0" }

func (rs *redisServer) stop() {
	if rs != nil {
		rs.proc.stop()
	}
}

// do sends one inline command and returns its reply: a status line or a
// bulk string.
func (rs *redisServer) do(cmd string) (string, error) {
	c, err := net.DialTimeout("tcp", rs.addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, cmd+"\r\n"); err != nil {
		return "", err
	}
	br := bufio.NewReader(c)
	line, err := br.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	switch {
	case strings.HasPrefix(line, "+"):
		return line[1:], nil
	case strings.HasPrefix(line, "-"):
		return "", fmt.Errorf("redis %s: %s", cmd, line[1:])
	case strings.HasPrefix(line, "$"):
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", fmt.Errorf("redis %s: bad reply %q", cmd, line)
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(br, b); err != nil {
			return "", err
		}
		return string(b[:n]), nil
	}
	return "", fmt.Errorf("redis %s: unexpected reply %q", cmd, line)
}

// resetStats zeroes the command counters.
func (rs *redisServer) resetStats() error {
	_, err := rs.do("CONFIG RESETSTAT")
	return err
}

// commandStats returns the calls by command since resetStats, less the
// bench's own INFO.
func (rs *redisServer) commandStats() (map[string]int64, error) {
	info, err := rs.do("INFO commandstats")
	if err != nil {
		return nil, err
	}
	calls := parseCommandStats(info)
	for _, own := range []string{"info", "config|resetstat", "config"} {
		if _, ok := calls[own]; ok {
			if calls[own]--; calls[own] <= 0 {
				delete(calls, own)
			}
		}
	}
	return calls, nil
}

// parseCommandStats reads "cmdstat_get:calls=12,usec=…" lines.
func parseCommandStats(info string) map[string]int64 {
	calls := map[string]int64{}
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		cmd, isCmd := strings.CutPrefix(name, "cmdstat_")
		if !ok || !isCmd {
			continue
		}
		for _, kv := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(kv, "calls="); ok {
				if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
					calls[cmd] += n
				}
			}
		}
	}
	return calls
}

// redisPerRequest is the Redis commands per request of a run.
func redisPerRequest(r loadRun) float64 {
	var n int64
	for _, c := range r.RedisCalls {
		n += c
	}
	if r.Requests == 0 {
		return 0
	}
	return float64(n) / float64(r.Requests)
}
