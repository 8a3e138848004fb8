package auth_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestImporterModuleGraph builds the module graph of an app that imports
// auth, as a developer would get it, and checks that it holds only what
// auth needs: none of the app's browser-test, dev-IdP, template-generator or
// Redis modules.
func TestImporterModuleGraph(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go mod tidy in a scratch module")
	}
	authDir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/app\n\ngo 1.26.8\n\n" +
			"require github.com/signet-auth/signet/auth v0.0.0-00010101000000-000000000000\n\n" +
			"replace github.com/signet-auth/signet/auth => " + authDir + "\n",
		"main.go": `package main

import (
	"net/http"

	"github.com/signet-auth/signet/auth"
	"github.com/signet-auth/signet/auth/store/filestore"
)

var _ = filestore.Open

func main() {
	a, err := auth.New(auth.Config{})
	if err != nil {
		panic(err)
	}
	_ = http.ListenAndServe("127.0.0.1:0", a.Middleware(a.Handler()))
}
`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gocmd := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		// GOPROXY, GOMODCACHE and the rest come from the environment as it is.
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	gocmd("mod", "tidy")
	graph := gocmd("mod", "graph")

	modules := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(graph), "\n") {
		for _, f := range strings.Fields(line) {
			path, _, _ := strings.Cut(f, "@")
			modules[path] = true
		}
	}
	for _, want := range []string{
		"github.com/signet-auth/signet/auth",
		"github.com/coreos/go-oidc/v3",
		"go.etcd.io/bbolt",
	} {
		if !modules[want] {
			t.Errorf("module graph lacks %s, which auth needs; graph:\n%s", want, graph)
		}
	}
	for _, unwanted := range []string{
		"github.com/chromedp/",
		"github.com/zitadel/",
		"github.com/a-h/templ",
		"github.com/redis/rueidis",
		"github.com/signet-auth/signet ", // the app's own module
	} {
		for m := range modules {
			if strings.HasPrefix(m+" ", unwanted) {
				t.Errorf("module graph of an importer of auth holds %s", m)
			}
		}
	}
}
