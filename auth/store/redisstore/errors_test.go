package redisstore

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet/auth/store/redisstore/redistest"
)

// Errors name a key's kind, never the rest of the key: a server session's
// id is a credential, and store errors are logged.
func TestErrorsHideKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t)
	s := openStore(t, "redis://"+srv.Addr, Options{})
	srv.Kill()
	const secret = "Zm9vYmFyYmF6cXV4c2VjcmV0"
	exp := time.Now().Add(time.Hour)
	for name, call := range map[string]func() error{
		"Get":          func() error { _, err := s.Get(ctx, "sess:"+secret); return err },
		"Set":          func() error { return s.Set(ctx, "sess:"+secret, []byte("v"), exp) },
		"Delete":       func() error { return s.Delete(ctx, "sess:"+secret) },
		"Members":      func() error { _, err := s.Members(ctx, "user:"+secret); return err },
		"DeleteMember": func() error { return s.DeleteMember(ctx, "user:"+secret, "m") },
		"no colon":     func() error { _, err := s.Get(ctx, secret); return err },
	} {
		err := call()
		if err == nil {
			t.Errorf("%s with Redis down succeeded", name)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error holds the key: %v", name, err)
		}
		if name != "no colon" && !strings.Contains(err.Error(), `:…"`) {
			t.Errorf("%s: the error does not name the key's kind: %v", name, err)
		}
	}
	for key, want := range map[string]string{"sess:abc": "sess:…", "rev:sid:abc": "rev:sid:…", "abc": "…", "user:": "user:"} {
		if got := keyKind(key); got != want {
			t.Errorf("keyKind(%q) = %q, want %q", key, got, want)
		}
	}
}
