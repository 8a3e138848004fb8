package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/devidp"
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
// It logs that it runs, and the demo users, at level.
func startDevIdP(publicURL, basePath string, log *slog.Logger, level slog.Level, now func() time.Time) (*devIdP, error) {
	issuer := publicURL + "/dev-idp"
	secret := RandomSecret()
	users := devidp.DefaultUsers()
	srv, err := devidp.New(devidp.Config{
		Issuer: issuer,
		Clients: []devidp.Client{{
			ID:                     "signet-dev",
			Name:                   "Signet",
			Secret:                 secret,
			RedirectURIs:           []string{publicURL + basePath + "/callback/dev"},
			PostLogoutRedirectURIs: []string{publicURL + auth.DefaultSignOutPath},
			BackchannelLogoutURI:   publicURL + basePath + "/backchannel-logout",
		}},
		Users:  users,
		Logger: log.With("component", "devidp"),
		Now:    now,
	})
	if err != nil {
		return nil, err
	}
	d := &devIdP{
		provider: auth.NewProvider("dev", "Development IdP", issuer, "signet-dev", secret),
		handler:  srv,
	}
	// The app asks for every scope a demo user may have, so that the
	// pages that need one (the reports: read:reports, which Ada has) can
	// be seen working; the IdP grants each user only their own.
	d.provider.Scopes = []string{"openid", "profile", "email"}
	attrs := []any{"issuer", issuer}
	for _, u := range users {
		d.users = append(d.users, handlers.DevUser{Username: u.Username, Password: u.Password, Name: u.GivenName + " " + u.FamilyName})
		attrs = append(attrs, u.Username, u.Password)
		if len(u.Scopes) > 0 {
			attrs = append(attrs, u.Username+".scopes", strings.Join(u.Scopes, " "))
		}
		for _, sc := range u.Scopes {
			if !slices.Contains(d.provider.Scopes, sc) {
				d.provider.Scopes = append(d.provider.Scopes, sc)
			}
		}
	}
	log.Log(context.Background(), level, "no identity provider configured, so the app runs its built-in development IdP (for trying it on this machine; never in production); sign in with one of these users", attrs...)
	return d, nil
}

// RandomSecret returns 32 random bytes, base64-encoded, like `npx auth secret`.
func RandomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
