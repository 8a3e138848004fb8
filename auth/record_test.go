package auth

import (
	"bytes"
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

func TestRecordTimesKeepSeconds(t *testing.T) {
	at := time.Unix(1_800_000_000, 999_999_999)
	b, _ := encodeRecord(&Record{Provider: "p", Expires: at, IssuedAt: at})
	got, err := decodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if want := at.Truncate(time.Second); !got.Expires.Equal(want) || !got.IssuedAt.Equal(want) {
		t.Errorf("times = %v, %v; want %v", got.Expires, got.IssuedAt, want)
	}
}

func TestDecodeRecordRejects(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"not JSON", "hello"},
		{"null", "null"},
		{"array", "[1,2]"},
		{"empty object", "{}"},
		{"version 0", `{"v":0,"p":"oidc","e":1800000000}`},
		{"version 2", `{"v":2,"p":"oidc","e":1800000000}`},
		{"no provider", `{"v":1,"e":1800000000}`},
		{"no expiry", `{"v":1,"p":"oidc"}`},
		{"expiry not a number", `{"v":1,"p":"oidc","e":"soon"}`},
		{"token not an object", `{"v":1,"p":"oidc","e":1800000000,"t":[1]}`},
		{"truncated", `{"v":1,"p":"oidc","e":18000`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if rec, err := decodeRecord([]byte(tt.in)); err == nil {
				t.Errorf("decodeRecord(%q) = %+v, want an error", tt.in, rec)
			}
		})
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

func TestMemoryStore(t *testing.T) {
	clock := newTestClock()
	s := NewMemoryStore(clock.Now)
	ctx := t.Context()
	if _, err := s.Get(ctx, "x"); err != ErrNotFound {
		t.Errorf("Get of a missing id = %v, want ErrNotFound", err)
	}
	data := []byte("data")
	if err := s.Set(ctx, "a", data, clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	data[0] = 'X' // the store keeps its own copy
	if got, err := s.Get(ctx, "a"); err != nil || string(got) != "data" {
		t.Errorf("Get = %q, %v; want data", got, err)
	}
	clock.Advance(time.Hour)
	if _, err := s.Get(ctx, "a"); err != ErrNotFound {
		t.Errorf("Get of an expired id = %v, want ErrNotFound", err)
	}
	if got := s.Len(); got != 0 {
		t.Errorf("Len after an expired Get = %d, want 0", got)
	}
	if err := s.Delete(ctx, "missing"); err != nil {
		t.Errorf("Delete of a missing id = %v", err)
	}
	// The occasional sweep drops expired entries nobody reads.
	for i := range 1024 {
		_ = s.Set(ctx, fmt.Sprint(i), nil, clock.Now().Add(time.Minute))
	}
	clock.Advance(2 * time.Minute)
	for i := range 1024 {
		_ = s.Set(ctx, fmt.Sprint("n", i), nil, clock.Now().Add(time.Minute))
	}
	if got, want := s.Len(), 1024; got != want {
		t.Errorf("Len after a sweep = %d, want %d", got, want)
	}
}
