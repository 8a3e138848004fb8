// Package static serves the app's stylesheet, images and the front-end
// packages installed from the npm registry (htmx), all embedded in the
// binary, under /static/.
//
// Every file is addressed by a content-hashed URL (URL returns
// "/static/css/app.css?v=<hash>"); a request carrying the current hash is
// cached for a year as immutable, any other is revalidated with its ETag.
//
// htmx is not in the repository: `npm ci && npm run vendor` copies it from
// node_modules into static/vendor/ (git-ignored) before the build. The
// package compiles without it — the vendor* pattern also matches the copy
// script vendor.mjs — and HasHTMX reports whether it was embedded.
package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// files holds the served trees: css/, img/ and vendor/ (when npm has run).
// vendor.mjs, which the vendor* pattern also matches, is not served.
//
//go:embed css img vendor*
var files embed.FS

// Prefix is the URL path the files are served under.
const Prefix = "/static/"

// Names of the files the app's pages use, relative to Prefix.
const (
	CSS  = "css/app.css"
	Logo = "img/logo.svg"
	HTMX = "vendor/htmx.min.js"
	// SSE is htmx's Server-Sent Events extension (htmx-ext-sse), which
	// the signed-in pages load to hear a sign-out as it happens.
	SSE = "vendor/htmx-ext-sse.min.js"
)

// servedDirs are the embedded directories served under Prefix.
var servedDirs = []string{"css", "img", "vendor"}

// HasHTMX reports whether htmx was copied into static/vendor/ before the
// build. Without it the pages still work, without their HTMX updates; the
// app should log a warning naming the fix (`npm ci && npm run vendor`).
func HasHTMX() bool {
	_, err := fs.Stat(files, HTMX)
	return err == nil
}

// asset is one embedded file, ready to serve.
type asset struct {
	body        []byte
	gz          []byte // gzip-compressed body, for text types; nil otherwise
	hash        string
	contentType string
}

// Assets is the embedded files with their content hashes. Build it with
// New; it is immutable and safe for concurrent use.
type Assets struct {
	files map[string]*asset
}

// New reads and hashes the embedded files.
func New() *Assets {
	a := &Assets{files: map[string]*asset{}}
	for _, dir := range servedDirs {
		// A missing directory (vendor/ before npm has run) is not an error.
		_ = fs.WalkDir(files, dir, func(name string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			body, err := files.ReadFile(name)
			if err != nil {
				return nil
			}
			sum := sha256.Sum256(body)
			f := &asset{body: body, hash: hex.EncodeToString(sum[:8]), contentType: contentType(name)}
			if compressible(f.contentType) {
				f.gz = gzipped(body)
			}
			a.files[name] = f
			return nil
		})
	}
	return a
}

// URL returns the content-hashed URL of the file name (relative to
// Prefix, e.g. "css/app.css"), or "" when there is no such file.
func (a *Assets) URL(name string) string {
	f, ok := a.files[name]
	if !ok {
		return ""
	}
	return Prefix + name + "?v=" + f.hash
}

// Names lists the served files, relative to Prefix.
func (a *Assets) Names() []string {
	out := make([]string, 0, len(a.files))
	for name := range a.files {
		out = append(out, name)
	}
	return out
}

// Handler serves the files at Prefix + name; mount it at Prefix without
// stripping the prefix. A GET whose v parameter is the file's current hash
// is cacheable for a year (immutable); any other must revalidate with the
// ETag. notFound answers for files that do not exist (nil:
// http.NotFound).
func (a *Assets) Handler(notFound http.Handler) http.Handler {
	if notFound == nil {
		notFound = http.NotFoundHandler()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.serve(w, r, notFound)
	})
}

func (a *Assets) serve(w http.ResponseWriter, r *http.Request, notFound http.Handler) {
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	f := a.files[name]
	if !ok || f == nil {
		notFound.ServeHTTP(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	if r.URL.Query().Get("v") == f.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, no-cache")
	}
	body, etag := f.body, `"`+f.hash+`"`
	if f.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			body, etag = f.gz, `"`+f.hash+`-gz"`
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".css":
		return "text/css; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	case ".woff2":
		return "font/woff2"
	case ".json", ".map":
		return "application/json"
	default:
		return "application/octet-stream"
	}
}

func compressible(contentType string) bool {
	return strings.HasPrefix(contentType, "text/") || contentType == "image/svg+xml" || contentType == "application/json"
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// acceptsGzip reports whether r's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(coding) != "gzip" {
			continue
		}
		q := strings.ReplaceAll(params, " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
