package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// results is everything one bench run measured. It is written as
// results.json, results.md and throughput.svg.
type results struct {
	Started        time.Time        `json:"started"`
	Elapsed        string           `json:"elapsed"`
	Options        string           `json:"options"`
	Machine        string           `json:"machine"`
	Targets        []target         `json:"targets"`
	Conns          []int            `json:"conns"`
	Runs           []loadRun        `json:"runs"`
	Summary        []summaryRow     `json:"summary"`
	HomeBodyBytes  int              `json:"home_body_bytes"`
	BodyBytes      map[string]int   `json:"body_bytes,omitempty"` // by baseline server
	StoreConns     int              `json:"store_conns,omitempty"`
	OPCookie       realCookieResult `json:"op_cookie"`
	OPPeakRSSkB    int64            `json:"op_peak_rss_kb,omitempty"`
	Streams        *streamResult    `json:"streams,omitempty"`
	Startup        startupResult    `json:"startup"`
	IdleRSSkB      int64            `json:"idle_rss_kb"`
	PeakRSSkB      int64            `json:"peak_rss_kb"`
	HelloPeakRSSkB int64            `json:"hello_peak_rss_kb"`
	RealCookie     realCookieResult `json:"real_cookie"`
	Cookies        *cookieResult    `json:"cookies,omitempty"`
	Micro          []microResult    `json:"micro,omitempty"`
	Checks         []check          `json:"checks"`
}

// realCookieResult is the session cookie of the sessions the bench signed
// in through the dev IdP (ID, access and refresh tokens all kept).
type realCookieResult struct {
	Min       int     `json:"min_bytes"`
	Max       int     `json:"max_bytes"`
	Chunks    int     `json:"chunks"`
	HeaderMax int     `json:"cookie_header_max_bytes"` // every cookie the browser sends
	SignInMS  float64 `json:"sign_in_ms"`              // whole browser round trip, IdP included
}

// summaryRow is one target at one connection count: medians over rounds.
type summaryRow struct {
	Target string  `json:"target"`
	Conns  int     `json:"conns"`
	RPS    float64 `json:"rps"`
	Ratio  float64 `json:"ratio"` // median of the per-round ratios to the target's Base
	// Hello is the median per-round ratio to the hello-world of the same
	// body size, for the targets whose Base is another app target.
	Hello float64 `json:"hello_ratio,omitempty"`
	// Redis is the median of Redis commands per request.
	Redis  *float64 `json:"redis_per_request,omitempty"`
	P50    float64  `json:"p50_ms"`
	P90    float64  `json:"p90_ms"`
	P99    float64  `json:"p99_ms"`
	CPUus  float64  `json:"cpu_us_per_request"`
	WrkUS  float64  `json:"wrk_cpu_us_per_request"`
	Others float64  `json:"other_cpu_share"` // CPU used by other processes during the runs
}

// check is one of the targets.
type check struct {
	Name   string `json:"name"`
	Target string `json:"target"`
	Got    string `json:"got"`
	Met    bool   `json:"met"`
}

func describeMachine() string {
	cpu := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimLeft(v, " \t:"))
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs, %s/%s, %s", cpu, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
}

func (r *results) row(target string, conns int) (summaryRow, bool) {
	for _, s := range r.Summary {
		if s.Target == target && s.Conns == conns {
			return s, true
		}
	}
	return summaryRow{}, false
}

// summarise computes the medians over rounds.
func (r *results) summarise() {
	r.Summary = nil
	for _, t := range r.Targets {
		for _, c := range r.Conns {
			var rps, ratio, hello, p50, p90, p99, cpu, wrk, others, redis []float64
			for _, run := range r.Runs {
				if run.Target != t.ID || run.Conns != c {
					continue
				}
				rps = append(rps, run.RPS)
				p50 = append(p50, run.P50)
				p90 = append(p90, run.P90)
				p99 = append(p99, run.P99)
				cpu = append(cpu, run.CPUus)
				wrk = append(wrk, run.WrkCPUus)
				others = append(others, run.OtherCPU)
				if run.RedisCalls != nil {
					redis = append(redis, redisPerRequest(run))
				}
				if v, ok := r.sameRound(t.Base, run); ok {
					ratio = append(ratio, v)
				}
				if h := r.helloOf(t); h != t.Base {
					if v, ok := r.sameRound(h, run); ok {
						hello = append(hello, v)
					}
				}
			}
			if len(rps) == 0 {
				continue
			}
			row := summaryRow{
				Target: t.ID, Conns: c, RPS: median(rps), Ratio: median(ratio), Hello: median(hello),
				P50: median(p50), P90: median(p90), P99: median(p99), CPUus: median(cpu),
				WrkUS: median(wrk), Others: median(others),
			}
			if len(redis) > 0 {
				m := median(redis)
				row.Redis = &m
			}
			r.Summary = append(r.Summary, row)
		}
	}
}

