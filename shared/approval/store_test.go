package approval

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
)

func sampleRecord(t *testing.T) *Record {
	req := testRequest(t)
	return &Record{
		ID: IDFor(req.TaskToken), Pipeline: req.Pipeline, Execution: req.Execution, Stage: req.Stage,
		Approvers: req.Approvers, Push: req.Push, Builds: req.Builds, TaskToken: req.TaskToken,
		RequestedAt: testNow, ExpiresAt: testNow.Add(time.Hour), State: Pending,
	}
}

// testStore is the contract every Store meets.
func testStore(t *testing.T, open func() Store) {
	ctx := context.Background()
	s := open()
	rec := sampleRecord(t)
	if err := s.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, rec); !errors.Is(err, ErrExists) {
		t.Fatalf("second Create = %v, want ErrExists", err)
	}
	bad := *rec
	bad.ID = "../../x"
	if err := s.Create(ctx, &bad); err == nil {
		t.Fatal("Create with a bad id succeeded")
	}
	for _, id := range []string{"ffffffffffffffffffffffffffffffff", "../" + rec.ID, ""} {
		if _, err := s.Get(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) = %v, want ErrNotFound", id, err)
		}
		if _, err := s.Decide(ctx, id, Transition{From: Pending, To: Deciding}); !errors.Is(err, ErrNotFound) {
			t.Errorf("Decide(%q) = %v, want ErrNotFound", id, err)
		}
	}
	got, err := s.Get(ctx, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rec, got); diff != "" {
		t.Fatalf("Get (-want +got):\n%s", diff)
	}

	t0 := testNow
	steps := []struct {
		name  string
		tr    Transition
		want  error
		state string
	}{
		{"claim", Transition{From: Pending, StaleBefore: t0.Add(-ClaimLease), To: Deciding, NewClaim: "c1", ClaimedAt: t0, Approver: "ops@example.com", Comment: "c", DecidedAt: t0}, nil, Deciding},
		{"second claim refused", Transition{From: Pending, StaleBefore: t0.Add(-ClaimLease), To: Deciding, NewClaim: "c2", ClaimedAt: t0}, ErrDecided, Deciding},
		{"finish with another claim refused", Transition{From: Deciding, Claim: "c2", To: Approved}, ErrDecided, Deciding},
		{"roll back", Transition{From: Deciding, Claim: "c1", To: Pending}, nil, Pending},
		{"claim again", Transition{From: Pending, To: Deciding, NewClaim: "c3", ClaimedAt: t0}, nil, Deciding},
		{"take over a stale claim", Transition{From: Pending, StaleBefore: t0.Add(time.Second), To: Deciding, NewClaim: "c4", ClaimedAt: t0.Add(time.Minute), Approver: "lead@example.com", DecidedAt: t0.Add(time.Minute)}, nil, Deciding},
		{"old claim is void", Transition{From: Deciding, Claim: "c3", To: Approved}, ErrDecided, Deciding},
		{"finish", Transition{From: Deciding, Claim: "c4", To: Rejected, Approver: "lead@example.com", Comment: "no", DecidedAt: t0.Add(time.Minute)}, nil, Rejected},
		{"decided is final", Transition{From: Pending, StaleBefore: t0.Add(time.Hour), To: Deciding, NewClaim: "c5"}, ErrDecided, Rejected},
	}
	for _, st := range steps {
		r, err := s.Decide(ctx, rec.ID, st.tr)
		if !errors.Is(err, st.want) || (st.want == nil && err != nil) {
			t.Fatalf("%s: Decide = %v, want %v", st.name, err, st.want)
		}
		if err == nil && r.State != st.state {
			t.Fatalf("%s: returned state %s", st.name, r.State)
		}
		cur, err := s.Get(ctx, rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cur.State != st.state {
			t.Fatalf("%s: state %s, want %s", st.name, cur.State, st.state)
		}
	}
	final, _ := open().Get(ctx, rec.ID) // a fresh handle sees it (durability, for DirStore)
	want := *rec
	want.State, want.Approver, want.Comment, want.DecidedAt = Rejected, "lead@example.com", "no", t0.Add(time.Minute)
	if diff := cmp.Diff(&want, final); diff != "" {
		t.Errorf("final record (-want +got):\n%s", diff)
	}
}

func TestMemStore(t *testing.T) {
	s := NewMemStore()
	testStore(t, func() Store { return s })
}

