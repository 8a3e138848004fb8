package devidp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// introspect asks the introspection endpoint about token, as the client.
func (e *env) introspect(t *testing.T, token string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.issuer+pathIntrospect, strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(testClientID, testClientSecret)
	p := do(t, http.DefaultClient, req)
	if p.status != http.StatusOK {
		t.Fatalf("introspection: %d %s", p.status, p.body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(p.body), &m); err != nil {
		t.Fatalf("introspection answer %q: %v", p.body, err)
	}
	return m
}

// TestUserScopes: a client that asks for read:reports gets it for Ada,
// whose User.Scopes list it, and not for Grace; a scope no user has is
// dropped for everyone; a refreshed token keeps what was granted.
// Introspection, which is how a client learns the scopes of an opaque
// access token, says the same.
func TestUserScopes(t *testing.T) {
	for _, tc := range []struct {
		user, password string
		want           string
	}{
		{"ada", "lovelace", "openid profile email offline_access read:reports"},
		{"grace", "hopper", "openid profile email offline_access"},
	} {
		t.Run(tc.user, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			r := e.rp(ctx, oauth2.AuthStyleInHeader)
			r.conf.Scopes = append(r.conf.Scopes, ReportsScope, "write:everything")
			b := e.browser()
			a := r.newAuthRequest()
			tok, _, _ := r.exchange(t, ctx, a, e.signIn(t, b, a, tc.user, tc.password))

			in := e.introspect(t, tok.AccessToken)
			if in["active"] != true || in["scope"] != tc.want {
				t.Errorf("introspection: active %v, scope %q; want true, %q", in["active"], in["scope"], tc.want)
			}
			refreshed, err := r.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if in := e.introspect(t, refreshed.AccessToken); in["scope"] != tc.want {
				t.Errorf("introspection after a refresh: scope %q, want %q", in["scope"], tc.want)
			}
		})
	}
}

func TestUserScopesChecked(t *testing.T) {
	for _, sc := range []string{"", "read reports", `read"reports`} {
		u := DefaultUsers()
		u[1].Scopes = []string{sc}
		if _, err := New(Config{Issuer: "http://127.0.0.1:1/dev-idp", Users: u}); err == nil || !strings.Contains(err.Error(), "scope") {
			t.Errorf("scope %q: New = %v, want an error naming the scope", sc, err)
		}
	}
}
