package approval

import (
	"errors"
	"path/filepath"
	"testing"
)

func TestOpenStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "approvals")
	dynamo := func() DynamoAPI { return nil }
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	s, _, err := OpenStore(env(map[string]string{"PUSHLINE_APPROVAL_TABLE": "t", "PUSHLINE_APPROVAL_DIR": dir}), dynamo)
	if ds, ok := s.(DynamoStore); err != nil || !ok || ds.Table != "t" {
		t.Errorf("table and dir: %T %v, want the DynamoStore (the table wins)", s, err)
	}
	s, _, err = OpenStore(env(map[string]string{"PUSHLINE_APPROVAL_DIR": dir}), dynamo)
	if _, ok := s.(*DirStore); err != nil || !ok {
		t.Errorf("dir only: %T %v, want a DirStore", s, err)
	}
	if _, _, err := OpenStore(env(nil), dynamo); !errors.Is(err, ErrNoStore) {
		t.Errorf("neither: %v, want ErrNoStore", err)
	}
}
