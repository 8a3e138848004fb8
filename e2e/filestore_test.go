package e2e

// The default store of a single instance, a file in the data folder
// (SIGNET_DATA_DIR): a restart of the binary keeps the live sessions and
// keeps the ones the IdP ended refused, with either session strategy; a
// damaged or unreadable store file stops the start with a message naming
// the file and AUTH_STORE, never a silent reset; a file another running
// instance holds stops the start within seconds.

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// storeFile is the default store's file in a data folder.
func storeFile(dataDir string) string { return filepath.Join(dataDir, "signet.db") }

// startFails runs the app with env (plus HOST and a free PORT) and expects
// it to exit with a non-zero status within timeout. It returns the output
// and how long the app ran.
func startFails(t *testing.T, env map[string]string, timeout time.Duration) (string, time.Duration) {
	t.Helper()
	vars := map[string]string{"HOST": "127.0.0.1", "PORT": strconv.Itoa(freePort(t))}
	for k, v := range env {
		vars[k] = v
	}
	cmd := exec.Command(buildApp(t))
	cmd.Dir = t.TempDir()
	cmd.Env = cleanEnv(vars)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	dieWithTest(cmd)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		took := time.Since(start)
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() == 0 {
			t.Fatalf("the app exited with %v, want a non-zero status:\n%s", err, out.String())
		}
		return out.String(), took
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("the app still ran after %v, want it to stop:\n%s", timeout, out.String())
	}
	return "", 0
}

// TestFileStoreRestart: sign in from two browsers (two sessions of the
// same user at the IdP), end the second at the IdP (its back-channel
// logout names that IdP session's sid), restart the binary with the same
// data folder and AUTH_SECRET: the first browser is still signed in, the
// second session is still refused.
func TestFileStoreRestart(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	type slot struct {
		strategy string
		port     int
		url      string
		client   OPClient
	}
	var slots []*slot
	var clients []OPClient
	for _, strategy := range []string{"cookie", "server"} {
		s := &slot{strategy: strategy}
		s.port, s.url = reserveApp(t)
		s.client = appClient(s.url, "oidc")
		s.client.ClientID = "signet-" + strategy
		// Back-channel only: a front-channel iframe would clear the
		// browser's cookie itself.
		s.client.FrontchannelLogoutURI = ""
		slots = append(slots, s)
		clients = append(clients, s.client)
	}
	op := startOP(t, OPConfig{Clients: clients})
	endSession, _ := op.Discovery(t)["end_session_endpoint"].(string)

	for _, sl := range slots {
		t.Run(sl.strategy, func(t *testing.T) {
			t.Parallel()
			data := t.TempDir()
			env := map[string]string{
				"PORT":                  strconv.Itoa(sl.port),
				"AUTH_URL":              sl.url,
				"AUTH_SECRET":           randomSecret(),
				"SIGNET_DATA_DIR":       data, // AUTH_STORE unset: the default file store
				"AUTH_SESSION_STRATEGY": sl.strategy,
				"AUTH_OIDC_ISSUER":      op.Issuer,
				"AUTH_OIDC_ID":          sl.client.ClientID,
				"AUTH_OIDC_SECRET":      sl.client.ClientSecret,
			}
			app := startApp(t, env)
			e := &journeyEnv{
				app: app, op: op, providerSel: `button[data-provider="oidc"]`,
				loginSel: opLoginSel, passwordSel: opPasswordSel, submitSel: opSubmitSel,
				username: "ada", password: "lovelace", idpPrefix: op.Issuer + "/",
			}
			live, ended := newBrowser(t), newBrowser(t)
			e.signInFromHome(t, live, "")
			e.signInFromHome(t, ended, "")
			liveCookie, endedCookie := sessionCookie(t, live, app.URL), sessionCookie(t, ended, app.URL)

			// The second browser signs out at the IdP: the back-channel
			// logout ends its session only.
			navigate(t, ended, endSession)
			waitVisible(t, ended, "#op-logout-success")
			app.WaitLog(t, `msg="back-channel logout"`, 10*time.Second)
			if r := readSession(t, app.URL, endedCookie); r.Status != http.StatusOK || r.Session != nil {
				t.Fatalf("the ended session before the restart: %s, want null", r)
			}
			if r := readSession(t, app.URL, liveCookie); r.Email() != defaultWantedEmail {
				t.Fatalf("the live session before the restart: %s, want Ada's", r)
			}

			app.Stop()
			if _, err := os.Stat(storeFile(data)); err != nil {
				t.Fatalf("no store file in the data folder: %v", err)
			}
			app = startApp(t, env)
			if !strings.Contains(app.Logs(), storeFile(data)) {
				t.Errorf("the app does not say which store file it uses:\n%s", tail(app.Logs(), 2000))
			}

			if r := readSession(t, app.URL, liveCookie); r.Email() != defaultWantedEmail {
				t.Errorf("the live session after the restart: %s, want Ada's", r)
			}
			if r := readSession(t, app.URL, endedCookie); r.Status != http.StatusOK || r.Session != nil {
				t.Errorf("the ended session after the restart: %s, want null", r)
			}
			navigate(t, live, app.URL+"/")
			waitVisible(t, live, selWelcome)
			navigate(t, ended, app.URL+"/")
			waitVisible(t, ended, selSignIn)
		})
	}
}

