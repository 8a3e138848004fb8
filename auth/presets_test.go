package auth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/auth/authtest"
)

// presetSecret is the AUTH_SECRET of the preset tests' apps.
const presetSecret = "preset-test-secret-Vq3xT9kLm2Pz8Rw4Yb6N"

// How a preset signs out at its IdP.
type logoutKind int

const (
	// endSession is RP-Initiated Logout at discovery's end_session_endpoint:
	// id_token_hint, client_id, post_logout_redirect_uri and state.
	endSession logoutKind = iota
	// auth0V2 is Auth0's /v2/logout with client_id and returnTo.
	auth0V2
	// cognitoLogout is Cognito's /logout on the hosted-UI domain with
	// client_id and logout_uri.
	cognitoLogout
	// localOnly ends only the app's session.
	localOnly
)

// zitadelDiscovery is a ZITADEL discovery document put together from the
// endpoint paths ZITADEL documents (docs/apis/openidoauth/endpoints.mdx):
// no captured document of a real instance is public, so this one is
// constructed, not copied.
const zitadelDiscovery = `{"issuer":"https://signet-test-abc123.zitadel.cloud","authorization_endpoint":"https://signet-test-abc123.zitadel.cloud/oauth/v2/authorize","token_endpoint":"https://signet-test-abc123.zitadel.cloud/oauth/v2/token","introspection_endpoint":"https://signet-test-abc123.zitadel.cloud/oauth/v2/introspect","userinfo_endpoint":"https://signet-test-abc123.zitadel.cloud/oidc/v1/userinfo","revocation_endpoint":"https://signet-test-abc123.zitadel.cloud/oauth/v2/revoke","end_session_endpoint":"https://signet-test-abc123.zitadel.cloud/oidc/v1/end_session","device_authorization_endpoint":"https://signet-test-abc123.zitadel.cloud/oauth/v2/device_authorization","jwks_uri":"https://signet-test-abc123.zitadel.cloud/oauth/v2/keys","scopes_supported":["openid","profile","email","phone","address","offline_access"],"response_types_supported":["code","id_token","id_token token"],"grant_types_supported":["authorization_code","implicit","refresh_token","urn:ietf:params:oauth:grant-type:jwt-bearer"],"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"],"token_endpoint_auth_methods_supported":["none","client_secret_basic","client_secret_post","private_key_jwt"],"code_challenge_methods_supported":["S256"]}`

// presetCase is one preset signing in and out against its IdP's real
// discovery document.
type presetCase struct {
	name   string
	doc    string // file in testdata/discovery, or a document's text
	preset func(issuer, clientID, clientSecret string) *auth.Provider
	// edit changes the document's text before its hosts are rewritten, for
	// another shape of the same IdP.
	edit func(doc string) string
	// issuerPath is the configured issuer's path on the issuer host when it
	// is not the document's issuer (Entra ID's common endpoint).
	issuerPath string
	secret     string // client secret; "" for a public client
	claims     map[string]any
	userinfo   map[string]any
	// extraAud is an audience the IdP adds besides the client id.
	extraAud string
	// iss overrides the ID token's iss (a template's {host} is the issuer
	// host's URL).
	iss       string
	scope     string
	want      auth.Token // the token the preset's profile mapping makes
	logout    logoutKind
	wantError bool // the callback must fail
}

