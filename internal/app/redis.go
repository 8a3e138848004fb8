package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/auth/store"
	"github.com/signet-auth/signet/auth/store/redisstore"
)

// redisStore opens a Redis store from a URL of redisstore's forms:
// redis://, rediss://, redis-sentinel://, rediss-sentinel://,
// redis-cluster://, rediss-cluster://. An unreachable Redis is an error
// within a few seconds, never a hang.
func redisStore(ctx context.Context, v string, log *slog.Logger) (store.Store, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := redisstore.Open(ctx, v, redisstore.Options{Logger: log})
	if err != nil {
		return nil, "", &auth.ConfigError{Var: auth.EnvStore, Problem: err.Error()}
	}
	return s, "redis " + redact(v), nil
}
