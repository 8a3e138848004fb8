package devidp

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzForms throws arbitrary form bodies and query strings at the pages
// that read untrusted input: none may panic or answer 5xx.
func FuzzForms(f *testing.F) {
	for _, seed := range []struct{ path, query, body string }{
		{"/dev-idp/login", "authRequestID=x", "authRequestID=x&csrf_token=y&username=ada&password=lovelace"},
		{"/dev-idp/login", "", "%zz"},
		{"/dev-idp/end_session", "id_token_hint=a.b.c&client_id=app", "confirm=yes&csrf_token=1"},
		{"/dev-idp/end_session", "post_logout_redirect_uri=http://x/&state=%00", ""},
		{"/dev-idp/authorize", "client_id=app&redirect_uri=http://localhost:3000/api/auth/callback/dev&response_type=code&scope=openid&code_challenge=x&code_challenge_method=S256", ""},
		{"/dev-idp/authorize/callback", "id=" + strings.Repeat("A", 26), ""},
	} {
		f.Add(seed.path, seed.query, seed.body)
	}
	s, err := newServer(minimalConfig(), testKeyPair())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, path, query, body string) {
		u := &url.URL{Path: path, RawQuery: query}
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			req := httptest.NewRequest(method, "http://localhost:3000/", strings.NewReader(body))
			req.URL = u
			req.RequestURI = u.RequestURI()
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Errorf("%s %s?%s: status %d", method, path, query, rec.Code)
			}
		}
	})
}
