package auth

import (
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// chunkSize is the largest cookie value Signet writes before it splits the
// session into name.0, name.1, … — Auth.js's 4096 minus room for the name and
// attributes.
const chunkSize = 4096 - 160

// maxChunks bounds the chunks of one cookie that are read or expired:
// name.0 … name.15, about 62 KB, more than any browser or proxy passes in
// one request. Other name.N cookies a request carries (a forged
// name.2900) are ignored, so they cannot make a response expire each.
const maxChunks = 16

// cookieNames are the names of every cookie Signet sets. On https they carry
// the __Secure- prefix (and __Host- for the CSRF cookie), like Auth.js.
type cookieNames struct {
	session, csrf, callbackURL, pkce, state, nonce, logoutState string
}

func newCookieNames(prefix string, secure bool) cookieNames {
	p, host := "", ""
	if secure {
		p, host = "__Secure-", "__Host-"
	}
	return cookieNames{
		session:     p + prefix + ".session-token",
		csrf:        host + prefix + ".csrf-token",
		callbackURL: p + prefix + ".callback-url",
		pkce:        p + prefix + ".pkce.code_verifier",
		state:       p + prefix + ".state",
		nonce:       p + prefix + ".nonce",
		logoutState: p + prefix + ".logout-state",
	}
}

func (n cookieNames) all() []string {
	return []string{n.session, n.csrf, n.callbackURL, n.pkce, n.state, n.nonce, n.logoutState}
}

// cookieWriter writes cookies with Signet's attributes: HttpOnly,
// SameSite=Lax, Path=/, Secure on https.
type cookieWriter struct {
	names  cookieNames
	secure bool
}

func (j cookieWriter) set(w http.ResponseWriter, name, value string, expires time.Time) {
	c := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		Secure:   j.secure,
		SameSite: http.SameSiteLaxMode,
	}
	if !expires.IsZero() {
		c.Expires = expires.UTC()
	}
	http.SetCookie(w, c)
}

func (j cookieWriter) clear(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    "",
		Path:     "/",
		HttpOnly: true,
		Secure:   j.secure,
		SameSite: http.SameSiteLaxMode,
		MaxAge:   -1,
		Expires:  time.Unix(0, 0),
	})
}

// setChunked writes value under name, split into name.0, name.1, … when it
// is longer than chunkSize, and expires every chunk of an earlier, longer
// value that the request still carries.
func (j cookieWriter) setChunked(w http.ResponseWriter, r *http.Request, name, value string, expires time.Time) {
	old := chunkNames(r, name)
	written := map[string]bool{}
	if len(value) <= chunkSize {
		j.set(w, name, value, expires)
		written[name] = true
	} else {
		for i := 0; len(value) > 0; i++ {
			n := min(chunkSize, len(value))
			cn := name + "." + strconv.Itoa(i)
			j.set(w, cn, value[:n], expires)
			written[cn] = true
			value = value[n:]
		}
	}
	for _, n := range old {
		if !written[n] {
			j.clear(w, n)
		}
	}
}

// clearChunked expires name and every name.N chunk the request carries.
func (j cookieWriter) clearChunked(w http.ResponseWriter, r *http.Request, name string) {
	names := chunkNames(r, name)
	if len(names) == 0 {
		names = []string{name}
	}
	for _, n := range names {
		j.clear(w, n)
	}
}

// readChunked returns the value stored under name: the cookie itself, or the
// concatenation of name.0 … name.N in numeric order. A gap in the chunk
// sequence means a chunk went missing and yields ok == false.
func readChunked(r *http.Request, name string) (value string, ok bool) {
	var whole *http.Cookie
	type chunk struct {
		i int
		v string
	}
	var chunks []chunk
	for _, c := range r.Cookies() {
		if c.Name == name {
			whole = c
			continue
		}
		rest, found := strings.CutPrefix(c.Name, name+".")
		if !found {
			continue
		}
		i, ok := chunkIndex(rest)
		if !ok {
			continue
		}
		chunks = append(chunks, chunk{i, c.Value})
	}
	if len(chunks) == 0 {
		if whole == nil {
			return "", false
		}
		return whole.Value, true
	}
	sort.Slice(chunks, func(a, b int) bool { return chunks[a].i < chunks[b].i })
	var sb strings.Builder
	for want, c := range chunks {
		if c.i != want {
			return "", false
		}
		sb.WriteString(c.v)
	}
	return sb.String(), true
}

// chunkNames lists the request's cookies that are name or name.N with N
// below maxChunks, each once.
func chunkNames(r *http.Request, name string) []string {
	var out []string
	for _, c := range r.Cookies() {
		n := c.Name
		if n != name {
			rest, found := strings.CutPrefix(n, name+".")
			if !found {
				continue
			}
			if _, ok := chunkIndex(rest); !ok {
				continue
			}
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// chunkIndex parses a chunk's index: a decimal number without leading
// zeros below maxChunks.
func chunkIndex(s string) (int, bool) {
	i, err := strconv.Atoi(s)
	if err != nil || i < 0 || i >= maxChunks || strconv.Itoa(i) != s {
		return 0, false
	}
	return i, true
}
