// Command signet runs the Signet web app: sign-in and real sign-out with
// OpenID Connect. With no identity provider configured it starts the
// embedded development identity provider.
//
// Usage:
//
//	signet              run the app (PORT, default 3000)
//	signet secret       write a new AUTH_SECRET to .env.local
//	signet secret -raw  print a new AUTH_SECRET
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "signet:", err)
		os.Exit(1)
	}
}
