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
	// RequestLog says which requests get a line in the log: every one
	// (RequestLogAll, the default), those answered with an error status
	// (RequestLogErrors), or none (RequestLogOff).
	RequestLog RequestLog
}

// RequestLog selects the requests the request log has a line for.
type RequestLog string

// The request logs. Whatever is chosen, failures are logged where they
// happen (handler errors, an unavailable store, a panic).
const (
	// RequestLogAll logs every request: method, path, status, size and
	// duration.
	RequestLogAll RequestLog = "all"
	// RequestLogErrors logs the requests answered with a status of 400 or
	// more.
	RequestLogErrors RequestLog = "errors"
	// RequestLogOff logs no request lines.
	RequestLogOff RequestLog = "off"
)

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
// headers, request logging and panic recovery. A known path asked with
// another method gets 405 with an Allow header.
func New(d Deps) http.Handler {
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := d.Auth
	files := static.New()
	if !static.HasHTMX() {
		log.Warn("htmx is missing from static/vendor: pages work without their HTMX updates; run `npm ci && npm run vendor` and rebuild")
	}
	assets := assetURLs(files)
	dev := devUsers(d.DevUsers)
	notFound := handleNotFound(a, log)

	mux := http.NewServeMux()
	for _, rt := range routeTable(d, files, assets, log) {
		mux.Handle(rt.pattern, rt.handler)
	}
	mux.Handle("/", methodNotAllowed(mux, "/", notFound))

	var h http.Handler = mux
	h = a.Middleware(h)
	h = recoverPanics(h, log)
	h = withAppInfo(h, appInfo{basePath: a.BasePath(), devUsers: dev, assets: assets})
	h = limitInput(h)
	h = securityHeaders(h, a.BasePath()+"/frontchannel-logout")
	if d.RequestLog != RequestLogOff {
		h = logRequests(h, log, a.BasePath()+"/error", d.RequestLog == RequestLogErrors)
	}
	return h
}

// appRoute is one row of the route table.
type appRoute struct {
	pattern string
	handler http.Handler
}

// routeTable is the one table of the app's routes; everything else is the
// not-found page (or 405 for a known path).
func routeTable(d Deps, files *static.Assets, assets components.Assets, log *slog.Logger) []appRoute {
	a := d.Auth
	dev := devUsers(d.DevUsers)
	notFound := handleNotFound(a, log)
	rts := []appRoute{
		{"GET /{$}", handleHome(a, assets, dev, log)},
		{"GET " + pathProfile, a.Require(handleProfile(a, assets, log))},
		{"GET " + pathSessionsFragment, a.Require(handleSessionsFragment(a, log))},
		{"GET " + pathSignedOutFragment, handleSignedOutFragment(a, log)},
		{"GET " + pathNavFragment, handleNavFragment(a, log)},
		{"GET " + pathHomeFragment, handleHomeFragment(a, dev, log)},
		{"GET " + pathProfileFragment, a.Require(handleProfileFragment(a, log))},
		{"GET " + pathAccount, a.Require(handleAccount(a, assets, &http.Client{Timeout: userinfoTimeout}, log))},
		{"GET " + pathTokenFragment, a.Require(handleTokenFragment(a, log))},
		{"GET " + pathReports, a.RequireScopes(reportsScope)(handleReports(a, assets, log))},
		{"GET " + pathReportsTable, a.RequireScopes(reportsScope)(handleReportsTable(log))},
		{a.BasePath() + "/", a.Handler()},
		{"GET " + a.SignOutPath(), a.PostLogoutHandler()},
		{"GET " + static.Prefix, files.Handler(notFound)},
	}
	if d.DevIdP != nil {
		rts = append(rts, appRoute{pathDevIdP, d.DevIdP})
	}
	return append(rts, appRoute{"GET " + pathHealth, handleHealth()}, appRoute{"GET /favicon.ico", handleFavicon(files, notFound)})
}

// assetURLs are the content-hashed URLs of the files pages link to.
func assetURLs(files *static.Assets) components.Assets {
	return components.Assets{
		CSS:     files.URL(static.CSS),
		Logo:    files.URL(static.Logo),
		Favicon: files.URL(static.Logo),
		HTMX:    files.URL(static.HTMX),
		SSE:     files.URL(static.SSE),
	}
}

func devUsers(users []DevUser) []components.DevUser {
	out := make([]components.DevUser, 0, len(users))
	for _, u := range users {
		out = append(out, components.DevUser{Username: u.Username, Password: u.Password, Name: u.Name})
	}
	return out
}
