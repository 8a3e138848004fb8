package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The settings of oidc-provider/server.mjs, as one JSON document. The zero
// value of a field leaves the default of server.mjs: see the comment at its
// top. Only what a test sets is sent.
type OPConfig struct {
	Port     int         `json:"port,omitempty"`
	Issuer   string      `json:"issuer,omitempty"`
	Clients  []OPClient  `json:"clients,omitempty"`
	Accounts []OPAccount `json:"accounts,omitempty"` // default: ada / lovelace
	Features OPFeatures  `json:"features"`
	// TTL in seconds by oidc-provider's names: AccessToken, IdToken,
	// RefreshToken, Session, Grant, Interaction, AuthorizationCode.
	TTL    map[string]int      `json:"ttl,omitempty"`
	Scopes []string            `json:"scopes,omitempty"` // default: openid profile email offline_access read:reports
	Claims map[string][]string `json:"claims,omitempty"` // scope → claims; default: profile, email as OIDC says, plus username
	// ConformIDTokenClaims true puts the scope claims in userinfo only, as
	// oidc-provider does by default. The default here (false) puts them in
	// the ID token too, as most IdPs do.
	ConformIDTokenClaims bool `json:"conformIdTokenClaims,omitempty"`
	// LogoutPrompt is "auto" (default: the "Do you want to sign-out" page
	// submits "yes" by itself) or "confirm" (the page waits for a click on
	// #op-logout-yes).
	LogoutPrompt string `json:"logoutPrompt,omitempty"`
	// RefreshTokens is "always" (default: every client with the
	// refresh_token grant gets one, as from Keycloak) or "offline_access"
	// (oidc-provider's own rule: only for offline_access together with
	// prompt=consent).
	RefreshTokens string `json:"refreshTokens,omitempty"`
	// PKCERequired defaults to true for every client.
	PKCERequired *bool `json:"pkceRequired,omitempty"`
	// RotateRefreshTokens true makes every refresh grant issue a new
	// refresh token and retire the old one: presenting a retired one again
	// is refused and revokes the whole grant. Default: oidc-provider's own
	// rule (public clients, and tokens past 70% of their life).
	RotateRefreshTokens bool `json:"rotateRefreshTokens,omitempty"`
}

// OPFeatures switches oidc-provider's features. nil keeps the default of
// server.mjs: everything on except devInteractions.
type OPFeatures struct {
	RPInitiatedLogout  *bool `json:"rpInitiatedLogout,omitempty"`
	BackchannelLogout  *bool `json:"backchannelLogout,omitempty"`
	FrontchannelLogout *bool `json:"frontchannelLogout,omitempty"`
	Introspection      *bool `json:"introspection,omitempty"`
	Revocation         *bool `json:"revocation,omitempty"`
	// DevInteractions swaps the password-checking login form of server.mjs
	// for oidc-provider's own development pages (any login, no password
	// check, a consent page to click).
	DevInteractions *bool `json:"devInteractions,omitempty"`
}

// OPClient is a client registration (RFC 7591 metadata names).
type OPClient struct {
	ClientID                string   `json:"client_id"`
	ClientSecret            string   `json:"client_secret,omitempty"`
	RedirectURIs            []string `json:"redirect_uris"`
	PostLogoutRedirectURIs  []string `json:"post_logout_redirect_uris,omitempty"`
	BackchannelLogoutURI    string   `json:"backchannel_logout_uri,omitempty"`
	FrontchannelLogoutURI   string   `json:"frontchannel_logout_uri,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"` // default client_secret_basic
	GrantTypes              []string `json:"grant_types,omitempty"`                // default authorization_code, refresh_token
}

// OPAccount is a user of the OP. Login is by id, email or username.
type OPAccount struct {
	ID          string         `json:"id"`
	Password    string         `json:"password"`
	Email       string         `json:"email,omitempty"`
	GivenName   string         `json:"given_name,omitempty"`
	FamilyName  string         `json:"family_name,omitempty"`
	Name        string         `json:"name,omitempty"`
	Username    string         `json:"username,omitempty"`
	ExtraClaims map[string]any `json:"extraClaims,omitempty"` // released with the profile scope
	// Scopes are the only scopes beyond openid, profile, email and
	// offline_access the account is granted, as for a user whose role lacks
	// a permission: nil grants every scope asked for, []string{} none.
	Scopes []string `json:"scopes"`
}

// opAda is the default account of server.mjs.
var opAda = OPAccount{
	ID: "ada", Password: "lovelace", Email: "ada@example.com",
	GivenName: "Ada", FamilyName: "Lovelace", Name: "Ada Lovelace", Username: "ada@example.com",
}

// The selectors of the login form of server.mjs.
const (
	opLoginSel    = `input[name="login"]`
	opPasswordSel = `input[name="password"]`
	opSubmitSel   = `#op-login button[type="submit"]`
)

// OP is a running oidc-provider.
type OP struct {
	Issuer string
	Config OPConfig
	proc   *process
}

// Log returns what the OP printed so far: one line per request and per event
// (login, consent granted, event backchannel.success, ...).
func (op *OP) Log() string { return op.proc.log.String() }

// Grants counts the token grants of grantType (authorization_code,
// refresh_token) the OP made to clientID so far, by its "event
// grant.success" lines.
func (op *OP) Grants(clientID, grantType string) int {
	return strings.Count(op.Log(), "event grant.success client="+clientID+" grant_type="+grantType+"\n")
}

