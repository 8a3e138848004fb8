package components

import (
	"reflect"
	"strconv"
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

// etagOf is `"kind-<16 hex digits>"`, the 64-bit FNV-1a hash of kind and
// every field of v. The hash is the same in every process, so replicas of
// the app agree on it.
func etagOf(kind string, v any) string {
	h := hashString(fnvOffset, kind)
	h = hashValue(h, reflect.ValueOf(v))
	b := make([]byte, 0, len(kind)+19)
	b = append(b, '"')
	b = append(b, kind...)
	b = append(b, '-')
	hex := strconv.AppendUint(make([]byte, 0, 16), h, 16)
	for range 16 - len(hex) {
		b = append(b, '0')
	}
	b = append(b, hex...)
	return string(append(b, '"'))
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// hashValue folds v into h: strings (with their length, so that field
// boundaries count), bools, integers, and structs and slices of them. Data
// types are plain values; anything else (a pointer, a map) is a
// programming error, which the components' tests catch.
func hashValue(h uint64, v reflect.Value) uint64 {
	switch v.Kind() {
	case reflect.String:
		return hashString(h, v.String())
	case reflect.Bool:
		if v.Bool() {
			return hashUint(h, 1)
		}
		return hashUint(h, 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return hashUint(h, uint64(v.Int()))
	case reflect.Struct:
		for i := range v.NumField() {
			h = hashValue(h, v.Field(i))
		}
		return h
	case reflect.Slice, reflect.Array:
		h = hashUint(h, uint64(v.Len()))
		for i := range v.Len() {
			h = hashValue(h, v.Index(i))
		}
		return h
	}
	panic("components: no entity tag for a " + v.Type().String())
}

func hashString(h uint64, s string) uint64 {
	h = hashUint(h, uint64(len(s)))
	for i := range len(s) {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

func hashUint(h, n uint64) uint64 {
	for range 8 {
		h ^= n & 0xff
		h *= fnvPrime
		n >>= 8
	}
	return h
}

// ifNoneMatch is the hx-headers value (JSON) that sends etag back. An
// etagOf tag is printable ASCII, where strconv.Quote is JSON's quoting.
func ifNoneMatch(etag string) string {
	return `{"If-None-Match":` + strconv.Quote(etag) + `}`
}
