package store

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"sync"
	"time"
)

var _ Store = (*Memory)(nil)

// Memory is a Store in the process's memory: one instance, and everything
// is lost when the process ends. Expired entries are dropped as they are
// met and by a sweep every 1024 writes, so memory follows the live
// entries.
type Memory struct {
	now func() time.Time

	mu     sync.RWMutex // Get, the read of every request, shares it
	kv     map[string]memEntry
	groups map[string]map[string]memEntry
	subs   map[string]map[*memSub]struct{}
	writes int
	closed bool
}

type memEntry struct {
	value   []byte
	expires time.Time
}

type memSub struct {
	ctx context.Context
	mu  sync.Mutex // one delivery at a time
	fn  func([]byte)
}

// NewMemory returns an empty Memory store. now is its clock; nil means
// time.Now.
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{
		now:    now,
		kv:     map[string]memEntry{},
		groups: map[string]map[string]memEntry{},
		subs:   map[string]map[*memSub]struct{}{},
	}
}

// live returns key's entry if it has not expired, dropping it if it has.
// m.mu is held.
func (m *Memory) live(key string, now time.Time) (memEntry, bool) {
	e, ok := m.kv[key]
	if !ok {
		return memEntry{}, false
	}
	if !now.Before(e.expires) {
		delete(m.kv, key)
		return memEntry{}, false
	}
	return e, true
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, key string) ([]byte, error) {
	if err := Check(key, nil); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	// An expired entry is left for a write or the sweep to drop.
	e, ok := m.kv[key]
	if !ok || !m.now().Before(e.expires) {
		return nil, ErrNotFound
	}
	return bytes.Clone(e.value), nil
}

// Set implements Store.
func (m *Memory) Set(_ context.Context, key string, value []byte, expires time.Time) error {
	if err := Check(key, value); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	now := m.now()
	if !now.Before(expires) {
		delete(m.kv, key)
		return nil
	}
	m.kv[key] = memEntry{value: bytes.Clone(value), expires: expires}
	m.wrote(now)
	return nil
}

// Add implements Store.
func (m *Memory) Add(_ context.Context, key string, value []byte, expires time.Time) (bool, error) {
	if err := Check(key, value); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false, ErrClosed
	}
	now := m.now()
	if _, ok := m.live(key, now); ok {
		return false, nil
	}
	if !now.Before(expires) {
		return true, nil // stored and expired at once
	}
	m.kv[key] = memEntry{value: bytes.Clone(value), expires: expires}
	m.wrote(now)
	return true, nil
}

// Delete implements Store.
func (m *Memory) Delete(_ context.Context, key string) error {
	if err := Check(key, nil); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	delete(m.kv, key)
	return nil
}

// DeleteIf implements Store.
func (m *Memory) DeleteIf(_ context.Context, key string, value []byte) (bool, error) {
	if err := Check(key, value); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false, ErrClosed
	}
	e, ok := m.live(key, m.now())
	if !ok || !bytes.Equal(e.value, value) {
		return false, nil
	}
	delete(m.kv, key)
	return true, nil
}

// Max implements Store.
func (m *Memory) Max(_ context.Context, key string, n int64, expires time.Time) error {
	if err := Check(key, nil); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	now := m.now()
	e, ok := m.live(key, now)
	if ok {
		if cur, err := strconv.ParseInt(string(e.value), 10, 64); err == nil && cur > n {
			n = cur
		}
		if e.expires.After(expires) {
			expires = e.expires
		}
	}
	if !now.Before(expires) {
		return nil
	}
	m.kv[key] = memEntry{value: strconv.AppendInt(nil, n, 10), expires: expires}
	m.wrote(now)
	return nil
}

// PutMember implements Store.
func (m *Memory) PutMember(_ context.Context, group, member string, value []byte, expires time.Time) error {
	if err := Check(group, value); err != nil {
		return err
	}
	if err := Check(member, nil); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	now := m.now()
	g := m.groups[group]
	if !now.Before(expires) {
		delete(g, member)
		return nil
	}
	if g == nil {
		g = map[string]memEntry{}
		m.groups[group] = g
	}
	g[member] = memEntry{value: bytes.Clone(value), expires: expires}
	m.wrote(now)
	return nil
}

// Members implements Store.
func (m *Memory) Members(_ context.Context, group string) (map[string][]byte, error) {
	if err := Check(group, nil); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	now := m.now()
	out := map[string][]byte{}
	for k, e := range m.groups[group] {
		if !now.Before(e.expires) {
			delete(m.groups[group], k)
			continue
		}
		out[k] = bytes.Clone(e.value)
	}
	if len(m.groups[group]) == 0 {
		delete(m.groups, group)
	}
	return out, nil
}

// DeleteMember implements Store.
func (m *Memory) DeleteMember(_ context.Context, group, member string) error {
	if err := Check(group, nil); err != nil {
		return err
	}
	if err := Check(member, nil); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if g := m.groups[group]; g != nil {
		delete(g, member)
		if len(g) == 0 {
			delete(m.groups, group)
		}
	}
	return nil
}

// wrote sweeps expired entries every 1024 writes. m.mu is held.
func (m *Memory) wrote(now time.Time) {
	m.writes++
	if m.writes%1024 != 0 {
		return
	}
	for k, e := range m.kv {
		if !now.Before(e.expires) {
			delete(m.kv, k)
		}
	}
	for name, g := range m.groups {
		for k, e := range g {
			if !now.Before(e.expires) {
				delete(g, k)
			}
		}
		if len(g) == 0 {
			delete(m.groups, name)
		}
	}
}

// Publish implements Store: subscribers in this process are called before
// Publish returns.
func (m *Memory) Publish(_ context.Context, topic string, msg []byte) error {
	if err := Check(topic, msg); err != nil {
		return err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	subs := make([]*memSub, 0, len(m.subs[topic]))
	for s := range m.subs[topic] {
		subs = append(subs, s)
	}
	m.mu.Unlock()
	for _, s := range subs {
		s.mu.Lock()
		if s.ctx.Err() == nil {
			s.fn(bytes.Clone(msg))
		}
		s.mu.Unlock()
	}
	return nil
}

// Subscribe implements Store.
func (m *Memory) Subscribe(ctx context.Context, topic string, fn func([]byte)) error {
	if err := Check(topic, nil); err != nil {
		return err
	}
	s := &memSub{ctx: ctx, fn: fn}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if m.subs[topic] == nil {
		m.subs[topic] = map[*memSub]struct{}{}
	}
	m.subs[topic][s] = struct{}{}
	context.AfterFunc(ctx, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		delete(m.subs[topic], s)
		if len(m.subs[topic]) == 0 {
			delete(m.subs, topic)
		}
	})
	return nil
}

// Close implements Store.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.kv, m.groups, m.subs = map[string]memEntry{}, map[string]map[string]memEntry{}, map[string]map[*memSub]struct{}{}
	return nil
}

// Keys lists the live keys that start with prefix, in no order: for
// tests and debugging.
func (m *Memory) Keys(prefix string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	var out []string
	for k, e := range m.kv {
		if strings.HasPrefix(k, prefix) && now.Before(e.expires) {
			out = append(out, k)
		}
	}
	return out
}

// Len reports how many keys and group members the store holds, expired
// ones included until they are swept: for tests of what a request left
// behind.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := len(m.kv)
	for _, g := range m.groups {
		n += len(g)
	}
	return n
}
