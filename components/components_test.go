package components

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"github.com/signet-auth/signet/auth"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.html from the components")

// Fixed inputs for the golden files.
var (
	testAssets = Assets{
		CSS:     "/static/css/app.css?v=0123456789abcdef",
		Logo:    "/static/img/logo.svg?v=fedcba9876543210",
		Favicon: "/static/img/logo.svg?v=fedcba9876543210",
		HTMX:    "/static/vendor/htmx.min.js?v=00112233445566ff",
	}
	testSignIn = SignInAction{
		Action:       "http://localhost:3000/api/auth/signin/dev",
		CSRFToken:    "csrf-token-1",
		CallbackURL:  "/",
		PageURL:      "/api/auth/signin",
		ProviderName: "Development IdP",
	}
	testSignOut  = SignOutAction{Action: "/api/auth/signout", CSRFToken: "csrf-token-1"}
	testDevUsers = []DevUser{
		{"ada", "lovelace", "Ada Lovelace"},
		{"alan", "turing", "Alan Turing"},
		{"grace", "hopper", "Grace Hopper"},
	}
	navSignedOut = NavData{ProfileURL: "/profile", SignIn: testSignIn, FragmentURL: "/fragments/nav"}
	navSignedIn  = NavData{SignedIn: true, Name: "Ada Lovelace", ProfileURL: "/profile", SignOut: testSignOut, FragmentURL: "/fragments/nav"}
	testSession  = `{
  "user": {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "given_name": "Ada",
    "family_name": "Lovelace"
  },
  "expires": "2025-01-01T00:00:00.000Z"
}`
	providers = []auth.ProviderInfo{
		{ID: "dev", Name: "Development IdP", Type: "oidc", SignInURL: "http://localhost:3000/api/auth/signin/dev", CallbackURL: "http://localhost:3000/api/auth/callback/dev"},
		{ID: "asgardeo", Name: "Asgardeo", Type: "oidc", SignInURL: "http://localhost:3000/api/auth/signin/asgardeo", CallbackURL: "http://localhost:3000/api/auth/callback/asgardeo"},
	}
)

func shell(title string, nav NavData) Shell {
	return Shell{Title: title, Assets: testAssets, Nav: nav}
}

func signedOutPanel() HomePanelData {
	return HomePanelData{ProfileURL: "/profile", SignIn: testSignIn, FragmentURL: "/fragments/home", DevUsers: testDevUsers}
}

func signedInPanel() HomePanelData {
	return HomePanelData{
		SignedIn: true, Name: "Ada Lovelace", Email: "ada@example.com", SessionJSON: testSession,
		ProfileURL: "/profile", SignOut: testSignOut, FragmentURL: "/fragments/home",
	}
}

func profileCardData() ProfileCardData {
	return ProfileCardData{
		Name: "Ada Lovelace", Email: "ada@example.com", GivenName: "Ada", FamilyName: "Lovelace",
		HomeURL: "/", SignOut: testSignOut, FragmentURL: "/fragments/profile",
	}
}

