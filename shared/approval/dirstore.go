package approval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// DirStore is a durable Store for the local stack: one JSON file per
// record (<dir>/<id>.json, mode 0600, as it holds the task token). Create
// writes a temporary file and hard-links it into place, so a record
// appears whole or not at all and an existing id is never overwritten;
// Decide reads, checks and replaces the file (write + fsync + rename)
// under a lock — a mutex shared by every DirStore of the same directory
// in this process, plus an flock on <dir>/.lock against other processes.
type DirStore struct {
	dir string
	mu  *sync.Mutex
}

var dirLocks sync.Map // abs dir → *sync.Mutex

// NewDirStore opens (creating it if needed) a DirStore in dir.
func NewDirStore(dir string) (*DirStore, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("approval store %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("approval store: %w", err)
	}
	mu, _ := dirLocks.LoadOrStore(abs, new(sync.Mutex))
	return &DirStore{dir: abs, mu: mu.(*sync.Mutex)}, nil
}

func (s *DirStore) path(id string) string { return filepath.Join(s.dir, id+".json") }

// Create implements Store.
func (s *DirStore) Create(_ context.Context, r *Record) error {
	if !ValidID(r.ID) {
		return fmt.Errorf("create approval %q: invalid id", r.ID)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("create approval %s: %w", r.ID, err)
	}
	tmp, err := s.writeTemp(b)
	if err != nil {
		return fmt.Errorf("create approval %s: %w", r.ID, err)
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, s.path(r.ID)); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create approval %s: %w", r.ID, ErrExists)
		}
		return fmt.Errorf("create approval %s: %w", r.ID, err)
	}
	return syncDir(s.dir)
}

// Get implements Store.
func (s *DirStore) Get(_ context.Context, id string) (*Record, error) {
	return s.read(id)
}

func (s *DirStore) read(id string) (*Record, error) {
	if !ValidID(id) {
		return nil, fmt.Errorf("get approval %q: %w", id, ErrNotFound)
	}
	b, err := os.ReadFile(s.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("get approval %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get approval %s: %w", id, err)
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("get approval %s: %w", id, err)
	}
	return &r, nil
}

// Decide implements Store.
func (s *DirStore) Decide(_ context.Context, id string, t Transition) (*Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := lockFile(filepath.Join(s.dir, ".lock"))
	if err != nil {
		return nil, fmt.Errorf("decide approval %s: %w", id, err)
	}
	defer unlock()
	r, err := s.read(id)
	if err != nil {
		return nil, err
	}
	if !t.applies(r) {
		return nil, fmt.Errorf("decide approval %s (%s): %w", id, r.State, ErrDecided)
	}
	t.apply(r)
	if err := s.replace(r); err != nil {
		return nil, fmt.Errorf("decide approval %s: %w", id, err)
	}
	if err := syncDir(s.dir); err != nil {
		return nil, fmt.Errorf("decide approval %s: %w", id, err)
	}
	return r, nil
}

// Recover settles what a killed process left in the directory. Call it at
// start, before serving, while no other process decides in it (the local
// stack holds its data dir's lock): a claim of a POST that died between
// its two writes is released at once (the record is Pending again and its
// link works, instead of answering "reload in a minute" for ClaimLease;
// whether Step Functions heard the decision, the next POST finds out), and
// temporary files (they may hold task tokens) are removed. It returns the
// ids of the records released.
func (s *DirStore) Recover(ctx context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := lockFile(filepath.Join(s.dir, ".lock"))
	if err != nil {
		return nil, fmt.Errorf("recover approvals: %w", err)
	}
	defer unlock()
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("recover approvals: %w", err)
	}
	var released []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".tmp-") {
			if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return released, fmt.Errorf("recover approvals: %w", err)
			}
			continue
		}
		id, ok := strings.CutSuffix(name, ".json")
		if !ok || !ValidID(id) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return released, err
		}
		r, err := s.read(id)
		if err != nil || r.State != Deciding {
			continue // an unreadable record is left to Get to report
		}
		Transition{To: Pending}.apply(r)
		if err := s.replace(r); err != nil {
			return released, fmt.Errorf("recover approval %s: %w", id, err)
		}
		released = append(released, id)
	}
	return released, syncDir(s.dir)
}

// replace writes r over its file (write + fsync + rename).
func (s *DirStore) replace(r *Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tmp, err := s.writeTemp(b)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, s.path(r.ID)); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

// writeTemp writes b to a new synced temporary file in the store's
// directory and returns its path.
func (s *DirStore) writeTemp(b []byte) (string, error) {
	f, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return "", err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	_ = d.Sync() // not supported everywhere; best effort
	return nil
}