// sameRound is run's requests/s divided by those of target base in the
// same round at the same connection count.
func (r *results) sameRound(base string, run loadRun) (float64, bool) {
	if base == "" {
		return 0, false
	}
	for _, b := range r.Runs {
		if b.Target == base && b.Conns == run.Conns && b.Round == run.Round && b.RPS > 0 {
			return run.RPS / b.RPS, true
		}
	}
	return 0, false
}

// helloOf is the hello-world t is finally compared with: its Base, or its
// Base's.
func (r *results) helloOf(t target) string {
	for range 4 {
		if t.Base == "" {
			return ""
		}
		b, ok := r.target(t.Base)
		if !ok || b.Baseline {
			return t.Base
		}
		t = b
	}
	return ""
}

func (r *results) target(id string) (target, bool) {
	for _, t := range r.Targets {
		if t.ID == id {
			return t, true
		}
	}
	return target{}, false
}

// evaluate checks the targets.
func (r *results) evaluate() {
	r.summarise()
	r.Checks = nil
	add := func(name, target, got string, met bool) {
		r.Checks = append(r.Checks, check{name, target, got, met})
	}
	ratioCheck := func(id string, want float64) {
		var got []string
		met := len(r.Conns) > 0
		for _, c := range r.Conns {
			s, ok := r.row(id, c)
			if !ok {
				met = false
				continue
			}
			got = append(got, fmt.Sprintf("%.2f× at %d", s.Ratio, c))
			met = met && s.Ratio >= want
		}
		add(r.label(id), fmt.Sprintf("≥ %.2g× hello-world req/s", want), strings.Join(got, ", "), met)
	}
	for _, id := range []string{"home", "op-home"} {
		ratioCheck(id, 0.5)
	}
	for _, id := range []string{"session", "op-session"} {
		ratioCheck(id, 0.75)
	}
	for _, id := range []string{"fragment", "op-fragment"} {
		ratioCheck(id, 0.6)
	}
	for _, t := range r.Targets {
		if t.Baseline || t.Store {
			continue
		}
		if s, ok := r.row(t.ID, 8); ok {
			got := fmt.Sprintf("%.2f ms", s.P99)
			if h, ok := r.row(r.helloOf(t), 8); ok {
				got += fmt.Sprintf(" (hello-world: %.2f ms)", h.P99)
			}
			add("p99 at 8 connections: "+t.Label, "≤ 2 ms", got, s.P99 <= 2)
		}
	}
	for _, v := range []struct {
		id   string
		want float64
	}{{"redis-server-home", 0.8}, {"redis-server-session", 0.8}, {"redis-home", 0.9}, {"redis-session", 0.9}} {
		t, _ := r.target(v.id)
		s, ok := r.row(v.id, r.StoreConns)
		if !ok {
			continue
		}
		add(fmt.Sprintf("%s at %d connections", t.Label, r.StoreConns), fmt.Sprintf("≥ %.1f× %s", v.want, r.label(t.Base)),
			fmt.Sprintf("%.2f×", s.Ratio), s.Ratio >= v.want)
		if s.Redis != nil {
			add("Redis commands per request: "+t.Label, "0 once cached", fmt.Sprintf("%.4f", *s.Redis), *s.Redis < 0.001)
		}
	}
	if st := r.Streams; st != nil {
		add(fmt.Sprintf("memory per open session stream (%d streams)", st.Streams), "≤ 10 KB beyond the connection",
			fmt.Sprintf("%.1f KB (RSS; the idle connection: %.1f KB)", st.RSSPerStreamKB, st.RSSPerConnKB), st.RSSPerStreamKB <= 10)
		add(fmt.Sprintf("one sign-out to the last of %d streams of the user", st.UserStreams), "≤ 1 s",
			fmt.Sprintf("%.0f ms", st.LastHeardMS), st.LastHeardMS <= 1000)
	}
	mb := func(kB int64) float64 { return float64(kB) * 1024 / 1e6 }
	add("peak RSS under load (VmHWM), dev IdP app", "≤ 40 MB", fmt.Sprintf("%.1f MB", mb(r.PeakRSSkB)), r.PeakRSSkB > 0 && mb(r.PeakRSSkB) <= 40)
	if r.OPPeakRSSkB > 0 {
		add("peak RSS under load (VmHWM), oidc-provider app", "≤ 40 MB", fmt.Sprintf("%.1f MB", mb(r.OPPeakRSSkB)), mb(r.OPPeakRSSkB) <= 40)
	}
	add("start to first 200 (median)", "≤ 100 ms", fmt.Sprintf("%.1f ms", r.Startup.MedianMS), r.Startup.MedianMS > 0 && r.Startup.MedianMS <= 100)
	if c := r.Cookies; c != nil {
		add("seeds' session cookie", fmt.Sprintf("< %d bytes (Auth.js), 1 cookie", c.AuthJS),
			fmt.Sprintf("%d bytes, %d cookie(s)", c.Seeds.Bytes, c.Seeds.Chunks), c.Seeds.Bytes < c.AuthJS && c.Seeds.Chunks == 1)
		unchunked := true
		var at []string
		for _, g := range c.Claims {
			if g.Extra < 100 && g.Chunks > 1 {
				unchunked = false
			}
			at = append(at, fmt.Sprintf("%d: %d B/%d", g.Extra, g.Bytes, g.Chunks))
		}
		add("never chunked below 100 extra claims", "1 cookie up to 99 claims", strings.Join(at, ", "), unchunked)
		add("growth linear in the claims", "R² ≥ 0.99", fmt.Sprintf("%.1f bytes per claim, R² %.4f", c.Slope, c.R2), c.R2 >= 0.99)
	}
	add("errors and non-2xx responses", "0 in every run", "0 (the bench fails otherwise)", true)
}

