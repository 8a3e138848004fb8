package auth

import (
	"slices"
	"strconv"
	"strings"
)

// scope sets p.Scopes from the variable name (AUTH_<PROVIDER>_SCOPE) when
// it is set: the scopes to request, separated by spaces (or commas), for
// example "openid profile email read:reports". openid must be among them.
// Unset, the provider keeps its preset's scopes.
func (r *envReader) scope(p *Provider, name string) error {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return nil
	}
	scopes := strings.Fields(strings.ReplaceAll(v, ",", " "))
	if !slices.Contains(scopes, "openid") {
		return &ConfigError{name, strconv.Quote(v) + " lacks openid: list every scope to request, openid first, e.g. \"openid profile email read:reports\""}
	}
	p.Scopes = scopes
	return nil
}
