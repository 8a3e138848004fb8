package app

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/auth/store"
	"github.com/signet-auth/signet/auth/store/filestore"
)

// defaultStoreFile is where the store lives when AUTH_STORE is not set:
// a file in the data folder (SIGNET_DATA_DIR, default ./data), so that a
// single instance forgets nothing at restart.
const defaultStoreFile = "signet.db"

// openStore opens the store AUTH_STORE names:
//
//	memory:                          in this process only (tests, throwaway runs)
//	file:PATH                        an embedded file, one instance (the default: file:data/signet.db)
//	redis://[user:pass@]host:port/db Redis, shared by every instance; rediss:// for TLS,
//	                                 redis-sentinel://, redis-cluster:// (see redisStore)
//
// A bad value stops the start with a line that names AUTH_STORE.
func openStore(ctx context.Context, getenv func(string) string, log *slog.Logger) (store.Store, string, error) {
	v := strings.TrimSpace(getenv(auth.EnvStore))
	if v == "" {
		dir := strings.TrimSpace(getenv("SIGNET_DATA_DIR"))
		if dir == "" {
			dir = "data"
		}
		v = "file:" + filepath.Join(dir, defaultStoreFile)
	}
	scheme, rest, _ := strings.Cut(v, ":")
	switch strings.ToLower(scheme) {
	case "memory":
		if rest != "" {
			return nil, "", &auth.ConfigError{Var: auth.EnvStore, Problem: fmt.Sprintf("%q: memory: takes nothing after the colon", v)}
		}
		return store.NewMemory(nil), "memory", nil
	case "file":
		if rest == "" {
			return nil, "", &auth.ConfigError{Var: auth.EnvStore, Problem: "file: needs a path, e.g. file:data/signet.db"}
		}
		s, err := filestore.Open(rest, filestore.Options{Logger: log})
		if err != nil {
			return nil, "", &auth.ConfigError{Var: auth.EnvStore, Problem: err.Error()}
		}
		return s, "file " + rest, nil
	case "redis", "rediss", "redis-sentinel", "rediss-sentinel", "redis-cluster", "rediss-cluster":
		return redisStore(ctx, v, log)
	default:
		return nil, "", &auth.ConfigError{Var: auth.EnvStore, Problem: fmt.Sprintf("%q is not memory:, file:PATH or a redis:// URL", redact(v))}
	}
}

// redact hides a URL's password for messages.
func redact(v string) string {
	if i := strings.Index(v, "://"); i >= 0 {
		if at := strings.LastIndex(v, "@"); at > i {
			user, _, _ := strings.Cut(v[i+3:at], ":")
			return v[:i+3] + user + ":***" + v[at:]
		}
	}
	return v
}
