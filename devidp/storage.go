package devidp

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"log/slog"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// How long things live in the store.
const (
	authRequestLifetime  = 15 * time.Minute // from /authorize to the code exchange
	codeLifetime         = time.Minute      // an authorization code, once issued
	usedCodeMemory       = 10 * time.Minute // how long an exchanged code is remembered, to catch replays
	refreshTokenLifetime = 8 * time.Hour
	sessionLifetime      = 8 * time.Hour // the SSO session, from sign-in
	sweepInterval        = time.Minute
)

// store is the IdP's whole state, in memory, behind one mutex. It
// implements op.Storage. Everything it hands out is a copy.
type store struct {
	now     func() time.Time
	log     *slog.Logger
	users   *directory
	clients map[string]*client
	keys    *keyPair
	// onEnd, when set, runs after TerminateSession ends a session.
	onEnd func(context.Context, *ssoSession)

	mu            sync.Mutex
	authRequests  map[string]*authRequest
	codes         map[string]codeGrant // live authorization codes
	usedCodes     map[string]codeGrant // exchanged codes, to refuse and punish replays
	accessTokens  map[string]*accessToken
	refreshTokens map[string]*refreshToken
	sessions      map[string]*ssoSession // by sid
	secrets       map[string]string      // cookie secret to sid
	nextSweep     time.Time
}

var (
	_ op.Storage                   = (*store)(nil)
	_ op.CanSetUserinfoFromRequest = (*store)(nil)
)

// codeGrant ties an authorization code to its auth request.
type codeGrant struct {
	authRequestID string
	expires       time.Time
}

func newStore(now func() time.Time, log *slog.Logger, users *directory, clients map[string]*client, keys *keyPair) *store {
	return &store{
		now:           now,
		log:           log,
		users:         users,
		clients:       clients,
		keys:          keys,
		authRequests:  make(map[string]*authRequest),
		codes:         make(map[string]codeGrant),
		usedCodes:     make(map[string]codeGrant),
		accessTokens:  make(map[string]*accessToken),
		refreshTokens: make(map[string]*refreshToken),
		sessions:      make(map[string]*ssoSession),
		secrets:       make(map[string]string),
	}
}

// newID returns a random identifier with 128 bits of entropy.
func newID() string { return rand.Text() }

// errUnknownRequest is what a missing or expired auth request looks like.
var errUnknownRequest = oidc.ErrInvalidRequest().WithDescription("unknown or expired sign-in request")

// sweepLocked drops whatever has expired, at most once per sweepInterval.
// s.mu must be held.
func (s *store) sweepLocked(now time.Time) {
	if now.Before(s.nextSweep) {
		return
	}
	s.nextSweep = now.Add(sweepInterval)
	for id, a := range s.authRequests {
		if now.Sub(a.created) > authRequestLifetime {
			delete(s.authRequests, id)
		}
	}
	for c, g := range s.codes {
		if now.After(g.expires) {
			delete(s.codes, c)
		}
	}
	for c, g := range s.usedCodes {
		if now.After(g.expires) {
			delete(s.usedCodes, c)
		}
	}
	for id, t := range s.accessTokens {
		if now.After(t.expires) {
			delete(s.accessTokens, id)
		}
	}
	for id, t := range s.refreshTokens {
		if now.After(t.expires) {
			delete(s.refreshTokens, id)
		}
	}
	for id, ss := range s.sessions {
		if now.After(ss.expires) {
			delete(s.sessions, id)
			delete(s.secrets, ss.secret)
		}
	}
}

// CreateAuthRequest stores a validated authorization request. It insists
// on PKCE with S256, which op leaves optional for confidential clients.
func (s *store) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, hintSubject string) (op.AuthRequest, error) {
	if req.CodeChallenge == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE is required: send code_challenge with code_challenge_method=S256")
	}
	if req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	now := s.now()
	a := newAuthRequest(newID(), now, req, hintSubject)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	s.authRequests[a.id] = a
	return a.clone(), nil
}

// authRequestLocked returns the live request id. s.mu must be held.
func (s *store) authRequestLocked(id string, now time.Time) (*authRequest, bool) {
	a, ok := s.authRequests[id]
	if !ok {
		return nil, false
	}
	if now.Sub(a.created) > authRequestLifetime {
		delete(s.authRequests, id)
		return nil, false
	}
	return a, true
}

// AuthRequestByID returns a copy of a live auth request.
func (s *store) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	a, ok := s.authRequest(id)
	if !ok {
		return nil, errUnknownRequest
	}
	return a, nil
}

// authRequest is AuthRequestByID with the concrete type.
func (s *store) authRequest(id string) (*authRequest, bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authRequestLocked(id, now)
	if !ok {
		return nil, false
	}
	return a.clone(), true
}

