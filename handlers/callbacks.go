package handlers

import (
	"context"

	"github.com/signet-auth/signet/auth"
)

// AuthCallbacks are the app's auth callbacks, for auth.Config.Callbacks:
// the Go form of the seed guides' jwt and session callbacks. They copy
// given_name, family_name and username from the profile into the token at
// sign-in, and from the token into the session. The ID token is not copied: Signet keeps it for logout and never
// shows it to the browser.
func AuthCallbacks() auth.Callbacks {
	return auth.Callbacks{
		JWT: func(_ context.Context, p auth.JWTParams) (auth.Token, error) {
			if p.Profile != nil {
				for _, k := range []string{"given_name", "family_name", "username"} {
					if v := p.Profile.String(k); v != "" {
						p.Token[k] = v
					}
				}
			}
			return p.Token, nil
		},
		Session: func(_ context.Context, p auth.SessionParams) (*auth.Session, error) {
			s := p.Session
			s.User.GivenName = p.Token.String("given_name")
			s.User.FamilyName = p.Token.String("family_name")
			s.User.Username = p.Token.String("username")
			if s.User.Email == "" {
				s.User.Email = s.User.Username
			}
			return s, nil
		},
	}
}
