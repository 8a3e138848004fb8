package e2e

// The back-channel journey against a second certified OpenID Provider, Ory
// Hydra v2 (hydra/go.mod pins it, as a tool in a module of its own). Hydra
// has no login or consent pages: a small handler of the test's (hydraUI)
// shows a login form, checks Ada's password and accepts the login,
// consent and logout requests through Hydra's admin API.
//
// The journey: sign in through Hydra; sign out (RP-initiated logout at
// Hydra, back to /auth/sign-out); Sign in asks for the password again; then
// Hydra's login session is revoked by its sid through the admin API, and
// the logout token Hydra sends to the app's back-channel receiver (it
// carries sid only, no sub or exp, and arrives asynchronously) ends the
// app's session within seconds.
//
// The test runs only when asked: building Hydra from the module proxy
// takes many minutes on two cores, too long for every test run.
// SIGNET_E2E_HYDRA=build builds it (once: the binary is kept in the
// user's cache folder, keyed by the pinned versions) and runs the test;
// SIGNET_E2E_HYDRA=/path/to/hydra uses a binary built already. The
// Taskfile's e2e-hydra task sets it.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	hydraBuildMu  sync.Mutex
	hydraBuilt    string
	hydraBuildErr error
)

// hydraBinary returns the path of the Hydra binary: SIGNET_E2E_HYDRA, or
// with SIGNET_E2E_HYDRA=build one built from hydra/go.mod with `go build -tags
// sqlite,sqlite_omit_load_extension` and kept in the user's cache folder
// under a name made of Hydra's version and a hash of go.mod, go.sum, the Go
// version and the platform. A lock file serializes the build between test
// binaries.
func hydraBinary(t testing.TB) string {
	t.Helper()
	switch p := os.Getenv("SIGNET_E2E_HYDRA"); p {
	case "":
		t.Skip("the Ory Hydra journey runs with SIGNET_E2E_HYDRA=build (task e2e-hydra) or SIGNET_E2E_HYDRA=/path/to/hydra")
	case "build":
	default:
		return p
	}
	hydraBuildMu.Lock()
	defer hydraBuildMu.Unlock()
	if hydraBuilt != "" || hydraBuildErr != nil {
		if hydraBuildErr != nil {
			t.Fatal(hydraBuildErr)
		}
		return hydraBuilt
	}
	hydraBuilt, hydraBuildErr = buildHydra(t)
	if hydraBuildErr != nil {
		t.Fatal(hydraBuildErr)
	}
	return hydraBuilt
}

func buildHydra(t testing.TB) (string, error) {
	dir := filepath.Join(e2eDir(t), "hydra")
	mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return "", err
	}
	sum, err := os.ReadFile(filepath.Join(dir, "go.sum"))
	if err != nil {
		return "", err
	}
	m := regexp.MustCompile(`(?m)^\s*github\.com/ory/hydra/v2 (v\S+)`).FindSubmatch(mod)
	if m == nil {
		return "", fmt.Errorf("hydra/go.mod does not require github.com/ory/hydra/v2")
	}
	version := string(m[1])
	h := sha256.New()
	for _, part := range [][]byte{mod, sum, []byte(runtime.Version()), []byte(runtime.GOOS + "/" + runtime.GOARCH)} {
		h.Write(part)
		h.Write([]byte{0})
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	bin := filepath.Join(cache, "signet-e2e", "hydra-"+version+"-"+hex.EncodeToString(h.Sum(nil))[:12])
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(bin + ".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(bin); err == nil { // another test binary built it meanwhile
		return bin, nil
	}
	goTool := "go"
	if p, err := exec.LookPath("go"); err == nil {
		goTool = p
	}
	start := time.Now()
	tmp := bin + ".tmp"
	cmd := exec.Command(goTool, "build", "-tags", "sqlite,sqlite_omit_load_extension",
		"-ldflags", "-X github.com/ory/hydra/v2/driver/config.Version="+version,
		"-o", tmp, "github.com/ory/hydra/v2")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build Ory Hydra %s in %s: %v\n%s", version, dir, err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	t.Logf("built Ory Hydra %s in %v (kept as %s)", version, time.Since(start).Round(time.Second), bin)
	return bin, nil
}

// hydra is a running Hydra with its login, consent and logout UI.
type hydra struct {
	Issuer string // the public URL
	Admin  string // the admin URL
	proc   *process
	ui     *hydraUI
}

