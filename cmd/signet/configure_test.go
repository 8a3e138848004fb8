package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func mapEnv(m map[string]string) (func(string) string, []string) {
	var names []string
	for k := range m {
		names = append(names, k)
	}
	return func(k string) string { return m[k] }, names
}

// TestEnvNames lists the variables of the real environment and the .env
// files, keeping only those the (injected) getenv answers.
func TestEnvNames(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("AUTH_OIDC_ISSEUR=x\nAUTH_EMPTY=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AUTH_FROM_OS", "1")
	t.Setenv("AUTH_NOT_INJECTED", "1")
	env := map[string]string{"AUTH_OIDC_ISSEUR": "x", "AUTH_FROM_OS": "1"}
	got := envNames(dir, func(k string) string { return env[k] })
	if want := []string{"AUTH_FROM_OS", "AUTH_OIDC_ISSEUR"}; !slices.Equal(got, want) {
		t.Errorf("envNames = %q, want %q", got, want)
	}
}
