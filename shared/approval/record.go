package approval

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/pushline/pushline/shared/push"
)

// States of a Record.
const (
	Pending  = "PENDING"  // waiting for a decision
	Deciding = "DECIDING" // claimed by a POST that is calling Step Functions
	Approved = "APPROVED"
	Rejected = "REJECTED"
	Expired  = "EXPIRED" // Step Functions no longer waits (timed out, stopped)
)

// Record is one approval request as stored: the Request, its expiry and
// its state. TaskToken is secret: it is never shown or logged.
type Record struct {
	ID          string    `json:"id"`
	Pipeline    string    `json:"pipeline"`
	Execution   string    `json:"execution"`
	Stage       string    `json:"stage"`
	Approvers   []string  `json:"approvers"`
	Push        push.Push `json:"push"`
	Builds      []Build   `json:"builds,omitempty"`
	TaskToken   string    `json:"taskToken"`
	RequestedAt time.Time `json:"requestedAt"`
	ExpiresAt   time.Time `json:"expiresAt"`

	State     string    `json:"state"`
	Claim     string    `json:"claim,omitempty"`    // the claim of the POST deciding it
	ClaimedAt time.Time `json:"claimedAt,omitzero"` // when it was claimed
	Approver  string    `json:"approver,omitempty"` // who decided
	Comment   string    `json:"comment,omitempty"`  // their comment
	DecidedAt time.Time `json:"decidedAt,omitzero"` // when
}

// LogValue logs a Record without its task token.
func (r Record) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", r.ID),
		slog.String("pipeline", r.Pipeline),
		slog.String("execution", r.Execution),
		slog.String("stage", r.Stage),
		slog.String("state", r.State),
	)
}

// Decided reports whether the record holds a final decision.
func (r *Record) Decided() bool { return r.State == Approved || r.State == Rejected }

// HasApprover reports whether addr is one of the record's approvers
// (case-insensitively).
func (r *Record) HasApprover(addr string) bool {
	for _, a := range r.Approvers {
		if strings.EqualFold(a, addr) {
			return true
		}
	}
	return false
}

// Transition is a compare-and-set on a record's state: it applies only
// when the record is in From (and, when From is Deciding, holds Claim), or
// — when StaleBefore is set and From is Pending — when the record is
// Deciding with a claim taken before StaleBefore (a crashed decider's).
// It then sets State = To and the decision fields below.
type Transition struct {
	From        string
	Claim       string
	StaleBefore time.Time

	To        string
	NewClaim  string
	ClaimedAt time.Time
	Approver  string
	Comment   string
	DecidedAt time.Time
}

// applies reports whether t applies to r.
func (t Transition) applies(r *Record) bool {
	switch {
	case r.State == t.From && (t.From != Deciding || r.Claim == t.Claim):
		return true
	case t.From == Pending && !t.StaleBefore.IsZero() && r.State == Deciding && r.ClaimedAt.Before(t.StaleBefore):
		return true
	}
	return false
}

// apply sets t's fields on r.
func (t Transition) apply(r *Record) {
	r.State = t.To
	r.Claim = t.NewClaim
	r.ClaimedAt = t.ClaimedAt
	r.Approver = t.Approver
	r.Comment = t.Comment
	r.DecidedAt = t.DecidedAt
}

// Store errors.
var (
	ErrNotFound = errors.New("approval not found")
	ErrExists   = errors.New("approval exists")
	// ErrDecided: a Transition did not apply (the record was decided,
	// claimed or expired meanwhile).
	ErrDecided = errors.New("approval already decided")
)

// Store keeps approval records. Implementations: NewMemStore,
// NewDirStore, DynamoStore.
type Store interface {
	// Create stores a new record; ErrExists if its id is taken.
	Create(ctx context.Context, r *Record) error
	// Get returns a record; ErrNotFound.
	Get(ctx context.Context, id string) (*Record, error)
	// Decide applies t atomically and returns the record after it;
	// ErrNotFound, or ErrDecided when t does not apply.
	Decide(ctx context.Context, id string, t Transition) (*Record, error)
}

// IDFor derives the id of the approval waiting on a task token: a retried
// notify invocation (same token) finds its record instead of making a
// second one. The id reveals nothing about the token.
func IDFor(taskToken string) string {
	sum := sha256.Sum256([]byte("pushline-approval-id\x00" + taskToken))
	return hex.EncodeToString(sum[:16])
}

// ValidID reports whether id has the form IDFor gives (32 lowercase hex
// digits); stores reject anything else as not found.
func ValidID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
