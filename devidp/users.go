package devidp

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// User is a demo account.
//
// ID is the stable subject ("sub") put in tokens; Username is what a person
// types in the sign-in form and what the "preferred_username" and
// "username" claims carry. Password is compared in constant time but is
// stored in clear: these accounts are demo accounts, printed on the sign-in
// page for anyone to use.
//
// Scopes are the scopes beyond the standard OpenID Connect ones (openid,
// profile, email, phone, address, offline_access) that the user may be
// granted, such as "read:reports": a client that asks for one gets it in
// the access token (its introspection answer) when the user who signs in
// has it, and silently not otherwise, as an IdP that grants permissions
// by role does.
type User struct {
	ID, Username, Password, Email, GivenName, FamilyName string
	Scopes                                               []string
}

// Name is the user's full name, "GivenName FamilyName".
func (u User) Name() string {
	return strings.TrimSpace(u.GivenName + " " + u.FamilyName)
}

// ReportsScope is the extra scope DefaultUsers grants to Ada: the
// permission the Signet app's reports page needs.
const ReportsScope = "read:reports"

// DefaultUsers returns the three demo users: ada / "lovelace" (Ada
// Lovelace, who may also be granted ReportsScope), alan / "turing" (Alan
// Turing) and grace / "hopper" (Grace Hopper), each with an @example.com
// address. Their IDs are fixed, so a subject stays the same across
// restarts. Every call returns a new slice.
func DefaultUsers() []User {
	return []User{
		{
			ID:         "0d3c8a51-6f0e-4c1a-9b7e-ada000000001",
			Username:   "ada",
			Password:   "lovelace",
			Email:      "ada@example.com",
			GivenName:  "Ada",
			FamilyName: "Lovelace",
			Scopes:     []string{ReportsScope},
		},
		{
			ID:         "5b2f9c07-1d4e-4e8b-8a3c-a1a000000002",
			Username:   "alan",
			Password:   "turing",
			Email:      "alan@example.com",
			GivenName:  "Alan",
			FamilyName: "Turing",
		},
		{
			ID:         "9e41d2b6-7c3a-4f5d-b2e9-9ace00000003",
			Username:   "grace",
			Password:   "hopper",
			Email:      "grace@example.com",
			GivenName:  "Grace",
			FamilyName: "Hopper",
		},
	}
}

// directory is the read-only set of users a Server knows.
type directory struct {
	list   []User
	byID   map[string]User
	extras []string // the scopes beyond the standard ones some user has, sorted
}

// standardScopes are the scopes every user may be granted.
var standardScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopePhone, oidc.ScopeAddress, oidc.ScopeOfflineAccess}

// grantedScopes returns the scopes of requested that u may be granted, in
// their order.
func (u User) grantedScopes(requested []string) []string {
	out := make([]string, 0, len(requested))
	for _, sc := range requested {
		if slices.Contains(standardScopes, sc) || slices.Contains(u.Scopes, sc) {
			out = append(out, sc)
		}
	}
	return out
}

// newDirectory checks users (non-empty ID, username and password; IDs
// without ':' as opaque access tokens embed them; unique IDs and
// usernames, case-insensitively for usernames) and indexes them.
func newDirectory(users []User) (*directory, error) {
	if len(users) == 0 {
		return nil, errors.New("no users")
	}
	d := &directory{byID: make(map[string]User, len(users))}
	names := make(map[string]bool, len(users))
	for i, u := range users {
		switch {
		case u.ID == "":
			return nil, fmt.Errorf("user %d: empty ID", i)
		case strings.Contains(u.ID, ":"):
			return nil, fmt.Errorf("user %q: ID must not contain ':'", u.ID)
		case u.Username == "":
			return nil, fmt.Errorf("user %q: empty Username", u.ID)
		case u.Password == "":
			return nil, fmt.Errorf("user %q: empty Password", u.ID)
		}
		for _, sc := range u.Scopes {
			if sc == "" || strings.ContainsAny(sc, " \t\r\n\"\\") {
				return nil, fmt.Errorf("user %q: scope %q is empty or has a space, quote or backslash", u.ID, sc)
			}
			if !slices.Contains(standardScopes, sc) && !slices.Contains(d.extras, sc) {
				d.extras = append(d.extras, sc)
			}
		}
		if _, dup := d.byID[u.ID]; dup {
			return nil, fmt.Errorf("user %q: duplicate ID", u.ID)
		}
		key := strings.ToLower(u.Username)
		if names[key] {
			return nil, fmt.Errorf("user %q: duplicate Username %q", u.ID, u.Username)
		}
		names[key] = true
		u.Scopes = slices.Clone(u.Scopes)
		d.byID[u.ID] = u
		d.list = append(d.list, u)
	}
	slices.Sort(d.extras)
	return d, nil
}

// byUsername finds a user by username, ignoring case and surrounding
// spaces (phones like to capitalise the first letter).
func (d *directory) byUsername(username string) (User, bool) {
	username = strings.TrimSpace(username)
	for _, u := range d.list {
		if strings.EqualFold(u.Username, username) {
			return u, true
		}
	}
	return User{}, false
}

// authenticate returns the user whose username and password match.
func (d *directory) authenticate(username, password string) (User, bool) {
	u, ok := d.byUsername(username)
	if !ok {
		// Compare anyway so that a wrong username costs about as much as a
		// wrong password.
		subtle.ConstantTimeCompare([]byte(password), []byte(password))
		return User{}, false
	}
	if subtle.ConstantTimeCompare([]byte(u.Password), []byte(password)) != 1 {
		return User{}, false
	}
	return u, true
}
