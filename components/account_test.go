package components

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"github.com/signet-auth/signet/auth"
)

func tokenCardData() TokenCardData {
	return TokenCardData{
		OK: true, Provider: "oidc-provider", Scopes: []string{"openid", "profile", "email", "read:reports"},
		ExpiresAt: "2 Jan 2026, 15:08 UTC", ExpiresISO: "2026-01-02T15:08:15Z", ExpiresIn: "in 4 min 10 s",
		FragmentURL: "/fragments/token", PageURL: "/account",
	}
}

func accountData(granted bool) AccountData {
	return AccountData{
		Shell: shell("Tokens and permissions", navSignedIn),
		Token: tokenCardData(),
		Userinfo: UserinfoData{Endpoint: "http://127.0.0.1:4000/me", Claims: []Claim{
			{"email", "ada@example.com"}, {"email_verified", "true"}, {"name", "Ada Lovelace"}, {"sub", "ada"},
		}},
		Reports: ReportsAccess{Scope: "read:reports", Granted: granted, URL: "/reports", FragmentURL: "/fragments/reports"},
	}
}

// tokenGoldenCases are the access components with fixed inputs.
func tokenGoldenCases() []struct {
	name string
	c    templ.Component
} {
	noToken := TokenCardData{Problem: "There is no access token to show.", FragmentURL: "/fragments/token"}
	noExpiry := tokenCardData()
	noExpiry.ExpiresAt, noExpiry.ExpiresISO, noExpiry.ExpiresIn = "", "", ""
	locked := accountData(false)
	locked.Token.Scopes = []string{"openid", "profile", "email"}
	locked.Userinfo = UserinfoData{Endpoint: "http://127.0.0.1:4000/me", Error: "The identity provider refused the access token (401 Unauthorized)."}
	withAccount := signedInPanel()
	withAccount.AccountURL = "/account"
	again := signedInPanel()
	again.SessionError = auth.RefreshTokenError
	again.SignIn = testSignIn
	return []struct {
		name string
		c    templ.Component
	}{
		{"account", AccountPage(accountData(true))},
		{"account-without-reports-scope", AccountPage(locked)},
		{"fragment-token", TokenCard(tokenCardData())},
		{"fragment-token-no-expiry", TokenCard(noExpiry)},
		{"fragment-token-none", TokenCard(noToken)},
		{"reports", ReportsPage(ReportsData{
			Shell: shell("Reports", navSignedIn), Scope: "read:reports", AccountURL: "/account",
			Rows: []ReportRow{{"Q1", "€1.20 M", "+4.1 %"}, {"Q2", "€1.31 M", "+9.2 %"}},
		})},
		{"fragment-reports", ReportsTable([]ReportRow{{"Q1", "€1.20 M", "+4.1 %"}})},
		{"fragment-home-sign-in-again", HomePanel(again)},
		{"fragment-home-signed-in-with-account-link", HomePanel(withAccount)},
		{"fragment-error", ErrorFragment(auth.ErrorPage{
			Code: auth.CodeForbidden, Status: 403, Title: auth.CodeForbidden.Title(),
			Message: `You are signed in, but this page needs the permission "read:reports".`, MissingScopes: []string{"read:reports"}, Fragment: true,
		})},
	}
}

func TestTokensGolden(t *testing.T) {
	for _, tc := range tokenGoldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			got := render(t, tc.c)
			path := filepath.Join("testdata", tc.name+".golden.html")
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
				i := 0
				for i < len(got) && i < len(want) && got[i] == want[i] {
					i++
				}
				t.Errorf("%s differs at byte %d (run `go test ./components -update` if the change is intended):\n got: …%s…\nwant: …%s…",
					path, i, excerpt(got, i), excerpt(string(want), i))
			}
			if m := inlineCode.FindString(got); m != "" {
				t.Errorf("inline code a strict CSP blocks: %q", m)
			}
		})
	}
}

// TestTokensSelectors checks the page contract the browser tests use.
func TestTokensSelectors(t *testing.T) {
	cases := map[string]string{}
	for _, tc := range tokenGoldenCases() {
		cases[tc.name] = render(t, tc.c)
	}
	for name, want := range map[string][]string{
		"account": {`id="token-card"`, `id="token-provider"`, `<time datetime="2026-01-02T15:08:15Z">`, `id="token-expires-in"`,
			`data-scope="read:reports"`, `id="reports-section"`, `id="reports-link"`, `dd data-claim="email"`, `id="userinfo-claims"`,
			`hx-get="/fragments/token"`, `id="token-check"`},
		"account-without-reports-scope":             {`id="reports-locked"`, `id="reports-link"`, `hx-get="/fragments/reports"`, `id="reports-preview"`, `<code>read:reports</code>`, `id="userinfo-error"`},
		"fragment-token-none":                       {`id="token-problem"`},
		"reports":                                   {`id="reports-table"`, `<td class="num">€1.31 M</td>`},
		"fragment-home-sign-in-again":               {`id="sign-in-again"`, `id="session-error">RefreshTokenError<`, `id="sign-in"`, `id="sign-out"`},
		"fragment-home-signed-in-with-account-link": {`<a id="home-account" class="btn btn-secondary" href="/account">`},
		"fragment-error":                            {`id="error-fragment"`, `data-code="Forbidden"`, `id="error-code">Forbidden<`},
	} {
		for _, w := range want {
			if !strings.Contains(cases[name], w) {
				t.Errorf("%s lacks %s", name, w)
			}
		}
	}
	if strings.Contains(cases["account-without-reports-scope"], `id="reports-section"`) {
		t.Error("the reports section is shown without the scope")
	}
	if strings.Contains(cases["fragment-error"], "<html") {
		t.Error("the error fragment has the layout")
	}
}
