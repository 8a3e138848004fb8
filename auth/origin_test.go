package auth

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func originTestAuth(t testing.TB) *Auth {
	t.Helper()
	a, err := New(Config{
		Providers: []*Provider{NewProvider("oidc", "IdP", "https://idp.example", "client", "secret")},
		Secrets:   []string{testSecret},
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestCurrentPath(t *testing.T) {
	a := originTestAuth(t)
	for _, tc := range []struct {
		target  string
		headers map[string]string
		want    string
	}{
		{"/profile?tab=1", nil, "/profile?tab=1"},
		{"/" + strings.Repeat("a", MaxReturnPathBytes), nil, "/"},
		{"/fragments/nav", map[string]string{"HX-Request": "true", "HX-Current-URL": "http://example.com/profile?x=1"}, "/profile?x=1"},
		{"/fragments/nav", map[string]string{"HX-Request": "true", "HX-Current-URL": "http://evil.example/profile"}, "/"},
		{"/fragments/nav", map[string]string{"HX-Request": "true"}, "/"},
		{"/fragments/nav", map[string]string{"HX-Request": "true", "HX-Current-URL": "http://example.com"}, "/"},
		{"/fragments/nav", map[string]string{"HX-Request": "true", "HX-Current-URL": "http://example.com//evil.example/x"}, "/"},
		{"/fragments/nav", map[string]string{"HX-Request": "true", "HX-Boosted": "true", "HX-Current-URL": "http://example.com/x"}, "/fragments/nav"},
	} {
		r := httptest.NewRequest("GET", "http://example.com"+tc.target, nil)
		for k, v := range tc.headers {
			r.Header.Set(k, v)
		}
		if got := a.CurrentPath(r); got != tc.want {
			t.Errorf("CurrentPath(%.40s, %v) = %q, want %q", tc.target, tc.headers, got, tc.want)
		}
	}
}

// FuzzCurrentPath: the HX-Current-URL header is the browser's word, and
// CurrentPath turns it into the callbackUrl of a page's sign-in form and
// link. Whatever the header, the result is a path of the request's own
// origin: it starts with one "/", and resolved against the request's URL
// it stays on the request's host.
func FuzzCurrentPath(f *testing.F) {
	for _, s := range []string{
		"http://example.com/profile?x=1",
		"http://evil.example/profile",
		"//example.com/profile",
		"http://user@example.com/profile",
		"http://example.com:80/profile",
		"http://example.com/?callbackUrl=//evil.example",
		"http://example.com/#//evil.example",
		"javascript:alert(1)",
		"/profile",
		"http://example.com/\t/evil.example",
		"",
	} {
		f.Add(s)
	}
	a := originTestAuth(f)
	base, _ := url.Parse("http://example.com/fragments/nav")
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest(http.MethodGet, base.String(), nil)
		r.Header.Set("HX-Request", "true")
		r.Header.Set("HX-Current-URL", header)
		got := a.CurrentPath(r)
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.HasPrefix(got, `/\`) {
			t.Fatalf("CurrentPath(%q) = %q: not a path of this origin", header, got)
		}
		u, err := base.Parse(got)
		if err != nil {
			t.Fatalf("CurrentPath(%q) = %q does not parse: %v", header, got, err)
		}
		if u.Scheme != base.Scheme || u.Host != base.Host {
			t.Fatalf("CurrentPath(%q) = %q resolves to %s, another origin", header, got, u)
		}
	})
}
