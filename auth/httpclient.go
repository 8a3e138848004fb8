package auth

import (
	"context"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// oidcClientCtx makes go-oidc use client for calls made with ctx.
func oidcClientCtx(ctx context.Context, client *http.Client) context.Context {
	return oidc.ClientContext(ctx, client)
}

// idleConnTimeout is how long the default client keeps a connection to an
// identity provider idle for reuse. It is below the keep-alive of common
// servers (Node.js, on which oidc-provider runs, closes a connection idle
// for 5 s), so that no request is written to a connection the server is
// closing at that moment: such a request fails with "connection reset by
// peer", and a code exchange cannot be sent again (the code is spent).
const idleConnTimeout = 4 * time.Second

// defaultHTTPClient is the client of a Config without HTTPClient: a
// 10-second timeout, and idle connections dropped after idleConnTimeout.
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.IdleConnTimeout = idleConnTimeout
	return &http.Client{Timeout: 10 * time.Second, Transport: t}
}
