package status

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Record is the latest state claimed for one commit context.
type Record struct {
	Status    Status    `json:"status"`
	At        time.Time `json:"at"`   // the event's time
	Rank      int       `json:"rank"` // rankPending, rankImplied, rankFinal
	Execution string    `json:"execution"`
	// Since is when the execution's first state for the context was
	// claimed (a stage's start), for "failed after 42s".
	Since time.Time `json:"since"`
}

// Key identifies the context a record is for: host, repository
// (case-insensitive), commit and context.
func (r *Record) Key() string {
	s := r.Status
	return s.Provider + "|" + strings.ToLower(s.Repository) + "|" + s.Commit + "|" + s.Context
}

// newer reports whether r comes after old: a later event time, or the
// same time and a higher rank (final over pending).
func (r *Record) newer(old *Record) bool {
	if old == nil {
		return true
	}
	if !r.At.Equal(old.At) {
		return r.At.After(old.At)
	}
	return r.Rank > old.Rank
}

// Store keeps the latest claimed state of every commit context, and which
// contexts each execution claimed.
type Store interface {
	// Claim records r when it is newer than the recorded state of its
	// context (see Record.newer), filling r.Since; it reports whether it
	// did.
	Claim(ctx context.Context, r *Record) (bool, error)
	// Get returns the recorded state of a context (Record.Key), nil if none.
	Get(ctx context.Context, key string) (*Record, error)
	// Contexts lists the keys execution claimed.
	Contexts(ctx context.Context, execution string) ([]string, error)
}

// since fills r.Since from old: the same execution's earlier claim keeps
// its start.
func since(r, old *Record) {
	r.Since = r.At
	if old != nil && old.Execution == r.Execution && !old.Since.IsZero() && old.Since.Before(r.At) {
		r.Since = old.Since
	}
}

// MemStore is a Store in memory: tests, and the base of FileStore.
type MemStore struct {
	mu    sync.Mutex
	state memState
}

type memState struct {
	Records  map[string]*Record         `json:"records"`
	Contexts map[string]map[string]bool `json:"contexts"` // execution → keys
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{state: memState{Records: map[string]*Record{}, Contexts: map[string]map[string]bool{}}}
}

// Claim implements Store.
func (m *MemStore) Claim(_ context.Context, r *Record) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.claim(r), nil
}

func (m *MemStore) claim(r *Record) bool {
	k := r.Key()
	old := m.state.Records[k]
	if !r.newer(old) {
		return false
	}
	since(r, old)
	c := *r
	m.state.Records[k] = &c
	if m.state.Contexts[r.Execution] == nil {
		m.state.Contexts[r.Execution] = map[string]bool{}
	}
	m.state.Contexts[r.Execution][k] = true
	return true
}

// Get implements Store.
func (m *MemStore) Get(_ context.Context, key string) (*Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.state.Records[key]
	if !ok {
		return nil, nil
	}
	c := *r
	return &c, nil
}

// Contexts implements Store.
func (m *MemStore) Contexts(_ context.Context, execution string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.state.Contexts[execution] {
		out = append(out, k)
	}
	return out, nil
}

// FileStore is the local stack's Store: a MemStore saved to one JSON file
// (written to a temporary file and renamed, so a crash leaves the old or
// the new state). Records older than Keep are dropped when it opens.
type FileStore struct {
	*MemStore
	path string
}

// Keep is how long a record is kept (the TTL of the DynamoDB items too).
const Keep = 30 * 24 * time.Hour

// OpenFileStore opens (or starts) the store kept at path.
func OpenFileStore(path string, now time.Time) (*FileStore, error) {
	f := &FileStore{MemStore: NewMemStore(), path: path}
	b, err := os.ReadFile(path)
	switch {
	case os.IsNotExist(err):
		return f, nil
	case err != nil:
		return nil, fmt.Errorf("status store: %w", err)
	}
	var st memState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("status store %s: %w", path, err)
	}
	for k, r := range st.Records {
		if now.Sub(r.At) < Keep {
			f.state.Records[k] = r
		}
	}
	for x, keys := range st.Contexts {
		for k := range keys {
			if _, ok := f.state.Records[k]; ok {
				if f.state.Contexts[x] == nil {
					f.state.Contexts[x] = map[string]bool{}
				}
				f.state.Contexts[x][k] = true
			}
		}
	}
	return f, nil
}

// Claim implements Store, saving the file when it records r.
func (f *FileStore) Claim(_ context.Context, r *Record) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.claim(r) {
		return false, nil
	}
	b, err := json.Marshal(&f.state)
	if err != nil {
		return true, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), ".statuses-*")
	if err != nil {
		return true, fmt.Errorf("status store: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return true, fmt.Errorf("status store: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return true, fmt.Errorf("status store: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return true, fmt.Errorf("status store: %w", err)
	}
	return true, nil
}
