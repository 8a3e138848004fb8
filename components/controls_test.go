package components

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/a-h/templ"
)

// TestControls pins the reusable controls' HTML in golden files
// (testdata/controls-*.golden.html; `go test ./components -update`
// rewrites them) and checks what another app relies on: the forms post
// the CSRF token to the action they are given, and the swap fetches
// itself again only when it has a fragment URL.
func TestControls(t *testing.T) {
	signIn := SignInAction{Action: "/api/auth/signin/dev", CSRFToken: "tok<en>", CallbackURL: "/after"}
	signOut := SignOutAction{Action: "/api/auth/signout", CSRFToken: "tok<en>"}
	in := templ.Raw(`<p id="in">in</p>`)
	out := templ.Raw(`<p id="out">out</p>`)
	for _, tc := range []struct {
		name    string
		c       templ.Component
		want    []string
		notWant []string
	}{
		{"sign-in-button", SignInButton(signIn, "go", ""),
			[]string{`action="/api/auth/signin/dev"`, `name="csrfToken" value="tok&lt;en&gt;"`, `name="callbackUrl" value="/after"`, `id="go" class="btn btn-primary"`}, nil},
		{"sign-in-button-link", SignInButton(SignInAction{PageURL: "/api/auth/signin?callbackUrl=%2F"}, "in", "btn"),
			[]string{`<a id="in" class="btn" href="/api/auth/signin?callbackUrl=%2F">Sign in</a>`}, []string{"<form"}},
		{"sign-out-button", SignOutButton(signOut, "out", ""),
			[]string{`method="post" action="/api/auth/signout"`, `name="csrfToken" value="tok&lt;en&gt;"`, `id="out" class="btn btn-secondary"`}, []string{"callbackUrl"}},
		{"user-menu", UserMenu(UserMenuData{Name: "Ada Lovelace", SignOut: signOut}),
			[]string{`id="user-menu"`, `href="/profile"`, ">AL<", "Ada Lovelace", `action="/api/auth/signout"`, `id="user-menu-sign-out"`}, nil},
		{"swap-signed-in", SessionSwap(SwapData{ID: "panel", SignedIn: true, FragmentURL: "/fragments/panel"}, in, out),
			[]string{`id="panel"`, `data-state="signed-in"`, `hx-get="/fragments/panel"`, `hx-trigger="focus from:window, sse:signout"`, `hx-swap="outerHTML"`, `<p id="in">`}, []string{`id="out"`}},
		{"swap-signed-out", SessionSwap(SwapData{ID: "panel"}, in, out),
			[]string{`data-state="signed-out"`, `<p id="out">`}, []string{`id="in"`, "hx-get"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := render(t, tc.c)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("lacks %s:\n%s", w, got)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(got, w) {
					t.Errorf("has %s:\n%s", w, got)
				}
			}
			path := filepath.Join("testdata", "controls-"+tc.name+".golden.html")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run: go test ./components -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs (run `go test ./components -update` if the change is intended):\n got: %s\nwant: %s", path, got, want)
			}
		})
	}
}