// Log returns what Hydra printed so far.
func (h *hydra) Log() string { return h.proc.log.String() }

// startHydra starts the UI and `hydra serve all --dev` with DSN=memory on
// free loopback ports, and waits until Hydra is ready.
func startHydra(t testing.TB) *hydra {
	t.Helper()
	bin := hydraBinary(t)
	publicPort, adminPort := freePort(t), freePort(t)
	for adminPort == publicPort {
		adminPort = freePort(t)
	}
	h := &hydra{
		Issuer: "http://127.0.0.1:" + strconv.Itoa(publicPort),
		Admin:  "http://127.0.0.1:" + strconv.Itoa(adminPort),
	}
	h.ui = startHydraUI(t, h.Admin)
	cmd := exec.Command(bin, "serve", "all", "--dev", "--sqa-opt-out")
	cmd.Dir = t.TempDir()
	cmd.Env = cleanEnv(map[string]string{
		"DSN":               "memory",
		"SQA_OPT_OUT":       "true",
		"SECRETS_SYSTEM":    randomString(32),
		"SERVE_PUBLIC_HOST": "127.0.0.1",
		"SERVE_PUBLIC_PORT": strconv.Itoa(publicPort),
		"SERVE_ADMIN_HOST":  "127.0.0.1",
		"SERVE_ADMIN_PORT":  strconv.Itoa(adminPort),
		"URLS_SELF_ISSUER":  h.Issuer,
		"URLS_LOGIN":        h.ui.URL + "/login",
		"URLS_CONSENT":      h.ui.URL + "/consent",
		"URLS_LOGOUT":       h.ui.URL + "/logout",
	})
	h.proc = startProcess(t, "hydra", cmd)
	waitHTTP(t, h.proc, h.Admin+"/health/ready", http.StatusOK, 30*time.Second)
	waitHTTP(t, h.proc, h.Issuer+"/health/ready", http.StatusOK, 30*time.Second)
	return h
}

// admin calls Hydra's admin API with a JSON body (nil for none) and
// decodes the JSON answer into out (nil to drop it). It returns the status.
func hydraAdmin(admin, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, admin+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := plainClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, b)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w: %s", method, path, err, b)
		}
	}
	return resp.StatusCode, nil
}

// registerClient registers a confidential client for the app at appURL,
// with its back-channel logout receiver, and returns its id and secret.
func (h *hydra) registerClient(t testing.TB, appURL string) (id, secret string) {
	t.Helper()
	var got struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	_, err := hydraAdmin(h.Admin, http.MethodPost, "/admin/clients", map[string]any{
		"client_name":                         "Signet",
		"client_secret":                       randomString(24),
		"grant_types":                         []string{"authorization_code", "refresh_token"},
		"response_types":                      []string{"code"},
		"scope":                               "openid offline_access profile email",
		"redirect_uris":                       []string{appURL + "/api/auth/callback/oidc"},
		"post_logout_redirect_uris":           []string{appURL + signOutPagePath},
		"backchannel_logout_uri":              appURL + "/api/auth/backchannel-logout",
		"backchannel_logout_session_required": true,
		"token_endpoint_auth_method":          "client_secret_basic",
	}, &got)
	if err != nil {
		t.Fatalf("register the app at Hydra: %v", err)
	}
	if got.ClientID == "" || got.ClientSecret == "" {
		t.Fatalf("Hydra registered a client without id or secret: %+v", got)
	}
	return got.ClientID, got.ClientSecret
}

// hydraUI is the login, consent and logout app Hydra sends the browser to:
// a login form for Ada (the same selectors as oidc-provider's), consent
// granted at once with Ada's profile in the ID token, logout accepted at
// once. It remembers the login sessions (sid) it accepted.
type hydraUI struct {
	URL   string
	admin string

	mu   sync.Mutex
	sids []string
	errs []error
}

func startHydraUI(t testing.TB, admin string) *hydraUI {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ui := &hydraUI{URL: "http://" + l.Addr().String(), admin: admin}
	srv := &http.Server{Handler: ui}
	go srv.Serve(l)
	t.Cleanup(func() {
		srv.Close()
		ui.mu.Lock()
		defer ui.mu.Unlock()
		for _, err := range ui.errs {
			t.Errorf("Hydra's login UI: %v", err)
		}
	})
	return ui
}

// SIDs returns the login sessions the UI accepted, oldest first.
func (ui *hydraUI) SIDs() []string {
	ui.mu.Lock()
	defer ui.mu.Unlock()
	return append([]string(nil), ui.sids...)
}

