package devidp

import (
	"log/slog"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// authRequest is one authorization request, from /authorize until its code
// is exchanged (or it expires). The store hands out copies, so op may read
// one while the login form completes the stored original.
type authRequest struct {
	id           string
	created      time.Time
	clientID     string
	redirectURI  string
	state        string
	nonce        string
	scopes       []string
	responseType oidc.ResponseType
	responseMode oidc.ResponseMode
	prompt       []string
	maxAge       *uint
	loginHint    string
	hintSubject  string // sub of a valid id_token_hint, if one was sent
	challenge    *oidc.CodeChallenge

	// Set by the login form.
	csrfToken string // the form's hidden csrf_token
	browser   string // the devidp.csrf cookie of the browser that got the form

	// Set once the user is authenticated.
	done      bool
	userID    string
	sessionID string // the SSO session: the sid claim
	authTime  time.Time
	code      string // the authorization code, once issued
}

var (
	_ op.AuthRequest    = (*authRequest)(nil)
	_ op.LogAuthRequest = (*authRequest)(nil)
)

func newAuthRequest(id string, now time.Time, req *oidc.AuthRequest, hintSubject string) *authRequest {
	a := &authRequest{
		id:           id,
		created:      now,
		clientID:     req.ClientID,
		redirectURI:  req.RedirectURI,
		state:        req.State,
		nonce:        req.Nonce,
		scopes:       slices.Clone([]string(req.Scopes)),
		responseType: req.ResponseType,
		responseMode: req.ResponseMode,
		prompt:       slices.Clone([]string(req.Prompt)),
		loginHint:    req.LoginHint,
		hintSubject:  hintSubject,
	}
	if req.MaxAge != nil {
		m := *req.MaxAge
		a.maxAge = &m
	}
	if req.CodeChallenge != "" {
		a.challenge = &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod}
	}
	return a
}

// clone returns a copy that shares nothing mutable with a.
func (a *authRequest) clone() *authRequest {
	c := *a
	c.scopes = slices.Clone(a.scopes)
	c.prompt = slices.Clone(a.prompt)
	return &c
}

// hasPrompt reports whether the request carried prompt=p.
func (a *authRequest) hasPrompt(p string) bool { return slices.Contains(a.prompt, p) }

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string                 { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.userID }
func (a *authRequest) Done() bool                            { return a.done }

// LogValue names the request without its state, nonce or code.
func (a *authRequest) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", a.id),
		slog.String("client_id", a.clientID),
		slog.String("redirect_uri", a.redirectURI),
		slog.Any("scopes", a.scopes),
	)
}
