package app

import (
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// TestDemoUserSeesReports: the app as main wires it with no identity
// provider configured, and a client that signs in through the
// development IdP's form. Ada's grants include read:reports, which the
// app asks for and learns from the IdP's introspection endpoint: she sees
// the reports. Grace's do not: she gets the 403 page naming the scope.
func TestDemoUserSeesReports(t *testing.T) {
	for _, tc := range []struct {
		user, password string
		status         int
		want           string
	}{
		{"ada", "lovelace", http.StatusOK, `id="reports-table"`},
		{"grace", "hopper", http.StatusForbidden, `needs the permission "read:reports"`},
	} {
		t.Run(tc.user, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
			base := "http://127.0.0.1:" + port
			getenv, environ := mapEnv(map[string]string{"PORT": port, "AUTH_URL": base, "AUTH_SECRET": testSecret})
			app, err := testConfigure(t, getenv, environ, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			srv := &http.Server{Handler: app.Handler}
			go srv.Serve(ln)
			t.Cleanup(func() { srv.Close() })

			jar, _ := cookiejar.New(nil)
			c := &http.Client{Jar: jar}
			home := fetch(t, c, http.MethodGet, base+"/", nil)
			login := fetch(t, c, http.MethodPost, base+"/api/auth/signin/dev", url.Values{
				"csrfToken": {field(t, home.body, "csrfToken")}, "callbackUrl": {"/reports"},
			})
			if !strings.Contains(login.url, "/dev-idp/login") {
				t.Fatalf("sign-in led to %s, want the development IdP's form:\n%s", login.url, login.body)
			}
			reports := fetch(t, c, http.MethodPost, base+"/dev-idp/login", url.Values{
				"authRequestID": {field(t, login.body, "authRequestID")},
				"csrf_token":    {field(t, login.body, "csrf_token")},
				"username":      {tc.user},
				"password":      {tc.password},
			})
			if reports.url != base+"/reports" || reports.status != tc.status || !strings.Contains(html.UnescapeString(reports.body), tc.want) {
				t.Errorf("signed in as %s: %d at %s, want %d at /reports with %q:\n%s", tc.user, reports.status, reports.url, tc.status, tc.want, reports.body)
			}
		})
	}
}

type fetched struct {
	status    int
	url, body string
}

// fetch sends a GET, or a POST of form, following redirects.
func fetch(t *testing.T, c *http.Client, method, u string, form url.Values) fetched {
	t.Helper()
	var resp *http.Response
	var err error
	if method == http.MethodPost {
		resp, err = c.PostForm(u, form)
	} else {
		resp, err = c.Get(u)
	}
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fetched{status: resp.StatusCode, url: resp.Request.URL.String(), body: string(b)}
}

// field returns the value of the first hidden field name in page.
func field(t *testing.T, page, name string) string {
	t.Helper()
	marker := `name="` + name + `" value="`
	i := strings.Index(page, marker)
	if i < 0 {
		t.Fatalf("no %s field in:\n%s", name, page)
	}
	rest := page[i+len(marker):]
	return html.UnescapeString(rest[:strings.IndexByte(rest, '"')])
}
