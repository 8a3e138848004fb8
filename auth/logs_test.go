package auth

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/authtest"
)

// TestLogsHoldNoSecrets captures the log of whole journeys, the happy one
// and the failing ones, and checks that no ID token, access token, refresh
// token, code, state, nonce, client secret, CSRF token, logout token or
// cookie value is in it.
func TestLogsHoldNoSecrets(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var logs logBuffer
			e := newEnv(t, withProvider(func(p *Provider) { p.Userinfo = true }), withConfig(func(c *Config) {
				opts := &slog.HandlerOptions{Level: slog.LevelDebug}
				if format == "json" {
					c.Logger = slog.New(slog.NewJSONHandler(&logs, opts))
				} else {
					c.Logger = slog.New(slog.NewTextHandler(&logs, opts))
				}
			}))
			secrets := []string{e.idp.ClientSecret, testSecret}
			var browsers []*browser
			b := e.browser()
			browsers = append(browsers, b)

			// Sign in, use the session, slide it, sign out, sign in again.
			start := b.startSignIn("oidc", "/profile")
			q := start.location(t).Query()
			secrets = append(secrets, q.Get("state"), q.Get("nonce"), q.Get("code_challenge"))
			b.callback(b.toIdP(start))
			b.session()
			b.get("/profile")
			e.clock.Advance(DefaultUpdateAge)
			b.get("/profile", "HX-Request", "true")
			out := b.post("/api/auth/signout", url.Values{"csrfToken": {b.csrf()}})
			secrets = append(secrets, out.location(t).Query().Get("state"))
			b.get(b.get(out.location(t).String()).location(t).String())
			b.signIn()

			// Back- and front-channel logout, accepted and refused.
			login, _ := e.idp.LastLogin()
			for _, lt := range []string{
				e.idp.LogoutToken(login.SID, "", authtest.RS256, nil),
				e.idp.LogoutToken(login.SID, "", authtest.RS256, func(c map[string]any) { c["nonce"] = "n" }),
				e.idp.LogoutToken(login.SID, "", authtest.AlgNone, nil),
			} {
				secrets = append(secrets, lt)
				e.postLogoutToken(t, lt)
			}
			b.session()
			b.signIn()
			login, _ = e.idp.LastLogin()
			e.browser().get("/api/auth/frontchannel-logout?" + url.Values{"iss": {e.idp.Issuer}, "sid": {login.SID}}.Encode())
			b.session()

			// Failures: hostile tokens, replayed codes, bad cookies, CSRF.
			for _, edit := range []func(c map[string]any){
				func(c map[string]any) { c["nonce"] = "wrong" },
				func(c map[string]any) { c["aud"] = "other" },
				func(c map[string]any) { delete(c, "iat") },
			} {
				e.idp.SetClaims(edit)
				f := e.browser()
				browsers = append(browsers, f)
				f.callback(f.toIdP(f.startSignIn("oidc", "")))
			}
			e.idp.SetClaims(nil)
			e.idp.SetSign(authtest.HS256ClientSecret)
			f := e.browser()
			browsers = append(browsers, f)
			f.callback(f.toIdP(f.startSignIn("oidc", "")))
			e.idp.SetSign(authtest.RS256)
			e.idp.SetUserinfo(func(c map[string]any) { c["sub"] = "other" })
			f.callback(f.toIdP(f.startSignIn("oidc", "")))
			e.idp.SetUserinfo(nil)

			replay := e.browser()
			browsers = append(browsers, replay)
			back := replay.toIdP(replay.startSignIn("oidc", ""))
			replay.callback(back)
			replay.callback(back)
			fresh := replay.toIdP(replay.startSignIn("oidc", ""))
			u := fresh.location(t)
			qq := u.Query()
			qq.Set("code", back.location(t).Query().Get("code"))
			u.RawQuery = qq.Encode()
			replay.get(u.String())

			tampered := e.browser()
			browsers = append(browsers, tampered)
			tampered.signIn()
			tampered.setCookie("signet.session-token", flipChar(tampered.cookie("signet.session-token"), 30))
			tampered.session()
			tampered.post("/api/auth/signout", url.Values{"csrfToken": {"wrong"}})
			secrets = append(secrets, tampered.csrf())

			// A refresh, when the access token is due.
			e.clock.Advance(2 * time.Hour)
			b.session()

			for _, l := range e.idp.Logins() {
				secrets = append(secrets, l.Code, l.IDToken, l.AccessToken, l.RefreshToken, l.State, l.Nonce)
			}
			for _, br := range browsers {
				br.mu.Lock()
				secrets = append(secrets, br.seen...)
				br.mu.Unlock()
			}

			text := logs.String()
			for _, want := range []string{"signed in", "signed out", "back-channel logout refused", "auth flow failed", "session cookie rejected"} {
				if !strings.Contains(text, want) {
					t.Errorf("the journey did not log %q; is it complete?", want)
				}
			}
			checked := 0
			for _, s := range secrets {
				if len(s) < 8 {
					continue // too short to be a credential worth checking (e.g. "0")
				}
				checked++
				// A secret may also be logged in part: check its first and
				// middle 16 characters as well.
				probes := []string{s}
				if len(s) >= 32 {
					probes = append(probes, s[:16], s[len(s)/2:len(s)/2+16])
				}
				for _, probe := range probes {
					if strings.Contains(text, probe) {
						t.Errorf("the log holds a secret (%.16s…):\n%s", s, text)
					}
				}
			}
			if checked < 40 {
				t.Errorf("only %d secrets checked; the journey is too short", checked)
			}
			if got := len(e.idp.Logins()); got < 8 {
				t.Errorf("only %d logins", got)
			}
			if b.session() == nil && b.get("/").status != http.StatusOK {
				t.Error("the app is broken after the journey")
			}
		})
	}
}
