package auth

import (
	"encoding/json"
	"log/slog"
	"time"
)

// Session is what pages and GET /api/auth/session see: the shape Auth.js
// returns from auth() and useSession(), after the Session callback.
// It never carries the ID token, access token or refresh token.
type Session struct {
	User    User      `json:"user"`
	Expires time.Time `json:"expires"`
	// Scopes are the access token's scopes, when known.
	Scopes []string `json:"scopes,omitempty"`
	// Error is set when the session can no longer be kept fresh, for example
	// "RefreshTokenError"; pages should ask the user to sign in again.
	Error string `json:"error,omitempty"`
	// Extra holds any further fields set by the Session callback; they are
	// merged into the JSON object.
	Extra map[string]any `json:"-"`
}

// User is the signed-in user as pages see it.
type User struct {
	ID         string `json:"id,omitempty"`
	Name       string `json:"name,omitempty"`
	Email      string `json:"email,omitempty"`
	Image      string `json:"image,omitempty"`
	GivenName  string `json:"given_name,omitempty"`
	FamilyName string `json:"family_name,omitempty"`
	Username   string `json:"username,omitempty"`
	// Extra holds further fields set by the Session callback; they are merged
	// into the user's JSON object.
	Extra map[string]any `json:"-"`
}

// DisplayName is "Given Family" when either is known, else Name, else Email.
func (u User) DisplayName() string {
	switch {
	case u.GivenName != "" && u.FamilyName != "":
		return u.GivenName + " " + u.FamilyName
	case u.GivenName != "":
		return u.GivenName
	case u.FamilyName != "":
		return u.FamilyName
	case u.Name != "":
		return u.Name
	default:
		return u.Email
	}
}

// HasScopes reports whether the session holds every one of scopes.
func (s *Session) HasScopes(scopes ...string) bool {
	if s == nil {
		return false
	}
	for _, want := range scopes {
		found := false
		for _, have := range s.Scopes {
			if have == want {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// MarshalJSON writes the user with Extra merged in.
func (u User) MarshalJSON() ([]byte, error) {
	type plain User
	return mergeJSON(plain(u), u.Extra)
}

// plainUser is User without its MarshalJSON.
type plainUser User

// MarshalJSON writes the session with Extra merged in and expires in
// Auth.js's ISO 8601 form.
func (s Session) MarshalJSON() ([]byte, error) {
	expires := s.Expires.UTC().Format("2006-01-02T15:04:05.000Z")
	if len(s.User.Extra) == 0 {
		// One pass: the user's own MarshalJSON would be called, and its
		// output checked and compacted, for nothing to merge.
		type plain struct {
			User    plainUser `json:"user"`
			Expires string    `json:"expires"`
			Scopes  []string  `json:"scopes,omitempty"`
			Error   string    `json:"error,omitempty"`
		}
		return mergeJSON(plain{plainUser(s.User), expires, s.Scopes, s.Error}, s.Extra)
	}
	type plain struct {
		User    User     `json:"user"`
		Expires string   `json:"expires"`
		Scopes  []string `json:"scopes,omitempty"`
		Error   string   `json:"error,omitempty"`
	}
	return mergeJSON(plain{s.User, expires, s.Scopes, s.Error}, s.Extra)
}

func mergeJSON(v any, extra map[string]any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || len(extra) == 0 {
		return b, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, val := range extra {
		if _, taken := m[k]; !taken {
			m[k] = val
		}
	}
	return json.Marshal(m)
}

// Token is the stored session token: Auth.js's JWT. On sign-in it starts with
// sub, name, email and picture, and the JWT callback may add anything that
// fits in JSON. It is kept encrypted (in the cookie or the server store) and
// never sent to the browser in clear.
type Token map[string]any

// String returns the value of key k when it is a string.
func (t Token) String(k string) string {
	s, _ := t[k].(string)
	return s
}

// LogValue keeps token contents out of logs.
func (t Token) LogValue() slog.Value {
	return slog.StringValue("[token redacted]")
}

// Secret is a credential (ID token, access token, refresh token, code) that
// must never be logged. Its String, LogValue and JSON form are redacted (so
// an Account or Record logged by slog's JSON handler shows no token); use
// Reveal for the value.
type Secret string

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// String redacts the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// LogValue redacts the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON redacts the value: encoding/json, which slog's JSON handler
// uses for structs, ignores String and LogValue.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// Profile is the user's claims from the identity provider: the ID token's
// claims merged with userinfo's when it is fetched.
type Profile map[string]any

// String returns the claim k when it is a string.
func (p Profile) String(k string) string {
	s, _ := p[k].(string)
	return s
}

// LogValue keeps personal data out of logs.
func (p Profile) LogValue() slog.Value { return slog.StringValue("[profile redacted]") }

// Account is the result of a sign-in at a provider: Auth.js's account.
type Account struct {
	Provider          string
	Type              string // "oidc"
	ProviderAccountID string // the ID token's sub
	AccessToken       Secret
	TokenType         string
	RefreshToken      Secret
	IDToken           Secret
	ExpiresAt         time.Time // access token expiry; zero when unknown
	Scope             string
}