// SaveAuthCode records the one code issued for a completed request.
func (s *store) SaveAuthCode(_ context.Context, id, code string) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authRequestLocked(id, now)
	if !ok {
		return errUnknownRequest
	}
	if !a.done {
		return oidc.ErrInteractionRequired().WithDescription("the user has not signed in")
	}
	if a.code != "" {
		return oidc.ErrInvalidRequest().WithDescription("this sign-in request already has a code")
	}
	a.code = code
	s.codes[code] = codeGrant{authRequestID: id, expires: now.Add(codeLifetime)}
	return nil
}

// AuthRequestByCode redeems a code: it works once, within codeLifetime.
// A code seen a second time revokes every token issued for it (RFC 6749
// section 4.1.2) and fails, which op reports as invalid_grant.
func (s *store) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	if used, ok := s.usedCodes[code]; ok {
		s.revokeGrantLocked(used.authRequestID)
		s.log.Warn("authorization code replayed: tokens issued for it revoked", "auth_request", used.authRequestID)
		return nil, errors.New("code already used")
	}
	g, ok := s.codes[code]
	if !ok {
		return nil, errors.New("unknown code")
	}
	delete(s.codes, code)
	s.usedCodes[code] = codeGrant{authRequestID: g.authRequestID, expires: now.Add(usedCodeMemory)}
	if now.After(g.expires) {
		return nil, errors.New("code expired")
	}
	a, ok := s.authRequestLocked(g.authRequestID, now)
	if !ok || !a.done {
		return nil, errors.New("code's sign-in request is gone")
	}
	return a.clone(), nil
}

// DeleteAuthRequest forgets a request once its code has been exchanged.
func (s *store) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.authRequests, id)
	return nil
}

// setLoginBinding binds the sign-in form of request id to the browser
// showing it (its devidp.csrf cookie): the first showing, or a showing in
// another browser, stores csrfToken and browser; showing it again in the
// same browser keeps the stored token, so a reload does not break a form
// open in another tab. It returns the stored token.
func (s *store) setLoginBinding(id, csrfToken, browser string) (token string, ok bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authRequestLocked(id, now)
	if !ok {
		return "", false
	}
	if a.csrfToken == "" || a.browser != browser {
		a.csrfToken, a.browser = csrfToken, browser
	}
	return a.csrfToken, true
}

// completeAuthRequest marks request id as authenticated by SSO session
// sid, and remembers that the request's client is part of the session.
func (s *store) completeAuthRequest(id, sid string) (*authRequest, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authRequestLocked(id, now)
	if !ok {
		return nil, errUnknownRequest
	}
	ss, ok := s.sessionLocked(sid, now)
	if !ok {
		return nil, errors.New("no such session")
	}
	if a.done {
		return nil, oidc.ErrInvalidRequest().WithDescription("this sign-in request is already complete")
	}
	a.done, a.userID, a.sessionID, a.authTime = true, ss.userID, ss.id, ss.authTime
	// The scopes beyond the standard ones that this user lacks are not
	// granted; the others are.
	a.scopes = s.users.byID[ss.userID].grantedScopes(a.scopes)
	ss.clients[a.clientID] = true
	return a.clone(), nil
}

// GetClientByClientID returns a registered client.
func (s *store) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	c, ok := s.clients[id]
	if !ok {
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client_id")
	}
	return c, nil
}

// AuthorizeClientIDSecret checks a confidential client's secret.
func (s *store) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	c, ok := s.clients[id]
	if !ok || c.Secret == "" || subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		return oidc.ErrInvalidClient().WithDescription("invalid client_id or client_secret")
	}
	return nil
}

// SigningKey waits for the key made at start-up.
func (s *store) SigningKey(ctx context.Context) (op.SigningKey, error) {
	priv, id, err := s.keys.get(ctx)
	if err != nil {
		return nil, err
	}
	return signingKey{id: id, priv: priv}, nil
}

// SignatureAlgorithms is RS256 only.
func (s *store) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

// KeySet is the one public key, for the JWKS endpoint and for verifying
// id_token_hint.
func (s *store) KeySet(ctx context.Context) ([]op.Key, error) {
	priv, id, err := s.keys.get(ctx)
	if err != nil {
		return nil, err
	}
	return []op.Key{publicKey{id: id, pub: &priv.PublicKey}}, nil
}

// GetKeyByIDAndClientID is for the JWT profile grant and private_key_jwt,
// which this IdP does not support.
func (s *store) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, oidc.ErrInvalidClient().WithDescription("client keys are not supported")
}

// ValidateJWTProfileScopes refuses the JWT profile grant.
func (s *store) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrUnsupportedGrantType().WithDescription("the JWT profile grant is not supported")
}

// Health reports the store as always healthy: it is memory.
func (s *store) Health(context.Context) error { return nil }
