package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/components"
)

// The account page, its token fragment and the reports page.
const (
	pathAccount       = "/account"
	pathTokenFragment = "/fragments/token"
	pathReports       = "/reports"
	pathReportsTable  = "/fragments/reports"
	// reportsScope is the permission the reports need: the seeds' B2B
	// example, where the IdP grants it to some users only.
	reportsScope = "read:reports"
)

// tokenAuth is what the account page needs from auth: the forms, the
// session's (refreshed) access token, and the provider's endpoints.
type tokenAuth interface {
	formsAuth
	AccessToken(r *http.Request) (auth.AccessTokenInfo, bool)
	Endpoints(ctx context.Context, providerID string) (auth.ProviderEndpoints, error)
}

// userinfoTimeout bounds the call to the IdP's userinfo endpoint.
const userinfoTimeout = 5 * time.Second

// handleAccount serves the account page: the access token's scopes and
// expiry, the IdP's userinfo endpoint called server-side with the access
// token, and the reports section for users with reportsScope. It sits
// behind auth.Require.
func handleAccount(a tokenAuth, assets components.Assets, client *http.Client, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := auth.SessionFromContext(r.Context())
		if s == nil { // only when mounted without Require
			http.Redirect(w, r, a.SignInURL(r.URL.RequestURI()), http.StatusFound)
			return
		}
		info, ok := a.AccessToken(r)
		render(w, r, log, http.StatusOK, components.AccountPage(components.AccountData{
			Shell: liveShell(a, components.Shell{
				Title:  "Tokens and permissions",
				Assets: assets,
				Nav:    navData(a, w, r, s, pathAccount),
			}, s, pathSignedOutFragment),
			Token:    tokenCard(info, ok, providerName(a, r, info.Provider), time.Now()),
			Userinfo: callUserinfo(r.Context(), a, client, log, info, ok),
			Reports: components.ReportsAccess{
				Scope:       reportsScope,
				Granted:     ok && slices.Contains(info.Scopes, reportsScope),
				URL:         pathReports,
				FragmentURL: pathReportsTable,
			},
		}))
	})
}

// handleTokenFragment serves the access token card alone, for its "Check
// again" button. It sits behind auth.Require.
func handleTokenFragment(a tokenAuth, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		varyOnHXRequest(w)
		info, ok := a.AccessToken(r)
		render(w, r, log, http.StatusOK, components.TokenCard(tokenCard(info, ok, providerName(a, r, info.Provider), time.Now())))
	})
}

// handleReports serves the reports page. It sits behind
// auth.RequireScopes(reportsScope): everyone else gets the 403 page.
func handleReports(a formsAuth, assets components.Assets, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := auth.SessionFromContext(r.Context())
		render(w, r, log, http.StatusOK, components.ReportsPage(components.ReportsData{
			Shell: liveShell(a, components.Shell{
				Title:  "Reports",
				Assets: assets,
				Nav:    navData(a, w, r, s, pathReports),
			}, s, pathSignedOutFragment),
			Scope:      reportsScope,
			AccountURL: pathAccount,
			Rows:       reportRows,
		}))
	})
}

// handleReportsTable serves the reports table alone, for the account
// page's preview. It sits behind auth.RequireScopes(reportsScope), which
// answers an htmx request without the scope with a 403 fragment.
func handleReportsTable(log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		varyOnHXRequest(w)
		render(w, r, log, http.StatusOK, components.ReportsTable(reportRows))
	})
}

// reportRows are the demo reports.
var reportRows = []components.ReportRow{
	{Period: "Q1", Revenue: "€1.20 M", Change: "+4.1 %"},
	{Period: "Q2", Revenue: "€1.31 M", Change: "+9.2 %"},
	{Period: "Q3", Revenue: "€1.27 M", Change: "−3.1 %"},
	{Period: "Q4", Revenue: "€1.48 M", Change: "+16.5 %"},
}

