package devidp

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Config configures a Server.
//
// Now drives what the IdP itself times: sign-in requests, codes, SSO
// sessions, access and refresh tokens, and the iat and exp of logout
// tokens. The iat and exp of ID tokens come from op, which reads the
// system clock.
type Config struct {
	Issuer  string           // absolute URL including a path, e.g. "http://localhost:3000/dev-idp"
	Clients []Client         // the relying parties allowed to sign users in
	Users   []User           // nil means DefaultUsers()
	Logger  *slog.Logger     // nil means discard
	Now     func() time.Time // nil means time.Now (for tests)

	// HTTPClient sends back-channel logout requests. Nil means a client
	// with a 2-second timeout that does not follow redirects.
	HTTPClient *http.Client
}

// backchannelTimeout bounds each back-channel logout request.
const backchannelTimeout = 2 * time.Second

// Server is the development OpenID Provider. It is an http.Handler for
// every path under the issuer's path, and is safe for concurrent use.
type Server struct {
	issuer   string // as configured, without a trailing slash
	basePath string // the issuer's path without a trailing slash, e.g. "/dev-idp"; "" at the root
	secure   bool   // https issuer: Secure cookies
	log      *slog.Logger
	now      func() time.Time
	users    *directory
	clients  map[string]*client
	store    *store
	provider *op.Provider
	pages    *pages
	http     *http.Client
}

// Paths under the issuer's path. The OAuth endpoints are op's defaults.
const (
	pathDiscovery   = "/.well-known/openid-configuration"
	pathAuthorize   = "/authorize"
	pathCallback    = "/authorize/callback" // op: the login form sends the browser back here
	pathLogin       = "/login"
	pathToken       = "/oauth/token"
	pathUserinfo    = "/userinfo"
	pathEndSession  = "/end_session"
	pathKeys        = "/keys"
	pathIntrospect  = "/oauth/introspect"
	pathRevoke      = "/revoke"
	pathHealthz     = "/healthz"
	pathReady       = "/ready"
	pathDeviceAuthz = "/device_authorization"
)

// New checks cfg and returns a Server ready to serve. It returns in about
// a millisecond: the RSA signing key is made in the background, from the
// Server's first request or shortly after New, and whatever needs it
// first (the JWKS, a token) waits for it.
//
// Refresh tokens are issued when the scope includes offline_access (and
// on every refresh, which rotates them). Access tokens are opaque.
func New(cfg Config) (*Server, error) {
	return newServer(cfg, nil)
}

