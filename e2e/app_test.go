package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

var (
	appBuildOnce sync.Once
	appBinary    string
	appBuildErr  error
	appBuildOut  []byte
)

// buildApp builds ./cmd/signet once per test binary, into the binary's temp
// directory, and returns the path of the executable. SIGNET_E2E_BINARY names
// a binary built already, and skips the build.
func buildApp(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("SIGNET_E2E_BINARY"); bin != "" {
		return bin
	}
	appBuildOnce.Do(func() {
		goTool := "go"
		if p, err := exec.LookPath("go"); err == nil {
			goTool = p
		}
		appBinary = filepath.Join(tempRoot, "signet")
		start := time.Now()
		cmd := exec.Command(goTool, "build", "-o", appBinary, "./cmd/signet")
		cmd.Dir = repoRoot(t)
		appBuildOut, appBuildErr = cmd.CombinedOutput()
		if appBuildErr == nil {
			t.Logf("built ./cmd/signet in %v", time.Since(start).Round(time.Millisecond))
		}
	})
	if appBuildErr != nil {
		t.Fatalf("go build ./cmd/signet: %v\n%s", appBuildErr, appBuildOut)
	}
	return appBinary
}

// App is a running signet binary.
type App struct {
	URL  string            // http://127.0.0.1:PORT, also its AUTH_URL
	Port int               // the port it listens on
	Env  map[string]string // the whole environment it got, less PATH and HOME
	proc *process
}

// Logs returns everything the app wrote to stdout and stderr so far.
func (a *App) Logs() string { return a.proc.log.String() }

// WaitLog waits until the app's logs contain s, and fails the test if they do
// not within timeout.
func (a *App) WaitLog(t testing.TB, s string, timeout time.Duration) {
	t.Helper()
	if !a.proc.log.WaitFor(s, timeout, a.proc.done) {
		t.Fatalf("the app did not log %q within %v:\n%s", s, timeout, tail(a.Logs(), 4000))
	}
}

// Stop stops the app (SIGTERM, then SIGKILL after a few seconds) and waits
// for it to exit.
func (a *App) Stop() { a.proc.stop() }

// reserveApp picks the port and URL of an app that a test starts later, for
// the tests that must register the app at an IdP first.
func reserveApp(t testing.TB) (port int, url string) {
	t.Helper()
	port = freePort(t)
	return port, "http://127.0.0.1:" + strconv.Itoa(port)
}

// startApp builds and starts the app with a clean environment: PATH, HOME
// and env, plus defaults for what env leaves out: HOST=127.0.0.1, PORT (a
// free port), AUTH_URL (http://127.0.0.1:PORT; an AUTH_URL given as "" stays
// empty, for an app that takes its origin from the request) and AUTH_SECRET
// (random). It runs in an empty temp directory, so no .env file of the
// repository is read.
// It waits for GET /healthz to answer 200 and stops the app when the test
// ends; the app's output stays available through Logs.
func startApp(t testing.TB, env map[string]string) *App {
	t.Helper()
	bin := buildApp(t)
	vars := map[string]string{}
	for k, v := range env {
		vars[k] = v
	}
	if vars["HOST"] == "" {
		vars["HOST"] = "127.0.0.1"
	}
	if vars["PORT"] == "" {
		vars["PORT"] = strconv.Itoa(freePort(t))
	}
	port, err := strconv.Atoi(vars["PORT"])
	if err != nil {
		t.Fatalf("PORT %q: %v", vars["PORT"], err)
	}
	url := "http://127.0.0.1:" + vars["PORT"]
	if _, set := vars["AUTH_URL"]; !set {
		vars["AUTH_URL"] = url
	}
	if _, ok := vars["AUTH_SECRET"]; !ok {
		vars["AUTH_SECRET"] = randomSecret()
	}
	cmd := exec.Command(bin)
	cmd.Dir = t.TempDir()
	cmd.Env = cleanEnv(vars)
	p := startProcess(t, "signet", cmd)
	waitHTTP(t, p, url+"/healthz", 200, 30*time.Second)
	return &App{URL: url, Port: port, Env: vars, proc: p}
}
