package handlers

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/components"
)

// FuzzUserinfoAnswer: the IdP's userinfo answer is untrusted input that
// the account page decodes and shows. Whatever the status, content type
// and body, fetchUserinfo returns a JSON object or an error, never panics,
// and the account page's userinfo card renders it with every claim escaped.
func FuzzUserinfoAnswer(f *testing.F) {
	for _, s := range []struct {
		status int
		ctype  string
		body   string
	}{
		{200, "application/json", `{"sub":"user-1","email":"ada@example.com"}`},
		{200, "application/json; charset=utf-8", `{"sub":"user-1","address":{"country":"UK"},"groups":["a","b"],"n":1e400}`},
		{200, "application/json", `{"name":"<script>alert(1)</script>","x":"\u003cimg src=x onerror=alert(1)\u003e"}`},
		{200, "application/json", `null`},
		{200, "application/json", `[]`},
		{200, "application/json", `"string"`},
		{200, "application/json", `{"a":`},
		{200, "application/json", `{"sub":"user-1"} trailing`},
		{200, "application/jwt", `eyJhbGciOiJSUzI1NiJ9.e30.sig`},
		{200, "text/html", `<html>`},
		{200, "", `{}`},
		{401, "application/json", `{"error":"invalid_token"}`},
		{500, "text/plain", `oops`},
		{200, "application/json", `{"deep":` + strings.Repeat(`[`, 200) + strings.Repeat(`]`, 200) + `}`},
		{200, "application/json", "{\"\xff\xfe\":\"\xc3\x28\"}"},
	} {
		f.Add(s.status, s.ctype, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, ctype string, body []byte) {
		if status < 100 || status > 999 {
			status = 200
		}
		client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			h := http.Header{}
			if ctype != "" {
				h.Set("Content-Type", ctype)
			}
			return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body)), Request: r}, nil
		})}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		claims, err := fetchUserinfo(ctx, client, "http://idp.example/userinfo", auth.Secret("token"))
		if err == nil && claims == nil {
			t.Fatalf("no error and no claims for %d %q %q", status, ctype, body)
		}
		if err != nil {
			return
		}
		data := components.UserinfoData{Endpoint: "http://idp.example/userinfo"}
		for k, v := range claims {
			data.Claims = append(data.Claims, components.Claim{Name: k, Value: claimText(v)})
		}
		var out bytes.Buffer
		if err := components.UserinfoCard(data).Render(ctx, &out); err != nil {
			t.Fatalf("render: %v", err)
		}
		checkCardMarkup(t, out.String(), data.Claims)
	})
}

// cardElements are the elements and attributes of the userinfo card.
var cardElements = map[string][]string{
	"section": {"id", "class", "aria-labelledby"}, "div": {"class"}, "h2": {"id", "class"},
	"span": {"class"}, "p": {"class"}, "code": {"id", "class"}, "dl": {"id", "class"},
	"dt": nil, "dd": {"data-claim"},
}

// checkCardMarkup parses the card as a browser would and fails unless it
// has only the card's own elements and attributes, and each claim's name
// and value come back as the text and data-claim they were.
func checkCardMarkup(t *testing.T, markup string, claims []components.Claim) {
	t.Helper()
	nodes, err := html.ParseFragment(strings.NewReader(markup), &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	var dds []*html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			allowed, ok := cardElements[n.Data]
			if !ok {
				t.Fatalf("the card has a <%s> element:\n%s", n.Data, markup)
			}
			for _, a := range n.Attr {
				if !slices.Contains(allowed, a.Key) {
					t.Fatalf("<%s> has the attribute %s=%q:\n%s", n.Data, a.Key, a.Val, markup)
				}
			}
			if n.Data == "dd" {
				dds = append(dds, n)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	if len(dds) != len(claims) {
		t.Fatalf("%d claims shown as %d <dd>:\n%s", len(claims), len(dds), markup)
	}
	for _, dd := range dds {
		name := ""
		for _, a := range dd.Attr {
			name = a.Val
		}
		var text strings.Builder
		for c := dd.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.TextNode {
				t.Fatalf("claim %q holds markup:\n%s", name, markup)
			}
			text.WriteString(c.Data)
		}
		i := slices.IndexFunc(claims, func(c components.Claim) bool { return c.Name == name })
		if i < 0 {
			t.Fatalf("a <dd> names the claim %q, which the answer does not have", name)
		}
		if want := claims[i].Value; text.String() != want && !(strings.ContainsRune(want, '\r') || strings.ContainsRune(want, 0) || !utf8.ValidString(want)) {
			t.Fatalf("claim %q shows %q, want %q", name, text.String(), want)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
