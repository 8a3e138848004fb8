package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// loadEnv returns a getenv that answers from the real environment first,
// then .env.local, then .env (in dir), like Next.js and Auth.js. Missing
// files are fine; a malformed line is an error naming the file and line.
func loadEnv(dir string, getenv func(string) string) (func(string) string, error) {
	merged := map[string]string{}
	for _, name := range []string{".env", ".env.local"} {
		vals, err := readDotenv(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		for k, v := range vals {
			merged[k] = v
		}
	}
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return merged[k]
	}, nil
}

// readDotenv parses KEY=VALUE lines: blank lines and # comments are
// skipped, "export " is allowed, values may be single- or double-quoted
// (double quotes understand \n, \" and \\), and an unquoted value ends at
// " #".
func readDotenv(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseDotenv(path, bufio.NewScanner(f))
}

func parseDotenv(path string, sc *bufio.Scanner) (map[string]string, error) {
	out := map[string]string{}
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t\"'") {
			return nil, fmt.Errorf("%s:%d: expected KEY=VALUE", path, n)
		}
		v = strings.TrimSpace(v)
		switch {
		case len(v) >= 2 && v[0] == '"' && strings.HasSuffix(v, `"`):
			r := strings.NewReplacer(`\n`, "\n", `\"`, `"`, `\\`, `\`)
			v = r.Replace(v[1 : len(v)-1])
		case len(v) >= 2 && v[0] == '\'' && strings.HasSuffix(v, "'"):
			v = v[1 : len(v)-1]
		case strings.HasPrefix(v, `"`) || strings.HasPrefix(v, "'"):
			return nil, fmt.Errorf("%s:%d: %s has an unterminated quote", path, n, k)
		default:
			if i := strings.Index(v, " #"); i >= 0 {
				v = strings.TrimSpace(v[:i])
			}
		}
		out[k] = v
	}
	return out, sc.Err()
}
