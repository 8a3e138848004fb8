package filestore

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// holdEnv, set to a store file's path, makes the test binary a process
// that opens the store, prints "locked", and holds it until its standard
// input ends: the other instance of TestOpenHeldByAnotherProcess.
const holdEnv = "FILESTORE_TEST_HOLD"

func TestMain(m *testing.M) {
	if path := os.Getenv(holdEnv); path != "" {
		os.Exit(hold(path))
	}
	os.Exit(m.Run())
}

func hold(path string) int {
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer s.Close()
	fmt.Println("locked")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// pageSize is bbolt's page size for new files on this machine.
var pageSize = os.Getpagesize()

func TestOpenRefuses(t *testing.T) {
	tests := []struct {
		name string
		make func(t *testing.T, path string)
		want string
	}{
		{"a short file of text", writeFile([]byte("not a database\n")), "is not a store file or is damaged: invalid database"},
		{"pages of text", writeFile(bytes.Repeat([]byte("not a database\n"), 5000)), "is not a store file or is damaged"},
		{"truncated to 100 bytes", truncated(100), "is truncated: 100 bytes, its pages need"},
		{"truncated to its meta pages", truncated(int64(2 * pageSize)), "is truncated"},
		{"truncated by a page of data", truncated(-int64(pageSize)), "is truncated"},
		{"truncated inside its first meta page", truncated(16), "is not a store file or is damaged: invalid database"},
		{"overwritten after its meta pages", overwritten(int64(2 * pageSize)), "is damaged"},
		{"read-only", withMode(0o400), "has permissions 0400; the store must be able to read and write it"},
		{"no permissions", withMode(0), "has permissions 0; the store must be able to read and write it"},
		{"a directory", func(t *testing.T, path string) { must(t, os.Mkdir(path, 0o700)) }, "is a directory, not a store file"},
		{"another bbolt database", otherDB, `is a bbolt database but not a Signet store (no "meta" bucket)`},
		{"a newer format", withVersion("2"), `holds store format version "2"; this version of Signet reads version 1`},
		{"no format version", withVersion(""), `is damaged: no format version in its "meta" bucket`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "store.db")
			tt.make(t, path)
			before := contents(t, path)
			s, err := Open(path, Options{Timeout: 200 * time.Millisecond})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			t.Logf("Open: %v", err)
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open: %v\nwant the path %s and %q", err, path, tt.want)
			}
			if after := contents(t, path); !bytes.Equal(before, after) {
				t.Errorf("Open changed the file it refused (%d bytes before, %d after)", len(before), len(after))
			}
			// The file is not left locked.
			if db, err := bolt.Open(path, 0, &bolt.Options{Timeout: 100 * time.Millisecond, ReadOnly: true}); err == nil {
				db.Close()
			} else if strings.Contains(err.Error(), "timeout") {
				t.Errorf("the refused file is still locked")
			}
		})
	}
}

// TestOpenTruncatedAnywhere cuts a store file at every half page short
// of its pages: Open refuses each, and never crashes.
func TestOpenTruncatedAnywhere(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src.db")
	fill(t, src, 40)
	whole, err := os.ReadFile(src)
	must(t, err)
	db, err := bolt.Open(src, 0, &bolt.Options{ReadOnly: true})
	must(t, err)
	var pages int64
	must(t, db.View(func(tx *bolt.Tx) error { pages = tx.Size(); return nil }))
	must(t, db.Close())

	dir := t.TempDir()
	for size := int64(pageSize / 2); size < pages; size += int64(pageSize / 2) {
		path := filepath.Join(dir, fmt.Sprintf("cut-%d.db", size))
		must(t, os.WriteFile(path, whole[:size], 0o600))
		s, err := Open(path, Options{Timeout: 200 * time.Millisecond})
		if err == nil {
			s.Close()
			t.Errorf("Open of the file cut to %d of %d bytes succeeded", size, pages)
			continue
		}
		if want := path + " is truncated"; !strings.Contains(err.Error(), want) {
			t.Errorf("cut to %d bytes: %v; want %q", size, err, want)
		}
	}
}

func TestOpenHeldInThisProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	first, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantInUse(t, path)
	must(t, first.Close())
	openAt(t, path, newClock())
}

func TestOpenHeldByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	must(t, err)
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if line != "locked\n" {
		t.Fatalf("the other process: %q, %v; its stderr: %s", line, err, stderr.String())
	}

	wantInUse(t, path)

	must(t, stdin.Close()) // the other process closes the store and exits
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the other process: %v; its stderr: %s", err, stderr.String())
	}
	openAt(t, path, newClock())
}

// wantInUse opens the store at path, held elsewhere, and wants a clear
// error within the lock's timeout.
func wantInUse(t *testing.T, path string) {
	t.Helper()
	const timeout = 300 * time.Millisecond
	start := time.Now()
	s, err := Open(path, Options{Timeout: timeout})
	took := time.Since(start)
	if err == nil {
		s.Close()
		t.Fatal("a second Open of a held file succeeded")
	}
	want := path + " is in use by another process (another Signet instance?)"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("Open of a held file: %v\nwant %q", err, want)
	}
	if took > timeout+5*time.Second {
		t.Errorf("Open of a held file took %s with a timeout of %s", took, timeout)
	}
}

func writeFile(b []byte) func(*testing.T, string) {
	return func(t *testing.T, path string) { must(t, os.WriteFile(path, b, 0o600)) }
}

// truncated makes a store file spanning several pages and cuts it to
// size bytes, or, when size is negative, to -size bytes less than its
// pages take (the file grows ahead of them).
func truncated(size int64) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		fill(t, path, 40)
		if size < 0 {
			db, err := bolt.Open(path, 0, &bolt.Options{ReadOnly: true})
			must(t, err)
			must(t, db.View(func(tx *bolt.Tx) error { size += tx.Size(); return nil }))
			must(t, db.Close())
		}
		must(t, os.Truncate(path, size))
	}
}

// overwritten makes a store file and writes text over it from offset
// on, to its end.
func overwritten(offset int64) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		fill(t, path, 40)
		fi, err := os.Stat(path)
		must(t, err)
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		must(t, err)
		defer f.Close()
		junk := bytes.Repeat([]byte("not a page "), int(fi.Size()-offset)/11)
		_, err = f.WriteAt(junk, offset)
		must(t, err)
	}
}

func withMode(mode os.FileMode) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		fill(t, path, 1)
		must(t, os.Chmod(path, mode))
		// Open's check of the mode refuses the file even for root, whom
		// the system would let read and write it.
		t.Cleanup(func() { _ = os.Chmod(path, 0o600) })
	}
}

func otherDB(t *testing.T, path string) {
	db, err := bolt.Open(path, 0o600, nil)
	must(t, err)
	must(t, db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("widgets"))
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte("v"))
	}))
	must(t, db.Close())
}

// withVersion makes a store file whose meta bucket holds version v, or
// no version for "".
func withVersion(v string) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		fill(t, path, 1)
		db, err := bolt.Open(path, 0o600, nil)
		must(t, err)
		must(t, db.Update(func(tx *bolt.Tx) error {
			if v == "" {
				return tx.Bucket(bucketMeta).Delete(keyVersion)
			}
			return tx.Bucket(bucketMeta).Put(keyVersion, []byte(v))
		}))
		must(t, db.Close())
	}
}

// contents returns the file's bytes, or nil for a directory.
func contents(t *testing.T, path string) []byte {
	t.Helper()
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil
	}
	b, err := os.ReadFile(path)
	must(t, err)
	return b
}
