package auth

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
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

// The variables ConfigFromEnv reads besides the providers' own.
const (
	EnvSecret    = "AUTH_SECRET"
	EnvURL       = "AUTH_URL"
	EnvTrustHost = "AUTH_TRUST_HOST"
	// EnvSessionStrategy picks the session strategy: "cookie" (the
	// default) or "server".
	EnvSessionStrategy = "AUTH_SESSION_STRATEGY"
	// EnvStore names the Store. ConfigFromEnv does not open it (the Redis
	// store lives in a package of its own): the app does, and only checks
	// here that the name is known.
	EnvStore = "AUTH_STORE"
)

// ConfigFromEnv reads Auth.js's environment variables into the parts of a
// Config they set, and checks them:
//
//   - the providers: every preset whose AUTH_<ID>_ID is set, with
//     AUTH_<ID>_SECRET and AUTH_<ID>_ISSUER (see Presets);
//   - Secrets from AUTH_SECRET, a comma-separated list (the first encrypts);
//   - URL from AUTH_URL, the app's public URL; a path other than "/" is the
//     base path of the /api/auth routes;
//   - TrustHost from AUTH_TRUST_HOST: true, 1, yes or on; false, 0, no or
//     off; empty is false. Unlike Auth.js, "false" means false.
//
// With no provider configured the Config has none, and a missing
// AUTH_SECRET is no error: that is development, where the caller supplies a
// provider (cmd/signet runs its development IdP) and a secret. With a
// provider, AUTH_SECRET must be set, and every secret in it at least
// MinSecretLength characters and random-looking.
//
// environ lists the variables that are set, as os.Environ returns them
// ("NAME=value") or as bare names; it may be nil. Unknown AUTH_* variables
// in it get a warning naming the closest known variable, so that a typo
// does not silently leave a provider out.
//
// The first problem is returned as a *ConfigError; warnings are one line
// each, for the log.
func ConfigFromEnv(getenv func(string) string, environ []string) (cfg Config, warnings []string, err error) {
	r := envReader{getenv: getenv}
	warnings = r.unknownVars(environ)
	cfg, err = r.read()
	return cfg, append(warnings, r.warnings...), err
}

// ProvidersFromEnv builds a provider for every preset whose
// AUTH_<PROVIDER>_ID is set, with AUTH_<PROVIDER>_SECRET and
// AUTH_<PROVIDER>_ISSUER. It reports the first problem as a *ConfigError.
// ConfigFromEnv reads the rest of the configuration too.
func ProvidersFromEnv(getenv func(string) string) ([]*Provider, error) {
	r := envReader{getenv: getenv}
	return r.providers()
}

// envReader reads one environment, collecting warnings.
type envReader struct {
	getenv   func(string) string
	warnings []string
	// typos maps a known variable to the unknown one that looks like a
	// misspelling of it, to point at it when the known one is missing.
	typos map[string]string
}

func (r *envReader) warnf(format string, args ...any) {
	r.warnings = append(r.warnings, fmt.Sprintf(format, args...))
}

