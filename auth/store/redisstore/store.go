package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/signet-auth/signet/auth/store"
)

var _ store.Store = (*Store)(nil)

// Defaults of Options.
const (
	DefaultPrefix      = "signet:"
	DefaultCacheSize   = 64 << 20
	DefaultDialTimeout = 3 * time.Second
	DefaultTimeout     = time.Second
)

// cacheTTL is how long Get keeps a value client-side at most; Redis's
// invalidations end it sooner when the key changes, and the key's own
// expiry caps it.
const cacheTTL = time.Minute

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// Prefix starts every key and channel name, so that several apps
	// can share one Redis. Default DefaultPrefix ("signet:").
	Prefix string
	// CacheSize is the client-side cache of each connection, one per
	// Redis node, in bytes. Default DefaultCacheSize (64 MiB); negative
	// turns client-side caching off, so every Get is a round trip.
	CacheSize int
	// DialTimeout bounds each connection attempt, at Open and after a
	// lost connection. Default DefaultDialTimeout (3 s).
	DialTimeout time.Duration
	// Timeout bounds each call, retries included, when the caller's
	// context allows longer; it is also the connection's read/write
	// timeout, after which an unresponsive Redis counts as down. Default
	// DefaultTimeout (1 s).
	Timeout time.Duration
	// Logger receives the subscriptions' losses and recoveries. Default:
	// slog.Default().
	Logger *slog.Logger
}

// Store is a store.Store on Redis, shared by every instance that opens
// the same URL with the same prefix. It is safe for concurrent use.
type Store struct {
	client  rueidis.Client
	prefix  string
	timeout time.Duration
	log     *slog.Logger

	closed atomic.Bool
	base   context.Context // done when the store is closed
	cancel context.CancelFunc
	subs   sync.WaitGroup
}

// Open connects to the Redis that url names (see the package doc for the
// forms) and checks that it answers. An unreachable Redis is an error
// after at most about DialTimeout per address, or sooner if ctx ends.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	t, err := parseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redisstore: %w", err)
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if err := store.Check(opts.Prefix, nil); err != nil {
		return nil, fmt.Errorf("redisstore: the prefix %q: %w", opts.Prefix, err)
	}
	if opts.CacheSize == 0 {
		opts.CacheSize = DefaultCacheSize
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultDialTimeout
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}

	o := t.option
	o.Dialer.Timeout = opts.DialTimeout
	o.Sentinel.Dialer.Timeout = opts.DialTimeout
	o.ConnWriteTimeout = opts.Timeout
	// One connection per node: a write and the invalidation it causes for
	// this client's own cache travel on the same connection, in order,
	// which is what makes the store read its own writes (see sync).
	o.PipelineMultiplex = -1
	if opts.CacheSize < 0 {
		o.DisableCache = true
	} else {
		o.CacheSizeEachConn = opts.CacheSize
	}
	o.ClientName = "signet"
	if t.mode == sentinel {
		// Besides Sentinel's +switch-master messages, ask the Sentinels
		// now and then, so that a missed message does not leave the store
		// on a demoted master.
		o.Sentinel.TopologyRefreshInterval = 5 * time.Second
	}

	// NewClient dials without a context: run it aside so that ctx can
	// end the wait.
	type result struct {
		c   rueidis.Client
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := rueidis.NewClient(o)
		done <- result{c, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		go func() {
			if r := <-done; r.err == nil {
				r.c.Close()
			}
		}()
		return nil, fmt.Errorf("redisstore: connect to %s: %w", t.redacted, ctx.Err())
	}
	if r.err != nil {
		return nil, fmt.Errorf("redisstore: connect to %s: %w", t.redacted, r.err)
	}
	c := r.c
	if t.mode == cluster && c.Mode() != rueidis.ClientModeCluster {
		c.Close()
		return nil, fmt.Errorf("redisstore: %s: not a Redis Cluster (cluster_enabled is off); use redis://", t.redacted)
	}
	pctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	if err := c.Do(pctx, c.B().Ping().Build()).Error(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redisstore: ping %s: %w", t.redacted, err)
	}
	s := &Store{client: c, prefix: opts.Prefix, timeout: opts.Timeout, log: opts.Logger}
	s.base, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Keys, groups and channels live in separate namespaces under the prefix.
func (s *Store) key(k string) string   { return s.prefix + "k:" + k }
func (s *Store) group(g string) string { return s.prefix + "g:" + g }
func (s *Store) topic(t string) string { return s.prefix + "t:" + t }

// bound returns ctx limited to the store's timeout.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// ttl turns an expiry into whole milliseconds from now, rounded up; zero
// or less means the expiry has passed.
func ttl(expires time.Time) int64 {
	d := time.Until(expires)
	if d <= 0 {
		return 0
	}
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

// fail wraps an error of the operation op on key. It names the key's
// kind only (see keyKind): errors end up in logs.
func fail(op, key string, err error) error {
	return fmt.Errorf("redisstore: %s %q: %w", op, keyKind(key), err)
}

// keyKind is key up to its last colon, the rest shown as "…": the end of a
// key can be a credential, such as a server session's id, and must never
// reach a log.
func keyKind(key string) string {
	i := strings.LastIndexByte(key, ':')
	if i == len(key)-1 {
		return key
	}
	return key[:i+1] + "…"
}

// Get implements store.Store. The value is served from the client-side
// cache when this client has read it before and Redis has not said since
// that it changed; an absent key is cached too.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := store.Check(key, nil); err != nil {
		return nil, err
	}
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	lc := &lazyTimeout{Context: ctx, timeout: s.timeout}
	defer lc.release()
	v, err := s.client.DoCache(lc, s.client.B().Get().Key(s.key(key)).Cache(), cacheTTL).ToString()
	if rueidis.IsRedisNil(err) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fail("get", key, err)
	}
	// A fresh slice: rueidis's AsBytes would share the cached string.
	return []byte(v), nil
}

