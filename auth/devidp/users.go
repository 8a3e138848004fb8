package devidp

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
)

// User is a demo account.
//
// ID is the stable subject ("sub") put in tokens; Username is what a person
// types in the sign-in form and what the "preferred_username" and
// "username" claims carry. Password is compared in constant time but is
// stored in clear: these accounts are demo accounts, printed on the sign-in
// page for anyone to use.
type User struct {
	ID, Username, Password, Email, GivenName, FamilyName string
}

// Name is the user's full name, "GivenName FamilyName".
func (u User) Name() string {
	return strings.TrimSpace(u.GivenName + " " + u.FamilyName)
}

// DefaultUsers returns the three demo users: ada / "lovelace" (Ada
// Lovelace), alan / "turing" (Alan Turing) and grace / "hopper" (Grace
// Hopper), each with an @example.com address. Their IDs are fixed, so a
// subject stays the same across restarts. Every call returns a new slice.
func DefaultUsers() []User {
	return []User{
		{
			ID:         "0d3c8a51-6f0e-4c1a-9b7e-ada000000001",
			Username:   "ada",
			Password:   "lovelace",
			Email:      "ada@example.com",
			GivenName:  "Ada",
			FamilyName: "Lovelace",
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
	list []User
	byID map[string]User
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
		if _, dup := d.byID[u.ID]; dup {
			return nil, fmt.Errorf("user %q: duplicate ID", u.ID)
		}
		key := strings.ToLower(u.Username)
		if names[key] {
			return nil, fmt.Errorf("user %q: duplicate Username %q", u.ID, u.Username)
		}
		names[key] = true
		d.byID[u.ID] = u
		d.list = append(d.list, u)
	}
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
