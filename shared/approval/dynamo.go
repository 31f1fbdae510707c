package approval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoAPI is the DynamoDB calls DynamoStore makes; *dynamodb.Client
// satisfies it.
type DynamoAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// DynamoStore keeps records in a DynamoDB table (PUSHLINE_APPROVAL_TABLE):
// partition key id (S), TTL attribute ttl (N, epoch seconds: TTLAfter past
// the expiry, so an expired link still finds its record and says so).
// The request part of a record is one JSON attribute, "record"; the state
// and decision are attributes of their own so that Decide is one
// conditional UpdateItem. Encryption at rest is the table's (CDK sets
// it); reads are strongly consistent.
type DynamoStore struct {
	API   DynamoAPI
	Table string
}

// TTLAfter is how long records outlive their expiry.
const TTLAfter = 30 * 24 * time.Hour

// Create implements Store with PutItem if attribute_not_exists(id).
func (s DynamoStore) Create(ctx context.Context, r *Record) error {
	if !ValidID(r.ID) {
		return fmt.Errorf("create approval %q: invalid id", r.ID)
	}
	item, err := toItem(r)
	if err != nil {
		return fmt.Errorf("create approval %s: %w", r.ID, err)
	}
	_, err = s.API.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.Table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(id)"),
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("create approval %s: %w", r.ID, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("create approval %s: %w", r.ID, err)
	}
	return nil
}

// Get implements Store.
func (s DynamoStore) Get(ctx context.Context, id string) (*Record, error) {
	if !ValidID(id) {
		return nil, fmt.Errorf("get approval %q: %w", id, ErrNotFound)
	}
	out, err := s.API.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.Table),
		Key:            map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get approval %s: %w", id, err)
	}
	if len(out.Item) == 0 {
		return nil, fmt.Errorf("get approval %s: %w", id, ErrNotFound)
	}
	r, err := fromItem(out.Item)
	if err != nil {
		return nil, fmt.Errorf("get approval %s: %w", id, err)
	}
	return r, nil
}

// Decide implements Store with one conditional UpdateItem.
func (s DynamoStore) Decide(ctx context.Context, id string, t Transition) (*Record, error) {
	if !ValidID(id) {
		return nil, fmt.Errorf("decide approval %q: %w", id, ErrNotFound)
	}
	in := decideInput(s.Table, id, t)
	out, err := s.API.UpdateItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		if len(ccf.Item) == 0 {
			return nil, fmt.Errorf("decide approval %s: %w", id, ErrNotFound)
		}
		return nil, fmt.Errorf("decide approval %s: %w", id, ErrDecided)
	}
	if err != nil {
		return nil, fmt.Errorf("decide approval %s: %w", id, err)
	}
	r, err := fromItem(out.Attributes)
	if err != nil {
		return nil, fmt.Errorf("decide approval %s: %w", id, err)
	}
	return r, nil
}

// decideInput builds the conditional UpdateItem of t.
func decideInput(table, id string, t Transition) *dynamodb.UpdateItemInput {
	values := map[string]types.AttributeValue{
		":from":      avS(t.From),
		":to":        avS(t.To),
		":newClaim":  avS(t.NewClaim),
		":claimedAt": avN(nanos(t.ClaimedAt)),
		":approver":  avS(t.Approver),
		":comment":   avS(t.Comment),
		":decidedAt": avS(timeString(t.DecidedAt)),
	}
	cond := "attribute_exists(id) AND #state = :from"
	switch {
	case t.From == Deciding:
		cond += " AND #claim = :claim"
		values[":claim"] = avS(t.Claim)
	case t.From == Pending && !t.StaleBefore.IsZero():
		cond = "attribute_exists(id) AND (#state = :from OR (#state = :deciding AND claimedAt < :stale))"
		values[":deciding"] = avS(Deciding)
		values[":stale"] = avN(t.StaleBefore.UnixNano())
	}
	return &dynamodb.UpdateItemInput{
		TableName:                           aws.String(table),
		Key:                                 map[string]types.AttributeValue{"id": avS(id)},
		ConditionExpression:                 aws.String(cond),
		UpdateExpression:                    aws.String("SET #state = :to, #claim = :newClaim, claimedAt = :claimedAt, approver = :approver, #comment = :comment, decidedAt = :decidedAt"),
		ExpressionAttributeNames:            map[string]string{"#state": "state", "#claim": "claim", "#comment": "comment"},
		ExpressionAttributeValues:           values,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
}

func avS(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func avN(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func timeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// toItem renders a record: the request part as JSON in "record", the
// mutable part as attributes.
func toItem(r *Record) (map[string]types.AttributeValue, error) {
	req := *r
	req.State, req.Claim, req.ClaimedAt, req.Approver, req.Comment, req.DecidedAt = "", "", time.Time{}, "", "", time.Time{}
	b, err := json.Marshal(&req)
	if err != nil {
		return nil, err
	}
	ttl := r.ExpiresAt.Add(TTLAfter).Unix()
	return map[string]types.AttributeValue{
		"id":        avS(r.ID),
		"record":    avS(string(b)),
		"state":     avS(r.State),
		"claim":     avS(r.Claim),
		"claimedAt": avN(nanos(r.ClaimedAt)),
		"approver":  avS(r.Approver),
		"comment":   avS(r.Comment),
		"decidedAt": avS(timeString(r.DecidedAt)),
		"ttl":       avN(ttl),
	}, nil
}

func fromItem(item map[string]types.AttributeValue) (*Record, error) {
	str := func(k string) string {
		if v, ok := item[k].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	var r Record
	if err := json.Unmarshal([]byte(str("record")), &r); err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	r.State = str("state")
	r.Claim = str("claim")
	r.Approver = str("approver")
	r.Comment = str("comment")
	if v, ok := item["claimedAt"].(*types.AttributeValueMemberN); ok {
		ns, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("decode claimedAt: %w", err)
		}
		if ns != 0 {
			r.ClaimedAt = time.Unix(0, ns).UTC()
		}
	}
	if d := str("decidedAt"); d != "" {
		t, err := time.Parse(time.RFC3339Nano, d)
		if err != nil {
			return nil, fmt.Errorf("decode decidedAt: %w", err)
		}
		r.DecidedAt = t
	}
	return &r, nil
}
