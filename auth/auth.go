package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/signet-auth/signet/auth/store"
)

// Auth serves the /api/auth routes and the post-logout page, and reads
// sessions for the app's own pages. Build one with New; it is safe for
// concurrent use.
type Auth struct {
	cfg         Config
	providers   map[string]*Provider
	order       []*Provider
	log         *slog.Logger
	client      *http.Client
	now         func() time.Time
	sessionKeys *keyring
	flowKeys    *keyring
	sessions    sessionStorage
	state       *state
	streams     *streamHub
	tokens      *tokenState
	crossOrigin *http.CrossOriginProtection
	fixedOrigin *url.URL
	basePath    string
	jars        [2]cookieWriter // the cookies' names and attributes on http and on https
}

// Defaults for Config fields left zero.
const (
	DefaultBasePath    = "/api/auth"
	DefaultSignOutPath = "/auth/sign-out"
	DefaultMaxAge      = 30 * 24 * time.Hour
	DefaultUpdateAge   = 24 * time.Hour
	flowMaxAge         = 15 * time.Minute
)

// New checks cfg, fills in defaults and returns a ready Auth. It does not
// contact any identity provider: discovery happens on first use.
func New(cfg Config) (*Auth, error) {
	a := &Auth{cfg: cfg, providers: map[string]*Provider{}}
	if len(cfg.Providers) == 0 {
		return nil, errors.New("auth: no provider configured")
	}
	if len(cfg.Secrets) == 0 {
		return nil, errors.New("auth: no secret configured (AUTH_SECRET)")
	}
	for _, p := range cfg.Providers {
		if p == nil || p.ID == "" {
			return nil, errors.New("auth: a provider has no id")
		}
		if _, dup := a.providers[p.ID]; dup {
			return nil, fmt.Errorf("auth: provider %q configured twice", p.ID)
		}
		if p.Issuer == "" || p.ClientID == "" {
			return nil, fmt.Errorf("auth: provider %q needs an issuer and a client id", p.ID)
		}
		if p.Name == "" {
			p.Name = p.ID
		}
		a.providers[p.ID] = p
		a.order = append(a.order, p)
	}
	a.log = cfg.Logger
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.client = cfg.HTTPClient
	if a.client == nil {
		a.client = defaultHTTPClient()
	}
	a.now = cfg.Now
	if a.now == nil {
		a.now = time.Now
	}
	if cfg.Session.MaxAge <= 0 {
		a.cfg.Session.MaxAge = DefaultMaxAge
	}
	if cfg.Session.UpdateAge <= 0 {
		a.cfg.Session.UpdateAge = DefaultUpdateAge
	}
	if cfg.CookiePrefix == "" {
		a.cfg.CookiePrefix = "signet"
	}
	if cfg.SignOutPath == "" {
		a.cfg.SignOutPath = DefaultSignOutPath
	}
	a.basePath = cfg.BasePath
	if cfg.URL != "" {
		u, err := url.Parse(cfg.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("auth: AUTH_URL %q is not an absolute http(s) URL", cfg.URL)
		}
		a.fixedOrigin = &url.URL{Scheme: u.Scheme, Host: u.Host}
		if a.basePath == "" && u.Path != "" && u.Path != "/" {
			a.basePath = u.Path
		}
	}
	if a.basePath == "" {
		a.basePath = DefaultBasePath
	}
	a.basePath = "/" + strings.Trim(a.basePath, "/")
	for i, secure := range []bool{false, true} {
		a.jars[i] = cookieWriter{names: newCookieNames(a.cfg.CookiePrefix, secure), secure: secure}
	}
	var err error
	if a.sessionKeys, err = newKeyring(cfg.Secrets, "signet session", a.cfg.Session.MaxAge); err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	if a.flowKeys, err = newKeyring(cfg.Secrets, "signet flow", flowMaxAge); err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	switch cfg.Session.Strategy {
	case "", StrategyCookie:
	case StrategyServer:
	default:
		return nil, fmt.Errorf("auth: session strategy %q is neither %q nor %q", cfg.Session.Strategy, StrategyCookie, StrategyServer)
	}
	st := cfg.Store
	if st == nil {
		st = store.NewMemory(a.now)
	}
	a.state = newState(st, a.now, a.cfg.Session.MaxAge, a.log)
	if a.cfg.Streams.MaxPerSession <= 0 {
		a.cfg.Streams.MaxPerSession = DefaultMaxStreamsPerSession
	}
	if a.cfg.Streams.MaxTotal <= 0 {
		a.cfg.Streams.MaxTotal = DefaultMaxStreams
	}
	if a.cfg.Streams.Heartbeat <= 0 {
		a.cfg.Streams.Heartbeat = DefaultStreamHeartbeat
	}
	a.streams = newStreamHub(a)
	a.sessions = sessionStorage{keys: a.sessionKeys, state: a.state, now: a.now,
		server: cfg.Session.Strategy == StrategyServer, overflow: !cfg.Session.Chunked,
		cache: newSessionCache(sessionCacheSize, a.cfg.Session.MaxAge)}
	a.tokens = newTokenState(a.now)
	a.crossOrigin = http.NewCrossOriginProtection()
	return a, nil
}

