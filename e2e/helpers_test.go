package e2e

import "testing"

// The pure helpers of the harness, which the journeys rely on to fail when
// they should.

func TestTokenInURL(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"http://127.0.0.1:1/", false},
		{"http://127.0.0.1:1/api/auth/callback/oidc?code=abc&state=def&iss=http%3A%2F%2F127.0.0.1%3A2", false},
		{"http://127.0.0.1:1/auth/sign-out?state=abc", false},
		{"http://127.0.0.1:1/?id_token=abc", true},
		{"http://127.0.0.1:1/#access_token=abc&token_type=bearer", true},
		{"http://127.0.0.1:1/x?refresh_token=abc", true},
		{"http://127.0.0.1:1/x?next=eyJhbGciOiJSUzI1NiJ9.e30.sig", true},
		{"http://127.0.0.1:1/x?t=s3cr3t-value", true}, // a known token value
		{"http://127.0.0.1:1/api/auth/callback/dev?code=eyJhbGciOiJBMjU2R0NNS1ciLCJlbmMiOiJBMjU2R0NNIn0.a.b.c.d&state=x", false},
		{"http://127.0.0.1:1/api/auth/callback/dev?code=s3cr3t-value&state=x", true},
		{"http://127.0.0.1:1/api/auth/callback/dev?code=x&state=eyJhbGciOiJub25lIn0.e30.", true},
		{"http://127.0.0.1:1/eyJhbGciOiJub25lIn0.e30./x", true},
		{"http://127.0.0.1:1/x#eyJhbGciOiJub25lIn0.e30.", true},
		{"http://127.0.0.1:1/x?t=Bearer%20eyJhbGciOiJub25lIn0.e30.", true},                  // inside a value
		{"http://127.0.0.1:1/x?t=eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..iv.ct.tag", true}, // a JWE
		{"http://127.0.0.1:1/api/auth/signout?sid=Qm9eyJxZ3RwLk9hPq&state=x", false},        // "eyJ" by chance
		{"http://127.0.0.1:1/x?sid=eyJ4IjoxfQ.e30.sig", false},                              // three segments, no alg
		{"http://127.0.0.1:1/eyJfoo/x?v=a.eyJb.c", false},                                   // "eyJ", not JWT-shaped
		{"http://127.0.0.1:1/x?next=%2Fpath%2Fwith.dots.in", false},                         // three segments, not base64 JSON
	} {
		if got := tokenInURL(tc.url, "s3cr3t-value") != ""; got != tc.want {
			t.Errorf("tokenInURL(%q) found a token: %v, want %v", tc.url, got, tc.want)
		}
	}
}

func TestIsAppCookie(t *testing.T) {
	for name, want := range map[string]bool{
		"signet.session-token":           true,
		"signet.session-token.1":         true,
		"__Secure-signet.session-token":  true,
		"__Host-signet.csrf-token":       true,
		"signet.pkce.code_verifier":      true,
		"signet.dev-idp.session":         false, // the embedded IdP's, not the app's
		"op_session":                     false,
		"authjs.session-token":           false,
		"signet_session":                 false,
		"__Secure-signet.devidp-session": false,
	} {
		if got := isAppCookie(name); got != want {
			t.Errorf("isAppCookie(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestSameOrigin(t *testing.T) {
	base := "http://127.0.0.1:8000"
	for u, want := range map[string]bool{
		"http://127.0.0.1:8000/":      true,
		"http://127.0.0.1:8000/a?b=c": true,
		"http://127.0.0.1:80000/":     false,
		"http://127.0.0.1:800/":       false,
		"https://127.0.0.1:8000/":     false,
		"http://localhost:8000/":      false,
		"http://127.0.0.1:8001/x?y=z": false,
	} {
		if got := sameOrigin(u, base); got != want {
			t.Errorf("sameOrigin(%q, %q) = %v, want %v", u, base, got, want)
		}
	}
}
