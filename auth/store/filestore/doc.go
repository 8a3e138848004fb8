// Package filestore is a store.Store kept in one file on the local disk:
// the durable store of a single Signet instance. Sessions, revocations,
// replayed logout tokens and refresh locks survive a restart, so nothing
// an identity provider or a user ended comes back to life. Several
// instances behind a load balancer need a shared store instead
// (auth/store/redisstore); publish/subscribe here reaches the subscribers
// of this process only.
//
// # File format
//
// The file is a bbolt database (go.etcd.io/bbolt) with three buckets at
// the top level:
//
//	meta    "version" → "1"
//	kv      key → expiry ‖ value
//	groups  group → a nested bucket of member → expiry ‖ value
//
// expiry is the instant the entry stops being live, as 8 bytes of
// big-endian Unix nanoseconds (times past the year 2262 are stored as
// the largest such number); value follows it unchanged. A group exists
// while it has members. Open refuses a file whose version it does not
// know, and a bbolt file without the meta bucket, rather than rewriting
// either.
//
// Expired entries are never returned. A sweep at Open and then every
// minute deletes them in one write transaction, so the live data in the
// file follows the live entries; bbolt reuses the freed pages but never
// shrinks the file.
//
// # Opening, locking, corruption
//
// Open creates the file's folder (0700) and the file (0600) when they are
// missing. It takes an exclusive lock on the file (flock) for as long as
// the store is open: a second Open of the same file — from another
// process, or a second one in this process — fails after Options.Timeout
// (2 s by default) with an error saying the file is in use, instead of
// waiting forever as bbolt would by default.
//
// A file that is not a store, is damaged, truncated, is a directory or
// cannot be read and written makes Open fail with an error naming the
// file and what is wrong with it. The file is then left as it is: the
// store is never silently reset. Open compares the file's length with
// the pages its meta page counts before bbolt maps it, then checks the
// whole file (bbolt's consistency check), in time proportional to its
// size: about 50 ms for 100 000 entries of 200 bytes.
//
// Every write (Set, Add, Delete, DeleteIf, Max, PutMember, DeleteMember)
// is one bbolt write transaction, synced to disk before the call returns;
// reads are read-only transactions that run concurrently with each other
// and with one writer.
package filestore
