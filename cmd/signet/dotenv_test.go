package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseDotenv(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
		err  string
	}{
		{"plain", "A=1\nB=two", map[string]string{"A": "1", "B": "two"}, ""},
		{"comments and blanks", "# c\n\nA=1 # trailing\n", map[string]string{"A": "1"}, ""},
		{"export", "export A=1", map[string]string{"A": "1"}, ""},
		{"double quotes", `A="x # y\n\"z\""`, map[string]string{"A": "x # y\n\"z\""}, ""},
		{"single quotes", `A='x\ny'`, map[string]string{"A": `x\ny`}, ""},
		{"empty value", "A=", map[string]string{"A": ""}, ""},
		{"equals in value", "A=b=c", map[string]string{"A": "b=c"}, ""},
		{"no equals", "JUSTAWORD", nil, ".env:1: expected KEY=VALUE"},
		{"unterminated", "\nA=\"abc", nil, ".env:2: A has an unterminated quote"},
		{"space in key", "A B=1", nil, ".env:1: expected KEY=VALUE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDotenv(".env", bufio.NewScanner(strings.NewReader(tt.in)))
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestLoadEnvPrecedence(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(".env", "A=env\nB=env\nC=env\n")
	write(".env.local", "B=local\nC=local\n")
	real := map[string]string{"C": "real"}
	getenv, err := loadEnv(dir, func(k string) string { return real[k] })
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"A": "env", "B": "local", "C": "real", "D": ""} {
		if got := getenv(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

func TestLoadEnvMissingFiles(t *testing.T) {
	getenv, err := loadEnv(t.TempDir(), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if got := getenv("AUTH_SECRET"); got != "" {
		t.Errorf("got %q, want empty", got)
	}
}
