// Package redisstore is a store.Store on Redis, for running several
// instances of an app as one: what one instance writes or publishes,
// every other sees.
//
// # Why rueidis
//
// The client is github.com/redis/rueidis, for its RESP3 client-side
// caching. Signet reads the same few keys on every request (a server
// session, the revocation cutoffs of its user and its IdP session) and
// writes them rarely. Get reads through rueidis's cache (DoCache): the
// first read of a key asks Redis, which from then on tracks the key for
// this connection and pushes an invalidation when any client changes it
// or it expires; until then the value, or its absence, is served from
// the process's memory. Once a request's keys are cached it costs no
// Redis command at all. A cached entry lives at most a minute and never
// past the key's own expiry. rueidis also pipelines concurrent commands
// on one connection by itself.
//
// A Store reads its own writes: each write is followed by a PTTL of the
// same key on the same connection, whose reply arrives after Redis's
// invalidation of the cached copy (a Store keeps one connection per
// Redis node for this). Another instance sees a write once the push
// reaches it, in practice within a millisecond on a healthy network.
//
// # URLs
//
//	redis://[user:password@]host[:port][/db]
//	rediss://[user:password@]host[:port][/db]
//	redis-sentinel://[user:password@]host[:port][,host[:port]…][/db]?master=NAME
//	rediss-sentinel://…
//	redis-cluster://[user:password@]host[:port][,host[:port]…]
//	rediss-cluster://…
//
// redis:// is one server, used as it is (no probing for a Cluster). The
// port defaults to 6379, the database to 0; the user and password are
// percent-encoded and sent with AUTH (a password alone for
// requirepass). The rediss forms use TLS 1.2 or later, verified against
// the system's roots and each address's host name.
//
// redis-sentinel:// lists Sentinels (default port 26379) and names the
// master they monitor; the Store asks them for the current master and
// follows a failover (Sentinel's +switch-master message, and a question
// to the Sentinels every 5 s in case that message was missed). The user and password are the master's; Sentinels
// that need their own give them as ?sentinel_user=…&sentinel_password=….
//
// redis-cluster:// lists one or more nodes of a Redis Cluster (database
// 0 only); the Store learns the rest and follows MOVED and ASK. Open
// fails if the nodes are not a Cluster.
//
// No other query parameter is accepted.
//
// # Keys
//
// With the default prefix "signet:":
//
//	signet:k:KEY     a string: Get, Set, Add, Delete, DeleteIf, Max
//	signet:g:GROUP   a hash, one field per member: PutMember, Members, DeleteMember
//	signet:t:TOPIC   a pub/sub channel: Publish, Subscribe
//
// Every command and script touches one key, so a Cluster never answers
// CROSSSLOT. Expiries are Redis's own (PX), from the caller's expiry
// less the caller's clock, so Redis's clock does not need to agree with
// the instances'. Max keeps the larger number, compared as decimal text
// inside a Lua script, and the later expiry. Redis 7.0 has no expiry per
// hash field, so a member's field holds its expiry in Unix milliseconds
// (Redis's clock), a colon and the value; Members leaves out and deletes
// the expired ones, and the hash lives as long as its longest-lived
// member. Values are binary-safe.
//
// Publish uses PUBLISH, which a Cluster delivers to the subscribers of
// every node, so a subscription on any node hears every instance.
// Subscribe shares the store's connection (RESP3 carries replies and
// messages together).
//
// # Failure
//
// A call never waits longer than Options.Timeout (1 s by default) or its
// context, retries included: a Redis that is down or does not answer is
// an error, never store.ErrNotFound and never a hang. Open fails within
// about Options.DialTimeout (3 s) when Redis cannot be reached. A write
// that timed out may still have been applied. When
// Redis comes back the Store reconnects by itself on the next call, and
// subscriptions subscribe again on the new connection (rueidis retries
// by itself; where it gives up, the Store tries again, backing off from
// 100 ms to 5 s, and logs the loss once); messages published in between
// are missed. A
// lost connection drops its cache, so nothing cached before an outage is
// served after it.
//
// Redis 6.0 or later is needed for client-side caching (RESP3); the
// scripts use only commands of 6.0.
package redisstore
