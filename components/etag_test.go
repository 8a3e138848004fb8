package components

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// etagged are the fragments that carry an ETag, with data in every field.
func etagged() map[string]interface{ ETag() string } {
	in := SignInAction{Action: "/api/auth/signin/dev", CSRFToken: "t", CallbackURL: "/", PageURL: "/api/auth/signin", ProviderName: "Dev"}
	out := SignOutAction{Action: "/api/auth/signout", CSRFToken: "t", CallbackURL: "/"}
	return map[string]interface{ ETag() string }{
		"nav": NavData{SignedIn: true, Name: "Ada Lovelace", ProfileURL: "/profile", SignIn: in, SignOut: out, HideActions: true, FragmentURL: "/fragments/nav"},
		"home": HomePanelData{SignedIn: true, Name: "Ada Lovelace", Email: "ada@example.com", SessionJSON: `{"user":{}}`, ProfileURL: "/profile",
			SignIn: in, SignOut: out, FragmentURL: "/fragments/home", DevUsers: []DevUser{{"ada", "lovelace", "Ada Lovelace"}},
			AccountURL: "/account", SessionError: "RefreshTokenError"},
		"profile": ProfileCardData{Name: "Ada Lovelace", Email: "ada@example.com", Username: "ada", GivenName: "Ada", FamilyName: "Lovelace",
			HomeURL: "/", SignOut: out, FragmentURL: "/fragments/profile"},
	}
}

var etagSyntax = regexp.MustCompile(`^"(nav|home|profile)-[0-9a-f]{16}"$`)

// TestETagCoversEveryField: changing any one field of a fragment's data,
// however deep, changes its tag, so a 304 never hides a change. Equal data
// has equal tags, and the tag is a quoted entity tag of the right kind.
func TestETagCoversEveryField(t *testing.T) {
	for kind, data := range etagged() {
		tag := data.ETag()
		if m := etagSyntax.FindStringSubmatch(tag); m == nil || m[1] != kind {
			t.Errorf("%s ETag = %s, want \"%s-<16 hex digits>\"", kind, tag, kind)
		}
		if again := reflect.ValueOf(data).Interface().(interface{ ETag() string }).ETag(); again != tag {
			t.Errorf("%s: equal data, tags %s and %s", kind, tag, again)
		}
		v := reflect.New(reflect.TypeOf(data)).Elem()
		v.Set(reflect.ValueOf(data))
		n := 0
		forEachLeaf(v, "", func(path string, leaf reflect.Value) {
			n++
			saved := reflect.New(leaf.Type()).Elem()
			saved.Set(leaf)
			switch leaf.Kind() {
			case reflect.String:
				leaf.SetString(leaf.String() + "x")
			case reflect.Bool:
				leaf.SetBool(!leaf.Bool())
			default:
				t.Fatalf("%s.%s: a %s field, which the test cannot change", kind, path, leaf.Kind())
			}
			if got := v.Interface().(interface{ ETag() string }).ETag(); got == tag {
				t.Errorf("%s: changing %s leaves the tag %s", kind, path, tag)
			}
			leaf.Set(saved)
		})
		if got := v.Interface().(interface{ ETag() string }).ETag(); got != tag {
			t.Fatalf("%s: the test did not restore the data", kind)
		}
		if n < 5 {
			t.Errorf("%s: only %d fields reached", kind, n)
		}
	}

	// Field boundaries count: moving a character from one field to the
	// next is a change.
	a := NavData{Name: "Ada", ProfileURL: "/p"}
	b := NavData{Name: "Ad", ProfileURL: "a/p"}
	if a.ETag() == b.ETag() {
		t.Errorf("%+v and %+v have the same tag", a, b)
	}
	// One more demo user is a change; so is the kind of fragment.
	h := HomePanelData{DevUsers: []DevUser{{"ada", "", ""}}}
	h2 := HomePanelData{DevUsers: []DevUser{{"ada", "", ""}, {}}}
	if h.ETag() == h2.ETag() {
		t.Errorf("an empty extra demo user leaves the home panel's tag")
	}
	if (NavData{}).ETag() == (ProfileCardData{}).ETag() {
		t.Errorf("empty nav and profile card have the same tag")
	}
}

// forEachLeaf calls f with every string and bool in v (structs and slice
// elements walked), addressable so that f can change it.
func forEachLeaf(v reflect.Value, path string, f func(string, reflect.Value)) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			forEachLeaf(v.Field(i), path+"."+v.Type().Field(i).Name, f)
		}
	case reflect.Slice:
		for i := range v.Len() {
			forEachLeaf(v.Index(i), path+"[]", f)
		}
	default:
		f(path, v)
	}
}

// TestHXHeadersSendTheTag: hx-headers is JSON that htmx parses into the
// If-None-Match header, the fragment's tag with its quotes.
func TestHXHeadersSendTheTag(t *testing.T) {
	for kind, data := range etagged() {
		var h map[string]string
		raw := data.(interface{ hxHeaders() string }).hxHeaders()
		if err := json.Unmarshal([]byte(raw), &h); err != nil || len(h) != 1 || h["If-None-Match"] != data.ETag() {
			t.Errorf("%s hx-headers = %s (%v), want {\"If-None-Match\": %s}", kind, raw, err, data.ETag())
		}
	}
}

func BenchmarkETagHomePanel(b *testing.B) {
	p := etagged()["home"].(HomePanelData)
	p.SessionJSON = strings.Repeat(`{"user":{"name":"Ada Lovelace"}}`, 20) // as long as a real one
	b.ReportAllocs()
	for b.Loop() {
		_ = p.hxHeaders()
	}
}