// goldenCases are every component with fixed inputs.
func goldenCases() []struct {
	name string
	c    templ.Component
} {
	severalProviders := signedOutPanel()
	severalProviders.SignIn = SignInAction{CallbackURL: "/", PageURL: "/api/auth/signin?callbackUrl=%2F"}
	severalProviders.DevUsers = nil
	asgardeo := profileCardData()
	asgardeo.Name, asgardeo.Email, asgardeo.Username = "omal@example.com", "", "omal@example.com"
	asgardeo.GivenName, asgardeo.FamilyName = "", ""
	linkNavIn := navSignedIn
	linkNavIn.SignOut = SignOutAction{Action: "/api/auth/signout"}
	linkNavOut := navSignedOut
	linkNavOut.SignIn = SignInAction{PageURL: "/api/auth/signin"}
	hidden := NavData{HideActions: true}
	bare := Shell{Title: "Bare", Assets: Assets{CSS: "/static/css/app.css?v=1"}}

	return []struct {
		name string
		c    templ.Component
	}{
		{"layout-without-htmx", Layout(bare)},
		{"nav-signed-out", Nav(navSignedOut)},
		{"nav-signed-out-link", Nav(linkNavOut)},
		{"nav-signed-in", Nav(navSignedIn)},
		{"nav-signed-in-link", Nav(linkNavIn)},
		{"nav-hidden", Nav(hidden)},
		{"home-signed-out", Home(HomeData{Shell: shell("Signet", navSignedOut), Panel: signedOutPanel()})},
		{"home-signed-out-several-providers", Home(HomeData{Shell: shell("Signet", navSignedOut), Panel: severalProviders})},
		{"home-signed-in", Home(HomeData{Shell: shell("Signet", navSignedIn), Panel: signedInPanel()})},
		{"fragment-home-signed-out", HomePanel(signedOutPanel())},
		{"fragment-home-signed-in", HomePanel(signedInPanel())},
		{"dev-banner", DevBanner(testDevUsers)},
		{"profile", Profile(ProfileData{Shell: shell("Profile", navSignedIn), Card: profileCardData()})},
		{"fragment-profile-username", ProfileCard(asgardeo)},
		{"sign-in", SignInPage(shell("Sign in", hidden), auth.SignInPage{Providers: providers[:1], CSRFToken: "csrf-token-1", CallbackURL: "/profile"}, testDevUsers)},
		{"sign-in-error", SignInPage(shell("Sign in", hidden), auth.SignInPage{Providers: providers[:1], CSRFToken: "csrf-token-1", CallbackURL: "/", Error: auth.CodeOAuthCallback}, nil)},
		{"sign-in-several-providers", SignInPage(shell("Sign in", hidden), auth.SignInPage{Providers: providers, CSRFToken: "csrf-token-1", CallbackURL: "/"}, nil)},
		{"sign-out", SignOutPage(shell("Sign out", hidden), auth.SignOutPage{Action: "/api/auth/signout", CSRFToken: "csrf-token-1", CallbackURL: "/", SignedIn: true})},
		{"sign-out-signed-out", SignOutPage(shell("Signed out", hidden), auth.SignOutPage{Action: "/api/auth/signout", CSRFToken: "csrf-token-1", CallbackURL: "/bye"})},
		{"signing-out", SigningOutPage(shell("Signed out", hidden), auth.SigningOutPage{HomeURL: "/", IdPLogout: true, Verified: true})},
		{"signing-out-local", SigningOutPage(shell("Signed out", hidden), auth.SigningOutPage{HomeURL: "/profile?x=1&y=2", IdPLogout: false, Verified: true})},
		{"signing-out-already", SigningOutPage(shell("Signed out", hidden), auth.SigningOutPage{HomeURL: "/", Verified: true, AlreadySignedOut: true})},
		{"signing-out-unverified", SigningOutPage(shell("Signed out", hidden), auth.SigningOutPage{HomeURL: "/"})},
		{"error", ErrorPage(shell("Sign-in could not be verified", linkNavOut), auth.ErrorPage{
			Code: auth.CodeVerification, Status: 403, Title: auth.CodeVerification.Title(), Message: auth.CodeVerification.Message(),
			SignInURL: "/api/auth/signin", HomeURL: "/",
		})},
		{"error-signed-in", ErrorPage(shell("Sign-in could not be verified", linkNavIn), auth.ErrorPage{
			Code: auth.CodeVerification, Status: 403, Title: auth.CodeVerification.Title(), Message: auth.CodeVerification.Message(),
			SignInURL: "/api/auth/signin", HomeURL: "/",
		})},
		{"error-forbidden", ErrorPage(shell("Permission required", linkNavIn), auth.ErrorPage{
			Code: auth.CodeForbidden, Status: 403, Title: auth.CodeForbidden.Title(), Message: auth.CodeForbidden.Message(),
			SignInURL: "/api/auth/signin?callbackUrl=%2Freports&prompt=login", HomeURL: "/", MissingScopes: []string{"read:reports"},
		})},
		{"error-unavailable", ErrorPage(shell("Temporarily unavailable", hidden), auth.ErrorPage{
			Code: auth.CodeUnavailable, Status: 503, Title: auth.CodeUnavailable.Title(), Message: auth.CodeUnavailable.Message(),
			HomeURL: "/", RetryURL: "/profile",
		})},
		{"error-unknown-code", ErrorPage(shell("Something went wrong", linkNavOut), auth.ErrorPage{
			Code: "Default", Status: 400, Title: auth.ErrorCode("Default").Title(), Message: auth.ErrorCode("Default").Message(),
			SignInURL: "/api/auth/signin", HomeURL: "/",
		})},
		{"not-found", NotFound(shell("Page not found", navSignedOut), "/")},
	}
}