func (ui *hydraUI) fail(w http.ResponseWriter, err error) {
	ui.mu.Lock()
	ui.errs = append(ui.errs, err)
	ui.mu.Unlock()
	http.Error(w, err.Error(), http.StatusBadGateway)
}

// redirect sends the browser where Hydra's accept call said.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, to, http.StatusFound)
}

func (ui *hydraUI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var next struct {
		RedirectTo string `json:"redirect_to"`
	}
	switch {
	case r.URL.Path == "/login" && r.Method == http.MethodGet:
		challenge := r.URL.Query().Get("login_challenge")
		var req struct {
			Skip      bool   `json:"skip"`
			Subject   string `json:"subject"`
			SessionID string `json:"session_id"`
		}
		if _, err := hydraAdmin(ui.admin, http.MethodGet, "/admin/oauth2/auth/requests/login?login_challenge="+url.QueryEscape(challenge), nil, &req); err != nil {
			ui.fail(w, err)
			return
		}
		if req.Skip { // Hydra remembers the user: no form
			if _, err := hydraAdmin(ui.admin, http.MethodPut, "/admin/oauth2/auth/requests/login/accept?login_challenge="+url.QueryEscape(challenge),
				map[string]any{"subject": req.Subject}, &next); err != nil {
				ui.fail(w, err)
				return
			}
			redirect(w, r, next.RedirectTo)
			return
		}
		ui.loginForm(w, challenge, "")
	case r.URL.Path == "/login" && r.Method == http.MethodPost:
		challenge := r.PostFormValue("challenge")
		if r.PostFormValue("login") != opAda.ID || r.PostFormValue("password") != opAda.Password {
			ui.loginForm(w, challenge, "Invalid login or password.")
			return
		}
		var req struct {
			SessionID string `json:"session_id"`
		}
		if _, err := hydraAdmin(ui.admin, http.MethodGet, "/admin/oauth2/auth/requests/login?login_challenge="+url.QueryEscape(challenge), nil, &req); err != nil {
			ui.fail(w, err)
			return
		}
		if _, err := hydraAdmin(ui.admin, http.MethodPut, "/admin/oauth2/auth/requests/login/accept?login_challenge="+url.QueryEscape(challenge),
			map[string]any{"subject": opAda.ID, "remember": true, "remember_for": 0}, &next); err != nil {
			ui.fail(w, err)
			return
		}
		ui.mu.Lock()
		ui.sids = append(ui.sids, req.SessionID)
		ui.mu.Unlock()
		redirect(w, r, next.RedirectTo)
	case r.URL.Path == "/consent" && r.Method == http.MethodGet:
		challenge := r.URL.Query().Get("consent_challenge")
		var req struct {
			RequestedScope    []string `json:"requested_scope"`
			RequestedAudience []string `json:"requested_access_token_audience"`
		}
		if _, err := hydraAdmin(ui.admin, http.MethodGet, "/admin/oauth2/auth/requests/consent?consent_challenge="+url.QueryEscape(challenge), nil, &req); err != nil {
			ui.fail(w, err)
			return
		}
		claims := map[string]any{
			"name": opAda.Name, "given_name": opAda.GivenName, "family_name": opAda.FamilyName,
			"email": opAda.Email, "email_verified": true, "preferred_username": opAda.Username,
		}
		if _, err := hydraAdmin(ui.admin, http.MethodPut, "/admin/oauth2/auth/requests/consent/accept?consent_challenge="+url.QueryEscape(challenge), map[string]any{
			"grant_scope":                 req.RequestedScope,
			"grant_access_token_audience": req.RequestedAudience,
			"remember":                    true,
			"remember_for":                0,
			"session":                     map[string]any{"id_token": claims, "access_token": map[string]any{}},
		}, &next); err != nil {
			ui.fail(w, err)
			return
		}
		redirect(w, r, next.RedirectTo)
	case r.URL.Path == "/logout" && r.Method == http.MethodGet:
		challenge := r.URL.Query().Get("logout_challenge")
		if _, err := hydraAdmin(ui.admin, http.MethodPut, "/admin/oauth2/auth/requests/logout/accept?logout_challenge="+url.QueryEscape(challenge), nil, &next); err != nil {
			ui.fail(w, err)
			return
		}
		redirect(w, r, next.RedirectTo)
	default:
		http.NotFound(w, r)
	}
}