func TestDirStore(t *testing.T) {
	dir := t.TempDir()
	testStore(t, func() Store {
		s, err := NewDirStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 2 || filepath.Base(files[0]) != ".lock" {
		t.Errorf("files left in the store: %v", files)
	}
	fi, err := os.Stat(files[1])
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("record mode %v, want 0600 (it holds the task token)", fi.Mode().Perm())
	}
}

// fakeDynamo checks the calls DynamoStore makes and answers from canned
// items.
type fakeDynamo struct {
	t      *testing.T
	item   map[string]types.AttributeValue
	fail   bool // answer ConditionalCheckFailed
	puts   []*dynamodb.PutItemInput
	update []*dynamodb.UpdateItemInput
}

func (f *fakeDynamo) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f.puts = append(f.puts, in)
	if f.fail {
		return nil, &types.ConditionalCheckFailedException{Message: aws.String("exists")}
	}
	f.item = in.Item
	return &dynamodb.PutItemOutput{}, nil
}

func (f *fakeDynamo) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if !aws.ToBool(in.ConsistentRead) {
		f.t.Error("GetItem not consistent")
	}
	return &dynamodb.GetItemOutput{Item: f.item}, nil
}

func (f *fakeDynamo) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	f.update = append(f.update, in)
	if f.fail {
		return nil, &types.ConditionalCheckFailedException{Item: f.item}
	}
	// Apply the SET as DynamoDB would.
	next := map[string]types.AttributeValue{}
	for k, v := range f.item {
		next[k] = v
	}
	for name, val := range map[string]string{"state": ":to", "claim": ":newClaim", "claimedAt": ":claimedAt", "approver": ":approver", "comment": ":comment", "decidedAt": ":decidedAt"} {
		next[name] = in.ExpressionAttributeValues[val]
	}
	f.item = next
	return &dynamodb.UpdateItemOutput{Attributes: next}, nil
}

func TestDynamoStore(t *testing.T) {
	ctx := context.Background()
	f := &fakeDynamo{t: t}
	s := DynamoStore{API: f, Table: "approvals"}
	rec := sampleRecord(t)
	if err := s.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	put := f.puts[0]
	if aws.ToString(put.ConditionExpression) != "attribute_not_exists(id)" || aws.ToString(put.TableName) != "approvals" {
		t.Errorf("PutItem condition %q table %q", aws.ToString(put.ConditionExpression), aws.ToString(put.TableName))
	}
	if ttl := put.Item["ttl"].(*types.AttributeValueMemberN).Value; ttl != strconv.FormatInt(rec.ExpiresAt.Add(30*24*time.Hour).Unix(), 10) {
		t.Errorf("ttl = %s", ttl)
	}
	got, err := s.Get(ctx, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rec, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	r, err := s.Decide(ctx, rec.ID, Transition{From: Pending, StaleBefore: testNow, To: Deciding, NewClaim: "c", ClaimedAt: testNow, Approver: "ops@example.com", DecidedAt: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if r.State != Deciding || r.Claim != "c" || !r.ClaimedAt.Equal(testNow) || !r.DecidedAt.Equal(testNow) {
		t.Errorf("after claim: %+v", r)
	}
	wantCond := "attribute_exists(id) AND (#state = :from OR (#state = :deciding AND claimedAt < :stale))"
	if c := aws.ToString(f.update[0].ConditionExpression); c != wantCond {
		t.Errorf("claim condition %q", c)
	}
	if _, err := s.Decide(ctx, rec.ID, Transition{From: Deciding, Claim: "c", To: Approved}); err != nil {
		t.Fatal(err)
	}
	if c := aws.ToString(f.update[1].ConditionExpression); c != "attribute_exists(id) AND #state = :from AND #claim = :claim" {
		t.Errorf("finish condition %q", c)
	}
	f.fail = true
	if err := s.Create(ctx, rec); !errors.Is(err, ErrExists) {
		t.Errorf("Create on a taken id = %v", err)
	}
	if _, err := s.Decide(ctx, rec.ID, Transition{From: Pending, To: Deciding}); !errors.Is(err, ErrDecided) {
		t.Errorf("failed condition = %v, want ErrDecided", err)
	}
	f.item = nil
	if _, err := s.Decide(ctx, rec.ID, Transition{From: Pending, To: Deciding}); !errors.Is(err, ErrNotFound) {
		t.Errorf("failed condition, no item = %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx, rec.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of no item = %v, want ErrNotFound", err)
	}
}
