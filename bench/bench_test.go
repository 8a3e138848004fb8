package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const wrkOK = `Running 1s test @ http://127.0.0.1:8080/
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    72.92us  212.41us   4.48ms   97.97%
  Latency Distribution
     50%   43.00us
     75%   56.00us
     90%   87.00us
     99%  601.00us
  37088 requests in 1.00s, 4.46MB read
Requests/sec:  37081.25
Transfer/sec:      4.46MB
BENCH requests=37088 duration_us=1000182 bytes=4673088 connect=0 read=0 write=0 status=0 timeout=0 p50=43 p90=87 p99=601 max=4477
`

func TestParseWrk(t *testing.T) {
	w, err := parseWrk(wrkOK)
	if err != nil {
		t.Fatal(err)
	}
	if w.requests != 37088 || w.durationUS != 1000182 || w.p50 != 43 || w.p99 != 601 || w.socketErrors() != "" || w.non2xx3xx != 0 {
		t.Errorf("parseWrk = %+v", w)
	}

	bad := strings.Replace(wrkOK, "Requests/sec:", "  Socket errors: connect 0, read 3, write 0, timeout 2\n  Non-2xx or 3xx responses: 17\nRequests/sec:", 1)
	w, err = parseWrk(bad)
	if err != nil {
		t.Fatal(err)
	}
	if w.non2xx3xx != 17 || !strings.Contains(w.socketErrors(), "read 3") || !strings.Contains(w.socketErrors(), "timeout 2") {
		t.Errorf("errors not seen: %+v, %q", w, w.socketErrors())
	}

	for name, out := range map[string]string{
		"no BENCH line":  strings.Split(wrkOK, "BENCH")[0],
		"no latency":     strings.Replace(wrkOK, "Latency Distribution", "", 1),
		"no requests/s":  strings.Replace(wrkOK, "Requests/sec:", "", 1),
		"bad BENCH line": strings.Replace(wrkOK, "p50=43", "p50=x", 1),
	} {
		if _, err := parseWrk(out); err == nil {
			t.Errorf("%s: parseWrk accepted it", name)
		}
	}
}

func TestCheckLog(t *testing.T) {
	const ok = "time=2026-11-21T17:01:50.000Z level=INFO msg=request method=GET path=/ status=200 bytes=10 duration=1ms\n"
	const late500 = "time=2026-11-21T17:01:58.164Z level=ERROR msg=request method=GET path=/ status=500 bytes=22 duration=1ms\n"
	early500 := strings.Replace(late500, "17:01:58", "17:01:55", 1)
	end := time.Date(2026, 11, 21, 17, 1, 58, 0, time.UTC)
	tests := []struct {
		name  string
		log   string
		wrk   int64
		conns int
		ok    bool
	}{
		{"all 200", strings.Repeat(ok, 3), 3, 1, true},
		{"more logged than wrk counted", strings.Repeat(ok, 4), 3, 1, true},
		{"fewer logged", strings.Repeat(ok, 2), 3, 1, false},
		{"a redirect", ok + strings.Replace(ok, "status=200", "status=302", 1), 1, 1, false},
		{"requests abandoned at the end", strings.Repeat(ok, 3) + late500, 3, 1, true},
		{"more abandoned than connections", strings.Repeat(ok, 3) + late500 + late500, 3, 1, false},
		{"a 500 during the run", strings.Repeat(ok, 3) + early500, 3, 1, false},
		{"a warning", ok + "time=2026-11-21T17:01:50.000Z level=WARN msg=\"something\"\n", 1, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.log")
			if err := os.WriteFile(path, []byte(tt.log), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := checkLog(path, tt.wrk, tt.conns, end); (err == nil) != tt.ok {
				t.Errorf("checkLog = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestFitAndMedian(t *testing.T) {
	slope, r2 := fit([]claimsSize{{0, 100, 1}, {10, 120, 1}, {50, 200, 1}, {200, 500, 1}})
	if math.Abs(slope-2) > 1e-9 || math.Abs(r2-1) > 1e-9 {
		t.Errorf("fit = %v, %v; want 2, 1", slope, r2)
	}
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median = %v", got)
	}
	if got := median([]float64{4, 1, 2, 3}); got != 2.5 {
		t.Errorf("median = %v", got)
	}
}

func TestLoginForm(t *testing.T) {
	page := `<form method="post" action="/search"><input name="q"></form>
<form method="post" action="/dev-idp/login?x=1&amp;y=2" autocomplete="on">
  <input type="hidden" name="authRequestID" value="abc">
  <input type="hidden" name="csrf_token" value="t&amp;k">
  <input type="text" id="username" name="username" value="" required>
  <input type="password" id="password" name="password" required>
</form>`
	action, fields, err := loginForm(page)
	if err != nil {
		t.Fatal(err)
	}
	if action != "/dev-idp/login?x=1&y=2" || fields.Get("authRequestID") != "abc" || fields.Get("csrf_token") != "t&k" {
		t.Errorf("loginForm = %q, %v", action, fields)
	}
	if _, _, err := loginForm(`<form><input name="q"></form>`); err == nil {
		t.Error("a page without a login form was accepted")
	}
}
