package auth

import (
	"encoding/json"
	"errors"
	"time"
)

// Record is one signed-in session as Signet keeps it: the user-shaped Token
// plus what Signet itself needs (the ID token for logout, the access and
// refresh tokens, the IdP's session id for back-channel logout, expiry).
// With the cookie strategy it travels encrypted in the session cookie; with a
// server Store the cookie holds only an opaque id and the Record lives in the
// store.
type Record struct {
	Token              Token
	Provider           string
	Issuer             string
	Subject            string
	SID                string // the IdP's session id (sid claim), when it sent one
	IDToken            Secret
	AccessToken        Secret
	AccessTokenExpires time.Time
	AccessTokenIssued  time.Time // when the access token was obtained, for its lifetime
	RefreshToken       Secret
	Scope              string
	IssuedAt           time.Time // when the user signed in
	UpdatedAt          time.Time // when the session was last re-issued
	Expires            time.Time // when the session ends unless re-issued
	Error              string    // e.g. "RefreshTokenError"
}

// recordVersion tags the stored form so it can change without misreading
// old sessions: a record of another version is treated as no session.
const recordVersion = 1

// wireRecord is Record's stored form: short keys and Unix seconds keep the
// cookie small.
type wireRecord struct {
	V   int    `json:"v"`
	T   Token  `json:"t,omitempty"`
	P   string `json:"p"`
	Iss string `json:"i,omitempty"`
	Sub string `json:"s,omitempty"`
	SID string `json:"d,omitempty"`
	IDT string `json:"it,omitempty"`
	AT  string `json:"at,omitempty"`
	ATE int64  `json:"ae,omitempty"`
	ATI int64  `json:"ai,omitempty"`
	RT  string `json:"rt,omitempty"`
	Sc  string `json:"sc,omitempty"`
	Iat int64  `json:"ia"`
	Upd int64  `json:"u"`
	Exp int64  `json:"e"`
	Err string `json:"er,omitempty"`
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func fromUnix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0)
}

// encodeRecord serializes r for sealing.
func encodeRecord(r *Record) ([]byte, error) {
	return json.Marshal(wireRecord{
		V: recordVersion, T: r.Token, P: r.Provider, Iss: r.Issuer, Sub: r.Subject, SID: r.SID,
		IDT: string(r.IDToken), AT: string(r.AccessToken), ATE: unix(r.AccessTokenExpires),
		ATI: unix(r.AccessTokenIssued), RT: string(r.RefreshToken), Sc: r.Scope,
		Iat: unix(r.IssuedAt), Upd: unix(r.UpdatedAt), Exp: unix(r.Expires), Err: r.Error,
	})
}

var errBadRecord = errors.New("auth: malformed session record")

// decodeRecord reverses encodeRecord. It rejects records of another version
// and records without a provider or expiry.
func decodeRecord(b []byte) (*Record, error) {
	var w wireRecord
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, errBadRecord
	}
	if w.V != recordVersion || w.P == "" || w.Exp == 0 {
		return nil, errBadRecord
	}
	return &Record{
		Token: w.T, Provider: w.P, Issuer: w.Iss, Subject: w.Sub, SID: w.SID,
		IDToken: Secret(w.IDT), AccessToken: Secret(w.AT), AccessTokenExpires: fromUnix(w.ATE),
		AccessTokenIssued: fromUnix(w.ATI), RefreshToken: Secret(w.RT), Scope: w.Sc,
		IssuedAt: fromUnix(w.Iat), UpdatedAt: fromUnix(w.Upd), Expires: fromUnix(w.Exp), Error: w.Err,
	}, nil
}
