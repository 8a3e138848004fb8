// Package browse is a browser for the examples' tests: an HTTP client
// with a cookie jar that follows redirects, reads hidden form fields, and
// signs in through the development IdP's form as a person would.
package browse

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

// Page is a response after redirects: where it ended, its status, header
// and body.
type Page struct {
	URL    *url.URL
	Status int
	Header http.Header
	Body   string
}

// Browser keeps cookies across requests, like a browser.
type Browser struct {
	t      *testing.T
	client *http.Client
	base   string
}

// New returns a browser for the app at base, e.g. "http://127.0.0.1:41234".
func New(t *testing.T, base string) *Browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Browser{t: t, client: &http.Client{Jar: jar}, base: base}
}

// Get fetches path (or an absolute URL) with header, following redirects.
func (b *Browser) Get(path string, header http.Header) Page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.url(path), nil)
	if err != nil {
		b.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return b.do(req)
}

// Post posts form to path (or an absolute URL), following redirects.
func (b *Browser) Post(path string, form url.Values) Page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.url(path), strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// SignIn posts the sign-in form of page (its csrfToken field) to the
// development IdP's provider, returning to callbackURL, and fills the
// IdP's form with user and password. It returns the page it ends on.
func (b *Browser) SignIn(page Page, callbackURL, user, password string) Page {
	b.t.Helper()
	login := b.Post("/api/auth/signin/dev", url.Values{
		"csrfToken":   {Field(b.t, page.Body, "csrfToken")},
		"callbackUrl": {callbackURL},
	})
	if !strings.HasSuffix(login.URL.Path, "/dev-idp/login") {
		b.t.Fatalf("sign-in led to %s (%d), want the development IdP's form:\n%s", login.URL, login.Status, login.Body)
	}
	return b.Post(login.URL.String(), url.Values{
		"authRequestID": {Field(b.t, login.Body, "authRequestID")},
		"csrf_token":    {Field(b.t, login.Body, "csrf_token")},
		"username":      {user},
		"password":      {password},
	})
}

func (b *Browser) url(path string) string {
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return path
	}
	return b.base + path
}

func (b *Browser) do(req *http.Request) Page {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return Page{URL: resp.Request.URL, Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

// Field returns the value of the first form field called name in body,
// whatever the order of the tag's attributes.
func Field(t *testing.T, body, name string) string {
	t.Helper()
	return Attr(t, body, `name="`+name+`"`, "value")
}

// Attr returns the attribute attr of the first tag in body that holds
// marker (an attribute such as name="csrfToken").
func Attr(t *testing.T, body, marker, attr string) string {
	t.Helper()
	i := strings.Index(body, marker)
	if i < 0 {
		t.Fatalf("no tag with %s in:\n%s", marker, body)
	}
	start, end := strings.LastIndexByte(body[:i], '<'), strings.IndexByte(body[i:], '>')
	if start < 0 || end < 0 {
		t.Fatalf("%s is not in a tag:\n%s", marker, body)
	}
	tag := body[start : i+end]
	_, value, ok := strings.Cut(tag, " "+attr+`="`)
	if !ok {
		t.Fatalf("the tag with %s has no %s: %s", marker, attr, tag)
	}
	return html.UnescapeString(value[:strings.IndexByte(value, '"')])
}
