package filestore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/signet-auth/signet/auth/store"
)

var _ store.Store = (*Store)(nil)

// Options configure Open. The zero value is ready to use.
type Options struct {
	// Timeout bounds the wait for the file's lock, held by another open
	// store. Zero means DefaultTimeout.
	Timeout time.Duration
	// Now is the store's clock; nil means time.Now.
	Now func() time.Time
	// Logger receives the background sweep's failures and a warning about
	// a file others can read; nil discards them.
	Logger *slog.Logger
}

// DefaultTimeout is how long Open waits for a file another store holds.
const DefaultTimeout = 2 * time.Second

// sweepEvery is how often expired entries are deleted from the file.
const sweepEvery = time.Minute

// formatVersion is the version of the file format described in the
// package documentation, kept under "version" in the meta bucket.
const formatVersion = "1"

var (
	bucketMeta   = []byte("meta")
	bucketKV     = []byte("kv")
	bucketGroups = []byte("groups")
	keyVersion   = []byte("version")
)

// Store is a store.Store in one bbolt file. Open one per file and process;
// it is safe for concurrent use.
type Store struct {
	db   *bolt.DB
	path string
	now  func() time.Time
	log  *slog.Logger

	closed    atomic.Bool
	closeOnce sync.Once
	stop      context.CancelFunc
	swept     chan struct{} // closed when the sweeper has returned

	mu   sync.Mutex
	subs map[string]map[*sub]struct{}

	cache readCache // what Get read
}

// Open opens the store in the file at path, creating the file and its
// folder when missing. It fails, naming the file, when the file is held
// by another open store (after opts.Timeout), is not a store file of a
// version it knows, is damaged or cannot be read and written. Close the
// store to release the file.
func Open(path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("filestore: no file path")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("filestore: cannot create the folder of %s: %w", path, err)
	}
	if err := checkFile(path, opts.Logger); err != nil {
		return nil, err
	}
	db, err := openDB(path, opts.Timeout)
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Store{
		db:    db,
		path:  path,
		now:   opts.Now,
		log:   opts.Logger,
		stop:  stop,
		swept: make(chan struct{}),
		subs:  map[string]map[*sub]struct{}{},
	}
	if _, err := s.sweep(); err != nil {
		stop()
		_ = db.Close()
		return nil, fmt.Errorf("filestore: %s: %w", path, err)
	}
	go s.sweeper(ctx)
	return s, nil
}

// checkFile refuses what is at path, if anything, unless it is a regular
// file its owner can read and write and, when it is a bbolt file, as
// long as its pages: bbolt would read past the end of a truncated one.
func checkFile(path string, log *slog.Logger) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil // bbolt creates it, 0600
	case err != nil:
		return fmt.Errorf("filestore: cannot read %s: %w", path, unwrapPath(err))
	case fi.IsDir():
		return fmt.Errorf("filestore: %s is a directory, not a store file", path)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("filestore: %s is not a regular file (%s)", path, fi.Mode().Type())
	case fi.Mode().Perm()&0o600 != 0o600:
		// Checked here too because root may open any file: a store file
		// its owner may not write is a mistake to report, not to ignore.
		return fmt.Errorf("filestore: %s has permissions %#o; the store must be able to read and write it (0600)", path, fi.Mode().Perm())
	case fi.Mode().Perm()&0o077 != 0:
		log.Warn("filestore: the store file can be read by others than its owner", "path", path, "mode", fmt.Sprintf("%#o", fi.Mode().Perm()))
	}
	if fi.Size() == 0 {
		return nil // a new file, bbolt writes its first pages
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("filestore: cannot read %s: %w", path, unwrapPath(err))
	}
	defer f.Close()
	if length, ok := pagesLength(f, fi.Size()); ok && fi.Size() < length {
		return fmt.Errorf("filestore: %s is truncated: %d bytes, its pages need %d", path, fi.Size(), length)
	}
	return nil
}