func presetCases() []presetCase {
	const secret = "s3cr3t-client-value-for-tests"
	return []presetCase{
		{
			name: "oidc/wso2-is", doc: "wso2-is.json", preset: auth.OIDC, secret: secret,
			claims: map[string]any{"sub": "ada", "isk": "a1b2c3", "amr": []any{"BasicAuthenticator"}, "given_name": "Ada", "family_name": "Lovelace", "email": "ada@example.com"},
			scope:  "openid profile email",
			want:   auth.Token{"sub": "ada", "email": "ada@example.com"},
			logout: endSession,
		},
		{
			name: "asgardeo", doc: "asgardeo.json", preset: auth.Asgardeo, secret: secret,
			claims: map[string]any{"sub": "6c1a9c1e-8d5e-4f4a-9b53-3c7b1f1d2e4a", "username": "ada@example.com", "given_name": "Ada", "family_name": "Lovelace", "isk": "f0e1d2", "org_id": "27fc2b8b-1b5c-4b57-a5e3-91a2f1f7c3a1", "org_name": "bifrost", "amr": []any{"BasicAuthenticator"}},
			scope:  "openid profile email",
			want:   auth.Token{"sub": "6c1a9c1e-8d5e-4f4a-9b53-3c7b1f1d2e4a", "email": "ada@example.com", "username": "ada@example.com"},
			logout: endSession,
		},
		{
			name: "keycloak", doc: "keycloak.json", preset: auth.Keycloak, secret: secret,
			claims: map[string]any{"sub": "f3a1c7d2-4b9e-4c1a-8d2f-0e6b5a4c3d21", "typ": "ID", "acr": "1", "session_state": "0c9a8b7d", "name": "Ada Lovelace", "given_name": "Ada", "family_name": "Lovelace", "preferred_username": "ada", "email": "ada@example.com", "email_verified": true},
			scope:  "openid profile email",
			want:   auth.Token{"sub": "f3a1c7d2-4b9e-4c1a-8d2f-0e6b5a4c3d21", "name": "Ada Lovelace", "email": "ada@example.com", "username": "ada"},
			logout: endSession,
		},
		{
			name: "keycloak/public-client", doc: "keycloak.json", preset: auth.Keycloak, secret: "",
			claims: map[string]any{"sub": "f3a1c7d2-4b9e-4c1a-8d2f-0e6b5a4c3d21", "preferred_username": "ada", "email": "ada@example.com"},
			scope:  "openid profile email",
			want:   auth.Token{"sub": "f3a1c7d2-4b9e-4c1a-8d2f-0e6b5a4c3d21", "name": "ada", "email": "ada@example.com", "username": "ada"},
			logout: endSession,
		},
		{
			name: "auth0", doc: "auth0.json", preset: auth.Auth0, secret: secret,
			claims: map[string]any{"sub": "auth0|64f0c1e2a3b4c5d6e7f80912", "nickname": "ada", "name": "ada@example.com", "picture": "https://s.gravatar.com/avatar/0b1c2d3e4f?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2Fad.png", "updated_at": "2026-05-01T09:00:00.000Z", "email": "ada@example.com", "email_verified": true},
			scope:  "openid profile email",
			want:   auth.Token{"sub": "auth0|64f0c1e2a3b4c5d6e7f80912", "name": "ada@example.com", "email": "ada@example.com", "picture": "https://s.gravatar.com/avatar/0b1c2d3e4f?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2Fad.png"},
			logout: endSession,
		},
		{
			name: "auth0/no-end-session", doc: "auth0-no-end-session.json", preset: auth.Auth0, secret: secret,
			claims: map[string]any{"sub": "google-oauth2|110248495921238986420", "given_name": "Ada", "family_name": "Lovelace", "nickname": "ada", "name": "Ada Lovelace", "picture": "https://lh3.googleusercontent.com/a/ACg8ocK", "email": "ada@example.com", "email_verified": true},
			scope:  "openid profile email",
			want:   auth.Token{"sub": "google-oauth2|110248495921238986420", "name": "Ada Lovelace", "email": "ada@example.com", "picture": "https://lh3.googleusercontent.com/a/ACg8ocK"},
			logout: auth0V2,
		},
		{
			name: "okta/org", doc: "okta-org.json", preset: auth.Okta, secret: secret,
			claims: map[string]any{"sub": "00u1ab2cd3EF4gh5i6j7", "ver": 1, "amr": []any{"pwd"}, "idp": "00o1ab2cd3EF4gh5i6j7", "name": "Ada Lovelace", "preferred_username": "ada@example.com", "email": "ada@example.com", "email_verified": true},
			scope:  "openid profile email",
			want:   auth.Token{"sub": "00u1ab2cd3EF4gh5i6j7", "name": "Ada Lovelace", "email": "ada@example.com", "username": "ada@example.com"},
			logout: endSession,
		},
		{
			name: "okta/custom-as", doc: "okta-custom-as.json", preset: auth.Okta, secret: secret,
			claims: map[string]any{"sub": "00u1ab2cd3EF4gh5i6j7", "ver": 1, "name": "Ada Lovelace", "preferred_username": "ada@example.com", "email": "ada@example.com"},
			scope:  "openid profile email",
			want:   auth.Token{"sub": "00u1ab2cd3EF4gh5i6j7", "name": "Ada Lovelace", "email": "ada@example.com", "username": "ada@example.com"},
			logout: endSession,
		},
		{
			name: "microsoft-entra-id/tenant", doc: "entra-id.json", preset: auth.MicrosoftEntraID, secret: secret,
			claims: entraClaims("88888888-8888-8888-8888-888888888888", map[string]any{"preferred_username": "ada@contoso.onmicrosoft.com"}),
			scope:  "openid profile email",
			want:   auth.Token{"sub": "5d2a7c1e-3b4f-4e6a-9c8d-1f2e3d4c5b6a", "name": "Ada Lovelace", "email": "ada@contoso.onmicrosoft.com", "username": "ada@contoso.onmicrosoft.com", "tid": "88888888-8888-8888-8888-888888888888"},
			logout: endSession,
		},
		{
			name: "microsoft-entra-id/common", doc: "entra-id-common.json", preset: auth.MicrosoftEntraID, secret: secret,
			issuerPath: "/common/v2.0",
			claims:     entraClaims("9188040d-6c67-4c5b-b112-36a304b66dad", map[string]any{"preferred_username": "ada@outlook.com", "email": "ada@outlook.com"}),
			scope:      "openid profile email",
			want:       auth.Token{"sub": "5d2a7c1e-3b4f-4e6a-9c8d-1f2e3d4c5b6a", "name": "Ada Lovelace", "email": "ada@outlook.com", "username": "ada@outlook.com", "tid": "9188040d-6c67-4c5b-b112-36a304b66dad"},
			logout:     endSession,
		},
		{
			// An ID token whose iss names another tenant than its tid must
			// not pass the issuer template.
			name: "microsoft-entra-id/common-wrong-tenant", doc: "entra-id-common.json", preset: auth.MicrosoftEntraID, secret: secret,
			issuerPath: "/common/v2.0",
			claims:     entraClaims("9188040d-6c67-4c5b-b112-36a304b66dad", nil),
			iss:        "{host}/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
			scope:      "openid profile email",
			wantError:  true,
		},
		{
			name: "microsoft-entra-id/common-no-tid", doc: "entra-id-common.json", preset: auth.MicrosoftEntraID, secret: secret,
			issuerPath: "/common/v2.0",
			claims:     map[string]any{"sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "name": "Ada Lovelace"},
			iss:        "{host}/{tenantid}/v2.0",
			scope:      "openid profile email",
			wantError:  true,
		},
		{
			name: "google", doc: "google.json", preset: auth.Google, secret: secret,
			claims: map[string]any{"sub": "110248495921238986420", "hd": "example.com", "email": "ada@example.com", "email_verified": true, "name": "Ada Lovelace", "picture": "https://lh3.googleusercontent.com/a/ACg8ocLP7DY6yQ=s96-c", "given_name": "Ada", "family_name": "Lovelace"},
			scope:  "openid profile email",
			want:   auth.Token{"sub": "110248495921238986420", "name": "Ada Lovelace", "email": "ada@example.com", "picture": "https://lh3.googleusercontent.com/a/ACg8ocLP7DY6yQ=s96-c", "hd": "example.com"},
			logout: localOnly,
		},
		{
			// ZITADEL leaves profile and email claims out of the ID token
			// when it also issues an access token: they come from userinfo.
			name: "zitadel", doc: zitadelDiscovery, preset: auth.Zitadel, secret: secret,
			claims:   map[string]any{"sub": "170486742314123521", "amr": []any{"password", "pwd"}, "client_id": "", "urn:zitadel:iam:user:resourceowner:id": "170486742314058241"},
			extraAud: "170486742314188801",
			userinfo: map[string]any{"sub": "170486742314123521", "name": "Ada Lovelace", "given_name": "Ada", "family_name": "Lovelace", "locale": "en", "preferred_username": "ada@signet-test.zitadel.cloud", "email": "ada@example.com", "email_verified": true},
			scope:    "openid profile email",
			want:     auth.Token{"sub": "170486742314123521", "name": "Ada Lovelace", "email": "ada@example.com", "username": "ada@signet-test.zitadel.cloud"},
			logout:   endSession,
		},
		{
			name: "zitadel/end-session-not-in-discovery", doc: zitadelDiscovery, preset: auth.Zitadel, secret: "",
			edit: func(doc string) string {
				return strings.Replace(doc, `"end_session_endpoint":"https://signet-test-abc123.zitadel.cloud/oidc/v1/end_session",`, "", 1)
			},
			claims:   map[string]any{"sub": "170486742314123521"},
			userinfo: map[string]any{"sub": "170486742314123521", "preferred_username": "ada@signet-test.zitadel.cloud", "email": "ada@example.com"},
			scope:    "openid profile email",
			want:     auth.Token{"sub": "170486742314123521", "name": "ada@signet-test.zitadel.cloud", "email": "ada@example.com", "username": "ada@signet-test.zitadel.cloud"},
			logout:   endSession,
		},
		{
			name: "dex", doc: "dex.json", preset: auth.Dex, secret: secret,
			claims: map[string]any{"sub": "CiQwOGE4Njg0Yi1kYjg4LTRiNzMtOTBhOS0zY2QxNjYxZjU0NjYSBWxvY2Fs", "email": "ada@example.com", "email_verified": true, "name": "Ada Lovelace", "preferred_username": "ada"},
			scope:  "openid profile email",
			want:   auth.Token{"sub": "CiQwOGE4Njg0Yi1kYjg4LTRiNzMtOTBhOS0zY2QxNjYxZjU0NjYSBWxvY2Fs", "name": "Ada Lovelace", "email": "ada@example.com", "username": "ada"},
			logout: localOnly,
		},
		{
			name: "cognito", doc: "cognito.json", preset: auth.Cognito, secret: secret,
			claims: cognitoClaims(),
			scope:  "openid email",
			want:   auth.Token{"sub": "94d8a4e8-3041-70c1-3a7b-5b1c2d3e4f50", "email": "ada@example.com", "username": "ada"},
			logout: cognitoLogout,
		},
		{
			// Since 2024 Cognito's discovery lists end_session_endpoint: its
			// hosted-UI /logout, which still wants client_id and logout_uri
			// (localstack/localstack#12914 shows the shape).
			name: "cognito/end-session-in-discovery", doc: "cognito.json", preset: auth.Cognito, secret: "",
			edit: func(doc string) string {
				return strings.Replace(doc, `"id_token_signing_alg_values_supported"`, `"end_session_endpoint":"https://auth-groovycalamari.auth.us-east-1.amazoncognito.com/logout","id_token_signing_alg_values_supported"`, 1)
			},
			claims: cognitoClaims(),
			scope:  "openid email",
			want:   auth.Token{"sub": "94d8a4e8-3041-70c1-3a7b-5b1c2d3e4f50", "email": "ada@example.com", "username": "ada"},
			logout: cognitoLogout,
		},
		{
			name: "authentik", doc: "authentik.json", preset: auth.Authentik, secret: secret,
			claims: map[string]any{"sub": "7b1e4c9a2f3d5e6b8a0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a", "acr": "goauthentik.io/providers/oauth2/default", "amr": []any{"pwd"}, "email": "ada@example.com", "email_verified": true, "name": "Ada Lovelace", "given_name": "Ada Lovelace", "preferred_username": "ada", "nickname": "ada", "groups": []any{"authentik Admins", "engineering"}},
			scope:  "openid profile email",
			want:   auth.Token{"sub": "7b1e4c9a2f3d5e6b8a0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a", "name": "Ada Lovelace", "email": "ada@example.com", "username": "ada"},
			logout: endSession,
		},
	}
}

func entraClaims(tid string, extra map[string]any) map[string]any {
	c := map[string]any{
		"sub":  "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
		"oid":  "5d2a7c1e-3b4f-4e6a-9c8d-1f2e3d4c5b6a",
		"tid":  tid,
		"ver":  "2.0",
		"name": "Ada Lovelace",
		"aio":  "AXQAi/8TAAAA",
		"rh":   "0.AXEA",
		"uti":  "fqiBqXLPj0eQa82S-IYFAA",
	}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

func cognitoClaims() map[string]any {
	return map[string]any{
		"sub":              "94d8a4e8-3041-70c1-3a7b-5b1c2d3e4f50",
		"cognito:username": "ada",
		"cognito:groups":   []any{"admins"},
		"email":            "ada@example.com",
		"email_verified":   true,
		"token_use":        "id",
		"event_id":         "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
		"origin_jti":       "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d",
		"jti":              "2b3c4d5e-6f7a-8b9c-0d1e-2f3a4b5c6d7e",
	}
}

// TestPresetJourney signs in and out with each preset against its IdP's
// real discovery document, served on loopback with its hosts rewritten: the
// authorize redirect, the code exchange, the ID token check, the profile
// mapping and the logout URL all run through the real code.
func TestPresetJourney(t *testing.T) {
	for _, tc := range presetCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			op := newDocOP(t, tc)
			p := tc.preset(op.configuredIssuer, op.clientID, tc.secret)
			app := newPresetApp(t, p)
			b := app.browser()

			// Sign-in: the authorize redirect goes to the document's
			// authorization_endpoint with the preset's scopes.
			start := b.post(app.a.BasePath()+"/signin/"+p.ID, url.Values{"csrfToken": {b.csrf()}, "callbackUrl": {"/profile"}})
			if start.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in: status %d, want 303: %s", start.StatusCode, start.body)
			}
			authz := start.location(t)
			if got, want := withoutQuery(authz), op.endpoint("authorization_endpoint"); got != want {
				t.Errorf("authorize URL %s, want the document's authorization_endpoint %s", got, want)
			}
			q := authz.Query()
			for k, want := range map[string]string{
				"client_id":             op.clientID,
				"redirect_uri":          app.url + "/api/auth/callback/" + p.ID,
				"scope":                 tc.scope,
				"response_type":         "code",
				"code_challenge_method": "S256",
			} {
				if got := q.Get(k); got != want {
					t.Errorf("authorize %s = %q, want %q", k, got, want)
				}
			}
			for _, k := range []string{"state", "nonce", "code_challenge"} {
				if q.Get(k) == "" {
					t.Errorf("authorize request has no %s", k)
				}
			}

			// The IdP authenticates the user and calls back with a code.
			code := op.issueCode(q)
			cb := b.get(withoutQuery(mustParse(t, q.Get("redirect_uri"))) + "?" + url.Values{"code": {code}, "state": {q.Get("state")}}.Encode())
			if tc.wantError {
				if loc := cb.Header.Get("Location"); cb.StatusCode < 300 || !strings.Contains(loc, "error=") {
					t.Fatalf("callback: status %d, Location %q; want a redirect to the error page", cb.StatusCode, loc)
				}
				if s := b.session(); s != nil {
					t.Fatalf("session after a refused ID token: %v", s)
				}
				if logs := app.logs.String(); !strings.Contains(logs, "issuer") {
					t.Errorf("the callback failed for another reason than the issuer: %s", logs)
				}
				return
			}
			if cb.StatusCode != http.StatusFound || cb.Header.Get("Location") != app.url+"/profile" {
				t.Fatalf("callback: status %d, Location %q, want 302 to %s/profile: %s", cb.StatusCode, cb.Header.Get("Location"), app.url, cb.body)
			}
			if got := app.token(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("profile mapping:\n got %v\nwant %v", got, tc.want)
			}
			if op.tokenRequests() != 1 {
				t.Errorf("token endpoint called %d times, want 1", op.tokenRequests())
			}
			s := b.session()
			user, _ := s["user"].(map[string]any)
			if user == nil || user["email"] != tc.want["email"] {
				t.Errorf("session user %v, want email %v", user, tc.want["email"])
			}

			// Sign-out.
			out := b.post(app.a.BasePath()+"/signout", url.Values{"csrfToken": {b.csrf()}})
			if out.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-out: status %d, want 303: %s", out.StatusCode, out.body)
			}
			if s := b.session(); s != nil {
				t.Fatalf("session after sign-out: %v", s)
			}
			dest := out.location(t)
			lq := dest.Query()
			postLogout := app.url + "/auth/sign-out"
			var back string // where the IdP sends the browser afterwards
			switch tc.logout {
			case endSession:
				want := op.endpoint("end_session_endpoint")
				if want == "" { // ZITADEL without it in discovery
					want = op.configuredIssuer + "/oidc/v1/end_session"
				}
				if got := withoutQuery(dest); got != want {
					t.Errorf("logout URL %s, want the end_session_endpoint %s", got, want)
				}
				for k, want := range map[string]string{
					"id_token_hint":            op.lastIDToken(),
					"client_id":                op.clientID,
					"post_logout_redirect_uri": postLogout,
				} {
					if got := lq.Get(k); got != want {
						t.Errorf("logout %s = %.40q, want %.40q", k, got, want)
					}
				}
				if lq.Get("state") == "" {
					t.Error("logout request has no state")
				}
				back = postLogout + "?state=" + url.QueryEscape(lq.Get("state"))
			case auth0V2:
				want := op.hostURL(op.docIssuerHost) + "/v2/logout"
				if got := withoutQuery(dest); got != want {
					t.Errorf("logout URL %s, want Auth0's %s", got, want)
				}
				wantQuery := url.Values{"client_id": {op.clientID}, "returnTo": {postLogout}}
				if !reflect.DeepEqual(lq, wantQuery) {
					t.Errorf("logout query %v, want %v", lq, wantQuery)
				}
				back = postLogout // /v2/logout returns no state
			case cognitoLogout:
				hosted := mustParse(t, op.endpoint("authorization_endpoint"))
				want := hosted.Scheme + "://" + hosted.Host + "/logout"
				if got := withoutQuery(dest); got != want {
					t.Errorf("logout URL %s, want the hosted-UI domain's %s", got, want)
				}
				if dest.Host == mustParse(t, op.configuredIssuer).Host {
					t.Errorf("logout URL %s is on the issuer's host", dest)
				}
				wantQuery := url.Values{"client_id": {op.clientID}, "logout_uri": {postLogout}}
				if !reflect.DeepEqual(lq, wantQuery) {
					t.Errorf("logout query %v, want %v", lq, wantQuery)
				}
				back = postLogout // Cognito returns no state
			case localOnly:
				if got := withoutQuery(dest); got != postLogout {
					t.Errorf("local sign-out goes to %s, want %s", got, postLogout)
				}
				if lq.Get("state") == "" {
					t.Error("local sign-out has no state")
				}
				back = dest.String()
			}
			page := b.get(back)
			if page.StatusCode != http.StatusOK {
				t.Errorf("post-logout page: status %d, want 200: %s", page.StatusCode, page.body)
			}
			if s := b.session(); s != nil {
				t.Errorf("session after the post-logout page: %v", s)
			}
		})
	}
}

