package trigger

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxRefLength is the longest ref accepted, in bytes: git hosts refuse
// longer ref names (GitHub, GitLab and Gitea cap them at 255 bytes).
const MaxRefLength = 255

// ErrInvalidRef reports a push whose ref is not a valid git ref name.
var ErrInvalidRef = errors.New("invalid ref")

// CheckRef checks that ref is a valid git ref name by the rules of git
// check-ref-format (without --allow-onelevel): at least two components
// separated by '/', none empty, none starting with '.' or ending with
// ".lock"; at most MaxRefLength bytes of valid UTF-8 (what git hosts
// accept); no ASCII control character (NUL included), space or DEL, none
// of ~ ^ : ? * [ \, no "..", no "@{"; not "@"; not ending in '/' or '.'.
// The error wraps ErrInvalidRef and says which rule the ref breaks (the ref
// itself quoted, so no control character reaches a log or an answer).
func CheckRef(ref string) error {
	if why := refProblem(ref); why != "" {
		return fmt.Errorf("%w %q: %s", ErrInvalidRef, clipRef(ref), why)
	}
	return nil
}

func refProblem(ref string) string {
	switch {
	case ref == "":
		return "empty"
	case ref == "@":
		return `"@" is not a ref name`
	case len(ref) > MaxRefLength:
		return fmt.Sprintf("is %d bytes long, git hosts accept at most %d", len(ref), MaxRefLength)
	case !utf8.ValidString(ref):
		return "is not valid UTF-8"
	case ref[len(ref)-1] == '/':
		return "ends with '/'"
	case ref[len(ref)-1] == '.':
		return "ends with '.'"
	}
	for i := 0; i < len(ref); i++ {
		switch c := ref[i]; {
		case c < 0x20 || c == 0x7f:
			return "contains a control character"
		case c == ' ':
			return "contains a space"
		case strings.IndexByte(`~^:?*[\`, c) >= 0:
			return fmt.Sprintf("contains %q", c)
		case c == '.' && i+1 < len(ref) && ref[i+1] == '.':
			return `contains ".."`
		case c == '@' && i+1 < len(ref) && ref[i+1] == '{':
			return `contains "@{"`
		}
	}
	if !strings.Contains(ref, "/") {
		return "has a single component"
	}
	for c := range strings.SplitSeq(ref, "/") {
		switch {
		case c == "":
			return "has an empty component"
		case c[0] == '.':
			return "has a component starting with '.'"
		case strings.HasSuffix(c, ".lock"):
			return `has a component ending with ".lock"`
		}
	}
	return ""
}

// clipRef shortens a ref for an error message.
func clipRef(ref string) string {
	const max = 200
	if len(ref) <= max {
		return ref
	}
	return strings.ToValidUTF8(ref[:max], "") + "…"
}
