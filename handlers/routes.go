// Package handlers is the app's HTTP layer: the one route table (New), the
// page and fragment handlers, the templ pages Signet's auth handler renders
// (AuthPages), and the middleware every response goes through (security
// headers, request logging, panic recovery).
package handlers

import (
	"log/slog"
	"net/http"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/components"
	"github.com/signet-auth/signet/static"
)

// Deps are what the app's handlers need.
type Deps struct {
	// Auth signs users in and out and reads their sessions. Required.
	Auth *auth.Auth
	// Logger receives the request log and handler errors. Nil discards.
	Logger *slog.Logger
	// DevIdP is the embedded development identity provider, nil unless it
	// runs; it is mounted at /dev-idp/ with the prefix kept.
	DevIdP http.Handler
	// DevUsers are the development IdP's demo users, shown on home.
	DevUsers []DevUser
}

// DevUser is a demo user of the development identity provider.
type DevUser struct{ Username, Password, Name string }

// The app's own paths.
const (
	pathHome            = "/"
	pathProfile         = "/profile"
	pathNavFragment     = "/fragments/nav"
	pathHomeFragment    = "/fragments/home"
	pathProfileFragment = "/fragments/profile"
	pathHealth          = "/healthz"
	pathDevIdP          = "/dev-idp/"
)

// New returns the app's whole handler: the routes below behind
// auth.Middleware (which loads the session once per request), security
// headers, request logging and panic recovery.
func New(d Deps) http.Handler {
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := d.Auth
	dev := devUsers(d.DevUsers)
	notFound := handleNotFound(a, log)
	files := static.New()
	if !static.HasHTMX() {
		log.Warn("htmx is missing from static/vendor: pages work without their HTMX updates; run `npm ci && npm run vendor` and rebuild")
	}
	assets := assetURLs(files)

	mux := http.NewServeMux()
	mux.Handle("GET /{$}", handleHome(a, assets, dev, log))
	mux.Handle("GET "+pathProfile, a.Require(handleProfile(a, assets, log)))
	mux.Handle("GET "+pathNavFragment, handleNavFragment(a, log))
	mux.Handle("GET "+pathHomeFragment, handleHomeFragment(a, dev, log))
	mux.Handle("GET "+pathProfileFragment, a.Require(handleProfileFragment(a, log)))
	mux.Handle("GET "+pathAccount, a.Require(handleAccount(a, assets, &http.Client{Timeout: userinfoTimeout}, log)))
	mux.Handle("GET "+pathTokenFragment, a.Require(handleTokenFragment(a, log)))
	mux.Handle("GET "+pathReports, a.RequireScopes(reportsScope)(handleReports(a, assets, log)))
	mux.Handle("GET "+pathReportsTable, a.RequireScopes(reportsScope)(handleReportsTable(log)))
	mux.Handle(a.BasePath()+"/", a.Handler())
	mux.Handle("GET "+a.SignOutPath(), a.PostLogoutHandler())
	mux.Handle("GET "+static.Prefix, files.Handler(notFound))
	if d.DevIdP != nil {
		mux.Handle(pathDevIdP, d.DevIdP)
	}
	mux.Handle("GET "+pathHealth, handleHealth())
	mux.Handle("/", notFound)

	var h http.Handler = mux
	h = a.Middleware(h)
	h = recoverPanics(h, log)
	h = withAppInfo(h, appInfo{basePath: a.BasePath(), devUsers: dev, assets: assets})
	h = securityHeaders(h, a.BasePath()+"/frontchannel-logout")
	h = logRequests(h, log)
	return h
}

// assetURLs are the content-hashed URLs of the files pages link to.
func assetURLs(files *static.Assets) components.Assets {
	return components.Assets{
		CSS:     files.URL(static.CSS),
		Logo:    files.URL(static.Logo),
		Favicon: files.URL(static.Logo),
		HTMX:    files.URL(static.HTMX),
	}
}

func devUsers(users []DevUser) []components.DevUser {
	out := make([]components.DevUser, 0, len(users))
	for _, u := range users {
		out = append(out, components.DevUser{Username: u.Username, Password: u.Password, Name: u.Name})
	}
	return out
}