func (r *envReader) read() (Config, error) {
	var cfg Config
	if raw := r.getenv(EnvURL); strings.TrimSpace(raw) != "" {
		v := raw
		u, err := checkAuthURL(v)
		if err != nil {
			return cfg, err
		}
		if u.Scheme == "http" && !isLoopback(u.Hostname()) {
			r.warnf("%s %q uses plain http on a host that is not loopback: cookies are not Secure; use https in production", EnvURL, v)
		}
		cfg.URL = v
	}
	trust, err := parseEnvBool(EnvTrustHost, r.getenv(EnvTrustHost))
	if err != nil {
		return cfg, err
	}
	cfg.TrustHost = trust
	switch v := strings.TrimSpace(r.getenv(EnvSessionStrategy)); strings.ToLower(v) {
	case "", string(StrategyCookie):
		cfg.Session.Strategy = StrategyCookie
	case string(StrategyServer):
		cfg.Session.Strategy = StrategyServer
	default:
		return cfg, &ConfigError{EnvSessionStrategy, fmt.Sprintf("%q is neither cookie (the session in an encrypted cookie) nor server (in AUTH_STORE, the cookie holds an id)", v)}
	}
	if cfg.Providers, err = r.providers(); err != nil {
		return cfg, err
	}
	cfg.Secrets = ParseSecrets(r.getenv(EnvSecret))
	development := len(cfg.Providers) == 0
	if len(cfg.Secrets) == 0 {
		if development {
			return cfg, nil
		}
		return cfg, &ConfigError{EnvSecret, `is empty: set it to at least 32 random characters (run "signet secret" to write one to .env.local, or use openssl rand -base64 32)`}
	}
	for i, s := range cfg.Secrets {
		problem := weakSecret(s)
		if problem == "" {
			continue
		}
		which := "the secret"
		if len(cfg.Secrets) > 1 {
			which = fmt.Sprintf("secret %d of %d", i+1, len(cfg.Secrets))
		}
		msg := which + " " + problem + `: set a random one of at least 32 characters (run "signet secret" to make one)`
		if development {
			r.warnf("%s: %s (accepted in development only)", EnvSecret, msg)
			continue
		}
		return cfg, &ConfigError{EnvSecret, msg}
	}
	return cfg, nil
}

// providers builds a provider for every preset whose variables are set.
func (r *envReader) providers() ([]*Provider, error) {
	var out []*Provider
	for _, pr := range Presets() {
		pre := EnvName(pr.ID)
		idVar, secretVar, issuerVar := pre+"ID", pre+"SECRET", pre+"ISSUER"
		id := strings.TrimSpace(r.getenv(idVar))
		secret := r.getenv(secretVar)
		issuer := strings.TrimSpace(r.getenv(issuerVar))
		if id == "" && secret == "" && issuer == "" {
			continue
		}
		if id == "" {
			return nil, &ConfigError{idVar, "is empty while " + secretVar + " or " + issuerVar + " is set: set it to the client id registered at " + pr.Name + r.typoHint(idVar)}
		}
		if issuer == "" {
			issuer = pr.DefaultIssuer
		}
		if issuer == "" {
			return nil, &ConfigError{issuerVar, "is empty: set it to " + pr.Name + "'s issuer URL, e.g. " + pr.IssuerExample + " (its discovery document is <issuer>/.well-known/openid-configuration)" + r.typoHint(issuerVar)}
		}
		if err := checkIssuer(issuer, pr.IssuerExample); err != nil {
			return nil, &ConfigError{issuerVar, err.Error()}
		}
		if pr.issuerAdvice != nil {
			if u, err := url.Parse(issuer); err == nil {
				if advice := pr.issuerAdvice(u); advice != "" {
					r.warnf("%s %q may be wrong: %s", issuerVar, issuer, advice)
				}
			}
		}
		if secret == "" {
			if !pr.PublicClient {
				return nil, &ConfigError{secretVar, "is empty: set it to the client secret " + pr.Name + " issued for client " + strconv.Quote(id) + " (" + pr.Name + " requires one for web apps)" + r.typoHint(secretVar)}
			}
			r.warnf("%s is empty: signing in to %s as a public client (PKCE, no client secret); set it if the client registered at %s is confidential", secretVar, pr.Name, pr.Name)
		}
		p := pr.New(issuer, id, secret)
		if err := r.scope(p, pre+"SCOPE"); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// typoHint points at an unknown variable that looks like a misspelling of
// name, or returns "".
func (r *envReader) typoHint(name string) string {
	if t := r.typos[name]; t != "" {
		return " (" + t + " is set: a typo?)"
	}
	return ""
}

// CheckIssuer accepts an absolute https URL, or http on a loopback host
// (localhost, 127.0.0.0/8, ::1) for development.
func CheckIssuer(issuer string) error {
	return checkIssuer(issuer, "https://idp.example.com/realms/app")
}

func checkIssuer(issuer, example string) error {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%q is not an absolute http(s) URL: set it to the issuer URL, e.g. %s", issuer, example)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q has a query or fragment: set it to the issuer URL alone, e.g. %s", issuer, example)
	}
	if strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/.well-known/openid-configuration") {
		return fmt.Errorf("%q is the discovery document's URL: set the issuer, without /.well-known/openid-configuration", issuer)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return fmt.Errorf("%q uses plain http on a host that is not loopback: use https (http is allowed only for localhost, 127.0.0.1 and ::1)", issuer)
	}
	return nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkAuthURL accepts an absolute http(s) URL without query or fragment,