// newServer is New with, for tests, a signing key given; nil makes one.
func newServer(cfg Config, keys *keyPair) (*Server, error) {
	issuer, basePath, secure, err := parseIssuer(cfg.Issuer)
	if err != nil {
		return nil, err
	}
	users := cfg.Users
	if users == nil {
		users = DefaultUsers()
	}
	dir, err := newDirectory(users)
	if err != nil {
		return nil, fmt.Errorf("devidp: Users: %w", err)
	}
	clients := make(map[string]*client, len(cfg.Clients))
	for _, c := range cfg.Clients {
		if err := checkClient(c); err != nil {
			return nil, fmt.Errorf("devidp: Clients: %w", err)
		}
		if _, dup := clients[c.ID]; dup {
			return nil, fmt.Errorf("devidp: Clients: duplicate ID %q", c.ID)
		}
		clients[c.ID] = &client{Client: c, loginPath: basePath + pathLogin, extras: dir.extras}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{
			Timeout: backchannelTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	pg, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &Server{
		issuer:   issuer,
		basePath: basePath,
		secure:   secure,
		log:      log,
		now:      now,
		users:    dir,
		clients:  clients,
		pages:    pg,
		http:     hc,
	}
	if keys == nil {
		keys = newKeyPair()
		time.AfterFunc(keyGenDelay, keys.start)
	}
	s.store = newStore(now, log, dir, clients, keys)
	s.store.onEnd = s.backchannelLogout

	opConfig := &op.Config{
		CodeMethodS256:                    true,
		AuthMethodPost:                    true,
		GrantTypeRefreshToken:             true,
		BackChannelLogoutSupported:        true,
		BackChannelLogoutSessionSupported: true,
		SupportedScopes:                   append([]string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess}, dir.extras...),
		SupportedClaims: append(append([]string{}, op.DefaultSupportedClaims...),
			"email_verified", "sid", "username"),
	}
	// The key that makes opaque access tokens and authorization codes.
	if _, err := rand.Read(opConfig.CryptoKey[:]); err != nil {
		return nil, fmt.Errorf("devidp: crypto key: %w", err)
	}
	// op v3.49.2 logs through slog's default logger: its WithLogger option
	// is kept for compatibility and has no effect, so it is not passed.
	// Only op's own error paths log; everything this package logs goes to
	// cfg.Logger.
	var opts []op.Option
	if !secure {
		opts = append(opts, op.WithAllowInsecure())
	}
	s.provider, err = op.NewProvider(opConfig, s.store, op.StaticIssuer(issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("devidp: %w", err)
	}
	return s, nil
}

// parseIssuer checks that raw is an absolute http(s) URL without query or
// fragment and splits out its path.
func parseIssuer(raw string) (issuer, basePath string, secure bool, err error) {
	if raw == "" {
		return "", "", false, errors.New("devidp: Issuer is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", false, fmt.Errorf("devidp: Issuer: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", false, fmt.Errorf("devidp: Issuer %q is not an absolute http or https URL", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", "", false, fmt.Errorf("devidp: Issuer %q must not have a query, fragment or user", raw)
	}
	basePath = strings.TrimSuffix(u.Path, "/")
	return strings.TrimSuffix(raw, "/"), basePath, u.Scheme == "https", nil
}

// Issuer returns the issuer identifier, as discovery and tokens carry it.
func (s *Server) Issuer() string { return s.issuer }

// ServeHTTP serves every path under the issuer's path; mount it on the
// issuer's path with a trailing slash (e.g. "/dev-idp/") without
// stripping the prefix.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.store.keys.start() // a sign-in is coming: have the key ready for it
	rel, ok := strings.CutPrefix(r.URL.Path, s.basePath)
	if !ok || (rel != "" && rel[0] != '/') {
		s.renderProblem(w, r, problemNotFound)
		return
	}
	switch rel {
	case "", "/":
		s.handleHome(w, r)
		return
	case pathLogin:
		s.handleLogin(w, r)
		return
	case pathEndSession:
		s.handleEndSession(w, r)
		return
	case pathCallback:
		// op would answer an unknown id with a bare protocol error.
		if _, ok := s.store.authRequest(r.URL.Query().Get("id")); !ok {
			s.renderProblem(w, r, problemUnknownRequest)
			return
		}
	}
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.Path, u.RawPath = rel, ""
	r2.URL = &u
	switch rel {
	case pathDiscovery, pathToken, pathUserinfo, pathKeys, pathIntrospect, pathRevoke, pathHealthz, pathReady, pathDeviceAuthz:
		// Machine endpoints: op's JSON answers, errors included.
		s.provider.ServeHTTP(w, r2)
	default:
		// Browser endpoints (authorize, its callback, anything unknown):
		// op's plain-text errors become pages.
		c := &errorCatcher{ResponseWriter: w}
		s.provider.ServeHTTP(c, r2)
		if c.caught {
			s.renderCaught(w, r2, c.status, c.body.String())
		}
	}
}

// handleHome describes the IdP, for a person who opens the issuer URL.
func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.renderProblem(w, r, problemMethod)
		return
	}
	d := pageData{Title: "Development identity provider", Users: s.users.list, Discovery: s.issuer + pathDiscovery}
	if ss := s.currentSession(r); ss != nil {
		u := s.users.byID[ss.userID]
		d.User = &u
	}
	s.render(w, r, s.pages.home, http.StatusOK, d)
}

// errorCatcher passes a response through unless it is an error in plain
// text (how op answers a browser it cannot redirect), which it keeps.
type errorCatcher struct {
	http.ResponseWriter
	wroteHeader bool
	caught      bool
	status      int
	body        bytes.Buffer
}

func (c *errorCatcher) WriteHeader(status int) {
	if c.wroteHeader {
		return
	}
	c.wroteHeader = true
	ct := c.Header().Get("Content-Type")
	if status >= 400 && (ct == "" || strings.HasPrefix(ct, "text/plain")) {
		c.caught, c.status = true, status
		return
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *errorCatcher) Write(b []byte) (int, error) {
	if !c.wroteHeader {
		c.WriteHeader(http.StatusOK)
	}
	if c.caught {
		if c.body.Len() < 1024 {
			c.body.Write(b)
		}
		return len(b), nil
	}
	return c.ResponseWriter.Write(b)
}

// renderCaught shows an error op wrote in plain text as a page. op's text
// is a protocol message meant for the person (e.g. that the redirect_uri
// is not registered), so it is shown as the detail.
func (s *Server) renderCaught(w http.ResponseWriter, r *http.Request, status int, text string) {
	w.Header().Del("X-Content-Type-Options")
	switch status {
	case http.StatusNotFound:
		s.renderProblem(w, r, problemNotFound)
	case http.StatusMethodNotAllowed:
		s.renderProblem(w, r, problemMethod)
	default:
		q := r.URL.Query()
		detail := strings.TrimSpace(text)
		var fields []field
		logged := detail
		if r.URL.Path == pathAuthorize {
			fields = []field{{"client_id", q.Get("client_id")}, {"redirect_uri", q.Get("redirect_uri")}}
			logged += " (client_id " + strconv.Quote(q.Get("client_id")) + ", redirect_uri " + strconv.Quote(q.Get("redirect_uri")) + ")"
		}
		s.log.InfoContext(r.Context(), "sign-in request refused", "status", status, "reason", logged)
		s.renderProblem(w, r, problem{
			status:  status,
			heading: "The sign-in request is not valid",
			message: "The application that sent you here made a request the development identity provider cannot accept. Fix the application's settings (its client_id and redirect URIs must match the registered client) and try again.",
			detail:  detail,
			fields:  fields,
		})
	}
}
