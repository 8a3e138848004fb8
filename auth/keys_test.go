package auth

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseSecrets(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a", []string{"a"}},
		{"b,a", []string{"b", "a"}},
		{" b , a ,", []string{"b", "a"}},
		{",,", nil},
		{"a=,b==", []string{"a=", "b=="}}, // base64 padding survives
	}
	for _, tt := range tests {
		if got := ParseSecrets(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("ParseSecrets(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestKeyringPurposes(t *testing.T) {
	session, err := newKeyring([]string{testSecret}, "signet session", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	flow, err := newKeyring([]string{testSecret}, "signet flow", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := newKeyring([]string{testSecretB}, "signet session", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	v, err := session.seal("session-token", []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := session.open("session-token", v); err != nil || string(b) != "hello" {
		t.Fatalf("open = %q, %v; want hello", b, err)
	}
	if strings.Contains(v, "hello") || strings.Contains(v, base64.StdEncoding.EncodeToString([]byte("hello"))) {
		t.Error("sealed value shows the plaintext")
	}
	tests := []struct {
		name string
		k    *keyring
		as   string
	}{
		{"another purpose", flow, "session-token"},
		{"another name", session, "state"},
		{"another secret", other, "session-token"},
	}
	for _, tt := range tests {
		if _, err := tt.k.open(tt.as, v); err == nil {
			t.Errorf("%s opened the session value", tt.name)
		}
	}
	if _, err := newKeyring(nil, "x", time.Hour); err == nil {
		t.Error("newKeyring accepted no secret")
	}
	if len(session.csrf[0]) != 32 || string(session.csrf[0]) == string(other.csrf[0]) {
		t.Error("CSRF keys are not derived per secret")
	}
}

// TestSecretRotation: AUTH_SECRET="B,A" reads sessions sealed with A and
// re-seals them with B; once A is retired (AUTH_SECRET="B") its sessions
// are refused and cleared.
func TestSecretRotation(t *testing.T) {
	e := newEnv(t) // AUTH_SECRET = A
	b := e.browser()
	b.signIn()
	sealedWithA := b.cookie("signet.session-token")
	csrfWithA := b.cookie("signet.csrf-token")

	e.restart(func(c *Config) { c.Secrets = []string{testSecretB, testSecret} })
	if b.session() == nil {
		t.Fatal(`a session sealed with A is refused under AUTH_SECRET="B,A"`)
	}
	if got := b.cookie("signet.csrf-token"); got != csrfWithA {
		t.Error("the CSRF cookie made under A was replaced under B,A")
	}
	// The next re-issue seals with B.
	e.clock.Advance(DefaultUpdateAge)
	r := b.get("/api/auth/session")
	if r.setCookie("signet.session-token") == nil {
		t.Fatal("session not re-issued")
	}
	sealedWithB := b.cookie("signet.session-token")
	if sealedWithB == sealedWithA {
		t.Fatal("re-issued cookie unchanged")
	}
	onlyB, _ := newKeyring([]string{testSecretB}, "signet session", time.Hour)
	if _, err := onlyB.open(sessionSealName, sealedWithB); err != nil {
		t.Errorf("the re-issued session is not sealed with B: %v", err)
	}

	// Retire A.
	e.restart(func(c *Config) { c.Secrets = []string{testSecretB} })
	if b.session() == nil {
		t.Fatal(`the session re-sealed with B is refused under AUTH_SECRET="B"`)
	}
	old := e.browser()
	old.setCookie("signet.session-token", sealedWithA)
	r = old.get("/api/auth/session")
	if r.body != "null" {
		t.Fatalf(`a session sealed with the retired secret A reads as %s under AUTH_SECRET="B"`, r.body)
	}
	if c := r.setCookie("signet.session-token"); c == nil || c.MaxAge >= 0 {
		t.Errorf("the retired session cookie was not cleared: %v", c)
	}
	if old.cookie("signet.session-token") != "" {
		t.Error("the browser still holds the retired session cookie")
	}
	e.wantLog(t, "session cookie rejected")

	// A CSRF cookie made under A is no longer valid: a new one is issued.
	old.setCookie("signet.csrf-token", csrfWithA)
	old.csrf()
	if old.cookie("signet.csrf-token") == csrfWithA {
		t.Error("a CSRF cookie made with the retired secret was kept")
	}
}

// TestTamperedSessionCookie: any change to the session cookie is refused,
// the cookie cleared and the reason logged; nothing panics.
func TestTamperedSessionCookie(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	good := b.cookie("signet.session-token")
	stateLike := func() string {
		v, err := e.auth.flowKeys.seal(sealState, []byte(`{"v":"x","p":"oidc"}`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	sealedAs := func(name string) string {
		v, err := e.auth.sessionKeys.seal(name, []byte("{}"))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	other := func() string {
		k, _ := newKeyring([]string{testSecretB}, "signet session", time.Hour)
		rec, _ := encodeRecord(&Record{Provider: "oidc", Subject: "mallory", Expires: time.Now().Add(time.Hour)})
		v, _ := k.seal(sessionSealName, rec)
		return v
	}
	tests := []struct {
		name, value string
	}{
		{"first char changed", flipChar(good, 0)},
		{"middle char changed", flipChar(good, len(good)/2)},
		{"last char changed", flipChar(good, -1)},
		{"truncated by one", good[:len(good)-1]},
		{"truncated by half", good[:len(good)/2]},
		{"extended", good + "AAAA"},
		{"doubled", good + good},
		{"empty", ""},
		{"not base64", "%%%%***"},
		{"pipes", "a|b|c"},
		{"a state cookie", stateLike()},
		{"sealed under another name", sealedAs("state")},
		{"sealed with another secret", other()},
		{"unsealed record", base64.URLEncoding.EncodeToString([]byte(`{"v":1,"p":"oidc","e":99999999999}`))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, e.app.URL+"/api/auth/session", nil)
			req.AddCookie(&http.Cookie{Name: "signet.session-token", Value: tt.value})
			w := e.serve(req)
			if got := w.Body.String(); got != "null" {
				t.Fatalf("session = %s, want null", got)
			}
			if tt.value == "" {
				return // an empty cookie is no session at all
			}
			cleared := false
			for _, c := range w.Result().Cookies() {
				if c.Name == "signet.session-token" && c.MaxAge < 0 {
					cleared = true
				}
			}
			if !cleared {
				t.Error("the bad cookie was not cleared")
			}
			e.wantLog(t, "session cookie rejected")
			// The protected page sends the browser to sign in.
			req = httptest.NewRequest(http.MethodGet, e.app.URL+"/profile", nil)
			req.AddCookie(&http.Cookie{Name: "signet.session-token", Value: tt.value})
			if got, want := e.serve(req).Code, http.StatusFound; got != want {
				t.Errorf("/profile status %d, want %d", got, want)
			}
		})
	}
	// The original still works: tampering with copies changed nothing.
	if b.session() == nil {
		t.Error("the good session stopped working")
	}
}
