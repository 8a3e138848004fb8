package handlers

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// hxIfNoneMatch returns the If-None-Match that the element with the id
// sends back in its hx-headers, as htmx would.
func hxIfNoneMatch(t *testing.T, page, id string) string {
	t.Helper()
	m := regexp.MustCompile(`<[a-z]+ id="` + regexp.QuoteMeta(id) + `"[^>]*\bhx-headers="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no element #%s with hx-headers in:\n%s", id, page)
	}
	var headers map[string]string
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &headers); err != nil {
		t.Fatalf("#%s hx-headers = %s: %v", id, m[1], err)
	}
	etag := headers["If-None-Match"]
	if !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) || len(etag) < 10 {
		t.Fatalf("#%s sends If-None-Match %q, want a quoted entity tag", id, etag)
	}
	return etag
}

// TestFragmentsNotModified: a fragment refreshed on focus whose data has
// not changed answers 304, so htmx leaves the element (and the button the
// visitor is pressing) in place; once the state changes it answers 200
// with the new fragment and its new tag.
func TestFragmentsNotModified(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, testAppOptions{})
	c := app.browser()
	htmxAt := func(page string, etag string) map[string]string {
		h := map[string]string{"HX-Request": "true", "HX-Current-URL": app.srv.URL + page}
		if etag != "" {
			h["If-None-Match"] = etag
		}
		return h
	}
	type fragment struct{ page, path, id string }
	check := func(state string, fragments []fragment) map[string]string {
		t.Helper()
		tags := map[string]string{}
		for _, f := range fragments {
			_, page := app.get(c, f.page, nil)
			etag := hxIfNoneMatch(t, page, f.id)
			tags[f.path] = etag
			// The same answer every time while nothing changes; "*" and the
			// weak form match too (RFC 9110 section 13.1.2).
			for _, match := range []string{etag, etag, "W/" + etag, `"x", ` + etag, "*"} {
				resp, body := app.get(c, f.path, htmxAt(f.page, match))
				if resp.StatusCode != http.StatusNotModified || body != "" {
					t.Errorf("%s: GET %s with If-None-Match %s = %d %q, want 304 and no body", state, f.path, match, resp.StatusCode, body)
				}
				if got := resp.Header.Get("ETag"); got != etag {
					t.Errorf("%s: 304 for %s has ETag %q, want %q", state, f.path, got, etag)
				}
				if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("%s: 304 for %s has Cache-Control %q, want no-store", state, f.path, cc)
				}
			}
			for _, other := range []string{"", `"nav-0000000000000000"`, etag[:len(etag)-2] + `"`, "W/"} {
				resp, body := app.get(c, f.path, htmxAt(f.page, other))
				if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="`+f.id+`"`) {
					t.Fatalf("%s: GET %s with If-None-Match %q = %d, want 200 and #%s:\n%s", state, f.path, other, resp.StatusCode, f.id, body)
				}
				if got, inBody := resp.Header.Get("ETag"), hxIfNoneMatch(t, body, f.id); got != etag || inBody != etag {
					t.Errorf("%s: 200 for %s has ETag %q and sends back %q, want %q for both", state, f.path, got, inBody, etag)
				}
			}
		}
		return tags
	}

	signedOut := check("signed out", []fragment{{"/", "/fragments/nav", "nav"}, {"/", "/fragments/home", "home-panel"}})
	app.signIn(c)
	signedIn := check("signed in", []fragment{{"/", "/fragments/nav", "nav"}, {"/", "/fragments/home", "home-panel"}, {"/profile", "/fragments/profile", "profile-card"}})
	for path, old := range signedOut {
		if signedIn[path] == old {
			t.Errorf("%s has the same tag %s signed in and signed out", path, old)
		}
		resp, body := app.get(c, path, htmxAt("/", old))
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Ada Lovelace") {
			t.Errorf("signed in, GET %s with the signed-out tag = %d, want 200 with the signed-in fragment:\n%s", path, resp.StatusCode, body)
		}
	}

	// Signing out changes every tag: the old ones get the signed-out state.
	_, page := app.get(c, "/", nil)
	resp, _ := app.do(c, http.MethodPost, "/api/auth/signout", nil, url.Values{"csrfToken": {hiddenValue(t, page, "csrfToken")}})
	app.follow(c, resp, "")
	for path, old := range signedIn {
		if path == "/fragments/profile" {
			continue // signed out, the profile answers HX-Redirect
		}
		resp, body := app.get(c, path, htmxAt("/", old))
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "sign-in") {
			t.Errorf("signed out, GET %s with the signed-in tag = %d, want 200 with the signed-out fragment:\n%s", path, resp.StatusCode, body)
		}
	}
}
