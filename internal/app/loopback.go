package app

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// sameLoopbackOrigin sends a browser that reached the app by another name
// of this machine (http://127.0.0.1:3000 or http://[::1]:3000 when the app
// is http://localhost:3000, or the other way round) to origin, keeping
// the path and query, before anything else runs. Cookies belong to one
// host name and the development IdP knows one redirect URI, so a sign-in
// must start and end on the origin the app was configured with. Requests
// on other hosts or ports (a proxy in front, another machine) and the
// paths in exempt (health checks) pass through.
//
// It is meant for the development setup with no AUTH_URL, where origin is
// http://localhost:PORT; next is returned unchanged when origin is not a
// loopback origin.
func sameLoopbackOrigin(origin string, exempt []string, next http.Handler) http.Handler {
	u, err := url.Parse(origin)
	if err != nil || !isLoopbackHost(u.Hostname()) {
		return next
	}
	canonical, port := u.Hostname(), u.Port()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, reqPort, err := net.SplitHostPort(r.Host)
		if err != nil || reqPort != port || !isLoopbackHost(host) || strings.EqualFold(strings.TrimSuffix(host, "."), canonical) {
			next.ServeHTTP(w, r)
			return
		}
		for _, p := range exempt {
			if r.URL.Path == p {
				next.ServeHTTP(w, r)
				return
			}
		}
		// Temporary: another run may serve this port with another
		// AUTH_URL, and a browser keeps permanent redirects.
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, u.Scheme+"://"+u.Host+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	})
}

// isLoopbackHost reports whether host names this machine's loopback
// interface: localhost (or a name under .localhost, which browsers resolve
// to loopback), 127.0.0.0/8 or ::1.
func isLoopbackHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
