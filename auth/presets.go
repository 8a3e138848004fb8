package auth

// Preset builds a provider for one identity provider product, with its
// quirks: claim mapping, scopes, logout endpoint. FromEnv enables a preset
// when AUTH_<ID>_ID is set (ID upper-cased, "-" → "_").
type Preset struct {
	ID   string
	Name string
	// New returns the provider for the given issuer and client.
	New func(issuer, clientID, clientSecret string) *Provider
}

// Presets lists the built-in presets.
func Presets() []Preset {
	return []Preset{
		{ID: "oidc", Name: "OpenID Connect", New: OIDC},
		{ID: "asgardeo", Name: "Asgardeo", New: Asgardeo},
	}
}

// OIDC is the generic OpenID Connect provider, id "oidc".
func OIDC(issuer, clientID, clientSecret string) *Provider {
	return NewProvider("oidc", "OpenID Connect", issuer, clientID, clientSecret)
}

// Asgardeo is WSO2 Asgardeo, id "asgardeo". Its issuer is the token URL,
// https://api.asgardeo.io/t/{org}/oauth2/token. Its ID tokens carry
// username and often no email: the profile maps username to email, as
// Asgardeo's own Next.js guides do in their jwt callback, and keeps
// username. Logout is discovery's end_session_endpoint (/t/{org}/oidc/logout).
func Asgardeo(issuer, clientID, clientSecret string) *Provider {
	p := NewProvider("asgardeo", "Asgardeo", issuer, clientID, clientSecret)
	p.Profile = func(c Profile) Token {
		t := DefaultProfile(c)
		if u := c.String("username"); u != "" {
			t["username"] = u
			if _, ok := t["email"]; !ok {
				t["email"] = u
			}
		}
		return t
	}
	return p
}
