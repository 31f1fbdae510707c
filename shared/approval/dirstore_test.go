package approval

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestDirStoreRecover: a process killed during an approval POST leaves
// the record claimed and maybe a temporary file holding the task token;
// Recover, at the next start, releases the claim at once and removes the
// file.
func TestDirStoreRecover(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := NewDirStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	claimed, pending, decided := sampleRecord(t), sampleRecord(t), sampleRecord(t)
	pending.ID, decided.ID = IDFor("pending-token"), IDFor("decided-token")
	for _, r := range []*Record{claimed, pending, decided} {
		if err := s.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	// the killed POST's first write: its claim, fresh (not yet stale)
	if _, err := s.Decide(ctx, claimed.ID, Transition{From: Pending, To: Deciding, NewClaim: "c1", ClaimedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Decide(ctx, decided.ID, Transition{From: Pending, To: Approved, Approver: "a@b", DecidedAt: now}); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, ".tmp-123456")
	if err := os.WriteFile(tmp, []byte(`{"taskToken":"secret"}`), 0o600); err != nil {
		t.Fatal(err)
	}

	s2, err := NewDirStore(dir) // the restart
	if err != nil {
		t.Fatal(err)
	}
	released, err := s2.Recover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{claimed.ID}, released); diff != "" {
		t.Errorf("released (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("temporary file left: %v", err)
	}
	for _, tc := range []struct {
		id, state string
	}{{claimed.ID, Pending}, {pending.ID, Pending}, {decided.ID, Approved}} {
		r, err := s2.Get(ctx, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if r.State != tc.state || (tc.state == Pending && (r.Claim != "" || !r.ClaimedAt.IsZero())) {
			t.Errorf("%s: state %s claim %q, want %s and no claim", tc.id, r.State, r.Claim, tc.state)
		}
	}
	// the link works at once: a new claim applies without waiting for
	// the lease
	if _, err := s2.Decide(ctx, claimed.ID, Transition{From: Pending, StaleBefore: now.Add(-ClaimLease), To: Deciding, NewClaim: "c2", ClaimedAt: now}); err != nil {
		t.Errorf("claim after Recover: %v", err)
	}
}
