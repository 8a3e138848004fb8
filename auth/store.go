package auth

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrNotFound is returned by a Store for an id it does not hold (or no
// longer holds, because it expired).
var ErrNotFound = errors.New("auth: session not found")

// Store keeps sessions on the server (the "server" strategy): the browser's
// cookie then holds only an opaque, encrypted id, and logging a user out
// deletes the session for every copy of the cookie. Implementations must be
// safe for concurrent use. data is already serialized; the store need not
// understand it.
type Store interface {
	// Get returns the data stored under id, or ErrNotFound.
	Get(ctx context.Context, id string) ([]byte, error)
	// Set stores data under id until expires.
	Set(ctx context.Context, id string, data []byte, expires time.Time) error
	// Delete removes id. Deleting a missing id is not an error.
	Delete(ctx context.Context, id string) error
}

var _ Store = (*MemoryStore)(nil)

// MemoryStore is a Store in the process's memory, for a single instance.
// Sessions are lost when the process restarts. Expired entries are dropped
// as they are met and by an occasional sweep.
type MemoryStore struct {
	mu     sync.Mutex
	m      map[string]memoryEntry
	now    func() time.Time
	writes int
}

type memoryEntry struct {
	data    []byte
	expires time.Time
}

// NewMemoryStore returns an empty MemoryStore. now may be nil (time.Now).
func NewMemoryStore(now func() time.Time) *MemoryStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{m: map[string]memoryEntry{}, now: now}
}

// Get implements Store.
func (s *MemoryStore) Get(_ context.Context, id string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[id]
	if !ok {
		return nil, ErrNotFound
	}
	if !s.now().Before(e.expires) {
		delete(s.m, id)
		return nil, ErrNotFound
	}
	return e.data, nil
}

// Set implements Store.
func (s *MemoryStore) Set(_ context.Context, id string, data []byte, expires time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[id] = memoryEntry{data: append([]byte(nil), data...), expires: expires}
	s.writes++
	if s.writes%1024 == 0 {
		now := s.now()
		for k, e := range s.m {
			if !now.Before(e.expires) {
				delete(s.m, k)
			}
		}
	}
	return nil
}

// Delete implements Store.
func (s *MemoryStore) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
	return nil
}

// Len reports how many sessions the store holds, expired ones included
// until they are swept.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