func (r *results) missed() []string {
	var out []string
	for _, c := range r.Checks {
		if !c.Met {
			out = append(out, c.Name)
		}
	}
	return out
}

func (r *results) label(id string) string {
	for _, t := range r.Targets {
		if t.ID == id {
			return t.Label
		}
	}
	return id
}

// markdown renders the report.
func (r *results) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("## Signet bench — %s\n\n", r.Started.Format("2006-01-02 15:04 UTC"))
	p("%s. %s. Load on loopback with wrk; the baselines are a plain Go `net/http` hello-world returning a body of the size of the page compared (%s bytes). Figures are medians over the rounds; × is the median of the per-round ratios to the same round's figure of the target named (a hello-world of the same body size, or for the store variants the configuration compared). Run took %s.\n\n",
		r.Machine, r.Options, r.bodySizes(), r.Elapsed)
	p("| target | conns | req/s | × | of | p50 ms | p90 ms | p99 ms | server CPU µs/req | wrk CPU µs/req | others' CPU | Redis cmd/req |\n")
	p("|---|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, s := range r.Summary {
		t, _ := r.target(s.Target)
		ratio, of := "1", ""
		if !t.Baseline {
			ratio, of = fmt.Sprintf("%.2f", s.Ratio), r.label(t.Base)
			if s.Hello > 0 {
				ratio += fmt.Sprintf(" (%.2f× hello)", s.Hello)
			}
		}
		redis := ""
		if s.Redis != nil {
			redis = fmt.Sprintf("%.4f", *s.Redis)
		}
		p("| %s | %d | %.0f | %s | %s | %.2f | %.2f | %.2f | %.1f | %.1f | %.0f%% | %s |\n", t.Label, s.Conns, s.RPS, ratio, of, s.P50, s.P90, s.P99, s.CPUus, s.WrkUS, 100*s.Others, redis)
	}
	if calls := r.redisCommands(); calls != "" {
		p("\nRedis commands during the store runs (INFO commandstats, all rounds): %s.\n", calls)
	}
	p("\nServer and wrk CPU are user + system time per request (/proc); others' CPU is the share of the machine's CPU time that neither used during the runs: other processes and kernel threads on this shared machine.\n")
	p("\n| process | value |\n|---|--:|\n")
	p("| start to first 200 on GET /, embedded IdP included (median of %d) | %.1f ms |\n", len(r.Startup.RunsMS), r.Startup.MedianMS)
	if r.Startup.LoggedMedMS > 0 {
		p("| start-up the app logs (config to listening, median) | %.1f ms |\n", r.Startup.LoggedMedMS)
	}
	p("| peak RSS of the app under load (VmHWM), dev IdP | %.1f MB |\n", float64(r.PeakRSSkB)*1024/1e6)
	if r.OPPeakRSSkB > 0 {
		p("| peak RSS of the app under load (VmHWM), oidc-provider | %.1f MB |\n", float64(r.OPPeakRSSkB)*1024/1e6)
	}
	p("| RSS of the app after sign-in, before load | %.1f MB |\n", float64(r.IdleRSSkB)*1024/1e6)
	p("| peak RSS of the hello-world under load | %.1f MB |\n", float64(r.HelloPeakRSSkB)*1024/1e6)
	p("| browser sign-in through the dev IdP (7 requests, median) | %.1f ms |\n", r.RealCookie.SignInMS)

	p("\n| session cookie | bytes | cookies |\n|---|--:|--:|\n")
	if c := r.Cookies; c != nil {
		p("| Auth.js v5, the seeds' session (given and family name, username, email, id_token) | %d | 1 |\n", c.AuthJS)
		p("| Signet, the same session | %d | %d |\n", c.Seeds.Bytes, c.Seeds.Chunks)
		p("| Signet, the same session with its access and refresh tokens | %d | %d |\n", c.SeedsWithTokens.Bytes, c.SeedsWithTokens.Chunks)
		for _, g := range c.Claims {
			p("| Signet, the same session + %d extra claims | %d | %d |\n", g.Extra, g.Bytes, g.Chunks)
		}
		p("| growth per extra claim (least squares, R² %.4f) | %.1f | |\n", c.R2, c.Slope)
	}
	rc := r.RealCookie
	span := fmt.Sprintf("%d", rc.Min)
	if rc.Max != rc.Min {
		span = fmt.Sprintf("%d–%d", rc.Min, rc.Max)
	}
	p("| Signet, real sessions from the dev IdP flow (ID, access and refresh tokens) | %s | %d |\n", span, rc.Chunks)
	if oc := r.OPCookie; oc.Max > 0 {
		span := fmt.Sprintf("%d", oc.Min)
		if oc.Max != oc.Min {
			span = fmt.Sprintf("%d–%d", oc.Min, oc.Max)
		}
		p("| Signet, real sessions from oidc-provider (ID, access and refresh tokens; the cookie holds a reference when the session is larger than %d bytes) | %s | %d |\n", 2560, span, oc.Chunks)
	}
	if st := r.Streams; st != nil {
		p("\n%s\n", st.markdown())
	}

	if len(r.Micro) > 0 {
		p("\n| Go benchmark | ns/op | B/op | allocs/op | |\n|---|--:|--:|--:|---|\n")
		for _, m := range r.Micro {
			extra := ""
			for _, x := range m.Extra {
				extra += fmt.Sprintf("%s %s ", trimFloat(x.Value), x.Unit)
			}
			p("| %s | %s | %s | %s | %s|\n", m.Name, trimFloat(m.NsOp), trimFloat(m.BOp), trimFloat(m.AllocsOp), extra)
		}
	}

	p("\n| target | wanted | got | met |\n|---|---|---|:-:|\n")
	for _, c := range r.Checks {
		met := "yes"
		if !c.Met {
			met = "**no**"
		}
		p("| %s | %s | %s | %s |\n", c.Name, c.Target, c.Got, met)
	}
	return b.String()
}

