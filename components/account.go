package components

// AccountData is the account page: what the session's access token allows
// and when it expires, what the identity provider's userinfo endpoint says
// when the app calls it with that token, and the reports section, shown
// only to users whose token carries the reports scope.
type AccountData struct {
	Shell    Shell
	Token    TokenCardData
	Userinfo UserinfoData
	Reports  ReportsAccess
}

// TokenCardData is the access token card, also served alone as a fragment.
// It never holds the token itself.
type TokenCardData struct {
	// OK is false when the session has no usable access token; Problem
	// then says why.
	OK      bool
	Problem string
	// Provider is the name of the identity provider that issued the token.
	Provider string
	Scopes   []string
	// ExpiresAt is the expiry for people ("2 Dec 2026, 19:42 UTC"), ExpiresISO for
	// machines (RFC 3339), ExpiresIn relative ("in 4 min 10 s"); all ""
	// when the IdP did not say.
	ExpiresAt, ExpiresISO, ExpiresIn string
	// FragmentURL is where "Check again" fetches the card from (htmx);
	// PageURL is the fallback link without htmx.
	FragmentURL, PageURL string
}

// UserinfoData is the result of calling the IdP's userinfo endpoint with
// the access token, server-side.
type UserinfoData struct {
	Endpoint string
	// Claims are the answer's members, sorted by name.
	Claims []Claim
	// Error is a client-safe sentence when the call failed or was not made.
	Error string
}

// Claim is one member of a JSON object, its value rendered as text.
type Claim struct {
	Name, Value string
}

// ReportsAccess is the reports section of the account page.
type ReportsAccess struct {
	// Scope is the scope the reports need, e.g. "read:reports".
	Scope string
	// Granted is true when the session's access token carries Scope.
	Granted bool
	URL     string
	// FragmentURL, when set, adds a#reports-load, which fetches the
	// reports table from there into the section over htmx.
	FragmentURL string
}

// ReportsData is the reports page, which only users with the reports
// scope reach.
type ReportsData struct {
	Shell Shell
	Scope string
	Rows  []ReportRow
	// AccountURL links back to the account page.
	AccountURL string
}

// ReportRow is one line of the reports table.
type ReportRow struct {
	Period, Revenue, Change string
}
