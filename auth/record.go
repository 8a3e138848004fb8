package auth

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
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
	IssuedAt           time.Time // when the user signed in, to the nanosecond
	// Handle names the session in the store's session index: opaque,
	// random, and not a credential (knowing it lets no one use the
	// session). Sessions from before the index have none.
	Handle    string
	UpdatedAt time.Time // when the session was last re-issued
	Expires   time.Time // when the session ends unless re-issued
	Error     string    // e.g. "RefreshTokenError"
}

// recordVersion tags the stored form so it can change without misreading
// old sessions: a record of another version is treated as no session.
// Version 1 was JSON; version 2 is the compact form below; version 3 adds
// the Handle and the sign-in time's nanoseconds. Version 2 is still read.
const (
	recordVersion   = 3
	recordVersionV2 = 2
)

// The stored form, version 2, is binary, to keep the session cookie small:
// the sealed cookie is base64-encoded twice, so each byte of the record
// costs about 1.8 bytes of cookie.
//
//	byte     recordVersion
//	uvarint  n, then n bytes: the public part, DEFLATE-compressed (RFC 1951)
//	         with recordDict as preset dictionary
//	         the secret part, not compressed, to the end
//
// The public part holds the wireStrings and the wireTimes (varint Unix
// seconds, 0 for the zero time) in their order, since version 3 a varint
// of IssuedAt's nanoseconds within its second, then for each of the
// wireTokens a kind byte and, for a JWS (header.payload.signature), its
// header and payload decoded from base64url, and last the Token as JSON,
// after the ID token's claims it usually repeats, which DEFLATE turns into
// short back-references. The secret part holds each token's secret: a
// JWS's signature, an opaque token's bytes (base64url-decoded when that
// gives the same text back), or the text as it came. Secrets are never
// compressed: they would not shrink, and compressed beside claims a
// visitor can influence their length could leak them (CRIME).
//
// Every string is a uvarint length and its bytes. Decoding is strict: the
// version, every length, every kind, the compressed stream's end and the
// record's end must match exactly; the Token must be a JSON object, and a
// record needs a provider and an expiry.

// wireStrings are the Record's strings in their stored order. A new field
// goes at the end of its list, with a new recordVersion.
func (r *Record) wireStrings(version byte) []*string {
	s := []*string{&r.Provider, &r.Issuer, &r.Subject, &r.SID, &r.Scope, &r.Error}
	if version >= 3 {
		s = append(s, &r.Handle)
	}
	return s
}

// wireTimes are the Record's times in their stored order.
func (r *Record) wireTimes() []*time.Time {
	return []*time.Time{&r.IssuedAt, &r.UpdatedAt, &r.Expires, &r.AccessTokenExpires, &r.AccessTokenIssued}
}

// wireTokens are the Record's credentials in their stored order.
func (r *Record) wireTokens() []*Secret {
	return []*Secret{&r.IDToken, &r.AccessToken, &r.RefreshToken}
}

// Kinds of stored credentials.
const (
	tokenNone = iota // empty
	tokenJWS         // header.payload.signature, each canonical base64url
	tokenB64         // canonical unpadded base64url without dots
	tokenText        // anything else, as is
)

// recordDict primes DEFLATE with what ID tokens, JWT access tokens and
// session tokens are made of, so that even a short record compresses. It
// is part of the stored form: changing it needs a new recordVersion.
const recordDict = `{"alg":"RS256","typ":"at+jwt","kid":"{"alg":"ES256","typ":"JWT","kid":"` +
	`","x5t":"","x5t#S256":"` +
	`"realm_access":{"roles":["offline_access","uma_authorization","default-roles-` +
	`"resource_access":{"account":{"roles":["manage-account","view-profile"]}},` +
	`"groups":[","roles":[","permissions":[","org_id":"","org_name":"","tid":"","oid":"","ver":"2.0",` +
	`"scope":"openid profile email offline_access","scp":"","client_id":"","typ":"Bearer","session_state":"` +
	`"locale":"en","zoneinfo":"","updated_at":,"phone_number":"","picture":"https://` +
	`"amr":["pwd"],"acr":"1","auth_time":,"nbf":,"jti":"","isk":"","c_hash":"","at_hash":"","nonce":"` +
	`"email_verified":true,"email":"","preferred_username":"","username":"","nickname":"` +
	`"given_name":"","family_name":"","name":"` +
	`"iss":"https://","sub":"","aud":"","azp":"","sid":"","exp":,"iat":`

// maxRecordBytes bounds a record's decompressed public part.
const maxRecordBytes = 1 << 20

var (
	deflaters = sync.Pool{New: func() any {
		w, err := flate.NewWriterDict(nil, flate.BestCompression, []byte(recordDict))
		if err != nil {
			panic(err) // only for a bad level
		}
		return w
	}}
	inflaters = sync.Pool{New: func() any {
		return flate.NewReaderDict(bytes.NewReader(nil), []byte(recordDict))
	}}
)

