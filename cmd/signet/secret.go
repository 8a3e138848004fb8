package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/signet-auth/signet/internal/app"
)

// runSecret is `signet secret`: like `npx auth secret`, it makes 32 random
// bytes, base64-encoded, and writes AUTH_SECRET to .env.local, or prints it
// with -raw. An existing AUTH_SECRET in .env.local is kept unless -force.
func runSecret(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("secret", flag.ContinueOnError)
	fs.SetOutput(stdout)
	raw := fs.Bool("raw", false, "print the secret instead of writing .env.local")
	force := fs.Bool("force", false, "replace an AUTH_SECRET already in .env.local")
	file := fs.String("file", ".env.local", "the file to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	secret := app.RandomSecret()
	if *raw {
		_, err := fmt.Fprintln(stdout, secret)
		return err
	}
	old, err := os.ReadFile(*file)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	var lines []string
	replaced := false
	for _, l := range strings.Split(strings.TrimRight(string(old), "\n"), "\n") {
		t := strings.TrimPrefix(strings.TrimSpace(l), "export ")
		if strings.HasPrefix(t, "AUTH_SECRET=") {
			if !*force {
				return fmt.Errorf("%s already sets AUTH_SECRET: keep it, or run `signet secret -force` to replace it (signing everyone out)", *file)
			}
			l, replaced = fmt.Sprintf("AUTH_SECRET=%q", secret), true
		}
		if l != "" || len(lines) > 0 {
			lines = append(lines, l)
		}
	}
	if !replaced {
		lines = append(lines, "# Added by `signet secret`: keys the session cookies. Keep it private.", fmt.Sprintf("AUTH_SECRET=%q", secret))
	}
	if err := os.WriteFile(*file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "AUTH_SECRET written to %s\n", *file)
	return err
}
