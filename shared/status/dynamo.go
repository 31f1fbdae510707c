package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

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

// DynamoStore keeps records in a DynamoDB table (PUSHLINE_STATUS_TABLE):
// partition key k (S), TTL attribute ttl (N, epoch seconds, Keep after
// the event). A context's item "s#<key>" holds the record as JSON plus at
// (N, Unix nanoseconds) and rank (N); Claim reads it (for Since), then
// writes with one conditional PutItem (attribute_not_exists(k) OR at < :at
// OR (at = :at AND rank < :rank)), so of two racing claims only the newer
// can land, and one UpdateItem adds the key to the execution's item
// "x#<execution ARN>" (string set keys). Reads are strongly consistent.
type DynamoStore struct {
	API   DynamoAPI
	Table string
}

// Claim implements Store.
func (d DynamoStore) Claim(ctx context.Context, r *Record) (bool, error) {
	k := r.Key()
	old, err := d.Get(ctx, k)
	if err != nil {
		return false, err
	}
	if !r.newer(old) {
		return false, nil
	}
	since(r, old)
	b, err := json.Marshal(r)
	if err != nil {
		return false, err
	}
	ttl := strconv.FormatInt(r.At.Add(Keep).Unix(), 10)
	_, err = d.API.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(d.Table),
		Item: map[string]types.AttributeValue{
			"k":      &types.AttributeValueMemberS{Value: "s#" + k},
			"record": &types.AttributeValueMemberS{Value: string(b)},
			"at":     &types.AttributeValueMemberN{Value: strconv.FormatInt(r.At.UnixNano(), 10)},
			"rank":   &types.AttributeValueMemberN{Value: strconv.Itoa(r.Rank)},
			"ttl":    &types.AttributeValueMemberN{Value: ttl},
		},
		ConditionExpression:      aws.String("attribute_not_exists(k) OR #at < :at OR (#at = :at AND #rank < :rank)"),
		ExpressionAttributeNames: map[string]string{"#at": "at", "#rank": "rank"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at":   &types.AttributeValueMemberN{Value: strconv.FormatInt(r.At.UnixNano(), 10)},
			":rank": &types.AttributeValueMemberN{Value: strconv.Itoa(r.Rank)},
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false, nil // a newer state won the race
	}
	if err != nil {
		return false, fmt.Errorf("claim status %s: %w", r.Status.Context, err)
	}
	_, err = d.API.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(d.Table),
		Key:                       map[string]types.AttributeValue{"k": &types.AttributeValueMemberS{Value: "x#" + r.Execution}},
		UpdateExpression:          aws.String("ADD #keys :k SET #ttl = :ttl"),
		ExpressionAttributeNames:  map[string]string{"#keys": "keys", "#ttl": "ttl"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": &types.AttributeValueMemberSS{Value: []string{k}}, ":ttl": &types.AttributeValueMemberN{Value: ttl}},
	})
	if err != nil {
		return true, fmt.Errorf("record status context of %s: %w", r.Execution, err)
	}
	return true, nil
}

// Get implements Store.
func (d DynamoStore) Get(ctx context.Context, key string) (*Record, error) {
	out, err := d.API.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(d.Table),
		Key:            map[string]types.AttributeValue{"k": &types.AttributeValueMemberS{Value: "s#" + key}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get status record: %w", err)
	}
	v, ok := out.Item["record"].(*types.AttributeValueMemberS)
	if !ok {
		return nil, nil
	}
	var r Record
	if err := json.Unmarshal([]byte(v.Value), &r); err != nil {
		return nil, fmt.Errorf("status record %s: %w", key, err)
	}
	return &r, nil
}

// Contexts implements Store.
func (d DynamoStore) Contexts(ctx context.Context, execution string) ([]string, error) {
	out, err := d.API.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(d.Table),
		Key:            map[string]types.AttributeValue{"k": &types.AttributeValueMemberS{Value: "x#" + execution}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get status contexts of %s: %w", execution, err)
	}
	v, ok := out.Item["keys"].(*types.AttributeValueMemberSS)
	if !ok {
		return nil, nil
	}
	return v.Value, nil
}
