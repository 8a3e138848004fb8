package authtest

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Tokens is how the token endpoint issues tokens and how the refresh and
// introspection (RFC 7662) endpoints answer. The zero value issues opaque
// access tokens valid for an hour, with the requested scope, and a refresh
// token that is not rotated; introspection is not advertised.
type Tokens struct {
	// AccessTokenTTL is the access tokens' lifetime (expires_in, and exp
	// for introspection and JWT access tokens). Default one hour; negative
	// leaves expires_in out and the tokens never expire, so they never look
	// due for a refresh.
	AccessTokenTTL time.Duration
	// OmitExpiresIn leaves expires_in out of token responses; the tokens
	// still expire after AccessTokenTTL.
	OmitExpiresIn bool
	// Format is the access tokens' format. Default Opaque.
	Format AccessTokenFormat
	// JWTType is JWT access tokens' typ header. Default "at+jwt".
	JWTType string
	// JWTSign is how JWT access tokens are signed. Default RS256.
	JWTSign SignMode
	// Scope is what the access tokens grant: the scope of introspection
	// answers and JWT access tokens. Default the requested scope.
	Scope string
	// ResponseScope is the token responses' scope member. Default Scope.
	ResponseScope string
	// OmitResponseScope leaves scope out of token responses.
	OmitResponseScope bool

	// NoRefreshToken leaves refresh_token out of code grant responses.
	NoRefreshToken bool
	// RotateRefreshTokens issues a new refresh token on every refresh and
	// retires the old one.
	RotateRefreshTokens bool
	// NoRefreshIDToken leaves id_token out of refresh responses.
	NoRefreshIDToken bool
	// RefreshFailure is how refresh_token grants misbehave (the code grant
	// is left alone). Default OK.
	RefreshFailure Failure
	// RefreshDelay holds every refresh_token grant this long before it is
	// answered.
	RefreshDelay time.Duration

	// Introspection advertises introspection_endpoint in discovery.
	Introspection bool
	// IntrospectionAuthMethods is discovery's
	// introspection_endpoint_auth_methods_supported; nil leaves it out.
	IntrospectionAuthMethods []string
	// IntrospectionInactive makes introspection answer active false for
	// every token.
	IntrospectionInactive bool
}

// AccessTokenFormat is the format of the access tokens the IdP issues.
type AccessTokenFormat int

// The access token formats. The JWT ones (RFC 9068) have iss, sub, aud
// JWTAudience, client_id, iat, exp and jti.
const (
	// Opaque is a random string.
	Opaque AccessTokenFormat = iota
	// JWTScope is a JWT with a scope claim (a space-separated string).
	JWTScope
	// JWTScpArray is a JWT with an scp claim that is an array.
	JWTScpArray
	// JWTScpString is a JWT with an scp claim that is a string.
	JWTScpString
	// JWTNoScope is a JWT without scope or scp.
	JWTNoScope
)

// JWTAudience is the aud of JWT access tokens: the API they are for.
const JWTAudience = "https://api.example.com"

// SetTokens changes how tokens are issued from now on: edit gets the
// current settings.
func (idp *IdP) SetTokens(edit func(t *Tokens)) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	edit(&idp.tokens)
}

// ForgetRefreshTokens forgets every refresh token issued so far, as an IdP
// does when the user's grant is revoked.
func (idp *IdP) ForgetRefreshTokens() {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	clear(idp.refreshes)
}

// LastAccessToken returns the access token issued last, by any grant.
func (idp *IdP) LastAccessToken() string {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	return idp.lastAccess
}

// IntrospectionAuth returns how the client authenticated at each
// introspection request, oldest first: "basic" or "post".
func (idp *IdP) IntrospectionAuth() []string {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	return append([]string(nil), idp.introAuth...)
}

// accessToken is an issued access token.
type accessToken struct {
	user  map[string]any // the userinfo claims, sid included
	scope string
	exp   time.Time // zero: never
}

// issue makes an access token for g and the token response that carries
// it, without id_token and refresh_token. idp.mu is not held.
func (idp *IdP) issue(g grant) (string, map[string]any) {
	idp.mu.Lock()
	t := idp.tokens
	idp.mu.Unlock()
	now := idp.now()
	ttl := t.AccessTokenTTL
	if ttl == 0 {
		ttl = time.Hour
	}
	var exp time.Time
	if ttl > 0 {
		exp = now.Add(ttl)
	}
	scope := t.Scope
	if scope == "" {
		scope = g.scope
	}
	access := "at-" + randomHex(24)
	if t.Format != Opaque {
		claims := map[string]any{
			"iss": idp.Issuer, "sub": g.user["sub"], "aud": JWTAudience, "client_id": idp.ClientID,
			"iat": now.Unix(), "jti": randomHex(16),
		}
		if !exp.IsZero() {
			claims["exp"] = exp.Unix()
		}
		switch t.Format {
		case JWTScope:
			claims["scope"] = scope
		case JWTScpArray:
			claims["scp"] = strings.Fields(scope)
		case JWTScpString:
			claims["scp"] = scope
		}
		typ := t.JWTType
		if typ == "" {
			typ = "at+jwt"
		}
		access = idp.SignJWT(claims, t.JWTSign, typ)
	}
	out := map[string]any{"access_token": access, "token_type": "Bearer"}
	if ttl > 0 && !t.OmitExpiresIn {
		out["expires_in"] = int(ttl / time.Second)
	}
	switch {
	case t.OmitResponseScope:
	case t.ResponseScope != "":
		out["scope"] = t.ResponseScope
	default:
		out["scope"] = scope
	}
	idp.mu.Lock()
	idp.access[access] = accessToken{user: g.user, scope: scope, exp: exp}
	idp.lastAccess = access
	idp.mu.Unlock()
	return access, out
}

// handleIntrospection is RFC 7662's endpoint, for the access tokens the IdP
// issued; IntrospectionAuth records how each call authenticated.
func (idp *IdP) handleIntrospection(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "bad form")
		return
	}
	id, secret, basic := r.BasicAuth()
	method := "basic"
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		method = "post"
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	idp.mu.Lock()
	idp.introAuth = append(idp.introAuth, method)
	at, known := idp.access[r.PostForm.Get("token")]
	inactive := idp.tokens.IntrospectionInactive
	idp.mu.Unlock()
	if id != idp.ClientID || secret != idp.ClientSecret {
		tokenError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	if !known || inactive || (!at.exp.IsZero() && !idp.now().Before(at.exp)) {
		writeJSON(w, http.StatusOK, map[string]any{"active": false})
		return
	}
	out := map[string]any{
		"active": true, "scope": at.scope, "sub": at.user["sub"], "client_id": idp.ClientID,
		"token_type": "Bearer", "iss": idp.Issuer,
	}
	if !at.exp.IsZero() {
		out["exp"] = at.exp.Unix()
	}
	writeJSON(w, http.StatusOK, out)
}