// loginForm is the login page, with oidc-provider's selectors.
func (ui *hydraUI) loginForm(w http.ResponseWriter, challenge, problem string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	errLine := ""
	if problem != "" {
		errLine = `<p id="op-login-error">` + html.EscapeString(problem) + `</p>`
	}
	fmt.Fprintf(w, `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · Ory Hydra</title></head>
<body><main><h1>Sign in (Ory Hydra)</h1>%s
<form id="op-login" method="post" action="/login">
<input type="hidden" name="challenge" value="%s">
<label>Login <input name="login" type="text" autofocus></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Sign in</button>
</form></main></body></html>`, errLine, html.EscapeString(challenge))
}

// TestHydraBackchannelLogout: see the top of the file.
func TestHydraBackchannelLogout(t *testing.T) {
	t.Parallel()
	hydraBinary(t) // skips unless asked
	chromiumPath(t)
	h := startHydra(t)
	port, appURL := reserveApp(t)
	clientID, clientSecret := h.registerClient(t, appURL)
	app := startApp(t, map[string]string{
		"PORT":             strconv.Itoa(port),
		"AUTH_URL":         appURL,
		"AUTH_OIDC_ISSUER": h.Issuer,
		"AUTH_OIDC_ID":     clientID,
		"AUTH_OIDC_SECRET": clientSecret,
		"LOG_LEVEL":        "debug",
	})
	e := &journeyEnv{
		app: app, providerSel: `button[data-provider="oidc"]`,
		loginSel: opLoginSel, passwordSel: opPasswordSel, submitSel: opSubmitSel,
		username: "ada", password: "lovelace", idpPrefix: h.ui.URL + "/",
		clientID: clientID, wantEmail: defaultWantedEmail,
	}
	ctx := newBrowser(t)

	// Sign in through Hydra; sign out at the app and at Hydra.
	e.signInFromHome(t, ctx, "01-hydra-login")
	e.checkHomeSignedIn(t, ctx)
	navigate(t, ctx, app.URL+"/profile")
	waitVisible(t, ctx, selSignOut)
	click(t, ctx, selSignOut)
	e.followSignOut(t, ctx)
	var sawLogout bool
	for _, v := range visitedURLs(ctx) {
		sawLogout = sawLogout || strings.HasPrefix(v.URL, h.Issuer+"/oauth2/sessions/logout")
	}
	if !sawLogout {
		t.Errorf("Sign out did not go through Hydra's end_session_endpoint:\n%s", formatVisits(visitedURLs(ctx)))
	}
	e.checkSignedOutCookies(t, ctx)

	// Sign in asks for the password again.
	click(t, ctx, selSignIn)
	if waitAny(t, ctx, e.loginSel, selWelcome) == selWelcome {
		t.Fatalf("Sign in after Sign out went through without the password: Hydra's session was not ended")
	}
	e.submitCredentials(t, ctx)
	waitAt(t, ctx, app.URL+"/", selWelcome)
	cookie := sessionCookie(t, ctx, app.URL)
	sids := h.ui.SIDs()
	if len(sids) != 2 || sids[1] == "" || sids[0] == sids[1] {
		t.Fatalf("Hydra's login sessions: %q, want two", sids)
	}

	// Hydra ends the login session by its sid: its logout token reaches the
	// app's back-channel receiver, asynchronously.
	before := strings.Count(app.Logs(), `msg="back-channel logout"`)
	if _, err := hydraAdmin(h.Admin, http.MethodDelete, "/admin/oauth2/auth/sessions/login?sid="+url.QueryEscape(sids[1]), nil, nil); err != nil {
		t.Fatalf("revoke Hydra's login session: %v", err)
	}
	revoked := time.Now()
	ended := waitSignedOut(t, app.URL, cookie, revoked.Add(10*time.Second))
	t.Logf("Hydra revoked the login session; the app refused the session %v later", ended.Sub(revoked).Round(time.Millisecond))
	// The app logs the logout once it is recorded, a moment after the
	// session is refused.
	waitLogCount(t, app, `msg="back-channel logout"`, before+1, 5*time.Second)
	if n := strings.Count(app.Logs(), `msg="back-channel logout"`); n != before+1 {
		t.Errorf("the app logged %d back-channel logouts after the revocation, want 1", n-before)
	}
	navigate(t, ctx, app.URL+"/")
	waitVisible(t, ctx, selSignIn)
	screenshot(t, ctx, "02-ended-by-hydra")
}
