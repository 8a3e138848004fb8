package auth

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRecordRoundTrip(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name string
		rec  Record
	}{
		{"minimal", Record{Provider: "oidc", Expires: at}},
		{"full", Record{
			Token:              Token{"sub": "u1", "name": "Ada", "roles": []any{"a", "b"}, "n": 1.5, "nested": map[string]any{"k": "v"}},
			Provider:           "asgardeo",
			Issuer:             "https://idp.example/t/acme/oauth2/token",
			Subject:            "u1",
			SID:                "sid-1",
			IDToken:            "eyJhbGciOiJSUzI1NiJ9.e30.sig",
			AccessToken:        "at-1",
			AccessTokenExpires: at.Add(time.Hour),
			RefreshToken:       "rt-1",
			Scope:              "openid profile",
			IssuedAt:           at.Add(-time.Hour),
			UpdatedAt:          at.Add(-time.Minute),
			Expires:            at,
			Error:              "RefreshTokenError",
		}},
		{"unicode and quotes", Record{Provider: "p", Token: Token{"name": "Zoë \"Ω\" <b>"}, Expires: at}},
		{"empty token", Record{Provider: "p", Token: Token{}, Expires: at}},
		{"times before 1970", Record{Provider: "p", IssuedAt: time.Unix(-86400, 0), Expires: at}},
		// Credentials of every shape come back as they were sent.
		{"credentials", Record{
			Provider:     "p",
			Expires:      at,
			IDToken:      "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJl", // JWS
			AccessToken:  "Zm9vYmFyYmF6cXV4",                                                 // base64url
			RefreshToken: "8xLOxBtZp8",                                                       // base64url, 10 chars
		}},
		{"credentials that are not canonical base64url", Record{
			Provider:     "p",
			Expires:      at,
			IDToken:      "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1MSJ9.", // unsigned JWS
			AccessToken:  "abd",                                   // non-zero padding bits
			RefreshToken: "Zm9vYmFy==",                            // padded
		}},
		{"credentials with dots, spaces, slashes", Record{
			Provider:     "p",
			Expires:      at,
			IDToken:      "a.b.c.d.e", // JWE-like
			AccessToken:  "2YotnFZFEjr1zCsicMWpAA/x+y z",
			RefreshToken: "tGzv3JOkF0XG5Qx2TlKWIA.x", // two parts
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := encodeRecord(&tt.rec)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeRecord(b)
			if err != nil {
				t.Fatalf("decodeRecord(%s): %v", b, err)
			}
			if !reflect.DeepEqual(*got, tt.rec) {
				t.Errorf("round trip:\n got %+v\nwant %+v", *got, tt.rec)
			}
		})
	}
}

// TestRecordTimes: expiries keep whole seconds; the sign-in time keeps
// its nanoseconds, so that a revocation "of every session signed in up to
// now" spares a sign-in a few milliseconds later.
func TestRecordTimes(t *testing.T) {
	at := time.Unix(1_800_000_000, 999_999_999)
	b, _ := encodeRecord(&Record{Provider: "p", Expires: at, IssuedAt: at, Handle: "h1"})
	got, err := decodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if want := at.Truncate(time.Second); !got.Expires.Equal(want) {
		t.Errorf("Expires = %v, want %v", got.Expires, want)
	}
	if !got.IssuedAt.Equal(at) {
		t.Errorf("IssuedAt = %v, want %v", got.IssuedAt, at)
	}
	if got.Handle != "h1" {
		t.Errorf("Handle = %q, want h1", got.Handle)
	}
}

// TestDecodeRecordVersion2: a session written before version 3 still reads,
// with no handle and its sign-in time in whole seconds.
func TestDecodeRecordVersion2(t *testing.T) {
	strs := []string{"oidc", "https://idp", "alice", "sid1", "", ""}
	times := []int64{1_700_000_000, 0, 1_800_000_000, 0, 0}
	none := []byte{tokenNone, tokenNone, tokenNone}
	rec, err := decodeRecord(wireRecord(t, recordVersionV2, wirePublic(strs, times, none, `{"a":1}`), nil))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Subject != "alice" || rec.Handle != "" || !rec.IssuedAt.Equal(time.Unix(1_700_000_000, 0)) {
		t.Errorf("decoded %+v", rec)
	}
}

// wireRecord builds a stored record by hand: version, the public part
// compressed as encodeRecord does, then secret.
func wireRecord(t *testing.T, version byte, pub, secret []byte) []byte {
	t.Helper()
	var z bytes.Buffer
	w, err := flate.NewWriterDict(&z, flate.BestCompression, []byte(recordDict))
	if err != nil {
		t.Fatal(err)
	}
	w.Write(pub)
	w.Close()
	out := binary.AppendUvarint([]byte{version}, uint64(z.Len()))
	out = append(out, z.Bytes()...)
	return append(out, secret...)
}

// wirePublic is a public part: strings, times, token kinds and the Token
// JSON, in encodeRecord's order.
func wirePublic(strs []string, times []int64, kinds []byte, token string) []byte {
	var b []byte
	for _, s := range strs {
		b = appendBytes(b, s)
	}
	for _, v := range times {
		b = binary.AppendVarint(b, v)
	}
	b = append(b, kinds...)
	return append(b, token...)
}