// openDB opens, locks and checks the bbolt file at path, and prepares
// its buckets.
//
// bbolt reads the file through a memory map and panics on some damaged
// pages; a page past the end of a truncated file would even crash the
// process. The checks therefore run with faults turned into panics, and
// a panic into an error. After one in bbolt.Open, the file's lock is
// released and the file closed, but its memory map is left behind.
func openDB(path string, timeout time.Duration) (db *bolt.DB, err error) {
	var file *os.File
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			switch {
			case db != nil: // bbolt's checks panicked; their transaction is rolled back
				_ = db.Close()
			case file != nil:
				unlock(file)
				_ = file.Close()
			}
			db, err = nil, fmt.Errorf("filestore: %s is damaged: %s", path, panicReason(r))
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      timeout,
		NoStatistics: true,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, perm)
			file = f
			return f, err
		},
	})
	var pathErr *fs.PathError
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, fmt.Errorf("filestore: %s is in use by another process (another Signet instance?): no lock within %s", path, timeout)
	case errors.As(err, &pathErr):
		return nil, fmt.Errorf("filestore: cannot open %s: %w", path, pathErr.Err)
	case err != nil:
		return nil, fmt.Errorf("filestore: %s is not a store file or is damaged: %w", path, err)
	}
	if err := db.View(func(tx *bolt.Tx) error { return checkDB(tx, path) }); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := db.Update(func(tx *bolt.Tx) error { return prepare(tx, path) }); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// panicReason describes a panic of bbolt's reading a damaged file.
func panicReason(r any) string {
	if fault, ok := r.(interface{ Addr() uintptr }); ok {
		return fmt.Sprintf("reading it faulted at %#x (truncated?)", fault.Addr())
	}
	return fmt.Sprint(r)
}

// checkDB reports a file shorter than its pages or failing bbolt's
// consistency check.
func checkDB(tx *bolt.Tx, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("filestore: cannot read %s: %w", path, unwrapPath(err))
	}
	if fi.Size() < tx.Size() {
		return fmt.Errorf("filestore: %s is truncated: %d bytes, its pages need %d", path, fi.Size(), tx.Size())
	}
	var problems []string
	for err := range tx.Check() { // read to the end: Check's goroutine sends until done
		if len(problems) < 3 {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("filestore: %s is damaged: %s", path, strings.Join(problems, "; "))
	}
	return nil
}

// prepare creates the buckets of an empty file, and refuses a file of
// another format.
func prepare(tx *bolt.Tx, path string) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		if k, _ := tx.Cursor().First(); k != nil {
			return fmt.Errorf("filestore: %s is a bbolt database but not a Signet store (no %q bucket)", path, bucketMeta)
		}
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return fmt.Errorf("filestore: %s: %w", path, err)
		}
		if err := meta.Put(keyVersion, []byte(formatVersion)); err != nil {
			return fmt.Errorf("filestore: %s: %w", path, err)
		}
		for _, name := range [][]byte{bucketKV, bucketGroups} {
			if _, err := tx.CreateBucket(name); err != nil {
				return fmt.Errorf("filestore: %s: %w", path, err)
			}
		}
		return nil
	}
	v := meta.Get(keyVersion)
	if v == nil {
		return fmt.Errorf("filestore: %s is damaged: no format version in its %q bucket", path, bucketMeta)
	}
	if string(v) != formatVersion {
		return fmt.Errorf("filestore: %s holds store format version %q; this version of Signet reads version %s", path, v, formatVersion)
	}
	for _, name := range [][]byte{bucketKV, bucketGroups} {
		if tx.Bucket(name) == nil {
			return fmt.Errorf("filestore: %s is damaged: no %q bucket", path, name)
		}
	}
	return nil
}

// unwrapPath returns the cause inside a *fs.PathError, whose message
// repeats the path the caller's already names.
func unwrapPath(err error) error {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Err
	}
	return err
}

// Close implements store.Store: it stops the sweep, ends the
// subscriptions and releases the file. Calls after Close fail with
// store.ErrClosed; a second Close does nothing.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.stop()
		<-s.swept
		s.mu.Lock()
		s.subs = map[string]map[*sub]struct{}{}
		s.mu.Unlock()
		if cerr := s.db.Close(); cerr != nil {
			err = fmt.Errorf("filestore: closing %s: %w", s.path, cerr)
		}
	})
	return err
}