// encodeRecord serializes r for sealing.
func encodeRecord(r *Record) ([]byte, error) {
	var pub, secret []byte
	for _, s := range r.wireStrings(recordVersion) {
		pub = appendBytes(pub, *s)
	}
	for _, t := range r.wireTimes() {
		pub = binary.AppendVarint(pub, unix(*t))
	}
	pub = binary.AppendVarint(pub, nanos(r.IssuedAt))
	for _, t := range r.wireTokens() {
		kind, header, payload, sec := splitCredential(string(*t))
		pub = append(pub, kind)
		if kind == tokenJWS {
			pub = appendBytes(pub, header)
			pub = appendBytes(pub, payload)
		}
		if kind != tokenNone {
			secret = appendBytes(secret, sec)
		}
	}
	if r.Token != nil {
		tok, err := json.Marshal(r.Token)
		if err != nil {
			return nil, err
		}
		pub = append(pub, tok...)
	}

	var z bytes.Buffer
	w := deflaters.Get().(*flate.Writer)
	defer deflaters.Put(w)
	w.Reset(&z)
	if _, err := w.Write(pub); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	out := make([]byte, 0, 1+binary.MaxVarintLen64+z.Len()+len(secret))
	out = append(out, recordVersion)
	out = binary.AppendUvarint(out, uint64(z.Len()))
	out = append(out, z.Bytes()...)
	return append(out, secret...), nil
}

var errBadRecord = errors.New("auth: malformed session record")

// decodeRecord reverses encodeRecord. It rejects records of another version,
// anything malformed, and records without a provider or expiry.
func decodeRecord(b []byte) (*Record, error) {
	if len(b) == 0 || (b[0] != recordVersion && b[0] != recordVersionV2) {
		return nil, errBadRecord
	}
	version := b[0]
	b = b[1:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, errBadRecord
	}
	pub, err := inflate(b[k : k+int(n)])
	if err != nil {
		return nil, errBadRecord
	}
	p, s := wireReader{b: pub}, wireReader{b: b[k+int(n):]}
	rec := &Record{}
	for _, f := range rec.wireStrings(version) {
		*f = string(p.bytes())
	}
	for _, f := range rec.wireTimes() {
		*f = fromUnix(p.varint())
	}
	if version >= 3 {
		ns := p.varint()
		if ns < 0 || ns >= int64(time.Second) || (ns != 0 && rec.IssuedAt.IsZero()) {
			p.bad = true
		} else if ns != 0 {
			rec.IssuedAt = rec.IssuedAt.Add(time.Duration(ns))
		}
	}
	for _, f := range rec.wireTokens() {
		var header, payload []byte
		kind := p.byte()
		if kind == tokenJWS {
			header, payload = p.bytes(), p.bytes()
		}
		if kind == tokenNone {
			continue
		}
		sec := s.bytes()
		switch kind {
		case tokenJWS:
			*f = Secret(b64(header) + "." + b64(payload) + "." + b64(sec))
		case tokenB64:
			*f = Secret(b64(sec))
		case tokenText:
			*f = Secret(sec)
		default:
			p.bad = true
		}
	}
	if p.bad || s.bad || len(s.b) != 0 {
		return nil, errBadRecord
	}
	if len(p.b) > 0 {
		if p.b[0] != '{' || json.Unmarshal(p.b, &rec.Token) != nil {
			return nil, errBadRecord
		}
	}
	if rec.Provider == "" || rec.Expires.IsZero() {
		return nil, errBadRecord
	}
	return rec, nil
}

// inflate decompresses a record's public part, which must end exactly
// where its stream does.
func inflate(z []byte) ([]byte, error) {
	src := bytes.NewReader(z)
	r := inflaters.Get().(io.ReadCloser)
	defer inflaters.Put(r)
	if err := r.(flate.Resetter).Reset(src, []byte(recordDict)); err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(r, maxRecordBytes+1))
	switch {
	case err != nil:
		return nil, err
	case len(out) > maxRecordBytes:
		return nil, errors.New("record too large")
	case src.Len() != 0:
		return nil, errors.New("data after the compressed record")
	}
	return out, nil
}

// splitCredential picks how a token is stored; see tokenJWS and friends.
func splitCredential(s string) (kind byte, header, payload, secret []byte) {
	if s == "" {
		return tokenNone, nil, nil, nil
	}
	if parts := strings.Split(s, "."); len(parts) == 3 {
		h, okH := canonicalB64(parts[0])
		p, okP := canonicalB64(parts[1])
		sig, okS := canonicalB64(parts[2])
		if okH && okP && okS {
			return tokenJWS, h, p, sig
		}
	} else if len(parts) == 1 {
		if b, ok := canonicalB64(s); ok {
			return tokenB64, nil, nil, b
		}
	}
	return tokenText, nil, nil, []byte(s)
}

// canonicalB64 decodes unpadded base64url text that encodes back to the
// same text.
func canonicalB64(s string) ([]byte, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || b64(b) != s {
		return nil, false
	}
	return b, true
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func appendBytes[T string | []byte](b []byte, s T) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// wireReader reads the stored form; any error sets bad and reads zeros.
type wireReader struct {
	b   []byte
	bad bool
}

func (r *wireReader) bytes() []byte {
	n, k := binary.Uvarint(r.b)
	if k <= 0 || n > uint64(len(r.b)-k) {
		r.bad, r.b = true, nil
		return nil
	}
	v := r.b[k : k+int(n)]
	r.b = r.b[k+int(n):]
	return v
}

func (r *wireReader) varint() int64 {
	v, k := binary.Varint(r.b)
	if k <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *wireReader) byte() byte {
	if len(r.b) == 0 {
		r.bad = true
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// nanos is t's nanoseconds within its second; 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return int64(t.Nanosecond())
}

func fromUnix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0)
}
