// Command hello is the benchmark's baseline: a plain net/http server that
// answers every request with the same body of -size bytes, as fast as Go's
// standard library allows. The bench compares Signet's pages against it.
package main

import (
	"bytes"
	"flag"
	"log"
	"net/http"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "listen address")
	size := flag.Int("size", 2048, "response body size in bytes")
	flag.Parse()
	body := bytes.Repeat([]byte("x"), *size)
	log.Fatal(http.ListenAndServe(*addr, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(body)
	})))
}