// WaitLog waits until the OP's log contains s, and fails the test if it does
// not within timeout.
func (op *OP) WaitLog(t testing.TB, s string, timeout time.Duration) {
	t.Helper()
	if !op.proc.log.WaitFor(s, timeout, op.proc.done) {
		t.Fatalf("oidc-provider did not log %q within %v:\n%s", s, timeout, tail(op.Log(), 4000))
	}
}

// Discovery fetches the OP's discovery document.
func (op *OP) Discovery(t testing.TB) map[string]any {
	t.Helper()
	return fetchJSON(t, op.Issuer+"/.well-known/openid-configuration")
}

// fetchJSON GETs url and decodes a JSON object.
func fetchJSON(t testing.TB, url string) map[string]any {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatalf("GET %s: decode: %v", url, err)
	}
	return doc
}

// appClient registers the app at appURL as a confidential client of the OP,
// for the provider id providerID (oidc, asgardeo, ...): its callback, its
// post-logout page and its back- and front-channel logout receivers.
func appClient(appURL, providerID string) OPClient {
	return OPClient{
		ClientID:                "signet-" + providerID,
		ClientSecret:            randomString(24),
		RedirectURIs:            []string{appURL + "/api/auth/callback/" + providerID},
		PostLogoutRedirectURIs:  []string{appURL + "/auth/sign-out"},
		BackchannelLogoutURI:    appURL + "/api/auth/backchannel-logout",
		FrontchannelLogoutURI:   appURL + "/api/auth/frontchannel-logout",
		TokenEndpointAuthMethod: "client_secret_basic",
	}
}

var (
	opInstallMu   sync.Mutex
	opInstallDone bool
)

// opDir is the folder of server.mjs.
func opDir(t testing.TB) string {
	return filepath.Join(e2eDir(t), "oidc-provider")
}

// installOP runs `npm ci` in oidc-provider/ when node_modules does not hold
// the version that package.json pins. A lock file serializes it between test
// binaries that run at the same time.
func installOP(t testing.TB) {
	t.Helper()
	opInstallMu.Lock()
	defer opInstallMu.Unlock()
	if opInstallDone {
		return
	}
	if _, err := exec.LookPath("node"); err != nil {
		skipOrFail(t, "node is not installed (oidc-provider needs Node.js 20 or later)")
	}
	dir := opDir(t)
	if !opInstalled(t, dir) {
		unlock, err := lockFile(filepath.Join(dir, ".install.lock"))
		if err != nil {
			t.Fatalf("lock oidc-provider install: %v", err)
		}
		defer unlock()
		if !opInstalled(t, dir) { // another binary may have installed it meanwhile
			if _, err := exec.LookPath("npm"); err != nil {
				skipOrFail(t, "npm is not installed (needed to install oidc-provider)")
			}
			start := time.Now()
			cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
			}
			t.Logf("npm ci in %s took %v", dir, time.Since(start).Round(time.Millisecond))
		}
	}
	opInstallDone = true
}

// opInstalled reports whether node_modules holds the oidc-provider version
// that package.json pins.
func opInstalled(t testing.TB, dir string) bool {
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
		Version      string            `json:"version"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		t.Fatalf("read package.json: %v", err)
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatalf("package.json: %v", err)
	}
	want := pkg.Dependencies["oidc-provider"]
	b, err = os.ReadFile(filepath.Join(dir, "node_modules", "oidc-provider", "package.json"))
	if err != nil {
		return false
	}
	pkg.Version = ""
	if err := json.Unmarshal(b, &pkg); err != nil {
		return false
	}
	return pkg.Version == want
}

// startOP installs and starts oidc-provider with cfg on a free port of
// 127.0.0.1, waits for its "ready <issuer>" line, and stops it when the test
// ends.
func startOP(t testing.TB, cfg OPConfig) *OP {
	t.Helper()
	installOP(t)
	// With no port, server.mjs listens on port 0 and names the issuer after
	// the port it got, so two OPs never race for a port.
	doc, err := json.Marshal(cfg)
	if err != nil {
		t.Fatalf("OP config: %v", err)
	}
	cmd := exec.Command("node", "server.mjs")
	cmd.Dir = opDir(t)
	cmd.Env = cleanEnv(map[string]string{"OP_CONFIG": string(doc), "NODE_ENV": "test"})
	p := startProcess(t, "oidc-provider", cmd)
	// Node's start, with an RSA key made at random, took over 30 s once
	// while the other browser tests loaded both cores: the bound is only
	// there so that a broken OP fails the test instead of hanging it.
	if !p.log.WaitFor("ready http", 90*time.Second, p.done) {
		t.Fatalf("oidc-provider did not get ready (exit: %v):\n%s", p.err, tail(p.log.String(), 8000))
	}
	op := &OP{Config: cfg, proc: p}
	for _, line := range lines(p.log.String()) {
		if rest, ok := strings.CutPrefix(line, "ready "); ok {
			op.Issuer = strings.TrimSpace(rest)
			break
		}
	}
	if op.Issuer == "" {
		t.Fatalf("oidc-provider printed no issuer:\n%s", p.log.String())
	}
	return op
}

// skipOrFail skips the test when a tool is missing on a developer's machine,
// and fails it under CI, where every tool must be there.
func skipOrFail(t testing.TB, msg string) {
	t.Helper()
	if ciSet() {
		t.Fatalf("%s; CI is set, so this is a failure", msg)
	}
	t.Skipf("%s; skipped (set CI=true to make this a failure)", msg)
}

// ciSet reports whether the tests run under CI (CI=true, as CI services set it).
func ciSet() bool {
	switch strings.ToLower(os.Getenv("CI")) {
	case "", "0", "false", "no":
		return false
	}
	return true
}