// providerName is the name of the provider id, as the sign-in page shows it.
func providerName(a formsAuth, r *http.Request, id string) string {
	for _, p := range a.Providers(r) {
		if p.ID == id {
			return p.Name
		}
	}
	return id
}

// tokenCard describes the access token at now, never the token itself.
func tokenCard(info auth.AccessTokenInfo, ok bool, provider string, now time.Time) components.TokenCardData {
	c := components.TokenCardData{FragmentURL: pathTokenFragment, PageURL: pathAccount}
	if !ok {
		c.Problem = "There is no access token to show: the identity provider issued none, or it has expired and could not be refreshed."
		return c
	}
	c.OK = true
	c.Provider = provider
	c.Scopes = info.Scopes
	if !info.Expires.IsZero() {
		c.ExpiresAt = info.Expires.UTC().Format("2 Jan 2006, 15:04 UTC")
		c.ExpiresISO = info.Expires.UTC().Format(time.RFC3339)
		c.ExpiresIn = untilText(info.Expires.Sub(now))
	}
	return c
}

// untilText says how far away d is: "in 4 min 10 s", "in 12 s", "expired".
func untilText(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d <= 0:
		return "expired"
	case d < time.Minute:
		return fmt.Sprintf("in %d s", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("in %d min %d s", int(d/time.Minute), int(d%time.Minute/time.Second))
	default:
		return fmt.Sprintf("in %d h %d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
}

// callUserinfo calls the provider's userinfo endpoint with the access
// token, from the server, and describes the answer. Failures become a
// client-safe sentence; the cause goes to the log.
func callUserinfo(ctx context.Context, a tokenAuth, client *http.Client, log *slog.Logger, info auth.AccessTokenInfo, ok bool) components.UserinfoData {
	if !ok {
		return components.UserinfoData{Error: "Not called: there is no access token to call it with."}
	}
	ep, err := a.Endpoints(ctx, info.Provider)
	if err != nil {
		log.WarnContext(ctx, "userinfo: provider endpoints", "provider", info.Provider, "err", err)
		return components.UserinfoData{Error: "Not called: the identity provider cannot be reached right now."}
	}
	u := components.UserinfoData{Endpoint: ep.Userinfo}
	if ep.Userinfo == "" {
		u.Error = "Not called: the identity provider has no userinfo endpoint."
		return u
	}
	claims, err := fetchUserinfo(ctx, client, ep.Userinfo, info.Token)
	if err != nil {
		log.WarnContext(ctx, "userinfo call failed", "provider", info.Provider, "err", err)
		var se statusError
		if errors.As(err, &se) && (se.code == http.StatusUnauthorized || se.code == http.StatusForbidden) {
			u.Error = fmt.Sprintf("The identity provider refused the access token (%d %s).", se.code, http.StatusText(se.code))
		} else {
			u.Error = "The identity provider's userinfo endpoint did not answer usefully. Please try again later."
		}
		return u
	}
	names := make([]string, 0, len(claims))
	for k := range claims {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		u.Claims = append(u.Claims, components.Claim{Name: k, Value: claimText(claims[k])})
	}
	return u
}

// statusError is an HTTP answer other than 200.
type statusError struct{ code int }

func (e statusError) Error() string { return fmt.Sprintf("status %d", e.code) }

const maxUserinfoBytes = 64 << 10

// fetchUserinfo GETs endpoint with token as the Bearer credential and
// decodes the JSON object it answers.
func fetchUserinfo(ctx context.Context, client *http.Client, endpoint string, token auth.Secret) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(ctx, userinfoTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token.Reveal())
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxUserinfoBytes))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, statusError{resp.StatusCode}
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "application/jwt" {
		return nil, errors.New("signed or encrypted userinfo answer: not shown")
	}
	var claims map[string]any
	if err := json.Unmarshal(body, &claims); err != nil || claims == nil {
		return nil, errors.New("userinfo answer is not a JSON object")
	}
	return claims, nil
}

// claimText renders a claim's value: strings as they are, anything else as
// JSON.
func claimText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(string(b))
}