// written as it will be used: no surrounding spaces, a lower-case scheme,
// a port (if any) from 1 to 65535.
func checkAuthURL(v string) (*url.URL, error) {
	if strings.TrimSpace(v) != v {
		return nil, &ConfigError{EnvURL, fmt.Sprintf("%q has leading or trailing spaces: remove them", v)}
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.Opaque != "" {
		return nil, &ConfigError{EnvURL, fmt.Sprintf("%q is not an absolute URL: set it to the app's public URL, e.g. https://app.example.com", v)}
	}
	if !strings.HasPrefix(v, u.Scheme+"://") {
		return nil, &ConfigError{EnvURL, fmt.Sprintf("%q has an upper-case scheme: write it %s://", v, u.Scheme)}
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, &ConfigError{EnvURL, fmt.Sprintf("%q has port %s, which is not from 1 to 65535", v, p)}
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return nil, &ConfigError{EnvURL, fmt.Sprintf("%q has an empty port", v)}
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, &ConfigError{EnvURL, fmt.Sprintf("%q has a query, fragment or user: set it to the app's public URL and, if the auth routes are not at /api/auth, their base path, e.g. https://app.example.com/auth-api", v)}
	}
	return u, nil
}

// parseEnvBool reads a boolean variable: true, 1, yes, on; false, 0, no,
// off (any case); empty is false.
func parseEnvBool(name, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no", "off":
		return false, nil
	case "1", "true", "yes", "on":
		return true, nil
	}
	return false, &ConfigError{name, fmt.Sprintf("%q is not a boolean: set it to true or false", v)}
}

// placeholders are words that betray a secret somebody typed rather than
// generated. Each is long enough never to turn up by chance in 32 random
// characters.
var placeholders = []string{
	"changeme", "change_me", "change-me", "secret", "password", "passwd",
	"example", "replace", "placeholder", "default", "qwerty", "123456",
	"abcdef", "letmein", "insecure", "notsecure", "development",
}

// weakSecret says why s is not a strong AUTH_SECRET, or returns "".
func weakSecret(s string) string {
	if n := len(s); n < MinSecretLength {
		return fmt.Sprintf("is %d characters, fewer than %d", n, MinSecretLength)
	}
	lower := strings.ToLower(s)
	for _, w := range placeholders {
		if strings.Contains(lower, w) {
			return fmt.Sprintf("is not random (it contains %q)", w)
		}
	}
	distinct := map[rune]bool{}
	for _, c := range s {
		distinct[c] = true
	}
	switch n := len(distinct); {
	case n == 1:
		return "is not random (it repeats one character)"
	case n < 10:
		return fmt.Sprintf("is not random (it has only %d distinct characters)", n)
	}
	steps := 0
	for i := 1; i < len(s); i++ {
		if d := int(s[i]) - int(s[i-1]); d == 1 || d == -1 {
			steps++
		}
	}
	if steps*2 > len(s) {
		return "is not random (it runs through consecutive characters)"
	}
	return ""
}

// knownVars lists every variable ConfigFromEnv reads.
func knownVars() []string {
	out := []string{EnvSecret, EnvURL, EnvTrustHost, EnvSessionStrategy, EnvStore}
	for _, pr := range Presets() {
		pre := EnvName(pr.ID)
		out = append(out, pre+"ID", pre+"SECRET", pre+"ISSUER", pre+"SCOPE")
	}
	return out
}

// providerAliases are provider names Auth.js used before, or that people
// reach for, and the preset to use instead.
var providerAliases = map[string]string{
	"AZURE_AD":    "microsoft-entra-id",
	"AZURE":       "microsoft-entra-id",
	"ENTRA":       "microsoft-entra-id",
	"ENTRA_ID":    "microsoft-entra-id",
	"MICROSOFT":   "microsoft-entra-id",
	"AWS_COGNITO": "cognito",
	"OPENID":      "oidc",
}

