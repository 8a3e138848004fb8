package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// opDir is oidc-provider's folder: the server the browser tests use.
const opDir = "e2e/oidc-provider"

// opConfig is the settings document of e2e/oidc-provider/server.mjs for
// one client, the app at appURL as provider "oidc", and the demo users.
// The ID token carries the profile and email claims, as most IdPs' do.
func opConfig(appURL, secret string) ([]byte, error) {
	type account struct {
		ID         string `json:"id"`
		Password   string `json:"password"`
		Email      string `json:"email"`
		GivenName  string `json:"given_name"`
		FamilyName string `json:"family_name"`
		Name       string `json:"name"`
		Username   string `json:"username"`
	}
	var accounts []account
	for _, u := range demoUsers {
		given, family, _ := strings.Cut(u.name, " ")
		accounts = append(accounts, account{
			ID: u.username, Password: u.password, Email: u.username + "@example.com",
			GivenName: given, FamilyName: family, Name: u.name, Username: u.username + "@example.com",
		})
	}
	return json.Marshal(map[string]any{
		"clients": []map[string]any{{
			"client_id":                  "signet-oidc",
			"client_secret":              secret,
			"redirect_uris":              []string{appURL + "/api/auth/callback/oidc"},
			"post_logout_redirect_uris":  []string{appURL + "/auth/sign-out"},
			"backchannel_logout_uri":     appURL + "/api/auth/backchannel-logout",
			"frontchannel_logout_uri":    appURL + "/api/auth/frontchannel-logout",
			"token_endpoint_auth_method": "client_secret_basic",
		}},
		"accounts": accounts,
	})
}

// startOPApp installs and starts oidc-provider, then the app with it as
// provider "oidc" (AUTH_OIDC_ISSUER, _ID, _SECRET), which replaces the
// embedded IdP.
func startOPApp(ctx context.Context, bins binaries, tmp string) (*app, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return nil, fmt.Errorf("node is not installed: oidc-provider needs Node.js 20 or later")
	}
	if _, err := os.Stat(filepath.Join(opDir, "node_modules", "oidc-provider")); err != nil {
		step("npm ci in %s", opDir)
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = opDir
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("npm ci in %s: %w", opDir, err)
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	appURL := fmt.Sprintf("http://127.0.0.1:%d", port)
	secret := newSecret()
	doc, err := opConfig(appURL, secret)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("node", "server.mjs")
	cmd.Dir = opDir
	cmd.Env = append(os.Environ(), "OP_CONFIG="+string(doc), "NODE_ENV=test")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start oidc-provider: %w", err)
	}
	op := &proc{cmd: cmd, done: make(chan struct{})}
	issuer := make(chan string, 1)
	go func() {
		// Read every line, so that the OP never blocks on a full pipe.
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "ready "); ok {
				select {
				case issuer <- strings.TrimSpace(rest):
				default:
				}
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(op.done) }()
	var iss string
	select {
	case iss = <-issuer:
	case <-op.done:
		return nil, fmt.Errorf("oidc-provider exited while starting")
	case <-time.After(30 * time.Second):
		op.stop()
		return nil, fmt.Errorf("oidc-provider did not get ready within 30 s")
	}
	dir, err := os.MkdirTemp(tmp, "op-app-")
	if err != nil {
		op.stop()
		return nil, err
	}
	p, err := startApp(bins.app, dir, filepath.Join(tmp, "op.log"), port,
		"AUTH_OIDC_ISSUER="+iss, "AUTH_OIDC_ID=signet-oidc", "AUTH_OIDC_SECRET="+secret)
	if err != nil {
		op.stop()
		return nil, err
	}
	p.companion = op
	if _, err := p.waitFor("/", time.Now(), 10*time.Second); err != nil {
		p.stop()
		return nil, err
	}
	return &app{proc: p, provider: "oidc", users: demoUsers}, nil
}
