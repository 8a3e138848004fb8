package auth

import (
	"context"
	"net/http"

	"github.com/coreos/go-oidc/v3/oidc"
)

// oidcClientCtx makes go-oidc use client for calls made with ctx.
func oidcClientCtx(ctx context.Context, client *http.Client) context.Context {
	return oidc.ClientContext(ctx, client)
}
