package auth

import "strings"

// MaxReturnPathBytes bounds a return path (where a sign-in lands, the
// callbackUrl of the sign-in page): a longer one is replaced by "/", so a
// huge request URI is never reflected into a Location header or a form.
const MaxReturnPathBytes = 2 << 10

// ReturnPath returns p when it is a path on this app fit to return to
// after a sign-in: at most MaxReturnPathBytes, starting with a single "/"
// (not "//" or "/\", which browsers read as another host), without control
// characters. Anything else becomes "/".
func ReturnPath(p string) string {
	if len(p) > MaxReturnPathBytes || !strings.HasPrefix(p, "/") ||
		strings.HasPrefix(p, "//") || strings.HasPrefix(p, `/\`) {
		return "/"
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	return p
}
