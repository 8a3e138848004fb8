package main

import (
	"context"
	"log/slog"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/auth/store"
)

// redisStore opens a Redis store (see openStore).
func redisStore(ctx context.Context, v string, log *slog.Logger) (store.Store, string, error) {
	return nil, "", &auth.ConfigError{Var: auth.EnvStore, Problem: "redis: not built in"}
}