// BasePath is where the /api/auth routes are served, e.g. "/api/auth".
func (a *Auth) BasePath() string { return a.basePath }

// SignOutPath is the post-logout page's path, e.g. "/auth/sign-out".
func (a *Auth) SignOutPath() string { return a.cfg.SignOutPath }

// Providers describes the configured providers, in configuration order.
func (a *Auth) Providers(r *http.Request) []ProviderInfo {
	origin := a.origin(r)
	out := make([]ProviderInfo, 0, len(a.order))
	for _, p := range a.order {
		out = append(out, ProviderInfo{
			ID:          p.ID,
			Name:        p.Name,
			Type:        "oidc",
			SignInURL:   origin + a.basePath + "/signin/" + p.ID,
			CallbackURL: origin + a.basePath + "/callback/" + p.ID,
		})
	}
	return out
}

// SignInURL is the default sign-in page's URL, returning to callbackURL
// (a path, which ReturnPath bounds, or a URL of the app's origin of at
// most MaxReturnPathBytes; a longer one is left out).
func (a *Auth) SignInURL(callbackURL string) string {
	u := a.basePath + "/signin"
	if strings.HasPrefix(callbackURL, "/") {
		callbackURL = ReturnPath(callbackURL)
	} else if len(callbackURL) > MaxReturnPathBytes {
		callbackURL = ""
	}
	if callbackURL != "" {
		u += "?callbackUrl=" + url.QueryEscape(callbackURL)
	}
	return u
}

// origin is the app's public origin for r: AUTH_URL's when set, else the
// request's (X-Forwarded-Proto/-Host only when TrustHost).
func (a *Auth) origin(r *http.Request) string {
	u := a.originURL(r)
	return u.Scheme + "://" + u.Host
}

func (a *Auth) originURL(r *http.Request) *url.URL {
	if a.fixedOrigin != nil {
		return a.fixedOrigin
	}
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if a.cfg.TrustHost {
		if p := firstHeaderValue(r, "X-Forwarded-Proto"); p == "http" || p == "https" {
			scheme = p
		}
		if h := firstHeaderValue(r, "X-Forwarded-Host"); h != "" && validHost(h) {
			host = h
		}
	}
	if !validHost(host) {
		host = "localhost"
	}
	return &url.URL{Scheme: scheme, Host: host}
}

func firstHeaderValue(r *http.Request, name string) string {
	v, _, _ := strings.Cut(r.Header.Get(name), ",")
	return strings.TrimSpace(v)
}

// validHost accepts host[:port] made of the characters a host name, an IPv4
// or a bracketed IPv6 address may contain.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, c := range h {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_':
		default:
			return false
		}
	}
	return true
}

// secure reports whether r's origin is https, which selects Secure cookies
// with the __Secure-/__Host- prefixes.
func (a *Auth) secure(r *http.Request) bool {
	return a.originURL(r).Scheme == "https"
}

func (a *Auth) cookiesFor(r *http.Request) cookieWriter {
	if a.secure(r) {
		return a.jars[1]
	}
	return a.jars[0]
}

// randomString returns n random bytes, base64url-encoded.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// redirectTarget validates where a flow asked to land, with the Redirect
// callback (default: same origin only). A target, or a callback's answer,
// longer than MaxReturnPathBytes past the origin lands on "/".
func (a *Auth) redirectTarget(ctx context.Context, r *http.Request, target string) string {
	base := a.origin(r)
	if target == "" {
		return base + "/"
	}
	if len(target) > MaxReturnPathBytes+len(base) {
		return base + "/"
	}
	if a.cfg.Callbacks.Redirect != nil {
		u, err := a.cfg.Callbacks.Redirect(ctx, RedirectParams{URL: target, BaseURL: base})
		if err != nil {
			a.log.WarnContext(ctx, "redirect callback failed", "err", err)
			return base + "/"
		}
		if len(u) > MaxReturnPathBytes+len(base) {
			a.log.WarnContext(ctx, "redirect callback returned a URL longer than the bound", "bytes", len(u))
			return base + "/"
		}
		return u
	}
	return DefaultRedirect(RedirectParams{URL: target, BaseURL: base})
}