func render(t *testing.T, c templ.Component) string {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatalf("render: %v", err)
	}
	return buf.String()
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			got := render(t, tc.c)
			path := filepath.Join("testdata", tc.name+".golden.html")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
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
				i := 0
				for i < len(got) && i < len(want) && got[i] == want[i] {
					i++
				}
				t.Errorf("%s differs at byte %d (run `go test ./components -update` if the change is intended):\n got: …%s…\nwant: …%s…",
					path, i, excerpt(got, i), excerpt(string(want), i))
			}
		})
	}
}

func excerpt(s string, i int) string {
	lo, hi := max(i-60, 0), min(i+60, len(s))
	return s[lo:hi]
}

// inlineCode matches what a strict CSP (no 'unsafe-inline') blocks: style
// attributes and elements, inline event handlers, scripts without src,
// javascript: URLs.
var inlineCode = regexp.MustCompile(`(?i)\sstyle=|<style|\son[a-z]+=|<script(?:\s[^>]*)?>[^<]|<script>|javascript:`)

// TestStrictCSP: no component needs 'unsafe-inline'.
func TestStrictCSP(t *testing.T) {
	for _, tc := range goldenCases() {
		if m := inlineCode.FindString(render(t, tc.c)); m != "" {
			t.Errorf("%s has inline code a strict CSP blocks: %q", tc.name, m)
		}
	}
}

