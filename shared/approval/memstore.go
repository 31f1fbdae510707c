package approval

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
)

// MemStore is a Store in memory, for tests and single-process use.
type MemStore struct {
	mu      sync.Mutex
	records map[string][]byte // JSON, so callers never share memory with the store
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{records: map[string][]byte{}} }

// Create implements Store.
func (s *MemStore) Create(_ context.Context, r *Record) error {
	if !ValidID(r.ID) {
		return fmt.Errorf("create approval %q: invalid id", r.ID)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("create approval %s: %w", r.ID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.records[r.ID]; ok {
		return fmt.Errorf("create approval %s: %w", r.ID, ErrExists)
	}
	s.records[r.ID] = b
	return nil
}

// Get implements Store.
func (s *MemStore) Get(_ context.Context, id string) (*Record, error) {
	s.mu.Lock()
	b, ok := s.records[id]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("get approval %q: %w", id, ErrNotFound)
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("get approval %s: %w", id, err)
	}
	return &r, nil
}

// Decide implements Store.
func (s *MemStore) Decide(_ context.Context, id string, t Transition) (*Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.records[id]
	if !ok {
		return nil, fmt.Errorf("decide approval %q: %w", id, ErrNotFound)
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decide approval %s: %w", id, err)
	}
	if !t.applies(&r) {
		return nil, fmt.Errorf("decide approval %s (%s): %w", id, r.State, ErrDecided)
	}
	t.apply(&r)
	if b, err := json.Marshal(&r); err != nil {
		return nil, fmt.Errorf("decide approval %s: %w", id, err)
	} else {
		s.records[id] = b
	}
	return &r, nil
}

// Len returns the number of records (for tests).
func (s *MemStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.records)
}
