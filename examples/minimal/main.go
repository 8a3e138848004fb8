// Command minimal is the smallest app that signs users in and out with
// github.com/signet-auth/signet/auth: one file, plain net/http and
// html/template. It shows the sign-in and sign-out forms with their CSRF
// token, a protected page, a page that needs a scope, and, when no identity
// provider is configured, the development IdP started in-process.
//
//	go run ./examples/minimal                   # http://localhost:3000, dev IdP (ada / lovelace)
//	AUTH_OIDC_ISSUER=https://idp.example.com AUTH_OIDC_ID=… AUTH_OIDC_SECRET=… \
//	AUTH_SECRET=… AUTH_URL=https://app.example.com go run ./examples/minimal
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/devidp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(ctx, os.Getenv, log, nil); err != nil {
		log.Error("minimal", "err", err)
		os.Exit(1)
	}
}

// run serves the app on ADDR (default localhost:3000) until ctx ends. When
// ready is not nil it receives the app's URL once the listener is open.
func run(ctx context.Context, getenv func(string) string, log *slog.Logger, ready chan<- string) error {
	addr := getenv("ADDR")
	if addr == "" {
		addr = "localhost:3000"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	publicURL := getenv("AUTH_URL")
	if publicURL == "" {
		// The host as ADDR names it (localhost stays localhost, so the
		// browser keeps one origin), the port as the listener got it.
		host, _, _ := net.SplitHostPort(addr)
		publicURL = fmt.Sprintf("http://%s:%d", host, ln.Addr().(*net.TCPAddr).Port)
	}
	handler, err := newApp(publicURL, getenv, log)
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{Handler: handler}
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
	log.Info("listening", "url", publicURL)
	if ready != nil {
		ready <- publicURL
	}
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newApp wires auth and the app's three pages.
func newApp(publicURL string, getenv func(string) string, log *slog.Logger) (http.Handler, error) {
	mux := http.NewServeMux()

	// Providers come from AUTH_OIDC_ISSUER, AUTH_OIDC_ID, AUTH_OIDC_SECRET
	// (or a preset's AUTH_KEYCLOAK_…, …). With none, development: start the
	// development IdP in this process, under /dev-idp.
	providers, err := auth.ProvidersFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	secret := getenv("AUTH_SECRET")
	if len(providers) == 0 {
		dev, err := startDevIdP(mux, publicURL, log)
		if err != nil {
			return nil, err
		}
		providers = []*auth.Provider{dev}
		if secret == "" {
			secret = randomSecret() // sessions end when the process does
		}
	}

	a, err := auth.New(auth.Config{
		Providers: providers,
		Secrets:   auth.ParseSecrets(secret),
		URL:       publicURL,
		Logger:    log,
	})
	if err != nil {
		return nil, err
	}
	mux.Handle(a.BasePath()+"/", a.Handler())                 // /api/auth/*: sign-in, callback, sign-out, …
	mux.Handle("GET "+a.SignOutPath(), a.PostLogoutHandler()) // where the IdP sends the browser after sign-out

	// The home page: a sign-in form per provider, or who is signed in and
	// a sign-out form. Both POST the CSRF token.
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		render(w, homePage, map[string]any{
			"Session":   auth.SessionFromContext(r.Context()), // nil when signed out
			"CSRFToken": a.CSRFToken(w, r),                    // before the body is written
			"Providers": a.Providers(r),
			"BasePath":  a.BasePath(),
		})
	})

	// A protected page: Require sends a signed-out browser to sign in and
	// back here.
	mux.Handle("GET /profile", a.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		render(w, profilePage, auth.SessionFromContext(r.Context()))
	})))

	// A page that needs a scope: RequireScopes answers 403, naming the
	// missing permission, to a user whose access token lacks it.
	mux.Handle("GET /reports", a.RequireScopes("read:reports")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		render(w, reportsPage, auth.SessionFromContext(r.Context()))
	})))

	// Middleware reads the session once per request into its context.
	return a.Middleware(mux), nil
}

// startDevIdP mounts the development IdP at publicURL/dev-idp with this app
// as its client and returns it as a provider. For development only: its
// users and passwords are public.
func startDevIdP(mux *http.ServeMux, publicURL string, log *slog.Logger) (*auth.Provider, error) {
	issuer := publicURL + "/dev-idp"
	secret := randomSecret()
	idp, err := devidp.New(devidp.Config{
		Issuer: issuer,
		Clients: []devidp.Client{{
			ID:                     "minimal-dev",
			Name:                   "Minimal example",
			Secret:                 secret,
			RedirectURIs:           []string{publicURL + "/api/auth/callback/dev"},
			PostLogoutRedirectURIs: []string{publicURL + auth.DefaultSignOutPath},
			BackchannelLogoutURI:   publicURL + "/api/auth/backchannel-logout",
		}},
		Logger: log.With("component", "devidp"),
	})
	if err != nil {
		return nil, fmt.Errorf("dev idp: %w", err)
	}
	mux.Handle("/dev-idp/", idp) // it serves the paths under its issuer URL
	p := auth.NewProvider("dev", "Development IdP", issuer, "minimal-dev", secret)
	p.Scopes = []string{"openid", "profile", "email", "read:reports"} // ada is granted read:reports
	log.Info("development IdP", "issuer", issuer, "users", "ada/lovelace (read:reports), alan/turing, grace/hopper")
	return p, nil
}

func randomSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// render executes t into a buffer first, so an error never sends half a page.
func render(w http.ResponseWriter, t *template.Template, data any) {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

const layout = `{{define "top"}}<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Minimal</title></head><body>{{end}}
{{define "bottom"}}</body></html>{{end}}`

var (
	homePage = template.Must(template.New("home").Parse(layout + `{{template "top"}}
{{with .Session}}
  <p id="welcome">Signed in as {{.User.DisplayName}}.</p>
  <p><a href="/profile">Profile</a> · <a href="/reports">Reports</a></p>
  <form method="post" action="{{$.BasePath}}/signout">
    <input type="hidden" name="csrfToken" value="{{$.CSRFToken}}">
    <button type="submit">Sign out</button>
  </form>
{{else}}
  <p>You are signed out.</p>
  {{range .Providers}}
  <form method="post" action="{{.SignInURL}}">
    <input type="hidden" name="csrfToken" value="{{$.CSRFToken}}">
    <input type="hidden" name="callbackUrl" value="/">
    <button type="submit">Sign in with {{.Name}}</button>
  </form>
  {{end}}
{{end}}
{{template "bottom"}}`))

	profilePage = template.Must(template.New("profile").Parse(layout + `{{template "top"}}
<h1>Profile</h1>
<p id="profile-email">{{.User.Email}}</p>
<p><a href="/">Home</a></p>
{{template "bottom"}}`))

	reportsPage = template.Must(template.New("reports").Parse(layout + `{{template "top"}}
<h1 id="reports">Reports</h1>
<p>Only users granted read:reports see this.</p>
{{template "bottom"}}`))
)