// TestSelectors checks the page contract the browser tests rely on.
func TestSelectors(t *testing.T) {
	cases := map[string]templ.Component{}
	for _, tc := range goldenCases() {
		cases[tc.name] = tc.c
	}
	for _, tc := range []struct {
		name string
		want []string
		not  []string
	}{
		{"home-signed-out", []string{
			`<form class="inline-form" method="post" action="http://localhost:3000/api/auth/signin/dev"><input type="hidden" name="csrfToken" value="csrf-token-1"> <input type="hidden" name="callbackUrl" value="/"> <button id="sign-in" class="btn btn-primary btn-lg" type="submit">Sign in</button></form>`,
			`id="dev-idp-banner"`, `<code>grace</code>`, `<code>hopper</code>`, `id="nav-sign-in"`,
			`<meta name="htmx-config" content="{&#34;includeIndicatorStyles&#34;:false,`,
			`<script src="/static/vendor/htmx.min.js?v=00112233445566ff" defer></script>`,
		}, []string{`id="welcome"`}},
		{"home-signed-out-several-providers", []string{`<a id="sign-in" class="btn btn-primary btn-lg" href="/api/auth/signin?callbackUrl=%2F">Sign in</a>`}, []string{"dev-idp-banner", `<button id="sign-in"`}},
		{"home-signed-in", []string{
			`<h1 id="welcome" class="welcome-title">Welcome, Ada Lovelace</h1>`,
			`<pre id="session-json" class="code-block" tabindex="0">{
  &#34;user&#34;: {`,
			`<a id="nav-profile" class="nav-user" href="/profile">`, `<span class="visually-hidden">Your profile:</span>`,
			`<button id="nav-sign-out" class="btn btn-secondary btn-sm"`,
		}, []string{`id="sign-in"`, "dev-idp-banner", `id="sign-out"`}},
		{"profile", []string{
			`<dd id="profile-email">ada@example.com</dd>`, `<dd id="profile-given-name">Ada</dd>`, `<dd id="profile-family-name">Lovelace</dd>`,
			`<form class="inline-form" method="post" action="/api/auth/signout"><input type="hidden" name="csrfToken" value="csrf-token-1"> <button id="sign-out" class="btn btn-secondary" type="submit">Sign out</button>`,
		}, nil},
		{"fragment-profile-username", []string{`<dt>Username</dt><dd id="profile-email">omal@example.com</dd>`, `<dd id="profile-given-name"></dd>`}, []string{"<html"}},
		{"sign-in", []string{
			`<form method="post" action="http://localhost:3000/api/auth/signin/dev"><input type="hidden" name="csrfToken" value="csrf-token-1"> <input type="hidden" name="callbackUrl" value="/profile"> <button type="submit" class="btn btn-provider btn-block" data-provider="dev">`,
			"dev-idp-banner",
		}, []string{`id="error-code"`, `id="nav-sign-in"`}},
		{"sign-in-error", []string{`id="error-code"`, `data-code="OAuthCallbackError"`, "<code>OAuthCallbackError</code>"}, nil},
		{"sign-in-several-providers", []string{`data-provider="dev"`, `data-provider="asgardeo"`, "Sign in with Asgardeo"}, nil},
		{"sign-out", []string{`<button id="sign-out" type="submit" class="btn btn-secondary">Sign out</button>`, `name="csrfToken" value="csrf-token-1"`, "Sign out?"}, []string{"You’re signed out"}},
		{"sign-out-signed-out", []string{`<h1 id="signed-out" class="auth-title">You’re signed out</h1>`, `<a id="continue" class="btn btn-primary" href="/bye">Continue</a>`}, []string{`id="sign-out"`, "Are you sure", "csrfToken"}},
		{"signing-out", []string{`<h1 id="signing-out" class="auth-title">You’re signed out</h1>`, `<div role="status"><p id="signed-out-idp">`, `<a id="continue" class="btn btn-primary" href="/">Continue</a>`}, []string{"http-equiv", "spinner", "Signing out", `id="idp-no-logout"`}},
		{"signing-out-local", []string{`href="/profile?x=1&amp;y=2"`, `id="idp-no-logout"`, "may still be signed in there"}, []string{"http-equiv", "offers no sign-out"}},
		{"signing-out-already", []string{`id="signed-out-already"`, "already signed out"}, []string{`id="idp-no-logout"`, "your identity provider"}},
		{"signing-out-unverified", []string{`id="signed-out-local"`}, []string{`id="idp-no-logout"`}},
		{"error", []string{`<code id="error-code">Verification</code>`, `<a id="error-sign-in" class="btn btn-primary" href="/api/auth/signin">Sign in</a>`, `<a id="error-home" class="btn btn-secondary" href="/">Go home</a>`, "Error 403"}, nil},
		{"error-signed-in", []string{`<a id="error-home" class="btn btn-primary" href="/">Go home</a>`}, []string{`id="error-sign-in"`}},
		{"error-forbidden", []string{`<a id="error-sign-in" class="btn btn-primary" href="/api/auth/signin?callbackUrl=%2Freports&amp;prompt=login">Sign in with another account</a>`, `<a id="error-home" class="btn btn-secondary" href="/">Go home</a>`}, []string{">Sign in</a>"}},
		{"error-unknown-code", []string{"Something went wrong"}, []string{"Default", `id="error-code"`}},
		{"error-unavailable", []string{`<a id="error-retry" class="btn btn-primary" href="/profile">Try again</a>`, `<a id="error-home" class="btn btn-secondary" href="/">Go home</a>`, "Error 503"}, []string{"Sign in"}},
		{"not-found", []string{`id="not-found"`, "Page not found", `<a id="not-found-home" class="btn btn-primary" href="/">Go home</a>`}, []string{"big-code"}},
		{"nav-signed-in-link", []string{`<a id="nav-sign-out" class="btn btn-secondary btn-sm" href="/api/auth/signout">Sign out</a>`}, []string{"csrfToken"}},
		{"nav-hidden", []string{`<nav id="nav" class="nav" aria-label="Account"></nav>`}, nil},
		{"layout-without-htmx", []string{"<title>Bare · Signet</title>"}, []string{"<script", "hx-"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := cases[tc.name]
			if !ok {
				t.Fatalf("no golden case %q", tc.name)
			}
			got := render(t, c)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("lacks %s\nin %s", w, got)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("contains %s", n)
				}
			}
		})
	}
}

func TestInitials(t *testing.T) {
	for in, want := range map[string]string{
		"Ada Lovelace":          "AL",
		"grace brewster hopper": "GH",
		"ada@example.com":       "A",
		"jean-luc":              "JL",
		"Émile Zola":            "ÉZ",
		"":                      "?",
		"  ":                    "?",
	} {
		if got := initials(in); got != want {
			t.Errorf("initials(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPageTitle(t *testing.T) {
	for in, want := range map[string]string{"": "Signet", "Signet": "Signet", "Profile": "Profile · Signet"} {
		if got := pageTitle(in); got != want {
			t.Errorf("pageTitle(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestEscaping: values are escaped, and unsafe URLs are neutralised.
func TestEscaping(t *testing.T) {
	p := profileCardData()
	p.Name = `<script>alert(1)</script>`
	p.HomeURL = "javascript:alert(1)"
	got := render(t, ProfileCard(p))
	if strings.Contains(got, "<script>") {
		t.Error("a name was not escaped")
	}
	if strings.Contains(got, "javascript:") {
		t.Error("a javascript: URL reached an href")
	}
}
