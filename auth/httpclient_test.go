package auth

import (
	"net/http"
	"testing"
	"time"
)

// TestDefaultHTTPClientIdleTimeout: without Config.HTTPClient, Signet's
// client drops idle connections before a Node.js identity provider (5 s
// keep-alive) closes them; http.DefaultTransport keeps them 90 s, and a
// code exchange written to a connection as the server closes it failed
// with "connection reset by peer".
func TestDefaultHTTPClientIdleTimeout(t *testing.T) {
	a, err := New(Config{Providers: []*Provider{NewProvider("p", "P", "https://idp.example", "id", "secret")}, Secrets: []string{"0123456789abcdef0123456789abcdef"}})
	if err != nil {
		t.Fatal(err)
	}
	tr, ok := a.client.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("the default client's transport is %T, want an *http.Transport of its own", a.client.Transport)
	}
	if tr == http.DefaultTransport {
		t.Fatalf("the default client shares http.DefaultTransport")
	}
	if d := tr.IdleConnTimeout; d <= 0 || d >= 5*time.Second {
		t.Errorf("IdleConnTimeout = %v, want above 0 and below Node.js's 5 s keep-alive", d)
	}
	if a.client.Timeout != 10*time.Second {
		t.Errorf("Timeout = %v, want 10 s", a.client.Timeout)
	}
	custom := &http.Client{}
	b, err := New(Config{Providers: []*Provider{NewProvider("p", "P", "https://idp.example", "id", "secret")}, Secrets: []string{"0123456789abcdef0123456789abcdef"}, HTTPClient: custom})
	if err != nil {
		t.Fatal(err)
	}
	if b.client != custom {
		t.Errorf("Config.HTTPClient was not used")
	}
}
