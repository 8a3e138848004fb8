// Command htmx is an app built from Signet's templ components and htmx
// fragments on github.com/signet-auth/signet/auth: the layout and account
// nav, the reusable SignInButton, SignOutButton and SessionSwap, the
// profile page, a fragment that needs the read:reports scope, and live
// sign-out over the session stream. With no identity provider configured
// it starts the development IdP in-process.
//
//	go run ./examples/htmx       # http://localhost:3000, dev IdP (ada / lovelace has read:reports)
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/a-h/templ"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/components"
	"github.com/signet-auth/signet/devidp"
	"github.com/signet-auth/signet/static"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(ctx, os.Getenv, log, nil); err != nil {
		log.Error("htmx", "err", err)
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
		host, _, _ := net.SplitHostPort(addr)
		publicURL = fmt.Sprintf("http://%s:%d", host, ln.Addr().(*net.TCPAddr).Port)
	}
	a, handler, err := newApp(publicURL, getenv, log)
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{Handler: handler}
	srv.RegisterOnShutdown(a.Shutdown) // ends the open session streams
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

// panelData is what the home panel shows.
type panelData struct {
	SignedIn bool
	Name     string
	SignIn   components.SignInAction
	SignOut  components.SignOutAction
}

// app holds what the handlers need.
type app struct {
	auth   *auth.Auth
	assets components.Assets
}

// newApp wires auth, the static files (the stylesheet and htmx, embedded)
// and the pages and fragments.
func newApp(publicURL string, getenv func(string) string, log *slog.Logger) (*auth.Auth, http.Handler, error) {
	mux := http.NewServeMux()
	providers, err := auth.ProvidersFromEnv(getenv)
	if err != nil {
		return nil, nil, err
	}
	secret := getenv("AUTH_SECRET")
	if len(providers) == 0 {
		dev, err := startDevIdP(mux, publicURL, log)
		if err != nil {
			return nil, nil, err
		}
		providers = []*auth.Provider{dev}
		if secret == "" {
			secret = randomSecret()
		}
	}
	a, err := auth.New(auth.Config{
		Providers: providers,
		Secrets:   auth.ParseSecrets(secret),
		URL:       publicURL,
		Logger:    log,
	})
	if err != nil {
		return nil, nil, err
	}
	files := static.New()
	ap := &app{auth: a, assets: components.Assets{
		CSS:     files.URL(static.CSS),
		Logo:    files.URL(static.Logo),
		Favicon: files.URL(static.Logo),
	}}
	if static.HasHTMX() {
		ap.assets.HTMX, ap.assets.SSE = files.URL(static.HTMX), files.URL(static.SSE)
	}

	mux.Handle(a.BasePath()+"/", a.Handler())
	mux.Handle("GET "+a.SignOutPath(), a.PostLogoutHandler())
	mux.Handle("GET "+static.Prefix, files.Handler(http.NotFoundHandler()))

	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		p := ap.panel(w, r)
		render(w, r, homePage(ap.shell(w, r, "Home"), p))
	})
	mux.HandleFunc("GET /fragments/panel", func(w http.ResponseWriter, r *http.Request) {
		render(w, r, panel(ap.panel(w, r)))
	})
	mux.HandleFunc("GET /fragments/nav", func(w http.ResponseWriter, r *http.Request) {
		render(w, r, components.Nav(ap.nav(w, r)))
	})

	// A protected page: the app's own profile page.
	mux.Handle("GET /profile", a.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := auth.SessionFromContext(r.Context()).User
		render(w, r, components.Profile(components.ProfileData{
			Shell: ap.shell(w, r, "Profile"),
			Card: components.ProfileCardData{
				Name: u.DisplayName(), Email: u.Email, Username: u.Username,
				GivenName: u.GivenName, FamilyName: u.FamilyName,
				HomeURL: "/", SignOut: ap.signOut(w, r),
			},
		}))
	})))

	// A fragment that needs a scope: signed out, htmx gets HX-Redirect to
	// the sign-in page; signed in without read:reports, a 403 fragment
	// naming the permission (the layout's htmx config swaps 403s in).
	mux.Handle("GET /fragments/reports", a.RequireScopes("read:reports")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		render(w, r, reports())
	})))

	return a, a.Middleware(mux), nil
}

// shell is what every page shares; a signed-in page listens to the
// session stream, so it shows a sign-out made anywhere at once.
func (ap *app) shell(w http.ResponseWriter, r *http.Request, title string) components.Shell {
	s := components.Shell{Title: title, Assets: ap.assets, Nav: ap.nav(w, r)}
	if s.Nav.SignedIn {
		s.SessionStream = ap.auth.BasePath() + "/session/stream"
	}
	return s
}

func (ap *app) nav(w http.ResponseWriter, r *http.Request) components.NavData {
	s := auth.SessionFromContext(r.Context())
	n := components.NavData{SignedIn: s != nil, ProfileURL: "/profile", FragmentURL: "/fragments/nav"}
	if s != nil {
		n.Name, n.SignOut = s.User.DisplayName(), ap.signOut(w, r)
	} else {
		n.SignIn = ap.signIn(w, r)
	}
	return n
}

func (ap *app) panel(w http.ResponseWriter, r *http.Request) panelData {
	s := auth.SessionFromContext(r.Context())
	if s == nil {
		return panelData{SignIn: ap.signIn(w, r)}
	}
	return panelData{SignedIn: true, Name: s.User.DisplayName(), SignOut: ap.signOut(w, r)}
}

// signIn posts straight to the provider when there is one, else links to
// the sign-in page that lists them.
func (ap *app) signIn(w http.ResponseWriter, r *http.Request) components.SignInAction {
	providers := ap.auth.Providers(r)
	if len(providers) != 1 {
		return components.SignInAction{PageURL: ap.auth.SignInURL("/")}
	}
	return components.SignInAction{
		Action:       providers[0].SignInURL,
		CSRFToken:    ap.auth.CSRFToken(w, r),
		CallbackURL:  "/",
		ProviderName: providers[0].Name,
	}
}

func (ap *app) signOut(w http.ResponseWriter, r *http.Request) components.SignOutAction {
	return components.SignOutAction{Action: ap.auth.BasePath() + "/signout", CSRFToken: ap.auth.CSRFToken(w, r)}
}

// render writes c, buffered so an error never sends half a page; a page
// and its fragment share a URL's cache entry only per HX-Request.
func render(w http.ResponseWriter, r *http.Request, c templ.Component) {
	w.Header().Add("Vary", "HX-Request")
	templ.Handler(c).ServeHTTP(w, r)
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
			ID:                     "htmx-dev",
			Name:                   "htmx example",
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
	p := auth.NewProvider("dev", "Development IdP", issuer, "htmx-dev", secret)
	p.Scopes = []string{"openid", "profile", "email", "read:reports"} // ada is granted read:reports
	log.Info("development IdP", "issuer", issuer, "users", "ada/lovelace (read:reports), alan/turing, grace/hopper")
	return p, nil
}

func randomSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
