package auth

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestEnvScope(t *testing.T) {
	base := map[string]string{
		"AUTH_SECRET":      "q3v9Zr7LwX2pN8kT4mB6yH1sD5fG0jCa",
		"AUTH_OIDC_ID":     "app",
		"AUTH_OIDC_SECRET": "s3cr3t",
		"AUTH_OIDC_ISSUER": "https://idp.example.com",
	}
	tests := []struct {
		name, scope string
		want        []string
		errVar      string
	}{
		{"unset: the preset's", "", []string{"openid", "profile", "email"}, ""},
		{"spaces", "openid profile email read:reports", []string{"openid", "profile", "email", "read:reports"}, ""},
		{"commas", " openid,email , read:reports ", []string{"openid", "email", "read:reports"}, ""},
		{"without openid", "profile read:reports", nil, "AUTH_OIDC_SCOPE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"AUTH_OIDC_SCOPE": tt.scope}
			for k, v := range base {
				env[k] = v
			}
			var environ []string
			for k := range env {
				environ = append(environ, k+"="+env[k])
			}
			cfg, warnings, err := ConfigFromEnv(func(k string) string { return env[k] }, environ)
			if tt.errVar != "" {
				var ce *ConfigError
				if !errors.As(err, &ce) || ce.Var != tt.errVar || !strings.Contains(ce.Problem, "openid") {
					t.Fatalf("err = %v, want a ConfigError for %s", err, tt.errVar)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range warnings {
				if strings.Contains(w, "SCOPE") {
					t.Errorf("warning about AUTH_OIDC_SCOPE: %s", w)
				}
			}
			if got := cfg.Providers[0].scopes(); !slices.Equal(got, tt.want) {
				t.Errorf("scopes = %v, want %v", got, tt.want)
			}
		})
	}
}
