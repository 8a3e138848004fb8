package auth_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/auth/authtest"
)

// envSecret is a strong AUTH_SECRET.
const envSecret = "q7Rk2vXw9LpB4mZs8TnY3cHf6JdG1aQe5Uo0"

// envMap is an environment: getenv answers from it and environ lists it.
type envMap map[string]string

func (e envMap) getenv(k string) string { return e[k] }

func (e envMap) environ() []string {
	out := make([]string, 0, len(e))
	for k, v := range e {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

// with returns a copy of e with kv (name, value, name, value, …) set.
func (e envMap) with(kv ...string) envMap {
	out := envMap{}
	for k, v := range e {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

var (
	oidcEnv = envMap{
		"AUTH_SECRET":      envSecret,
		"AUTH_OIDC_ID":     "app",
		"AUTH_OIDC_SECRET": "client-secret",
		"AUTH_OIDC_ISSUER": "https://idp.example.com",
	}
	keycloakEnv = envMap{
		"AUTH_SECRET":          envSecret,
		"AUTH_KEYCLOAK_ID":     "app",
		"AUTH_KEYCLOAK_SECRET": "client-secret",
		"AUTH_KEYCLOAK_ISSUER": "https://keycloak.example.com/realms/app",
	}
)

// TestEnvErrors covers every configuration error: each stops the start
// with one line that names the variable and says how to fix it.
func TestEnvErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  envMap
		want string
	}{
		{"missing AUTH_SECRET with a provider", envMap{"AUTH_OIDC_ID": "app", "AUTH_OIDC_SECRET": "s", "AUTH_OIDC_ISSUER": "https://idp.example.com"},
			`AUTH_SECRET: is empty: set it to at least 32 random characters (run "signet secret" to write one to .env.local, or use openssl rand -base64 32)`},
		{"blank AUTH_SECRET", oidcEnv.with("AUTH_SECRET", " , "),
			`AUTH_SECRET: is empty: set it to at least 32 random characters (run "signet secret" to write one to .env.local, or use openssl rand -base64 32)`},
		{"short AUTH_SECRET", oidcEnv.with("AUTH_SECRET", "s3Cr9xQ2"),
			`AUTH_SECRET: the secret is 8 characters, fewer than 32: set a random one of at least 32 characters (run "signet secret" to make one)`},
		{"short old secret in a rotation list", oidcEnv.with("AUTH_SECRET", envSecret+",old12"),
			`AUTH_SECRET: secret 2 of 2 is 5 characters, fewer than 32: set a random one of at least 32 characters (run "signet secret" to make one)`},
		{"placeholder AUTH_SECRET", oidcEnv.with("AUTH_SECRET", "changeme-changeme-changeme-changeme"),
			`AUTH_SECRET: the secret is not random (it contains "changeme"): set a random one of at least 32 characters (run "signet secret" to make one)`},
		{"word secret in AUTH_SECRET", oidcEnv.with("AUTH_SECRET", "my-app-Secret-for-production-2026-v2"),
			`AUTH_SECRET: the secret is not random (it contains "secret"): set a random one of at least 32 characters (run "signet secret" to make one)`},
		{"one repeated character", oidcEnv.with("AUTH_SECRET", strings.Repeat("x", 40)),
			`AUTH_SECRET: the secret is not random (it repeats one character): set a random one of at least 32 characters (run "signet secret" to make one)`},
		{"few distinct characters", oidcEnv.with("AUTH_SECRET", strings.Repeat("ab12", 10)),
			`AUTH_SECRET: the secret is not random (it has only 4 distinct characters): set a random one of at least 32 characters (run "signet secret" to make one)`},
		{"consecutive characters", oidcEnv.with("AUTH_SECRET", "ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ"),
			`AUTH_SECRET: the secret is not random (it runs through consecutive characters): set a random one of at least 32 characters (run "signet secret" to make one)`},
		{"AUTH_URL without scheme", oidcEnv.with("AUTH_URL", "app.example.com"),
			`AUTH_URL: "app.example.com" is not an absolute URL: set it to the app's public URL, e.g. https://app.example.com`},
		{"AUTH_URL relative", oidcEnv.with("AUTH_URL", "/api/auth"),
			`AUTH_URL: "/api/auth" is not an absolute URL: set it to the app's public URL, e.g. https://app.example.com`},
		{"AUTH_URL with port 99999", oidcEnv.with("AUTH_URL", "https://app.example.com:99999"),
			`AUTH_URL: "https://app.example.com:99999" has port 99999, which is not from 1 to 65535`},
		{"AUTH_URL with port 0", oidcEnv.with("AUTH_URL", "https://app.example.com:0"),
			`AUTH_URL: "https://app.example.com:0" has port 0, which is not from 1 to 65535`},
		{"AUTH_URL with an empty port", oidcEnv.with("AUTH_URL", "https://app.example.com:"),
			`AUTH_URL: "https://app.example.com:" has an empty port`},
		{"AUTH_URL with a leading space", oidcEnv.with("AUTH_URL", " https://app.example.com"),
			`AUTH_URL: " https://app.example.com" has leading or trailing spaces: remove them`},
		{"AUTH_URL with a trailing space", oidcEnv.with("AUTH_URL", "https://app.example.com "),
			`AUTH_URL: "https://app.example.com " has leading or trailing spaces: remove them`},
		{"AUTH_URL with an upper-case scheme", oidcEnv.with("AUTH_URL", "HTTPS://app.example.com"),
			`AUTH_URL: "HTTPS://app.example.com" has an upper-case scheme: write it https://`},
		{"AUTH_URL with a mixed-case scheme", oidcEnv.with("AUTH_URL", "Http://localhost:3000"),
			`AUTH_URL: "Http://localhost:3000" has an upper-case scheme: write it http://`},
		{"AUTH_URL with a query", oidcEnv.with("AUTH_URL", "https://app.example.com/?next=/"),
			`AUTH_URL: "https://app.example.com/?next=/" has a query, fragment or user: set it to the app's public URL and, if the auth routes are not at /api/auth, their base path, e.g. https://app.example.com/auth-api`},
		{"AUTH_TRUST_HOST not a boolean", oidcEnv.with("AUTH_TRUST_HOST", "maybe"),
			`AUTH_TRUST_HOST: "maybe" is not a boolean: set it to true or false`},
		{"issuer not a URL", keycloakEnv.with("AUTH_KEYCLOAK_ISSUER", "keycloak.example.com/realms/app"),
			`AUTH_KEYCLOAK_ISSUER: "keycloak.example.com/realms/app" is not an absolute http(s) URL: set it to the issuer URL, e.g. https://keycloak.example.com/realms/{realm}`},
		{"issuer with another scheme", oidcEnv.with("AUTH_OIDC_ISSUER", "ldap://idp.example.com"),
			`AUTH_OIDC_ISSUER: "ldap://idp.example.com" is not an absolute http(s) URL: set it to the issuer URL, e.g. https://idp.example.com`},
		{"http issuer on a public host", oidcEnv.with("AUTH_OIDC_ISSUER", "http://idp.example.com"),
			`AUTH_OIDC_ISSUER: "http://idp.example.com" uses plain http on a host that is not loopback: use https (http is allowed only for localhost, 127.0.0.1 and ::1)`},
		{"discovery URL as issuer", oidcEnv.with("AUTH_OIDC_ISSUER", "https://idp.example.com/.well-known/openid-configuration"),
			`AUTH_OIDC_ISSUER: "https://idp.example.com/.well-known/openid-configuration" is the discovery document's URL: set the issuer, without /.well-known/openid-configuration`},
		{"issuer with a query", oidcEnv.with("AUTH_OIDC_ISSUER", "https://idp.example.com/?tenant=a"),
			`AUTH_OIDC_ISSUER: "https://idp.example.com/?tenant=a" has a query or fragment: set it to the issuer URL alone, e.g. https://idp.example.com`},
		{"secret and issuer without id", envMap{"AUTH_SECRET": envSecret, "AUTH_OKTA_SECRET": "s", "AUTH_OKTA_ISSUER": "https://ada.okta.com"},
			`AUTH_OKTA_ID: is empty while AUTH_OKTA_SECRET or AUTH_OKTA_ISSUER is set: set it to the client id registered at Okta`},
		{"id under another name", envMap{"AUTH_SECRET": envSecret, "AUTH_OKTA_CLIENT_ID": "app", "AUTH_OKTA_SECRET": "s", "AUTH_OKTA_ISSUER": "https://ada.okta.com"},
			`AUTH_OKTA_ID: is empty while AUTH_OKTA_SECRET or AUTH_OKTA_ISSUER is set: set it to the client id registered at Okta (AUTH_OKTA_CLIENT_ID is set: a typo?)`},
		{"missing issuer", envMap{"AUTH_SECRET": envSecret, "AUTH_OKTA_ID": "app", "AUTH_OKTA_SECRET": "s"},
			`AUTH_OKTA_ISSUER: is empty: set it to Okta's issuer URL, e.g. https://{org}.okta.com/oauth2/default (its discovery document is <issuer>/.well-known/openid-configuration)`},
		{"misspelt issuer", envMap{"AUTH_SECRET": envSecret, "AUTH_OIDC_ID": "app", "AUTH_OIDC_SECRET": "s", "AUTH_OIDC_ISSEUR": "https://idp.example.com"},
			`AUTH_OIDC_ISSUER: is empty: set it to OpenID Connect's issuer URL, e.g. https://idp.example.com (its discovery document is <issuer>/.well-known/openid-configuration) (AUTH_OIDC_ISSEUR is set: a typo?)`},
		{"Google without a secret", envMap{"AUTH_SECRET": envSecret, "AUTH_GOOGLE_ID": "123-abc.apps.googleusercontent.com"},
			`AUTH_GOOGLE_SECRET: is empty: set it to the client secret Google issued for client "123-abc.apps.googleusercontent.com" (Google requires one for web apps)`},
		{"Entra ID without a secret", envMap{"AUTH_SECRET": envSecret, "AUTH_MICROSOFT_ENTRA_ID_ID": "0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e"},
			`AUTH_MICROSOFT_ENTRA_ID_SECRET: is empty: set it to the client secret Microsoft Entra ID issued for client "0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e" (Microsoft Entra ID requires one for web apps)`},
		{"Entra ID secret under another name", envMap{"AUTH_SECRET": envSecret, "AUTH_MICROSOFT_ENTRA_ID_ID": "app", "AUTH_MICROSOFT_ENTRA_ID_CLIENT_SECRET": "s"},
			`AUTH_MICROSOFT_ENTRA_ID_SECRET: is empty: set it to the client secret Microsoft Entra ID issued for client "app" (Microsoft Entra ID requires one for web apps) (AUTH_MICROSOFT_ENTRA_ID_CLIENT_SECRET is set: a typo?)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			warnings, err := checkEnv(tc.env.getenv, tc.env.environ())
			var ce *auth.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("ConfigFromEnv = %v (warnings %q), want a *ConfigError", err, warnings)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Error("message is more than one line")
			}
			if !strings.HasPrefix(err.Error(), ce.Var+": ") || !strings.HasPrefix(ce.Var, "AUTH_") {
				t.Errorf("message does not start with the variable %q", ce.Var)
			}
		})
	}
}

// TestEnvWarnings covers every warning: problems that do not stop the
// start but must not pass silently.
func TestEnvWarnings(t *testing.T) {
	const listing = "(it reads AUTH_SECRET, AUTH_URL, AUTH_TRUST_HOST and AUTH_<PROVIDER>_ID, _SECRET and _ISSUER for the providers oidc, asgardeo, keycloak, auth0, okta, microsoft-entra-id, google, zitadel, dex, cognito, authentik)"
	for _, tc := range []struct {
		name string
		env  envMap
		want []string
	}{
		{"none", oidcEnv, nil},
		{"misspelt provider", oidcEnv.with("AUTH_KEYCLOK_ID", "app"),
			[]string{"AUTH_KEYCLOK_ID is not a variable Signet reads: did you mean AUTH_KEYCLOAK_ID?"}},
		{"transposed letters", oidcEnv.with("AUTH_OIDC_ISSEUR", "https://idp.example.com"),
			[]string{"AUTH_OIDC_ISSEUR is not a variable Signet reads: did you mean AUTH_OIDC_ISSUER?"}},
		{"client id under another name", oidcEnv.with("AUTH_GOOGLE_CLIENT_ID", "x"),
			[]string{"AUTH_GOOGLE_CLIENT_ID is not a variable Signet reads: did you mean AUTH_GOOGLE_ID?"}},
		{"Auth.js's old azure-ad", oidcEnv.with("AUTH_AZURE_AD_ID", "x", "AUTH_AZURE_AD_SECRET", "y"),
			[]string{
				"AUTH_AZURE_AD_ID is not a variable Signet reads: did you mean AUTH_MICROSOFT_ENTRA_ID_ID?",
				"AUTH_AZURE_AD_SECRET is not a variable Signet reads: did you mean AUTH_MICROSOFT_ENTRA_ID_SECRET?",
			}},
		{"misspelt provider and field", oidcEnv.with("AUTH_COGNTIO_CLIENT_SECRET", "x"),
			[]string{"AUTH_COGNTIO_CLIENT_SECRET is not a variable Signet reads: did you mean AUTH_COGNITO_SECRET?"}},
		{"unknown", oidcEnv.with("AUTH_DEBUG", "1"),
			[]string{"AUTH_DEBUG is not a variable Signet reads " + listing}},
		{"Auth.js's numbered secrets", oidcEnv.with("AUTH_SECRET_1", envSecret),
			[]string{"AUTH_SECRET_1 is not read: Signet rotates secrets with a comma-separated AUTH_SECRET, the new secret first, so add it there after the current one"}},
		{"next-auth v4 names", oidcEnv.with("NEXTAUTH_URL", "https://app.example.com", "NEXTAUTH_DEBUG", "1"),
			[]string{"NEXTAUTH_DEBUG is next-auth v4's name and is not read", "NEXTAUTH_URL is next-auth v4's name and is not read: rename it AUTH_URL"}},
		{"public client without a secret", keycloakEnv.with("AUTH_KEYCLOAK_SECRET", ""),
			[]string{"AUTH_KEYCLOAK_SECRET is empty: signing in to Keycloak as a public client (PKCE, no client secret); set it if the client registered at Keycloak is confidential"}},
		{"http AUTH_URL on a public host", oidcEnv.with("AUTH_URL", "http://app.example.com"),
			[]string{`AUTH_URL "http://app.example.com" uses plain http on a host that is not loopback: cookies are not Secure; use https in production`}},
		{"http AUTH_URL on loopback", oidcEnv.with("AUTH_URL", "http://localhost:3000"), nil},
		{"Cognito's hosted-UI domain as issuer", envMap{"AUTH_SECRET": envSecret, "AUTH_COGNITO_ID": "app", "AUTH_COGNITO_SECRET": "s", "AUTH_COGNITO_ISSUER": "https://ada.auth.us-east-1.amazoncognito.com"},
			[]string{`AUTH_COGNITO_ISSUER "https://ada.auth.us-east-1.amazoncognito.com" may be wrong: Cognito's issuer is https://cognito-idp.{region}.amazonaws.com/{user-pool-id}, not the hosted-UI domain`}},
		{"Asgardeo's base URL as issuer", envMap{"AUTH_SECRET": envSecret, "AUTH_ASGARDEO_ID": "app", "AUTH_ASGARDEO_SECRET": "s", "AUTH_ASGARDEO_ISSUER": "https://api.asgardeo.io/t/bifrost"},
			[]string{`AUTH_ASGARDEO_ISSUER "https://api.asgardeo.io/t/bifrost" may be wrong: Asgardeo's issuer is the token URL, https://api.asgardeo.io/t/{organization}/oauth2/token`}},
		{"Keycloak without realm", keycloakEnv.with("AUTH_KEYCLOAK_ISSUER", "https://keycloak.example.com"),
			[]string{`AUTH_KEYCLOAK_ISSUER "https://keycloak.example.com" may be wrong: Keycloak's issuer is the realm's URL, https://{host}/realms/{realm}`}},
		{"Entra ID v1 issuer", envMap{"AUTH_SECRET": envSecret, "AUTH_MICROSOFT_ENTRA_ID_ID": "app", "AUTH_MICROSOFT_ENTRA_ID_SECRET": "s", "AUTH_MICROSOFT_ENTRA_ID_ISSUER": "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/"},
			[]string{`AUTH_MICROSOFT_ENTRA_ID_ISSUER "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/" may be wrong: Microsoft Entra ID's v2.0 issuer is https://login.microsoftonline.com/{tenant-id}/v2.0 (or .../common/v2.0)`}},
		{"Google with another issuer", envMap{"AUTH_SECRET": envSecret, "AUTH_GOOGLE_ID": "app", "AUTH_GOOGLE_SECRET": "s", "AUTH_GOOGLE_ISSUER": "https://accounts.google.com/o/oauth2"},
			[]string{`AUTH_GOOGLE_ISSUER "https://accounts.google.com/o/oauth2" may be wrong: Google's issuer is https://accounts.google.com (AUTH_GOOGLE_ISSUER can be left unset)`}},
		{"authentik without the application path", envMap{"AUTH_SECRET": envSecret, "AUTH_AUTHENTIK_ID": "app", "AUTH_AUTHENTIK_SECRET": "s", "AUTH_AUTHENTIK_ISSUER": "https://authentik.example.com"},
			[]string{`AUTH_AUTHENTIK_ISSUER "https://authentik.example.com" may be wrong: authentik's issuer is the application's, https://{host}/application/o/{slug}/`}},
		{"weak secret in development", envMap{"AUTH_SECRET": "dev"},
			[]string{`AUTH_SECRET: the secret is 3 characters, fewer than 32: set a random one of at least 32 characters (run "signet secret" to make one) (accepted in development only)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			warnings, err := checkEnv(tc.env.getenv, tc.env.environ())
			if err != nil {
				t.Fatalf("ConfigFromEnv: %v", err)
			}
			slices.Sort(warnings)
			if !reflect.DeepEqual(warnings, tc.want) {
				t.Errorf("warnings:\n got %q\nwant %q", warnings, tc.want)
			}
		})
	}
}

// TestEnvEnvironNames accepts environ as os.Environ gives it or as bare
// names, and ignores variables that are not Signet's.
func TestEnvEnvironNames(t *testing.T) {
	for _, environ := range [][]string{
		{"PATH=/usr/bin", "AUTH_OIDC_ISSEUR=https://idp.example.com", "AUTH_OIDC_ID=app"},
		{"PATH", "AUTH_OIDC_ISSEUR", "AUTH_OIDC_ID"},
		{"AUTH_OIDC_ISSEUR=x", "AUTH_OIDC_ISSEUR=x"},
	} {
		warnings, err := checkEnv(oidcEnv.getenv, environ)
		if err != nil || len(warnings) != 1 || !strings.HasPrefix(warnings[0], "AUTH_OIDC_ISSEUR ") {
			t.Errorf("ConfigFromEnv(%q) = %q, %v; want one warning about AUTH_OIDC_ISSEUR", environ, warnings, err)
		}
	}
	if warnings, err := checkEnv(oidcEnv.getenv, nil); err != nil || len(warnings) != 0 {
		t.Errorf("ConfigFromEnv without environ = %q, %v", warnings, err)
	}
}

// TestEnvConfig reads a valid environment into a Config.
func TestEnvConfig(t *testing.T) {
	env := envMap{
		"AUTH_SECRET":                    envSecret + ", " + strings.ToLower(envSecret),
		"AUTH_URL":                       "https://app.example.com/auth-api",
		"AUTH_TRUST_HOST":                "false",
		"AUTH_KEYCLOAK_ID":               "kc-app",
		"AUTH_KEYCLOAK_SECRET":           "kc-secret",
		"AUTH_KEYCLOAK_ISSUER":           "https://keycloak.example.com/realms/app",
		"AUTH_GOOGLE_ID":                 "g-app",
		"AUTH_GOOGLE_SECRET":             "g-secret",
		"AUTH_MICROSOFT_ENTRA_ID_ID":     "e-app",
		"AUTH_MICROSOFT_ENTRA_ID_SECRET": "e-secret",
		"AUTH_MICROSOFT_ENTRA_ID_ISSUER": "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
		"AUTH_DEX_ID":                    "dex-app",
		"AUTH_DEX_SECRET":                "dex-secret",
		"AUTH_DEX_ISSUER":                "http://127.0.0.1:5556/dex",
	}
	cfg, warnings, err := auth.ConfigFromEnv(env.getenv, env.environ())
	if err != nil || len(warnings) != 0 {
		t.Fatalf("ConfigFromEnv = %v, %q", err, warnings)
	}
	if want := []string{envSecret, strings.ToLower(envSecret)}; !reflect.DeepEqual(cfg.Secrets, want) {
		t.Errorf("Secrets %q, want %q", cfg.Secrets, want)
	}
	if cfg.URL != "https://app.example.com/auth-api" || cfg.TrustHost {
		t.Errorf("URL %q, TrustHost %v", cfg.URL, cfg.TrustHost)
	}
	type prov struct{ ID, Name, Issuer, ClientID, ClientSecret string }
	var got []prov
	for _, p := range cfg.Providers {
		got = append(got, prov{p.ID, p.Name, p.Issuer, p.ClientID, p.ClientSecret})
	}
	want := []prov{
		{"keycloak", "Keycloak", "https://keycloak.example.com/realms/app", "kc-app", "kc-secret"},
		{"microsoft-entra-id", "Microsoft Entra ID", "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0", "e-app", "e-secret"},
		{"google", "Google", "https://accounts.google.com", "g-app", "g-secret"},
		{"dex", "Dex", "http://127.0.0.1:5556/dex", "dex-app", "dex-secret"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("providers\n got %+v\nwant %+v", got, want)
	}
	a, err := auth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if a.BasePath() != "/auth-api" {
		t.Errorf("BasePath %q, want /auth-api", a.BasePath())
	}
}

// TestEnvDefaultIssuer leaves AUTH_<ID>_ISSUER unset for the presets that
// have a default.
func TestEnvDefaultIssuer(t *testing.T) {
	for _, tc := range []struct{ id, want string }{
		{"google", "https://accounts.google.com"},
		{"microsoft-entra-id", "https://login.microsoftonline.com/common/v2.0"},
	} {
		env := envMap{auth.EnvName(tc.id) + "ID": "client", auth.EnvName(tc.id) + "SECRET": "secret"}
		ps, err := auth.ProvidersFromEnv(env.getenv)
		if err != nil || len(ps) != 1 || ps[0].Issuer != tc.want {
			t.Errorf("%s: ProvidersFromEnv = %v, %v; want issuer %s", tc.id, ps, err, tc.want)
		}
	}
}

// TestEnvTrustHost reads AUTH_TRUST_HOST; "false" means false.
func TestEnvTrustHost(t *testing.T) {
	for v, want := range map[string]bool{
		"": false, "false": false, "FALSE": false, "0": false, "no": false, "off": false,
		"true": true, "True": true, "1": true, "yes": true, "on": true, " true ": true,
	} {
		cfg, _, err := auth.ConfigFromEnv(oidcEnv.with("AUTH_TRUST_HOST", v).getenv, nil)
		if err != nil || cfg.TrustHost != want {
			t.Errorf("AUTH_TRUST_HOST=%q: TrustHost %v, %v; want %v", v, cfg.TrustHost, err, want)
		}
	}
}

// TestEnvDevelopment: with no provider, AUTH_SECRET may be empty.
func TestEnvDevelopment(t *testing.T) {
	cfg, warnings, err := auth.ConfigFromEnv(envMap{}.getenv, nil)
	if err != nil || len(warnings) != 0 || len(cfg.Providers) != 0 || len(cfg.Secrets) != 0 {
		t.Errorf("ConfigFromEnv(empty) = %+v, %q, %v", cfg, warnings, err)
	}
}

// TestEnvBasePath runs a sign-in and sign-out end to end with AUTH_URL's
// path /auth-api as the base path: the providers JSON, the sign-in and
// callback URLs and the routes all move there.
func TestEnvBasePath(t *testing.T) {
	idp := authtest.New(t, authtest.Options{})
	app := newConfiguredApp(t, func(appURL string) auth.Config {
		env := envMap{
			"AUTH_SECRET":      envSecret,
			"AUTH_URL":         appURL + "/auth-api",
			"AUTH_OIDC_ID":     idp.ClientID,
			"AUTH_OIDC_SECRET": idp.ClientSecret,
			"AUTH_OIDC_ISSUER": idp.Issuer,
		}
		cfg, warnings, err := auth.ConfigFromEnv(env.getenv, env.environ())
		if err != nil || len(warnings) != 0 {
			t.Fatalf("ConfigFromEnv = %v, %q", err, warnings)
		}
		return cfg
	})
	if app.a.BasePath() != "/auth-api" {
		t.Fatalf("BasePath %q", app.a.BasePath())
	}
	b := app.browser()

	r := b.get("/auth-api/providers")
	var providers map[string]auth.ProviderInfo
	if err := json.Unmarshal([]byte(r.body), &providers); err != nil {
		t.Fatalf("providers: status %d, %q: %v", r.StatusCode, r.body, err)
	}
	want := auth.ProviderInfo{ID: "oidc", Name: "OpenID Connect", Type: "oidc",
		SignInURL: app.url + "/auth-api/signin/oidc", CallbackURL: app.url + "/auth-api/callback/oidc"}
	if providers["oidc"] != want || len(providers) != 1 {
		t.Errorf("providers %+v, want oidc: %+v", providers, want)
	}
	if r := b.get("/api/auth/providers"); r.StatusCode != http.StatusNotFound {
		t.Errorf("/api/auth/providers: status %d, want 404 with the base path moved", r.StatusCode)
	}
	page := b.get("/auth-api/signin")
	if !strings.Contains(page.body, `action="`+app.url+`/auth-api/signin/oidc"`) || !strings.Contains(page.body, "Sign in with OpenID Connect") {
		t.Errorf("sign-in page does not post to /auth-api/signin/oidc: %s", page.body)
	}

	start := b.post("/auth-api/signin/oidc", url.Values{"csrfToken": {b.csrf()}})
	authz := start.location(t)
	if got := authz.Query().Get("redirect_uri"); got != app.url+"/auth-api/callback/oidc" {
		t.Errorf("redirect_uri %q, want %s/auth-api/callback/oidc", got, app.url)
	}
	back := b.get(authz.String()) // the fake IdP signs the user in at once
	cb := b.get(back.location(t).String())
	if cb.StatusCode != http.StatusFound || cb.Header.Get("Location") != app.url+"/" {
		t.Fatalf("callback: status %d, Location %q: %s", cb.StatusCode, cb.Header.Get("Location"), cb.body)
	}
	if s := b.session(); s == nil {
		t.Fatal("no session after sign-in")
	}
	out := b.post("/auth-api/signout", url.Values{"csrfToken": {b.csrf()}})
	dest := out.location(t)
	if got := dest.Query().Get("post_logout_redirect_uri"); got != app.url+"/auth/sign-out" {
		t.Errorf("post_logout_redirect_uri %q", got)
	}
	done := b.get(b.get(dest.String()).location(t).String())
	if done.StatusCode != http.StatusOK || b.session() != nil {
		t.Errorf("post-logout page: status %d; session %v", done.StatusCode, b.session())
	}
}

// checkEnv is ConfigFromEnv's warnings and first problem.
func checkEnv(getenv func(string) string, environ []string) ([]string, error) {
	_, warnings, err := auth.ConfigFromEnv(getenv, environ)
	return warnings, err
}