// fieldSynonyms maps what people write after AUTH_<PROVIDER>_ to the
// variable Signet reads.
var fieldSynonyms = map[string]string{
	"ID": "ID", "CLIENT_ID": "ID", "CLIENTID": "ID", "APP_ID": "ID",
	"SECRET": "SECRET", "CLIENT_SECRET": "SECRET", "CLIENTSECRET": "SECRET",
	"ISSUER": "ISSUER", "ISSUER_URL": "ISSUER", "ISSUER_BASE_URL": "ISSUER", "URL": "ISSUER",
	"DOMAIN": "ISSUER", "WELL_KNOWN": "ISSUER", "AUTHORITY": "ISSUER",
}

// unknownVars warns about every AUTH_* (and next-auth v4 NEXTAUTH_*)
// variable in environ that ConfigFromEnv does not read, and remembers
// likely typos of known variables for the error messages.
func (r *envReader) unknownVars(environ []string) []string {
	known := knownVars()
	var out []string
	seen := map[string]bool{}
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if seen[name] || slices.Contains(known, name) {
			continue
		}
		seen[name] = true
		switch {
		case strings.HasPrefix(name, "NEXTAUTH_"):
			if next := "AUTH_" + strings.TrimPrefix(name, "NEXTAUTH_"); slices.Contains(known, next) {
				out = append(out, fmt.Sprintf("%s is next-auth v4's name and is not read: rename it %s", name, next))
			} else {
				out = append(out, fmt.Sprintf("%s is next-auth v4's name and is not read", name))
			}
			continue
		case !strings.HasPrefix(name, "AUTH_"):
			continue
		case strings.HasPrefix(name, EnvSecret+"_") && isDigits(strings.TrimPrefix(name, EnvSecret+"_")):
			out = append(out, fmt.Sprintf("%s is not read: Signet rotates secrets with a comma-separated %s, the new secret first, so add it there after the current one", name, EnvSecret))
			continue
		}
		if s := suggest(name, known); s != "" {
			if r.typos == nil {
				r.typos = map[string]string{}
			}
			if _, dup := r.typos[s]; !dup {
				r.typos[s] = name
			}
			out = append(out, fmt.Sprintf("%s is not a variable Signet reads: did you mean %s?", name, s))
			continue
		}
		ids := make([]string, 0, len(Presets()))
		for _, pr := range Presets() {
			ids = append(ids, pr.ID)
		}
		out = append(out, fmt.Sprintf("%s is not a variable Signet reads (it reads %s, %s, %s and AUTH_<PROVIDER>_ID, _SECRET and _ISSUER for the providers %s)",
			name, EnvSecret, EnvURL, EnvTrustHost, strings.Join(ids, ", ")))
	}
	return out
}

// suggest returns the known variable name most likely meant, or "".
func suggest(name string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(name, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" {
		return best
	}
	// AUTH_<PROVIDER>_<FIELD> with a field synonym or a misspelt or renamed
	// provider.
	rest := strings.TrimPrefix(name, "AUTH_")
	fields := make([]string, 0, len(fieldSynonyms))
	for f := range fieldSynonyms {
		fields = append(fields, f)
	}
	// Longest first, so that CLIENT_ID wins over ID.
	slices.SortFunc(fields, func(a, b string) int { return len(b) - len(a) })
	for _, f := range fields {
		prov, ok := strings.CutSuffix(rest, "_"+f)
		if !ok || prov == "" {
			continue
		}
		if id := matchProvider(prov); id != "" {
			return EnvName(id) + fieldSynonyms[f]
		}
	}
	return ""
}

// matchProvider returns the preset id that the upper-case provider part of a
// variable name means, or "".
func matchProvider(prov string) string {
	if id, ok := providerAliases[prov]; ok {
		return id
	}
	best, bestD := "", 3
	for _, pr := range Presets() {
		envID := strings.TrimSuffix(strings.TrimPrefix(EnvName(pr.ID), "AUTH_"), "_")
		if d := editDistance(prov, envID); d < bestD {
			best, bestD = pr.ID, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and transpositions of adjacent
// characters each cost one.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
