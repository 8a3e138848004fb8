package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// microResult is one Go benchmark's line.
type microResult struct {
	Name     string   `json:"name"`
	NsOp     float64  `json:"ns_op"`
	BOp      float64  `json:"b_op"`
	AllocsOp float64  `json:"allocs_op"`
	Extra    []metric `json:"extra,omitempty"` // b.ReportMetric figures
}

type metric struct {
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

// microPackages are the packages whose Bench* functions the report runs:
// session encode/decode, CSRF, sign-in and sign-out in auth; the page
// render and the whole handler in handlers. Each is named by the folder of
// its module (auth is a module of its own) and its pattern there.
var microPackages = []struct{ dir, pkg string }{{"auth", "."}, {".", "./handlers"}}

func microBenchmarks(ctx context.Context, tmp, benchtime string) ([]microResult, error) {
	var out bytes.Buffer
	for _, p := range microPackages {
		args := []string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-count", "1", "-benchtime", benchtime, p.pkg}
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = p.dir
		var pout bytes.Buffer
		cmd.Stdout, cmd.Stderr = &pout, &pout
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("go %s (in %s): %w\n%s", strings.Join(args, " "), p.dir, err, pout.String())
		}
		out.Write(pout.Bytes())
	}
	var res []microResult
	for _, line := range strings.Split(out.String(), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		m := microResult{Name: strings.TrimPrefix(trimProcs(f[0]), "Benchmark")}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				m.NsOp = v
			case "B/op":
				m.BOp = v
			case "allocs/op":
				m.AllocsOp = v
			default:
				m.Extra = append(m.Extra, metric{v, f[i+1]})
			}
		}
		res = append(res, m)
	}
	if len(res) == 0 {
		return nil, fmt.Errorf("no benchmark results in:\n%s", out.String())
	}
	return res, nil
}

// trimProcs drops the -GOMAXPROCS suffix of a benchmark name.
func trimProcs(name string) string {
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			return name[:i]
		}
	}
	return name
}

// cookieResult is what auth's TestCookieSizeReport writes: session cookie
// sizes sealed by the real code.
type cookieResult struct {
	AuthJS          int          `json:"authjs_bytes"`
	Seeds           cookieSize   `json:"seeds"`
	SeedsWithTokens cookieSize   `json:"seeds_with_tokens"`
	Claims          []claimsSize `json:"claims"`
	Slope           float64      `json:"bytes_per_claim"`
	R2              float64      `json:"r2"`
}

type cookieSize struct {
	Bytes  int `json:"bytes"`
	Chunks int `json:"chunks"`
}

type claimsSize struct {
	Extra  int `json:"extra"`
	Bytes  int `json:"bytes"`
	Chunks int `json:"chunks"`
}

func cookieReport(ctx context.Context, tmp string) (*cookieResult, error) {
	path := filepath.Join(tmp, "cookies.json")
	cmd := exec.CommandContext(ctx, "go", "test", "-count", "1", "-run", "^TestCookieSizeReport$", ".")
	cmd.Dir = "auth"
	cmd.Env = append(os.Environ(), "SIGNET_COOKIE_REPORT="+path)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("cookie-size report: %w\n%s", err, out.String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cookie-size report: %w\n%s", err, out.String())
	}
	var c cookieResult
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	c.Slope, c.R2 = fit(c.Claims)
	return &c, nil
}

// fit is the least-squares line of total cookie bytes against extra
// claims: its slope and R².
func fit(points []claimsSize) (slope, r2 float64) {
	n := float64(len(points))
	if n < 2 {
		return 0, 0
	}
	var sx, sy, sxx, sxy, syy float64
	for _, p := range points {
		x, y := float64(p.Extra), float64(p.Bytes)
		sx, sy, sxx, sxy, syy = sx+x, sy+y, sxx+x*x, sxy+x*y, syy+y*y
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return 0, 0
	}
	slope = (n*sxy - sx*sy) / den
	r := (n*sxy - sx*sy) / math.Sqrt(den*(n*syy-sy*sy))
	return slope, r * r
}