func TestDecodeRecordRejects(t *testing.T) {
	strs := []string{"oidc", "", "", "", "", ""}
	times := []int64{0, 0, 1_800_000_000, 0, 0}
	none := []byte{tokenNone, tokenNone, tokenNone}
	good := wireRecord(t, recordVersionV2, wirePublic(strs, times, none, `{"a":1}`), nil)
	if _, err := decodeRecord(good); err != nil {
		t.Fatalf("the hand-made record does not decode: %v", err)
	}
	zlen := len(good) - 2 // one version byte and a one-byte length
	bomb := wirePublic(strs, times, none, `{"a":"`+strings.Repeat("x", maxRecordBytes)+`"}`)

	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"version 1 (JSON)", []byte(`{"v":1,"p":"oidc","e":1800000000}`)},
		{"version 0", wireRecord(t, 0, wirePublic(strs, times, none, ""), nil)},
		{"version 4", wireRecord(t, recordVersion+1, wirePublic(strs, times, none, ""), nil)},
		{"version only", []byte{recordVersionV2}},
		{"length beyond the record", append([]byte{recordVersionV2, byte(zlen + 1)}, good[2:]...)},
		{"length short of the stream", append([]byte{recordVersionV2, byte(zlen - 1)}, good[2:]...)},
		{"not DEFLATE", []byte{recordVersionV2, 3, 0xff, 0xff, 0xff}},
		{"truncated", good[:len(good)-1]},
		{"a byte after the record", append(bytes.Clone(good), 0)},
		{"no provider", wireRecord(t, recordVersionV2, wirePublic([]string{"", "", "", "", "", ""}, times, none, ""), nil)},
		{"no expiry", wireRecord(t, recordVersionV2, wirePublic(strs, []int64{0, 0, 0, 0, 0}, none, ""), nil)},
		{"a string cut short", wireRecord(t, recordVersionV2, []byte{4, 'o', 'i'}, nil)},
		{"times missing", wireRecord(t, recordVersionV2, wirePublic(strs, nil, nil, ""), nil)},
		{"unknown credential kind", wireRecord(t, recordVersionV2, wirePublic(strs, times, []byte{9, tokenNone, tokenNone}, ""), []byte{1, 'x'})},
		{"credential's secret missing", wireRecord(t, recordVersionV2, wirePublic(strs, times, []byte{tokenText, tokenNone, tokenNone}, ""), nil)},
		{"a secret too many", wireRecord(t, recordVersionV2, wirePublic(strs, times, none, ""), []byte{1, 'x'})},
		{"token null", wireRecord(t, recordVersionV2, wirePublic(strs, times, none, "null"), nil)},
		{"token an array", wireRecord(t, recordVersionV2, wirePublic(strs, times, none, "[1]"), nil)},
		{"token truncated", wireRecord(t, recordVersionV2, wirePublic(strs, times, none, `{"a":`), nil)},
		{"token followed by junk", wireRecord(t, recordVersionV2, wirePublic(strs, times, none, `{"a":1}x`), nil)},
		{"over a megabyte inflated", wireRecord(t, recordVersionV2, bomb, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if rec, err := decodeRecord(tt.in); err == nil {
				t.Errorf("decodeRecord(%q) = %+v, want an error", tt.in, rec)
			}
		})
	}
}

// TestRecordSecretsNotCompressed: credentials' secret bytes (signatures,
// opaque tokens) follow the compressed part as they are, so compression
// never mixes them with claims a visitor can influence.
func TestRecordSecretsNotCompressed(t *testing.T) {
	sig := []byte("0123456789abcdef0123456789abcdef")
	at := []byte("opaque access token bytes!")
	rec := &Record{
		Provider: "p", Expires: time.Unix(1_800_000_000, 0), Token: Token{"name": "Ada"},
		IDToken:     Secret(b64([]byte(`{"alg":"RS256"}`)) + "." + b64([]byte(`{"sub":"ada"}`)) + "." + b64(sig)),
		AccessToken: Secret(b64(at)),
	}
	b, err := encodeRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	n, k := binary.Uvarint(b[1:])
	secret := b[1+k+int(n):]
	want := append(appendBytes(nil, sig), appendBytes(nil, at)...)
	if !bytes.Equal(secret, want) {
		t.Errorf("secret part = %q, want %q", secret, want)
	}
	if bytes.Contains(b[:1+k+int(n)], sig) || bytes.Contains(b[:1+k+int(n)], at) {
		t.Error("a secret is in the compressed part")
	}
}

