// Package e2e holds Signet's browser end-to-end tests. They drive Debian's
// Chromium with chromedp against the signet binary (built from ./cmd/signet)
// and against real OpenID Providers: the embedded development IdP, and panva's
// oidc-provider from the npm registry (see oidc-provider/server.mjs), started
// on free ports of 127.0.0.1.
//
// The package has no code outside its tests. Run it with
//
//	go test ./e2e/
//
// Screenshots of every page go to e2e/screenshots (git-ignored). Chromium is
// found at $CHROMIUM or /usr/bin/chromium; without it the tests are skipped,
// unless CI is set, where a missing Chromium fails them.
package e2e
