package main

import (
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net/http"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/auth/devidp"
	"github.com/signet-auth/signet/handlers"
)

// devIdP is the embedded development identity provider, wired as provider
// "dev" with a client made for this process.
type devIdP struct {
	provider *auth.Provider
	handler  http.Handler
	users    []handlers.DevUser
}

// startDevIdP mounts the development IdP at <publicURL>/dev-idp and
// registers this app, whose auth routes live under basePath, as its client.
func startDevIdP(publicURL, basePath string, log *slog.Logger) (*devIdP, error) {
	issuer := publicURL + "/dev-idp"
	secret := randomSecret()
	users := devidp.DefaultUsers()
	srv, err := devidp.New(devidp.Config{
		Issuer: issuer,
		Clients: []devidp.Client{{
			ID:                     "signet-dev",
			Secret:                 secret,
			RedirectURIs:           []string{publicURL + basePath + "/callback/dev"},
			PostLogoutRedirectURIs: []string{publicURL + auth.DefaultSignOutPath},
			BackchannelLogoutURI:   publicURL + basePath + "/backchannel-logout",
		}},
		Users:  users,
		Logger: log.With("component", "devidp"),
	})
	if err != nil {
		return nil, err
	}
	d := &devIdP{
		provider: auth.NewProvider("dev", "Development IdP", issuer, "signet-dev", secret),
		handler:  srv,
	}
	attrs := []any{"issuer", issuer}
	for _, u := range users {
		d.users = append(d.users, handlers.DevUser{Username: u.Username, Password: u.Password, Name: u.GivenName + " " + u.FamilyName})
		attrs = append(attrs, u.Username, u.Password)
	}
	log.Warn("no identity provider configured: running the embedded development IdP (development only, never in production); sign in with one of these users", attrs...)
	return d, nil
}

// randomSecret returns 32 random bytes, base64-encoded, like `npx auth secret`.
func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
