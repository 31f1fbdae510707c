package status

import (
	"context"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// fakeDynamo keeps items in memory and evaluates the one condition
// DynamoStore writes with.
type fakeDynamo struct {
	t     *testing.T
	mu    sync.Mutex
	items map[string]map[string]types.AttributeValue
}

func (f *fakeDynamo) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	const cond = "attribute_not_exists(k) OR #at < :at OR (#at = :at AND #rank < :rank)"
	if aws.ToString(in.ConditionExpression) != cond {
		f.t.Fatalf("condition %q", aws.ToString(in.ConditionExpression))
	}
	k := in.Item["k"].(*types.AttributeValueMemberS).Value
	if old, ok := f.items[k]; ok {
		n := func(m map[string]types.AttributeValue, a string) int64 {
			v, _ := strconv.ParseInt(m[a].(*types.AttributeValueMemberN).Value, 10, 64)
			return v
		}
		at, rank := n(in.ExpressionAttributeValues, ":at"), n(in.ExpressionAttributeValues, ":rank")
		if !(n(old, "at") < at || (n(old, "at") == at && n(old, "rank") < rank)) {
			return nil, &types.ConditionalCheckFailedException{}
		}
	}
	f.items[k] = in.Item
	return &dynamodb.PutItemOutput{}, nil
}

func (f *fakeDynamo) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !aws.ToBool(in.ConsistentRead) {
		f.t.Error("eventually consistent read")
	}
	return &dynamodb.GetItemOutput{Item: f.items[in.Key["k"].(*types.AttributeValueMemberS).Value]}, nil
}

func (f *fakeDynamo) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := in.Key["k"].(*types.AttributeValueMemberS).Value
	it := f.items[k]
	if it == nil {
		it = map[string]types.AttributeValue{"k": in.Key["k"], "keys": &types.AttributeValueMemberSS{}}
		f.items[k] = it
	}
	ss := it["keys"].(*types.AttributeValueMemberSS)
	for _, v := range in.ExpressionAttributeValues[":k"].(*types.AttributeValueMemberSS).Value {
		found := false
		for _, e := range ss.Value {
			found = found || e == v
		}
		if !found {
			ss.Value = append(ss.Value, v)
		}
	}
	it["ttl"] = in.ExpressionAttributeValues[":ttl"]
	return &dynamodb.UpdateItemOutput{}, nil
}

// TestStores runs the same claims through every Store.
func TestStores(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	fs, err := OpenFileStore(filepath.Join(dir, "statuses.json"), t0)
	if err != nil {
		t.Fatal(err)
	}
	stores := map[string]Store{
		"mem":    NewMemStore(),
		"file":   fs,
		"dynamo": DynamoStore{API: &fakeDynamo{t: t, items: map[string]map[string]types.AttributeValue{}}, Table: "statuses"},
	}
	for name, s := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			rec := func(state string, sec, rank int) *Record {
				return &Record{Status: Status{Provider: "github", Repository: "Acme/App", Commit: "c", Context: "pushline/app/Build", State: state},
					At: t0.Add(time.Duration(sec) * time.Second), Rank: rank, Execution: "x1"}
			}
			steps := []struct {
				r  *Record
				ok bool
			}{
				{rec(Pending, 1, rankPending), true},
				{rec(Pending, 1, rankPending), false}, // the same again
				{rec(Success, 5, rankFinal), true},
				{rec(Pending, 3, rankPending), false}, // late pending
				{rec(Error, 1, rankImplied), false},   // implied, older than the final
				{rec(Failure, 5, rankFinal), false},   // same time and rank: first wins
			}
			for i, st := range steps {
				ok, err := s.Claim(ctx, st.r)
				if err != nil || ok != st.ok {
					t.Fatalf("step %d: claim %v %v, want %v", i, ok, err, st.ok)
				}
			}
			got, err := s.Get(ctx, rec("", 0, 0).Key())
			if err != nil || got == nil || got.Status.State != Success || !got.Since.Equal(t0.Add(time.Second)) {
				t.Fatalf("Get = %+v %v, want success since t0+1s", got, err)
			}
			keys, err := s.Contexts(ctx, "x1")
			if err != nil || len(keys) != 1 || keys[0] != got.Key() {
				t.Errorf("Contexts = %v %v", keys, err)
			}
		})
	}
	// The file store keeps its state across a restart, dropping what is old.
	again, err := OpenFileStore(filepath.Join(dir, "statuses.json"), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := again.Get(context.Background(), "github|acme/app|c|pushline/app/Build"); r == nil || r.Status.State != Success {
		t.Errorf("after reopen: %+v", r)
	}
	later, err := OpenFileStore(filepath.Join(dir, "statuses.json"), t0.Add(Keep+time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := later.Get(context.Background(), "github|acme/app|c|pushline/app/Build"); r != nil {
		t.Errorf("a record older than Keep survived: %+v", r)
	}
}