// TestPresetEnv checks each preset's environment variables: AUTH_<ID>_ID
// with ID upper-cased and "-" → "_", and its name on the sign-in page.
func TestPresetEnv(t *testing.T) {
	want := map[string]struct{ prefix, name string }{
		"oidc":               {"AUTH_OIDC_", "OpenID Connect"},
		"asgardeo":           {"AUTH_ASGARDEO_", "Asgardeo"},
		"keycloak":           {"AUTH_KEYCLOAK_", "Keycloak"},
		"auth0":              {"AUTH_AUTH0_", "Auth0"},
		"okta":               {"AUTH_OKTA_", "Okta"},
		"microsoft-entra-id": {"AUTH_MICROSOFT_ENTRA_ID_", "Microsoft Entra ID"},
		"google":             {"AUTH_GOOGLE_", "Google"},
		"zitadel":            {"AUTH_ZITADEL_", "ZITADEL"},
		"dex":                {"AUTH_DEX_", "Dex"},
		"cognito":            {"AUTH_COGNITO_", "Cognito"},
		"authentik":          {"AUTH_AUTHENTIK_", "Authentik"},
	}
	presets := auth.Presets()
	if len(presets) != len(want) {
		t.Errorf("%d presets, want %d", len(presets), len(want))
	}
	for _, pr := range presets {
		w, ok := want[pr.ID]
		if !ok {
			t.Errorf("unexpected preset %q", pr.ID)
			continue
		}
		if got := auth.EnvName(pr.ID); got != w.prefix {
			t.Errorf("EnvName(%q) = %q, want %q", pr.ID, got, w.prefix)
		}
		issuer := pr.DefaultIssuer
		if issuer == "" {
			issuer = "https://idp.example.com/x/"
		}
		p := pr.New(issuer, "client", "secret")
		if p.ID != pr.ID || p.Name != w.name || pr.Name != w.name {
			t.Errorf("preset %q makes provider %q named %q (preset name %q), want name %q", pr.ID, p.ID, p.Name, pr.Name, w.name)
		}
		env := map[string]string{
			w.prefix + "ID":     "client-" + pr.ID,
			w.prefix + "SECRET": "secret-" + pr.ID,
			w.prefix + "ISSUER": "https://idp.example.com/realms/app/",
		}
		got, err := auth.ProvidersFromEnv(func(k string) string { return env[k] })
		if err != nil || len(got) != 1 {
			t.Fatalf("ProvidersFromEnv(%v) = %v, %v", env, got, err)
		}
		if got[0].ID != pr.ID || got[0].ClientID != "client-"+pr.ID || got[0].ClientSecret != "secret-"+pr.ID || got[0].Issuer != "https://idp.example.com/realms/app/" {
			t.Errorf("%s: provider %+v", pr.ID, got[0])
		}
	}
}