// sync follows a write to the cached key k with a read of its lifetime
// on the same connection. Redis sends the invalidation of this client's
// cached copy of k right after the write's reply, so once the PTTL reply
// is in, the invalidation has been applied and a Get that follows reads
// the write. Without it a Get racing the connection's reader could
// return the value from before the write.
func (s *Store) sync(k string) rueidis.Completed {
	return s.client.B().Pttl().Key(k).Build()
}

// write runs cmd, which writes the cached key k, and syncs.
func (s *Store) write(ctx context.Context, k string, cmd rueidis.Completed) rueidis.RedisResult {
	rs := s.client.DoMulti(ctx, cmd, s.sync(k))
	if err := rs[1].Error(); err != nil && rs[0].Error() == nil {
		return rs[1]
	}
	return rs[0]
}

// script runs a script on the cached key k and syncs.
func (s *Store) script(ctx context.Context, lua *rueidis.Lua, k string, args ...string) rueidis.RedisResult {
	r := lua.Exec(ctx, s.client, []string{k}, args)
	if r.Error() != nil {
		return r
	}
	if err := s.client.Do(ctx, s.sync(k)).Error(); err != nil {
		return rueidis.NewErrorResult(err)
	}
	return r
}

// Set implements store.Store.
func (s *Store) Set(ctx context.Context, key string, value []byte, expires time.Time) error {
	if err := store.Check(key, value); err != nil {
		return err
	}
	if s.closed.Load() {
		return store.ErrClosed
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	k := s.key(key)
	cmd := s.client.B().Del().Key(k).Build()
	if ms := ttl(expires); ms > 0 {
		cmd = s.client.B().Set().Key(k).Value(string(value)).PxMilliseconds(ms).Build()
	}
	if err := s.write(ctx, k, cmd).Error(); err != nil {
		return fail("set", key, err)
	}
	return nil
}

// Add implements store.Store with SET NX, which one caller wins however
// many instances race.
func (s *Store) Add(ctx context.Context, key string, value []byte, expires time.Time) (bool, error) {
	if err := store.Check(key, value); err != nil {
		return false, err
	}
	if s.closed.Load() {
		return false, store.ErrClosed
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	k := s.key(key)
	ms := ttl(expires)
	if ms <= 0 {
		// Stored and expired at once: it wins if nothing is there.
		n, err := s.client.Do(ctx, s.client.B().Exists().Key(k).Build()).AsInt64()
		if err != nil {
			return false, fail("add", key, err)
		}
		return n == 0, nil
	}
	err := s.write(ctx, k, s.client.B().Set().Key(k).Value(string(value)).Nx().PxMilliseconds(ms).Build()).Error()
	if rueidis.IsRedisNil(err) {
		return false, nil
	}
	if err != nil {
		return false, fail("add", key, err)
	}
	return true, nil
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := store.Check(key, nil); err != nil {
		return err
	}
	if s.closed.Load() {
		return store.ErrClosed
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	k := s.key(key)
	if err := s.write(ctx, k, s.client.B().Del().Key(k).Build()).Error(); err != nil {
		return fail("delete", key, err)
	}
	return nil
}

// DeleteIf implements store.Store with a script.
func (s *Store) DeleteIf(ctx context.Context, key string, value []byte) (bool, error) {
	if err := store.Check(key, value); err != nil {
		return false, err
	}
	if s.closed.Load() {
		return false, store.ErrClosed
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	n, err := s.script(ctx, deleteIfScript, s.key(key), string(value)).AsInt64()
	if err != nil {
		return false, fail("delete-if", key, err)
	}
	return n == 1, nil
}

// Max implements store.Store with a script.
func (s *Store) Max(ctx context.Context, key string, n int64, expires time.Time) error {
	if err := store.Check(key, nil); err != nil {
		return err
	}
	if s.closed.Load() {
		return store.ErrClosed
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	err := s.script(ctx, maxScript, s.key(key), strconv.FormatInt(n, 10), strconv.FormatInt(ttl(expires), 10)).Error()
	if err != nil {
		return fail("max", key, err)
	}
	return nil
}

// PutMember implements store.Store with a script.
func (s *Store) PutMember(ctx context.Context, group, member string, value []byte, expires time.Time) error {
	if err := store.Check(group, value); err != nil {
		return err
	}
	if err := store.Check(member, nil); err != nil {
		return err
	}
	if s.closed.Load() {
		return store.ErrClosed
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	err := putMemberScript.Exec(ctx, s.client, []string{s.group(group)},
		[]string{member, strconv.FormatInt(ttl(expires), 10), string(value)}).Error()
	if err != nil {
		return fail("put-member", group, err)
	}
	return nil
}

// Members implements store.Store with a script, which also deletes the
// expired members it meets. It is not cached.
func (s *Store) Members(ctx context.Context, group string) (map[string][]byte, error) {
	if err := store.Check(group, nil); err != nil {
		return nil, err
	}
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	list, err := membersScript.Exec(ctx, s.client, []string{s.group(group)}, nil).AsStrSlice()
	if err != nil {
		return nil, fail("members", group, err)
	}
	if len(list)%2 != 0 {
		return nil, fail("members", group, errors.New("odd reply"))
	}
	out := make(map[string][]byte, len(list)/2)
	for i := 0; i < len(list); i += 2 {
		out[list[i]] = []byte(list[i+1])
	}
	return out, nil
}

// DeleteMember implements store.Store.
func (s *Store) DeleteMember(ctx context.Context, group, member string) error {
	if err := store.Check(group, nil); err != nil {
		return err
	}
	if err := store.Check(member, nil); err != nil {
		return err
	}
	if s.closed.Load() {
		return store.ErrClosed
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if err := s.client.Do(ctx, s.client.B().Hdel().Key(s.group(group)).Field(member).Build()).Error(); err != nil {
		return fail("delete-member", group, err)
	}
	return nil
}

// Publish implements store.Store with PUBLISH, which a Cluster carries
// to every node.
func (s *Store) Publish(ctx context.Context, topic string, msg []byte) error {
	if err := store.Check(topic, msg); err != nil {
		return err
	}
	if s.closed.Load() {
		return store.ErrClosed
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if err := s.client.Do(ctx, s.client.B().Publish().Channel(s.topic(topic)).Message(string(msg)).Build()).Error(); err != nil {
		return fmt.Errorf("redisstore: publish %q: %w", topic, err)
	}
	return nil
}

// Close implements store.Store: it ends every subscription, waits for
// their goroutines and closes the connections.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	s.cancel()
	s.client.Close()
	s.subs.Wait()
	return nil
}
