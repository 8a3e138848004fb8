package auth

import "strings"

// normalIssuer is the one form of an issuer identifier that every
// comparison and every stored key uses: without trailing slashes. An IdP
// that writes its issuer with a slash in one place and without in another
// (a front-channel logout's iss, a configured issuer) still names one
// issuer.
func normalIssuer(iss string) string {
	return strings.TrimRight(iss, "/")
}

// sameIssuer reports whether a and b name the same issuer.
func sameIssuer(a, b string) bool {
	return normalIssuer(a) == normalIssuer(b)
}