// TestFileStoreRefusesBadFile: a damaged, truncated or unreadable store
// file, and one that a running instance holds, stop the start with a
// message that names the file and AUTH_STORE.
func TestFileStoreRefusesBadFile(t *testing.T) {
	t.Parallel()
	// A real store file, written by the app and left by it.
	made := t.TempDir()
	app := startApp(t, map[string]string{"SIGNET_DATA_DIR": made})
	app.Stop()
	good, err := os.ReadFile(storeFile(made))
	if err != nil {
		t.Fatalf("the app left no store file: %v", err)
	}
	if len(good) < 4*os.Getpagesize() {
		t.Fatalf("the store file is %d bytes, want at least its first pages", len(good))
	}

	for _, tc := range []struct {
		name   string
		damage func(path string) error
		want   string
	}{
		{"damaged", func(path string) error {
			b := bytes.Clone(good)
			for i := range 2 * os.Getpagesize() { // both meta pages
				b[i] = byte(i*7 + 3)
			}
			return os.WriteFile(path, b, 0o600)
		}, "damaged"},
		{"truncated", func(path string) error {
			return os.WriteFile(path, good[:len(good)/2], 0o600)
		}, "truncated"},
		{"not a store", func(path string) error {
			return os.WriteFile(path, bytes.Repeat([]byte("not a database\n"), 1000), 0o600)
		}, "damaged"},
		{"unreadable", func(path string) error {
			if err := os.WriteFile(path, good, 0o600); err != nil {
				return err
			}
			return os.Chmod(path, 0)
		}, "permissions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := t.TempDir()
			if err := tc.damage(storeFile(data)); err != nil {
				t.Fatal(err)
			}
			out, _ := startFails(t, map[string]string{"SIGNET_DATA_DIR": data}, 15*time.Second)
			for _, want := range []string{"AUTH_STORE", storeFile(data), tc.want} {
				if !strings.Contains(out, want) {
					t.Errorf("the start's message lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, "listening") {
				t.Errorf("the app listened before it refused the store:\n%s", out)
			}
			t.Logf("%s", strings.TrimSpace(out))
		})
	}

	t.Run("held by a running instance", func(t *testing.T) {
		t.Parallel()
		data := t.TempDir()
		startApp(t, map[string]string{"SIGNET_DATA_DIR": data})
		out, took := startFails(t, map[string]string{"SIGNET_DATA_DIR": data}, 15*time.Second)
		for _, want := range []string{"AUTH_STORE", storeFile(data), "in use"} {
			if !strings.Contains(out, want) {
				t.Errorf("the start's message lacks %q:\n%s", want, out)
			}
		}
		t.Logf("a second instance on the same file stopped after %v: %s", took.Round(time.Millisecond), strings.TrimSpace(out))
		if took > 10*time.Second {
			t.Errorf("the second instance took %v to give up, want a few seconds", took)
		}
	})
}
