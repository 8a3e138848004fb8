package auth

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ConfigError is a configuration problem found at start-up. Its message is
// one line that names the variable and says how to fix it.
type ConfigError struct {
	Var     string
	Problem string
}

func (e *ConfigError) Error() string { return e.Var + ": " + e.Problem }

// EnvName is the environment variable prefix for a provider id:
// AUTH_<ID>_ with ID upper-cased and "-" turned into "_".
func EnvName(providerID string) string {
	return "AUTH_" + strings.ToUpper(strings.ReplaceAll(providerID, "-", "_")) + "_"
}

// ProvidersFromEnv builds a provider for every preset whose
// AUTH_<PROVIDER>_ID is set, with AUTH_<PROVIDER>_SECRET and
// AUTH_<PROVIDER>_ISSUER. It reports the first problem as a *ConfigError.
func ProvidersFromEnv(getenv func(string) string) ([]*Provider, error) {
	var out []*Provider
	for _, pr := range Presets() {
		pre := EnvName(pr.ID)
		id, secret, issuer := getenv(pre+"ID"), getenv(pre+"SECRET"), getenv(pre+"ISSUER")
		if id == "" && secret == "" && issuer == "" {
			continue
		}
		if id == "" {
			return nil, &ConfigError{pre + "ID", "is empty while " + pre + "ISSUER or " + pre + "SECRET is set: set it to the client id registered at the identity provider"}
		}
		if issuer == "" {
			return nil, &ConfigError{pre + "ISSUER", "is empty: set it to the identity provider's issuer URL (its discovery document is at <issuer>/.well-known/openid-configuration)"}
		}
		if err := CheckIssuer(issuer); err != nil {
			return nil, &ConfigError{pre + "ISSUER", err.Error()}
		}
		if secret == "" {
			return nil, &ConfigError{pre + "SECRET", "is empty: set it to the client secret the identity provider issued for " + id}
		}
		out = append(out, pr.New(issuer, id, secret))
	}
	return out, nil
}

// CheckIssuer accepts an absolute https URL, or http on a loopback host
// (localhost, 127.0.0.0/8, ::1) for development.
func CheckIssuer(issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%q is not an absolute http(s) URL: use the issuer URL, e.g. https://idp.example.com/realms/app", issuer)
	}
	if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		return fmt.Errorf("%q uses plain http on a host that is not loopback: use https (http is allowed only for localhost, 127.0.0.1 and ::1)", issuer)
	}
	return nil
}

// IsLoopback reports whether host is localhost or a loopback address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
