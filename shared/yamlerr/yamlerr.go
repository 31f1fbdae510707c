// Package yamlerr is what the buildspec and AppSpec parsers say about
// YAML that is wrong: the line of a syntax error (Locate) and what a node
// is instead of what was wanted (Describe).
package yamlerr

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var lineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Bounds on the work Locate does to find the exact line (it parses each
// prefix of the file); beyond them the line yaml.v3 gives is reported.
const (
	maxRefineLines = 500
	maxRefineBytes = 32 << 10
)

// Locate returns the line of yaml.v3's syntax error err in data (0 when
// the error names none) and the message to show, starting "YAML syntax
// error: " and naming the enclosing block's line when that differs.
// yaml.v3 reports the line where the enclosing block starts; the first
// line at which a prefix of the file fails with the same message is where
// the problem is.
func Locate(data []byte, err error) (line int, msg string) {
	full := err.Error()
	m := lineRE.FindStringSubmatch(full)
	if m == nil {
		return 0, "YAML syntax error: " + strings.TrimPrefix(full, "yaml: ")
	}
	line, _ = strconv.Atoi(m[1])
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) <= maxRefineLines && len(data) <= maxRefineBytes {
		var prefix []byte
		for k, l := range lines {
			prefix = append(prefix, l...)
			if k+1 < line {
				continue
			}
			var n yaml.Node
			if perr := yaml.Unmarshal(prefix, &n); perr != nil && perr.Error() == full {
				if k+1 != line {
					return k + 1, fmt.Sprintf("YAML syntax error: %s (in the block that starts at line %d)", m[2], line)
				}
				break
			}
		}
	}
	return line, "YAML syntax error: " + m[2]
}

// Describe names what n is, for "must be a list, not …" messages.
func Describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if IsNull(n) {
			return "empty"
		}
		return fmt.Sprintf("the value %q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "empty"
}

// IsNull reports whether n is YAML's null (an empty value, ~ or null).
func IsNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}
