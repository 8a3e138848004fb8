package main

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// svg draws requests per second against connections, one line per target,
// the baseline dashed. Connection counts are spaced evenly (they grow
// geometrically).
func (r *results) svg() string {
	const (
		width, height            = 960, 430
		left, right, top, bottom = 78, 450, 48, 58
		plotW, plotH             = width - left - right, height - top - bottom
		fontFamily               = "system-ui, -apple-system, Segoe UI, sans-serif"
	)
	colors := map[string]string{
		"hello-home": "#333333", "home": "#2563eb", "session": "#16a34a", "fragment": "#d97706", "anon": "#9333ea",
		"op-home": "#93c5fd", "op-session": "#86efac", "op-fragment": "#fcd34d",
	}
	// The store variants are in the table; the chart has the pages, both
	// sign-in sources, and one hello-world.
	drawn := func(t target) bool { return !t.Store && (!t.Baseline || colors[t.ID] != "") }
	maxRPS := 0.0
	for _, s := range r.Summary {
		if t, ok := r.target(s.Target); ok && drawn(t) {
			maxRPS = max(maxRPS, s.RPS)
		}
	}
	top10 := niceCeil(maxRPS * 1.05)
	x := func(i int) float64 {
		if len(r.Conns) == 1 {
			return left + plotW/2
		}
		return left + float64(i)*plotW/float64(len(r.Conns)-1)
	}
	y := func(v float64) float64 { return top + plotH - v/top10*plotH }

	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="%s" font-size="13">`+"\n", width, height, width, height, fontFamily)
	p(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	p(`<text x="%d" y="26" font-size="16" font-weight="600" fill="#111">Requests per second vs connections — Signet and a Go hello-world</text>`+"\n", left)
	// Grid and y axis.
	for i := 0; i <= 5; i++ {
		v := top10 * float64(i) / 5
		yy := y(v)
		p(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e5e7eb"/>`+"\n", left, yy, left+plotW, yy)
		p(`<text x="%d" y="%.1f" text-anchor="end" fill="#555">%s</text>`+"\n", left-8, yy+4, humanInt(v))
	}
	p(`<text transform="translate(20 %d) rotate(-90)" text-anchor="middle" fill="#333">requests / s (median)</text>`+"\n", top+plotH/2)
	for i, c := range r.Conns {
		p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e5e7eb"/>`+"\n", x(i), top, x(i), top+plotH)
		p(`<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%d</text>`+"\n", x(i), top+plotH+20, c)
	}
	p(`<text x="%d" y="%d" text-anchor="middle" fill="#333">connections</text>`+"\n", left+plotW/2, height-14)
	p(`<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#9ca3af"/>`+"\n", left, top, plotW, plotH)
	// Lines, baseline last so it is drawn on top.
	order := []target{}
	for _, t := range r.Targets {
		if !t.Baseline && drawn(t) {
			order = append(order, t)
		}
	}
	for _, t := range r.Targets {
		if t.Baseline && drawn(t) {
			order = append(order, t)
		}
	}
	for _, t := range order {
		color := colors[t.ID]
		if color == "" {
			color = "#666"
		}
		var pts []string
		for i, c := range r.Conns {
			if s, ok := r.row(t.ID, c); ok {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(s.RPS)))
			}
		}
		dash := ""
		if t.Baseline || strings.HasPrefix(t.ID, "op-") {
			dash = ` stroke-dasharray="7 5"`
		}
		p(`<polyline points="%s" fill="none" stroke="%s" stroke-width="2.5"%s/>`+"\n", strings.Join(pts, " "), color, dash)
		for _, pt := range pts {
			xy := strings.Split(pt, ",")
			p(`<circle cx="%s" cy="%s" r="3.5" fill="%s"/>`+"\n", xy[0], xy[1], color)
		}
	}
	// Legend with the ratio at the highest connection count.
	last := 0
	if len(r.Conns) > 0 {
		last = r.Conns[len(r.Conns)-1]
	}
	ly := top + 6
	p(`<text x="%d" y="%d" fill="#333" font-weight="600">× hello-world of the same body size at %d conns</text>`+"\n", left+plotW+18, ly, last)
	for i, t := range append(order[len(order)-1:], order[:len(order)-1]...) {
		yy := ly + 24 + i*24
		color := colors[t.ID]
		dash := ""
		if t.Baseline || strings.HasPrefix(t.ID, "op-") {
			dash = ` stroke-dasharray="7 5"`
		}
		p(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2.5"%s/>`+"\n", left+plotW+18, yy-4, left+plotW+44, yy-4, color, dash)
		label := t.Label
		if s, ok := r.row(t.ID, last); ok && !t.Baseline {
			label += fmt.Sprintf(" (%.2f×)", s.Ratio)
		}
		p(`<text x="%d" y="%d" fill="#111">%s</text>`+"\n", left+plotW+50, yy, html.EscapeString(label))
	}
	p(`<text x="%d" y="%d" fill="#777" font-size="11">%s</text>`+"\n", left+plotW+18, top+plotH-4, html.EscapeString(r.Started.Format("2006-01-02")))
	p("</svg>\n")
	return b.String()
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*e >= v {
			return m * e
		}
	}
	return 10 * e
}

func humanInt(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%gk", math.Round(v/100)/10)
	}
	return fmt.Sprintf("%.0f", v)
}