// TestPresetEntraTenant checks which Entra ID issuers skip the issuer
// check: every tenant segment that is not a tenant id, and only those.
func TestPresetEntraTenant(t *testing.T) {
	if got := auth.MicrosoftEntraID("", "c", "s").Issuer; got != auth.EntraCommonIssuer {
		t.Errorf("default issuer %q, want %q", got, auth.EntraCommonIssuer)
	}
	if got := auth.Google("", "c", "s").Issuer; got != auth.GoogleIssuer {
		t.Errorf("Google's issuer %q, want %q", got, auth.GoogleIssuer)
	}
	for issuer, skip := range map[string]bool{
		"https://login.microsoftonline.com/common/v2.0":                               true,
		"https://login.microsoftonline.com/organizations/v2.0":                        true,
		"https://login.microsoftonline.com/consumers/v2.0":                            true,
		"https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0":              true,
		"https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0": false,
	} {
		if got := auth.MicrosoftEntraID(issuer, "c", "s").SkipIssuerCheck; got != skip {
			t.Errorf("MicrosoftEntraID(%q).SkipIssuerCheck = %v, want %v", issuer, got, skip)
		}
	}
}

// TestPresetProfile maps each IdP's realistic claims with the preset's
// profile function.
func TestPresetProfile(t *testing.T) {
	for _, tc := range []struct {
		name   string
		preset func(issuer, clientID, clientSecret string) *auth.Provider
		claims auth.Profile
		want   auth.Token
	}{
		{"asgardeo username becomes email", auth.Asgardeo,
			auth.Profile{"sub": "6c1a", "username": "ada@example.com", "given_name": "Ada"},
			auth.Token{"sub": "6c1a", "email": "ada@example.com", "username": "ada@example.com"}},
		{"asgardeo keeps a real email", auth.Asgardeo,
			auth.Profile{"sub": "6c1a", "username": "ada", "email": "ada@example.com"},
			auth.Token{"sub": "6c1a", "email": "ada@example.com", "username": "ada"}},
		{"entra oid and preferred_username", auth.MicrosoftEntraID,
			entraProfile(map[string]any{"preferred_username": "ada@contoso.com"}),
			auth.Token{"sub": "5d2a7c1e-3b4f-4e6a-9c8d-1f2e3d4c5b6a", "name": "Ada Lovelace", "email": "ada@contoso.com", "username": "ada@contoso.com", "tid": "88888888-8888-8888-8888-888888888888"}},
		{"entra email wins over preferred_username", auth.MicrosoftEntraID,
			entraProfile(map[string]any{"preferred_username": "ada@contoso.com", "email": "ada.lovelace@example.com"}),
			auth.Token{"sub": "5d2a7c1e-3b4f-4e6a-9c8d-1f2e3d4c5b6a", "name": "Ada Lovelace", "email": "ada.lovelace@example.com", "username": "ada@contoso.com", "tid": "88888888-8888-8888-8888-888888888888"}},
		{"entra phone-number username is no email", auth.MicrosoftEntraID,
			entraProfile(map[string]any{"preferred_username": "+15555550123"}),
			auth.Token{"sub": "5d2a7c1e-3b4f-4e6a-9c8d-1f2e3d4c5b6a", "name": "Ada Lovelace", "username": "+15555550123", "tid": "88888888-8888-8888-8888-888888888888"}},
		{"entra without oid keeps sub", auth.MicrosoftEntraID,
			auth.Profile{"sub": "pairwise-sub", "name": "Ada"},
			auth.Token{"sub": "pairwise-sub", "name": "Ada"}},
		{"keycloak", auth.Keycloak,
			auth.Profile{"sub": "f3a1", "preferred_username": "ada", "given_name": "Ada", "family_name": "Lovelace"},
			auth.Token{"sub": "f3a1", "name": "ada", "username": "ada"}},
		{"cognito username", auth.Cognito,
			auth.Profile(cognitoClaims()),
			auth.Token{"sub": "94d8a4e8-3041-70c1-3a7b-5b1c2d3e4f50", "email": "ada@example.com", "username": "ada"}},
		{"cognito preferred_username wins", auth.Cognito,
			auth.Profile{"sub": "94d8", "cognito:username": "94d8", "preferred_username": "ada", "name": "Ada Lovelace"},
			auth.Token{"sub": "94d8", "name": "Ada Lovelace", "username": "ada"}},
		{"google hosted domain", auth.Google,
			auth.Profile{"sub": "1102", "email": "ada@example.com", "hd": "example.com", "picture": "https://lh3.googleusercontent.com/a/x"},
			auth.Token{"sub": "1102", "email": "ada@example.com", "hd": "example.com", "picture": "https://lh3.googleusercontent.com/a/x"}},
		{"auth0 is Auth.js's default mapping", auth.Auth0,
			auth.Profile{"sub": "auth0|64f0", "nickname": "ada", "email": "ada@example.com"},
			auth.Token{"sub": "auth0|64f0", "name": "ada", "email": "ada@example.com"}},
		{"dex", auth.Dex,
			auth.Profile{"sub": "CiQw", "name": "Ada Lovelace", "preferred_username": "ada"},
			auth.Token{"sub": "CiQw", "name": "Ada Lovelace", "username": "ada"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.preset("https://idp.example.com", "client", "secret")
			profile := p.Profile
			if profile == nil {
				profile = auth.DefaultProfile
			}
			if got := profile(tc.claims); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}

func entraProfile(extra map[string]any) auth.Profile {
	return auth.Profile(entraClaims("88888888-8888-8888-8888-888888888888", extra))
}

// TestPresetLogoutURL checks the logout URLs presets build themselves,
// including when discovery has failed.
func TestPresetLogoutURL(t *testing.T) {
	req := auth.LogoutRequest{
		IDTokenHint:           "eyJ.id.token",
		ClientID:              "client-1",
		PostLogoutRedirectURI: "https://app.example.com/auth/sign-out",
		State:                 "st4te",
	}
	with := func(f func(*auth.LogoutRequest)) auth.LogoutRequest {
		r := req
		f(&r)
		return r
	}
	for _, tc := range []struct {
		name   string
		preset func(issuer, clientID, clientSecret string) *auth.Provider
		req    auth.LogoutRequest
		want   string
	}{
		{"auth0 end_session", auth.Auth0, with(func(r *auth.LogoutRequest) {
			r.Issuer = "https://ada.us.auth0.com/"
			r.AuthorizationEndpoint = "https://ada.us.auth0.com/authorize"
			r.EndSessionEndpoint = "https://ada.us.auth0.com/oidc/logout"
		}), "https://ada.us.auth0.com/oidc/logout?client_id=client-1&id_token_hint=eyJ.id.token&post_logout_redirect_uri=https%3A%2F%2Fapp.example.com%2Fauth%2Fsign-out&state=st4te"},
		{"auth0 v2", auth.Auth0, with(func(r *auth.LogoutRequest) {
			r.Issuer = "https://login.example.com/"
			r.AuthorizationEndpoint = "https://login.example.com/authorize"
		}), "https://login.example.com/v2/logout?client_id=client-1&returnTo=https%3A%2F%2Fapp.example.com%2Fauth%2Fsign-out"},
		{"auth0 discovery failed", auth.Auth0, with(func(r *auth.LogoutRequest) { r.Issuer = "https://ada.us.auth0.com/" }), ""},
		{"cognito", auth.Cognito, with(func(r *auth.LogoutRequest) {
			r.Issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC"
			r.AuthorizationEndpoint = "https://ada.auth.eu-west-1.amazoncognito.com/oauth2/authorize"
		}), "https://ada.auth.eu-west-1.amazoncognito.com/logout?client_id=client-1&logout_uri=https%3A%2F%2Fapp.example.com%2Fauth%2Fsign-out"},
		{"cognito custom domain", auth.Cognito, with(func(r *auth.LogoutRequest) {
			r.Issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC"
			r.AuthorizationEndpoint = "https://auth.example.com/oauth2/authorize"
			r.EndSessionEndpoint = "https://auth.example.com/logout"
		}), "https://auth.example.com/logout?client_id=client-1&logout_uri=https%3A%2F%2Fapp.example.com%2Fauth%2Fsign-out"},
		{"cognito discovery failed", auth.Cognito, with(func(r *auth.LogoutRequest) {}), ""},
		{"google is local only", auth.Google, with(func(r *auth.LogoutRequest) {
			r.AuthorizationEndpoint = "https://accounts.google.com/o/oauth2/v2/auth"
			r.EndSessionEndpoint = "https://accounts.google.com/logout"
		}), ""},
		{"zitadel fallback", auth.Zitadel, with(func(r *auth.LogoutRequest) {
			r.Issuer = "https://ada-abc.zitadel.cloud"
			r.AuthorizationEndpoint = "https://ada-abc.zitadel.cloud/oauth/v2/authorize"
		}), "https://ada-abc.zitadel.cloud/oidc/v1/end_session?client_id=client-1&id_token_hint=eyJ.id.token&post_logout_redirect_uri=https%3A%2F%2Fapp.example.com%2Fauth%2Fsign-out&state=st4te"},
		{"zitadel discovery failed", auth.Zitadel, with(func(r *auth.LogoutRequest) { r.Issuer = "https://ada-abc.zitadel.cloud" }), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.preset("https://idp.example.com", "client-1", "secret")
			if p.LogoutURL == nil {
				t.Fatal("preset has no LogoutURL")
			}
			if got := p.LogoutURL(tc.req); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	// The presets that follow discovery leave LogoutURL nil.
	for _, f := range []func(string, string, string) *auth.Provider{auth.OIDC, auth.Asgardeo, auth.Keycloak, auth.Okta, auth.MicrosoftEntraID, auth.Dex, auth.Authentik} {
		if p := f("https://idp.example.com", "c", "s"); p.LogoutURL != nil {
			t.Errorf("%s has its own LogoutURL; want discovery's end_session_endpoint", p.ID)
		}
	}
}

// docOP is an OpenID Provider that serves a real IdP's discovery document
// with every host in it rewritten to a loopback server of its own (so that
// an IdP whose endpoints span hosts, like Cognito's issuer and hosted UI,
// keeps them apart). It signs ID tokens with the fake IdP's keys and
// serves the fake IdP's JWKS at the document's jwks_uri.
type docOP struct {
	t                testing.TB
	tc               presetCase
	keys             *authtest.IdP
	doc              map[string]any
	raw              []byte
	hosts            map[string]string // original origin → loopback URL
	docIssuerHost    string            // original origin of the document's issuer
	configuredIssuer string
	discoveryURL     string
	clientID         string

	mu      sync.Mutex
	codes   map[string]url.Values // code → the authorize request
	access  map[string]bool
	idToken string
	tokens  int
}

var originRE = regexp.MustCompile(`https?://[A-Za-z0-9.\-]+(?::[0-9]+)?`)

func newDocOP(t testing.TB, tc presetCase) *docOP {
	t.Helper()
	text := tc.doc
	if strings.HasSuffix(text, ".json") {
		b, err := os.ReadFile("testdata/discovery/" + text)
		if err != nil {
			t.Fatal(err)
		}
		text = string(b)
	}
	if tc.edit != nil {
		text = tc.edit(text)
	}
	op := &docOP{
		t:        t,
		tc:       tc,
		keys:     authtest.New(t, authtest.Options{}),
		hosts:    map[string]string{},
		clientID: "client-" + strings.ReplaceAll(tc.name, "/", "-"),
		codes:    map[string]url.Values{},
		access:   map[string]bool{},
	}
	var orig map[string]any
	if err := json.Unmarshal([]byte(text), &orig); err != nil {
		t.Fatalf("%s: %v", tc.doc, err)
	}
	op.docIssuerHost = originRE.FindString(orig["issuer"].(string))
	for _, origin := range originRE.FindAllString(text, -1) {
		if _, ok := op.hosts[origin]; ok {
			continue
		}
		srv := httptest.NewServer(http.HandlerFunc(op.serve))
		t.Cleanup(srv.Close)
		op.hosts[origin] = srv.URL
	}
	op.raw = []byte(originRE.ReplaceAllStringFunc(text, func(o string) string { return op.hosts[o] }))
	if err := json.Unmarshal(op.raw, &op.doc); err != nil {
		t.Fatal(err)
	}
	op.configuredIssuer = op.doc["issuer"].(string)
	if tc.issuerPath != "" {
		op.configuredIssuer = op.hosts[op.docIssuerHost] + tc.issuerPath
	}
	op.discoveryURL = strings.TrimSuffix(op.configuredIssuer, "/") + "/.well-known/openid-configuration"
	return op
}

func (op *docOP) hostURL(origin string) string { return op.hosts[origin] }

// endpoint returns the rewritten document's endpoint, or "".
func (op *docOP) endpoint(name string) string {
	s, _ := op.doc[name].(string)
	return s
}

func (op *docOP) tokenRequests() int {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.tokens
}

func (op *docOP) lastIDToken() string {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.idToken
}

// issueCode plays the user signing in at the IdP: it remembers the
// authorize request under a new code.
func (op *docOP) issueCode(authorize url.Values) string {
	op.mu.Lock()
	defer op.mu.Unlock()
	code := fmt.Sprintf("code-%d-%d", len(op.codes), time.Now().UnixNano())
	op.codes[code] = authorize
	return code
}

func (op *docOP) serve(w http.ResponseWriter, r *http.Request) {
	here := "http://" + r.Host + r.URL.Path
	switch {
	case r.Method == http.MethodGet && here == op.discoveryURL:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(op.raw)
	case r.Method == http.MethodGet && here == op.endpoint("jwks_uri"):
		resp, err := http.Get(op.keys.Endpoint(authtest.JWKS))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.Copy(w, resp.Body)
	case r.Method == http.MethodPost && here == op.endpoint("token_endpoint"):
		op.handleToken(w, r)
	case here == op.endpoint("userinfo_endpoint"):
		op.handleUserinfo(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (op *docOP) handleToken(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, code, desc string) {
		op.t.Errorf("token endpoint: %s: %s", code, desc)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
	}
	if err := r.ParseForm(); err != nil {
		fail(http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	id, secret, basic := r.BasicAuth()
	switch {
	case op.tc.secret == "" && (basic || r.PostForm.Get("client_secret") != ""):
		fail(http.StatusUnauthorized, "invalid_client", "a public client sent a secret")
		return
	case op.tc.secret == "":
		id = r.PostForm.Get("client_id")
	case !basic:
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != op.clientID || secret != op.tc.secret {
		fail(http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	op.mu.Lock()
	authz, ok := op.codes[r.PostForm.Get("code")]
	delete(op.codes, r.PostForm.Get("code"))
	op.tokens++
	op.mu.Unlock()
	if !ok || r.PostForm.Get("grant_type") != "authorization_code" {
		fail(http.StatusBadRequest, "invalid_grant", "unknown code")
		return
	}
	if r.PostForm.Get("redirect_uri") != authz.Get("redirect_uri") {
		fail(http.StatusBadRequest, "invalid_grant", "redirect_uri differs from the authorize request's")
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != authz.Get("code_challenge") {
		fail(http.StatusBadRequest, "invalid_grant", "PKCE verification failed")
		return
	}
	access := fmt.Sprintf("at-%d", time.Now().UnixNano())
	now := time.Now()
	claims := map[string]any{}
	for k, v := range op.tc.claims {
		claims[k] = v
	}
	iss := op.doc["issuer"].(string)
	if tid, ok := claims["tid"].(string); ok {
		iss = strings.ReplaceAll(iss, "{tenantid}", tid)
	}
	if op.tc.iss != "" {
		iss = strings.ReplaceAll(op.tc.iss, "{host}", op.hosts[op.docIssuerHost])
	}
	claims["iss"] = iss
	claims["aud"] = op.clientID
	if op.tc.extraAud != "" {
		claims["aud"] = []any{op.clientID, op.tc.extraAud}
	}
	if _, ok := claims["client_id"]; ok {
		claims["client_id"] = op.clientID
	}
	claims["azp"] = op.clientID
	claims["iat"] = now.Unix()
	claims["nbf"] = now.Unix()
	claims["exp"] = now.Add(time.Hour).Unix()
	claims["auth_time"] = now.Unix()
	claims["nonce"] = authz.Get("nonce")
	claims["sid"] = "sid-" + access
	sum = sha256.Sum256([]byte(access))
	claims["at_hash"] = base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
	idToken := op.keys.SignJWT(claims, authtest.RS256, "JWT")
	op.mu.Lock()
	op.idToken = idToken
	op.access[access] = true
	op.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": access,
		"token_type":   "Bearer",
		"expires_in":   3600,
		"id_token":     idToken,
		"scope":        authz.Get("scope"),
	})
}

func (op *docOP) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	op.mu.Lock()
	ok := op.access[tok]
	op.mu.Unlock()
	if !ok || op.tc.userinfo == nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, `{"error":"invalid_token"}`, http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(op.tc.userinfo)
}

// presetApp is an app with one provider, served on loopback.
type presetApp struct {
	t   testing.TB
	a   *auth.Auth
	url string

	logs presetLogs

	mu  sync.Mutex
	tok auth.Token // the token the last sign-in's profile mapping made
}

// presetLogs collects an app's logs.
type presetLogs struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *presetLogs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *presetLogs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newPresetApp(t testing.TB, providers ...*auth.Provider) *presetApp {
	t.Helper()
	return newConfiguredApp(t, func(appURL string) auth.Config {
		return auth.Config{Providers: providers, Secrets: []string{presetSecret}, URL: appURL}
	})
}

// newConfiguredApp serves an app on loopback with the Config cfg makes for
// the server's URL, and records the tokens its sign-ins make.
func newConfiguredApp(t testing.TB, cfg func(appURL string) auth.Config) *presetApp {
	t.Helper()
	app := &presetApp{t: t}
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	app.url = srv.URL
	c := cfg(srv.URL)
	c.Logger = slog.New(slog.NewTextHandler(&app.logs, nil))
	c.Callbacks.JWT = func(_ context.Context, p auth.JWTParams) (auth.Token, error) {
		if p.Trigger == auth.TriggerSignIn {
			app.mu.Lock()
			app.tok = auth.Token{}
			for k, v := range p.Token {
				app.tok[k] = v
			}
			app.mu.Unlock()
		}
		return p.Token, nil
	}
	a, err := auth.New(c)
	if err != nil {
		t.Fatal(err)
	}
	app.a = a
	mux := http.NewServeMux()
	mux.Handle(a.BasePath()+"/", a.Handler())
	mux.Handle("GET "+a.SignOutPath(), a.PostLogoutHandler())
	h = a.Middleware(mux)
	return app
}

func (app *presetApp) token() auth.Token {
	app.mu.Lock()
	defer app.mu.Unlock()
	return app.tok
}

// presetBrowser is a cookie-keeping client that does not follow redirects.
type presetBrowser struct {
	t    testing.TB
	app  *presetApp
	http *http.Client
}

type presetResponse struct {
	*http.Response
	body string
}

func (r presetResponse) location(t testing.TB) *url.URL {
	t.Helper()
	loc := r.Header.Get("Location")
	if loc == "" {
		t.Fatalf("status %d without Location: %s", r.StatusCode, r.body)
	}
	return mustParse(t, loc)
}

func (app *presetApp) browser() *presetBrowser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		app.t.Fatal(err)
	}
	return &presetBrowser{t: app.t, app: app, http: &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *presetBrowser) do(req *http.Request) presetResponse {
	b.t.Helper()
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return presetResponse{resp, string(body)}
}

// get fetches path (on the app) or an absolute URL.
func (b *presetBrowser) get(target string) presetResponse {
	b.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = b.app.url + target
	}
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *presetBrowser) post(path string, form url.Values) presetResponse {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.app.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.app.url)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

func (b *presetBrowser) csrf() string {
	b.t.Helper()
	r := b.get(b.app.a.BasePath() + "/csrf")
	var v struct {
		CSRFToken string `json:"csrfToken"`
	}
	if err := json.Unmarshal([]byte(r.body), &v); err != nil || v.CSRFToken == "" {
		b.t.Fatalf("csrf: status %d, body %q: %v", r.StatusCode, r.body, err)
	}
	return v.CSRFToken
}

// session returns GET /session's JSON, nil when signed out.
func (b *presetBrowser) session() map[string]any {
	b.t.Helper()
	r := b.get(b.app.a.BasePath() + "/session")
	var s map[string]any
	if err := json.Unmarshal([]byte(r.body), &s); err != nil {
		b.t.Fatalf("session: status %d, body %q: %v", r.StatusCode, r.body, err)
	}
	return s
}

func mustParse(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func withoutQuery(u *url.URL) string {
	c := *u
	c.RawQuery, c.Fragment = "", ""
	return c.String()
}
