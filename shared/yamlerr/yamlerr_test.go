package yamlerr

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

func TestLocate(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		line      int
		msg       string
	}{
		{"a tab in a block", "phases:\n  build:\n    commands:\n\t- make\n", 4, "YAML syntax error: found character that cannot start any token"},
		{"an unclosed quote", "version: 0.2\nenv:\n  variables:\n    A: \"x\n", 4, "YAML syntax error: found unexpected end of stream"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n yaml.Node
			err := yaml.Unmarshal([]byte(tc.doc), &n)
			if err == nil {
				t.Fatal("no error")
			}
			line, msg := Locate([]byte(tc.doc), err)
			if diff := cmp.Diff([]any{tc.line, tc.msg}, []any{line, msg}); diff != "" {
				t.Errorf("Locate (-want +got):\n%s", diff)
			}
		})
	}
	if line, msg := Locate(nil, errors.New("yaml: no line here")); line != 0 || msg != "YAML syntax error: no line here" {
		t.Errorf("no line: %d %q", line, msg)
	}
}
