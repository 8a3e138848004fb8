package auth

import (
	"net/http"
	"net/url"
	"strings"
)

// MaxReturnPathBytes bounds a return path (where a sign-in lands, the
// callbackUrl of the sign-in page): a longer one is replaced by "/", so a
// huge request URI is never reflected into a Location header or a form.
const MaxReturnPathBytes = 2 << 10

// localPath is the one same-origin check every redirect, return path and
// callbackUrl goes through. It returns target's path, query and fragment
// when target is on base's origin, and ok == false otherwise. Accepted: a
// path starting with a single "/" (not "//" or "/\", which browsers read
// as another host), or, when base is not nil, an absolute http(s) URL with
// base's scheme and host. Refused: other origins, protocol-relative URLs,
// user info, backslashes, control characters, javascript: and every other
// scheme, and anything whose path, query and fragment are longer than
// MaxReturnPathBytes.
func localPath(target string, base *url.URL) (string, bool) {
	if target == "" {
		return "", false
	}
	for i := 0; i < len(target); i++ {
		if c := target[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return "", false
		}
	}
	u, err := url.Parse(target)
	if err != nil || u.User != nil || u.Opaque != "" {
		return "", false
	}
	if strings.HasPrefix(target, "/") {
		if strings.HasPrefix(target, "//") || u.Scheme != "" || u.Host != "" {
			return "", false
		}
	} else if base == nil || !strings.EqualFold(u.Scheme, base.Scheme) || !strings.EqualFold(u.Host, base.Host) {
		return "", false
	}
	p := u.RequestURI() + fragment(u)
	if strings.HasPrefix(p, "//") || len(p) > MaxReturnPathBytes {
		return "", false
	}
	return p, true
}

func fragment(u *url.URL) string {
	if u.Fragment == "" {
		return ""
	}
	return "#" + u.EscapedFragment()
}

// sameOrigin returns target as an absolute URL on base's origin when
// localPath accepts it.
func sameOrigin(target string, base *url.URL) (string, bool) {
	p, ok := localPath(target, base)
	if !ok {
		return "", false
	}
	return base.Scheme + "://" + base.Host + p, true
}

// relativeTo returns u's path, query and fragment when localPath accepts
// it on origin, else "/".
func relativeTo(u, origin string) string {
	base, err := url.Parse(origin)
	if err != nil {
		return "/"
	}
	if p, ok := localPath(u, base); ok {
		return p
	}
	return "/"
}

// ReturnPath returns p when it is a path on this app fit to return to
// after a sign-in (see localPath), and "/" otherwise.
func ReturnPath(p string) string {
	if lp, ok := localPath(p, nil); ok {
		return lp
	}
	return "/"
}

// CurrentPath is the page a request is about, as a return path: the
// request's own path and query, or, for an htmx request, the page it came
// from (HX-Current-URL) when that is on the app's origin; "/" when neither
// is fit to return to.
func (a *Auth) CurrentPath(r *http.Request) string {
	if wantsHTMX(r) {
		if p, ok := localPath(r.Header.Get("HX-Current-URL"), a.originURL(r)); ok {
			return p
		}
		return "/"
	}
	return ReturnPath(r.URL.RequestURI())
}