// bodySizes names the baselines' body sizes.
func (r *results) bodySizes() string {
	if len(r.BodyBytes) == 0 {
		return fmt.Sprint(r.HomeBodyBytes)
	}
	var parts []string
	for _, id := range []string{"hello-home", "hello-session", "hello-fragment"} {
		if n, ok := r.BodyBytes[id]; ok {
			parts = append(parts, fmt.Sprint(n))
		}
	}
	return strings.Join(parts, ", ")
}

// redisCommands sums the Redis commands of the store runs by target.
func (r *results) redisCommands() string {
	var parts []string
	for _, t := range r.Targets {
		calls := map[string]int64{}
		var reqs int64
		for _, run := range r.Runs {
			if run.Target == t.ID && run.RedisCalls != nil {
				reqs += run.Requests
				for k, v := range run.RedisCalls {
					calls[k] += v
				}
			}
		}
		if reqs == 0 {
			continue
		}
		var cs []string
		for k, v := range calls {
			cs = append(cs, fmt.Sprintf("%s %d", k, v))
		}
		slices.Sort(cs)
		if len(cs) == 0 {
			cs = []string{"none"}
		}
		parts = append(parts, fmt.Sprintf("%s: %s in %d requests", t.Label, strings.Join(cs, ", "), reqs))
	}
	return strings.Join(parts, "; ")
}

func trimFloat(f float64) string {
	switch {
	case f == 0:
		return "0"
	case f >= 100:
		return fmt.Sprintf("%.0f", f)
	case f >= 10:
		return fmt.Sprintf("%.1f", f)
	default:
		return fmt.Sprintf("%.2f", f)
	}
}

func (r *results) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	j, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{
		"results.json":   append(j, '\n'),
		"results.md":     []byte(r.markdown()),
		"throughput.svg": []byte(r.svg()),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
