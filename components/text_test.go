package components

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"regexp"
	"testing"
)

// TestText: @text(s) writes what { s } writes, html.EscapeString's output.
func TestText(t *testing.T) {
	for _, s := range []string{
		"",
		"plain",
		`{"user": {"name": "Ada & <Bob>"}, "o'k": true}`,
		"&&<<>>''\"\"",
		"é — ✓ \x00 tail&",
		"<script>alert(1)</script>",
	} {
		var b bytes.Buffer
		if err := text(s).Render(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		if want := html.EscapeString(s); b.String() != want {
			t.Errorf("text(%q) = %q, want %q", s, b.String(), want)
		}
	}
}

// TestHTMXConfigMeta: the pre-escaped <meta name="htmx-config"> carries
// htmxConfig exactly, as valid JSON, in an attribute nothing can break
// out of.
func TestHTMXConfigMeta(t *testing.T) {
	var b bytes.Buffer
	if err := htmxConfigMeta.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^<meta name="htmx-config" content="([^"<>]*)">$`).FindStringSubmatch(b.String())
	if m == nil {
		t.Fatalf("htmxConfigMeta = %q", b.String())
	}
	if got := html.UnescapeString(m[1]); got != htmxConfig || !json.Valid([]byte(got)) {
		t.Errorf("the content attribute holds %q, want htmxConfig %q", got, htmxConfig)
	}
}
