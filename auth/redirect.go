package auth

import "net/url"

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
