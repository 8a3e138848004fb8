package auth

import (
	"net/url"
	"strings"
)

// sameOrigin returns target as a URL on base's origin when it is one, and
// ok == false otherwise. Accepted: a path starting with a single "/" (not
// "//" or "/\"), or an absolute http(s) URL with base's scheme and host.
// Rejected: other origins, protocol-relative URLs, backslashes, control
// characters, javascript: and every other scheme.
func sameOrigin(target string, base *url.URL) (string, bool) {
	if target == "" || len(target) > 2048 {
		return "", false
	}
	for _, r := range target {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return "", false
		}
	}
	if strings.HasPrefix(target, "/") {
		if strings.HasPrefix(target, "//") {
			return "", false
		}
		u, err := url.Parse(target)
		if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
			return "", false
		}
		return base.Scheme + "://" + base.Host + u.RequestURI() + fragment(u), true
	}
	u, err := url.Parse(target)
	if err != nil || u.User != nil || u.Opaque != "" {
		return "", false
	}
	if !strings.EqualFold(u.Scheme, base.Scheme) || !strings.EqualFold(u.Host, base.Host) {
		return "", false
	}
	return base.Scheme + "://" + base.Host + u.RequestURI() + fragment(u), true
}

func fragment(u *url.URL) string {
	if u.Fragment == "" {
		return ""
	}
	return "#" + u.EscapedFragment()
}

// RedirectParams are the Redirect callback's inputs.
type RedirectParams struct {
	// URL is where the flow was asked to land: callbackUrl or redirectTo.
	URL string
	// BaseURL is the app's origin, e.g. "https://app.example.com".
	BaseURL string
}

// DefaultRedirect is the default Redirect callback: a relative path or a URL
// of the app's own origin is kept, anything else becomes BaseURL (Auth.js's
// rule, with the protocol-relative and backslash tricks refused).
func DefaultRedirect(p RedirectParams) string {
	base, err := url.Parse(p.BaseURL)
	if err != nil {
		return "/"
	}
	if u, ok := sameOrigin(p.URL, base); ok {
		return u
	}
	return base.Scheme + "://" + base.Host + "/"
}
