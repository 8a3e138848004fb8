package redistest

import (
	"strings"
	"testing"
)

func TestServerKillRestartKeepsAppendOnlyData(t *testing.T) {
	s := Start(t, "--appendonly", "yes", "--appendfsync", "always")
	if _, err := Do(s.Addr, "SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	if _, err := Do(s.Addr, "PING"); err == nil {
		t.Fatal("PING answered after Kill")
	}
	s.Restart()
	if v, err := Do(s.Addr, "GET", "k"); err != nil || v != "v" {
		t.Fatalf("GET after Restart = %q, %v; want v", v, err)
	}
}

func TestCluster(t *testing.T) {
	addrs := StartCluster(t)
	if len(addrs) != 3 {
		t.Fatalf("%d nodes, want 3", len(addrs))
	}
	nodes, err := Do(addrs[0], "CLUSTER", "NODES")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(nodes, "master"); n != 3 {
		t.Fatalf("%d masters in CLUSTER NODES, want 3:\n%s", n, nodes)
	}
}

func TestSentinel(t *testing.T) {
	master := StartServer(t)
	sentinel := StartSentinel(t, "mymaster", master)
	got, err := Do(sentinel, "SENTINEL", "get-master-addr-by-name", "mymaster")
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(master, ":", "\n", 1); got != want {
		t.Fatalf("sentinel reports %q, want %q", got, want)
	}
}

func TestDoErrorReply(t *testing.T) {
	addr := StartServer(t)
	if _, err := Do(addr, "NOSUCHCOMMAND"); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Fatalf("Do of an unknown command = %v, want Redis's error", err)
	}
}

func TestPauseResume(t *testing.T) {
	s := Start(t)
	s.Pause()
	if _, err := Do(s.Addr, "PING"); err == nil {
		t.Fatal("a paused server answered")
	}
	s.Resume()
	if v, err := Do(s.Addr, "PING"); err != nil || v != "PONG" {
		t.Fatalf("PING after Resume = %q, %v", v, err)
	}
}
