package components

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
)

// A self-refreshing fragment (the nav, the home panel, the profile card)
// carries its version as an entity tag, and htmx sends it back as
// If-None-Match when the window gets the focus again. The handler answers
// 304 Not Modified when nothing changed, and htmx then leaves the element
// alone: the button under the visitor's pointer, the keyboard focus and
// any text selection survive a return to the tab.
//
// The tag is a hash of the data the fragment is rendered from. Components
// are pure functions of their data, so equal data renders equal HTML.

// ETag is the entity tag of the nav rendered from n.
func (n NavData) ETag() string { return etagOf("nav", n) }

// ETag is the entity tag of the home panel rendered from p.
func (p HomePanelData) ETag() string { return etagOf("home", p) }

// ETag is the entity tag of the profile card rendered from c.
func (c ProfileCardData) ETag() string { return etagOf("profile", c) }

// etagOf hashes kind and the Go syntax of v (%#v: every field, maps in
// key order). v must hold no pointers, whose addresses would change the
// tag on every request.
func etagOf(kind string, v any) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%#v", kind, v)
	return fmt.Sprintf(`"%s-%016x"`, kind, h.Sum64())
}

// ifNoneMatch is the hx-headers value that sends etag back.
func ifNoneMatch(etag string) string {
	b, _ := json.Marshal(map[string]string{"If-None-Match": etag})
	return string(b)
}
