package approval

import (
	"errors"
	"fmt"
)

// ErrNoStore is returned by OpenStore when neither store is configured.
var ErrNoStore = errors.New("no approval store: set PUSHLINE_APPROVAL_TABLE (DynamoDB) or PUSHLINE_APPROVAL_DIR (a directory)")

// OpenStore returns the Store the functions (notify, approval) use:
// DynamoDB table $PUSHLINE_APPROVAL_TABLE (through the client dynamo
// makes) when it is set, else a DirStore in $PUSHLINE_APPROVAL_DIR — the
// local stack's <data dir>/approvals, to run a function against it
// outside AWS. where says which, for the log.
func OpenStore(getenv func(string) string, dynamo func() DynamoAPI) (s Store, where string, err error) {
	if table := getenv("PUSHLINE_APPROVAL_TABLE"); table != "" {
		return DynamoStore{API: dynamo(), Table: table}, "dynamodb table " + table, nil
	}
	if dir := getenv("PUSHLINE_APPROVAL_DIR"); dir != "" {
		ds, err := NewDirStore(dir)
		if err != nil {
			return nil, "", fmt.Errorf("PUSHLINE_APPROVAL_DIR: %w", err)
		}
		return ds, "directory " + dir, nil
	}
	return nil, "", ErrNoStore
}