// TestSecretsRedacted: credentials print as [redacted] through fmt and
// slog; tokens and profiles never print their contents to logs.
func TestSecretsRedacted(t *testing.T) {
	const idt, at, rt = "eyJ-id-token-value", "access-token-value", "refresh-token-value"
	acct := &Account{Provider: "oidc", IDToken: idt, AccessToken: at, RefreshToken: rt}
	rec := Record{Provider: "oidc", IDToken: idt, AccessToken: at, RefreshToken: rt, Expires: time.Now()}
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		l := slog.New(h)
		l.Info("m", "secret", Secret(idt), "account", acct, "record", rec, "token", Token{"email": "ada@example.com"},
			"profile", Profile{"email": "ada@example.com"})
	}
	fmt.Fprintf(&buf, "%v %+v %s %v", acct, rec, Secret(at), []Secret{rt})
	out := buf.String()
	for _, s := range []string{idt, at, rt} {
		if strings.Contains(out, s) {
			t.Errorf("output shows %q:\n%s", s, out)
		}
	}
	if strings.Contains(strings.SplitN(out, "\n", 3)[0], "ada@example.com") {
		t.Errorf("slog shows token or profile contents:\n%s", out)
	}
	if got, want := Secret(at).Reveal(), at; got != want {
		t.Errorf("Reveal = %q, want %q", got, want)
	}
	if got := Secret("").String(); got != "" {
		t.Errorf("empty Secret prints %q, want empty", got)
	}
}

func TestSessionJSON(t *testing.T) {
	exp := time.Date(2026, 12, 21, 16, 0, 0, 123_456_789, time.FixedZone("X", 3600))
	tests := []struct {
		name string
		s    Session
		want string
	}{
		{"signed in", Session{User: User{Name: "Ada Lovelace", Email: "ada@example.com"}, Expires: exp},
			`{"user":{"name":"Ada Lovelace","email":"ada@example.com"},"expires":"2026-12-21T15:00:00.123Z"}`},
		{"all user fields", Session{User: User{ID: "1", Name: "n", Email: "e", Image: "i", GivenName: "g", FamilyName: "f", Username: "u"}, Expires: exp},
			`{"user":{"id":"1","name":"n","email":"e","image":"i","given_name":"g","family_name":"f","username":"u"},"expires":"2026-12-21T15:00:00.123Z"}`},
		{"scopes and error", Session{Expires: exp, Scopes: []string{"openid"}, Error: "RefreshTokenError"},
			`{"user":{},"expires":"2026-12-21T15:00:00.123Z","scopes":["openid"],"error":"RefreshTokenError"}`},
		{"extra fields merged, known ones kept", Session{
			User:    User{Name: "n", Extra: map[string]any{"role": "admin", "name": "overridden"}},
			Expires: exp, Extra: map[string]any{"tenant": "acme", "expires": "never"},
		}, `{"expires":"2026-12-21T15:00:00.123Z","tenant":"acme","user":{"name":"n","role":"admin"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.s)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(b); got != tt.want {
				t.Errorf("JSON =\n %s\nwant\n %s", got, tt.want)
			}
		})
	}
}

func TestUserDisplayName(t *testing.T) {
	tests := []struct {
		u    User
		want string
	}{
		{User{GivenName: "Ada", FamilyName: "Lovelace", Name: "x"}, "Ada Lovelace"},
		{User{GivenName: "Ada", Name: "x"}, "Ada"},
		{User{FamilyName: "Lovelace"}, "Lovelace"},
		{User{Name: "Ada L.", Email: "a@x"}, "Ada L."},
		{User{Email: "a@x"}, "a@x"},
		{User{}, ""},
	}
	for _, tt := range tests {
		if got := tt.u.DisplayName(); got != tt.want {
			t.Errorf("%+v.DisplayName() = %q, want %q", tt.u, got, tt.want)
		}
	}
}

func TestHasScopes(t *testing.T) {
	s := &Session{Scopes: []string{"openid", "profile", "read"}}
	tests := []struct {
		s     *Session
		check []string
		want  bool
	}{
		{s, nil, true},
		{s, []string{"read"}, true},
		{s, []string{"read", "openid"}, true},
		{s, []string{"write"}, false},
		{s, []string{"read", "write"}, false},
		{nil, []string{"read"}, false},
	}
	for _, tt := range tests {
		if got := tt.s.HasScopes(tt.check...); got != tt.want {
			t.Errorf("HasScopes(%v) = %v, want %v", tt.check, got, tt.want)
		}
	}
}

// FuzzRecordWire decodes arbitrary stored records: nothing panics, and a
// record that decodes encodes to one that decodes to the same.
func FuzzRecordWire(f *testing.F) {
	at := time.Unix(1_800_000_000, 0)
	for _, rec := range []*Record{
		{Provider: "oidc", Expires: at},
		{Provider: "p", Expires: at, Token: Token{"a": []any{1.0, "b"}}, IDToken: "eyJhIjoxfQ.eyJiIjoyfQ.c2ln", AccessToken: "abc", RefreshToken: "x.y"},
	} {
		b, err := encodeRecord(rec)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := decodeRecord(b)
		if err != nil {
			return
		}
		again, err := encodeRecord(rec)
		if err != nil {
			t.Fatalf("a decoded record does not encode: %v", err)
		}
		rec2, err := decodeRecord(again)
		if err != nil {
			t.Fatalf("a re-encoded record does not decode: %v", err)
		}
		if !reflect.DeepEqual(rec, rec2) {
			t.Errorf("round trip changed the record:\n %+v\n %+v", rec, rec2)
		}
	})
}
