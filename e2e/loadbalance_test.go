package e2e

// The journey through nginx load-balancing two instances of the app (round
// robin, the upstream and location blocks of deploy/nginx.conf with the
// instances' ports put in) that share one Redis, against oidc-provider:
// sign in, pages served by both instances, sign out (RP-initiated, through
// the IdP), Sign in asks for the password again; then a logout at the IdP,
// whose back-channel logout reaches one instance through nginx, ends the
// session on both.

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/store/redisstore/redistest"
)

// exampleNginx is the example site file, relative to the repository.
const exampleNginx = "deploy/nginx.conf"

// nginxBlock returns the block of conf that starts with the line that
// matches head (e.g. `upstream signet {`), through its closing brace.
func nginxBlock(t testing.TB, conf, head string) string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^[ \t]*` + regexp.QuoteMeta(head) + `[ \t]*\{`)
	loc := re.FindStringIndex(conf)
	if loc == nil {
		t.Fatalf("%s has no %q block", exampleNginx, head)
	}
	depth := 0
	for i := loc[1] - 1; i < len(conf); i++ {
		switch conf[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return conf[loc[0] : i+1]
			}
		}
	}
	t.Fatalf("%s: the %q block is not closed", exampleNginx, head)
	return ""
}

// exampleBlocks returns the upstream block of deploy/nginx.conf with its
// server lines replaced by one per port on 127.0.0.1, and its location
// block.
func exampleBlocks(t testing.TB, ports ...int) (upstream, location string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), exampleNginx))
	if err != nil {
		t.Fatal(err)
	}
	conf := string(b)
	upstream = nginxBlock(t, conf, "upstream signet")
	servers := regexp.MustCompile(`(?m)^[ \t]*server[ \t]+[^;]+;[ \t]*\n`)
	if n := len(servers.FindAllString(upstream, -1)); n < 2 {
		t.Fatalf("the upstream of %s lists %d servers, want an example of several", exampleNginx, n)
	}
	var lines strings.Builder
	for _, p := range ports {
		fmt.Fprintf(&lines, "    server 127.0.0.1:%d;\n", p)
	}
	first := true
	upstream = servers.ReplaceAllStringFunc(upstream, func(string) string {
		if first {
			first = false
			return lines.String()
		}
		return ""
	})
	location = nginxBlock(t, conf, "location /")
	if !strings.Contains(location, "proxy_pass http://signet;") {
		t.Fatalf("the location block of %s does not proxy to the upstream signet:\n%s", exampleNginx, location)
	}
	return upstream, location
}

// lbConf is the test's nginx around the example's blocks: paths in the
// temp dir, plain http on loopback, and an access log that names the
// instance that answered each request.
const lbConf = `daemon off;
master_process off;
pid {{dir}}/nginx.pid;
error_log {{dir}}/error.log info;

events {
	worker_connections 64;
}

http {
	client_body_temp_path {{dir}}/client_body;
	proxy_temp_path {{dir}}/proxy;
	fastcgi_temp_path {{dir}}/fastcgi;
	uwsgi_temp_path {{dir}}/uwsgi;
	scgi_temp_path {{dir}}/scgi;

	log_format lb escape=json '{"status":$status,"method":"$request_method","uri":"$uri",'
		'"hx":"$http_hx_request","request_length":$request_length,'
		'"bytes_sent":$bytes_sent,"body_bytes_sent":$body_bytes_sent,'
		'"upstream_status":"$upstream_status","upstream_addr":"$upstream_addr"}';
	access_log {{dir}}/access.log lb;

{{upstream}}

	server {
		listen 127.0.0.1:{{port}};
		server_name 127.0.0.1;

{{location}}
	}
}
`

// startLoadBalancer starts nginx on 127.0.0.1:port (plain http) with the
// example's upstream over the ports of instances, and waits until /healthz
// answers through it.
// startBalancedPair starts what the load-balanced journeys share: Redis,
// oidc-provider, two instances of the app with the session strategy
// strategy on that Redis, and nginx in front of them as deploy/nginx.conf
// has it. The IdP knows the app by its public URL (nginx's) only: its
// back-channel logout goes through nginx too. It has no front-channel
// logout URI: the browser would end the session itself, and nothing would
// be left for the instances to show.
func startBalancedPair(t *testing.T, strategy string) (op *OP, client OPClient, apps []*App, proxy *nginxProxy, proxyURL string) {
	t.Helper()
	redis := redistest.StartServer(t)
	proxyPort := freePort(t)
	proxyURL = "http://127.0.0.1:" + strconv.Itoa(proxyPort)
	client = appClient(proxyURL, "oidc")
	client.FrontchannelLogoutURI = ""
	op = startOP(t, OPConfig{Clients: []OPClient{client}})
	secret := randomSecret()
	for range 2 {
		apps = append(apps, startApp(t, map[string]string{
			"AUTH_URL":              proxyURL,
			"AUTH_SECRET":           secret,
			"AUTH_STORE":            "redis://" + redis + "/0",
			"AUTH_SESSION_STRATEGY": strategy,
			"AUTH_OIDC_ISSUER":      op.Issuer,
			"AUTH_OIDC_ID":          client.ClientID,
			"AUTH_OIDC_SECRET":      client.ClientSecret,
		}))
	}
	if apps[0].Port == proxyPort || apps[1].Port == proxyPort {
		t.Fatalf("nginx's port %d was taken by an instance", proxyPort)
	}
	proxy = startLoadBalancer(t, proxyPort, apps[0].Port, apps[1].Port)
	return op, client, apps, proxy, proxyURL
}

func startLoadBalancer(t testing.TB, port int, instances ...int) *nginxProxy {
	t.Helper()
	exe := nginxPath(t)
	dir := t.TempDir()
	upstream, location := exampleBlocks(t, instances...)
	conf := strings.NewReplacer(
		"{{dir}}", dir, "{{port}}", strconv.Itoa(port), "{{upstream}}", upstream, "{{location}}", location,
	).Replace(lbConf)
	confFile := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	version, _ := exec.Command(exe, "-v").CombinedOutput()
	cmd := exec.Command(exe, "-e", "stderr", "-c", confFile, "-p", dir)
	cmd.Dir = dir
	cmd.Env = cleanEnv(nil)
	n := &nginxProxy{
		URL:     "http://127.0.0.1:" + strconv.Itoa(port),
		Port:    port,
		Version: strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(version)), "nginx version:")),
		dir:     dir,
		client:  &http.Client{Timeout: 5 * time.Second},
	}
	n.proc = startProcess(t, "nginx", cmd)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("nginx config:\n%s\nnginx error log:\n%s", conf, tail(n.errorLog(t), 4000))
		}
	})
	waitHTTP(t, n.proc, n.URL+"/healthz", http.StatusOK, 15*time.Second)
	return n
}

// TestLoadBalancedJourney: see the top of the file.
func TestLoadBalancedJourney(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	nginxPath(t)
	op, client, apps, proxy, proxyURL := startBalancedPair(t, "server")
	instance := map[string]int{ // upstream address → instance
		"127.0.0.1:" + strconv.Itoa(apps[0].Port): 0,
		"127.0.0.1:" + strconv.Itoa(apps[1].Port): 1,
	}

	public := *apps[0]
	public.URL = proxyURL
	e := &journeyEnv{
		app: &public, op: op, providerSel: `button[data-provider="oidc"]`,
		loginSel: opLoginSel, passwordSel: opPasswordSel, submitSel: opSubmitSel,
		username: "ada", password: "lovelace", idpPrefix: op.Issuer + "/",
		clientID: client.ClientID, wantEmail: defaultWantedEmail,
	}
	ctx := newBrowser(t)
	// Round robin alternates per request, and this journey counts which
	// instance serves each page: the pages' session streams would take
	// every other turn, so the browser blocks them here. TestLiveSignOut
	// runs them through the same blocks.
	blockSessionStream(t, ctx)

	// Sign in, then pages through nginx.
	e.signInFromHome(t, ctx, "01-signed-in")
	e.checkHomeSignedIn(t, ctx)
	click(t, ctx, selNavProfile)
	waitAt(t, ctx, proxyURL+"/profile", selProfileEmail)
	e.checkProfile(t, ctx)
	navigate(t, ctx, proxyURL+"/api/auth/session")
	if raw := textOf(t, ctx, "body"); !strings.Contains(raw, defaultWantedEmail) {
		t.Fatalf("/api/auth/session through nginx = %s, want Ada's session", raw)
	}
	screenshot(t, ctx, "02-session")
	// Requests one after the other alternate between the instances (round
	// robin; a page's own requests in between may put its documents on one
	// instance only): each instance reads the session.
	from := len(proxy.accessLog(t))
	reads := evalJS[[]any](t, ctx, `(async () => {
  const out = [];
  for (let i = 0; i < 6; i++) out.push(await (await fetch('/api/auth/session')).json());
  return out;
})()`)
	for i, r := range reads {
		if s, _ := r.(map[string]any); s == nil || !strings.Contains(mustJSON(s["user"]), defaultWantedEmail) {
			t.Errorf("read %d of /api/auth/session through nginx: %v, want Ada's session", i, r)
		}
	}
	served := [2]int{}
	for _, r := range proxy.accessLog(t)[from:] {
		if r.URI != "/api/auth/session" {
			continue
		}
		i, ok := instance[r.UpstreamAddr]
		if !ok || r.Status != http.StatusOK {
			t.Fatalf("nginx: %s from %q, want 200 from an instance", r, r.UpstreamAddr)
		}
		served[i]++
	}
	t.Logf("6 session reads in a row through nginx, served by the instances: %d and %d", served[0], served[1])
	for i, n := range served {
		if n == 0 {
			t.Errorf("instance %d served none of the session reads", i)
		}
		if !strings.Contains(apps[i].Logs(), "msg=request method=GET path=/api/auth/session status=200") {
			t.Errorf("instance %d's request log has no session read:\n%s", i, tail(apps[i].Logs(), 3000))
		}
	}

	// Sign out at the app and the IdP; Sign in asks for the password again.
	navigate(t, ctx, proxyURL+"/profile")
	waitVisible(t, ctx, selSignOut)
	trip := e.signOut(t, ctx)
	e.checkRPInitiatedLogout(t, trip)
	e.checkSignedOutCookies(t, ctx)
	click(t, ctx, selSignIn)
	if waitAny(t, ctx, e.loginSel, selWelcome) == selWelcome {
		screenshot(t, ctx, "03-signed-in-without-password")
		t.Fatalf("Sign in after Sign out went through without the password: the IdP's session was not ended")
	}
	e.waitLoginForm(t, ctx)
	e.submitCredentials(t, ctx)
	waitAt(t, ctx, proxyURL+"/", selWelcome)
	cookie := sessionCookie(t, ctx, proxyURL)

	// A logout at the IdP: its back-channel logout reaches one instance
	// through nginx, and neither accepts the session any more.
	before := strings.Count(op.Log(), "event backchannel.success")
	endSession, _ := op.Discovery(t)["end_session_endpoint"].(string)
	navigate(t, ctx, endSession)
	waitVisible(t, ctx, "#op-logout-success")
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(op.Log(), "event backchannel.success") == before {
		if time.Now().After(deadline) {
			t.Fatalf("the OP sent no back-channel logout:\n%s", tail(op.Log(), 3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, app := range apps {
		waitSignedOut(t, app.URL, cookie, time.Now().Add(2*time.Second))
	}
	navigate(t, ctx, proxyURL+"/")
	waitVisible(t, ctx, selSignIn)
	screenshot(t, ctx, "04-signed-out-by-idp")

	checkNginxLogs(t, proxy, proxy.accessLog(t))
	// The sign-out's back-channel logout and the IdP's, each logged by the
	// instance that got it once recorded (a moment after it takes effect).
	received := 0
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		received = 0
		for _, app := range apps {
			received += strings.Count(app.Logs(), `msg="back-channel logout"`)
		}
		if received >= 2 || time.Now().After(deadline) {
			break
		}
	}
	if received < 2 {
		t.Errorf("the instances logged %d back-channel logouts, want one for the sign-out and one for the logout at the IdP", received)
	}
}

// TestNginxExampleIsValid: the whole of deploy/nginx.conf, with a
// certificate of the test's, passes `nginx -t` as a site file included in
// the http block, as Debian's nginx.conf includes sites-enabled/*.
func TestNginxExampleIsValid(t *testing.T) {
	t.Parallel()
	exe := nginxPath(t)
	dir := t.TempDir()
	cert, key, _ := selfSignedCert(t, dir)
	b, err := os.ReadFile(filepath.Join(repoRoot(t), exampleNginx))
	if err != nil {
		t.Fatal(err)
	}
	site := regexp.MustCompile(`(?m)^([ \t]*ssl_certificate[ \t]+)\S+;`).ReplaceAllString(string(b), "${1}"+cert+";")
	site = regexp.MustCompile(`(?m)^([ \t]*ssl_certificate_key[ \t]+)\S+;`).ReplaceAllString(site, "${1}"+key+";")
	if site == string(b) {
		t.Fatalf("%s names no certificate", exampleNginx)
	}
	if err := os.WriteFile(filepath.Join(dir, "site.conf"), []byte(site), 0o600); err != nil {
		t.Fatal(err)
	}
	main := strings.ReplaceAll(`pid {{dir}}/nginx.pid;
error_log {{dir}}/error.log;
events {}
http {
	client_body_temp_path {{dir}}/client_body;
	proxy_temp_path {{dir}}/proxy;
	fastcgi_temp_path {{dir}}/fastcgi;
	uwsgi_temp_path {{dir}}/uwsgi;
	scgi_temp_path {{dir}}/scgi;
	access_log {{dir}}/access.log;
	include {{dir}}/site.conf;
}
`, "{{dir}}", dir)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(exe, "-t", "-e", "stderr", "-c", filepath.Join(dir, "nginx.conf"), "-p", dir).CombinedOutput()
	if err != nil || strings.Contains(string(out), "[warn]") {
		t.Errorf("nginx -t on %s: %v\n%s", exampleNginx, err, out)
	}
}
