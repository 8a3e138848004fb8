package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecretRaw(t *testing.T) {
	var out bytes.Buffer
	if err := runSecret([]string{"-raw"}, &out); err != nil {
		t.Fatal(err)
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(out.String()))
	if err != nil || len(b) != 32 {
		t.Fatalf("got %q (%d bytes, err %v), want 32 random bytes base64-encoded", out.String(), len(b), err)
	}
}

func TestSecretWritesEnvLocal(t *testing.T) {
	file := filepath.Join(t.TempDir(), ".env.local")
	if err := os.WriteFile(file, []byte("AUTH_OIDC_ID=app\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := runSecret([]string{"-file", file}, &out); err != nil {
		t.Fatal(err)
	}
	vals, err := readDotenv(file)
	if err != nil {
		t.Fatal(err)
	}
	if vals["AUTH_OIDC_ID"] != "app" {
		t.Errorf("existing line lost: %v", vals)
	}
	first := vals["AUTH_SECRET"]
	if len(first) != 44 {
		t.Fatalf("AUTH_SECRET = %q, want 44 base64 characters", first)
	}
	// A second run keeps the secret unless forced.
	if err := runSecret([]string{"-file", file}, &out); err == nil || !strings.Contains(err.Error(), "-force") {
		t.Fatalf("second run: err = %v, want a refusal that mentions -force", err)
	}
	if err := runSecret([]string{"-file", file, "-force"}, &out); err != nil {
		t.Fatal(err)
	}
	vals, _ = readDotenv(file)
	if vals["AUTH_SECRET"] == first || len(vals["AUTH_SECRET"]) != 44 {
		t.Errorf("forced run: AUTH_SECRET = %q, want a new secret", vals["AUTH_SECRET"])
	}
	if info, _ := os.Stat(file); info.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", info.Mode().Perm())
	}
}
