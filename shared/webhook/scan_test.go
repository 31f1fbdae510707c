package webhook

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzDecodeHub checks the hand-written decoder against encoding/json:
// whatever valid UTF-8 JSON encoding/json decodes, decodeHub decodes to
// the same values (it may accept more: skipped values are not validated).
func FuzzDecodeHub(f *testing.F) {
	for _, fx := range loadFixtures(f) {
		if strings.HasPrefix(fx.name, "github/") || strings.HasPrefix(fx.name, "gitea/") {
			if filepath.Ext(fx.name) == "" && len(fx.body) > 0 && fx.body[0] == '{' {
				f.Add(fx.body)
			}
		}
	}
	f.Add([]byte(`{"REF":"refs/heads/x","commits":[{"added":["a","\u00e9"]}],"head_commit":null,"size":3}`))
	f.Add([]byte(`{"ref":"a\"b\\","x":[{"y":"]}"}],"after":"` + strings.Repeat("0", 40) + `"}`))
	f.Add([]byte(`{"head_commit":{"message":"a\n\t\"\\\/\u00e9\ud83d\ude00\ud83d x\udc00\b\f\r","Author":{"NAME":"x"}},"pusher":{"login":"\u006c"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var ours hubPush
		errOurs := decodeHub(body, &ours)
		var std hubPush
		if json.Unmarshal(body, &std) != nil || !utf8.Valid(body) || duplicateKeys(body) {
			// only what encoding/json accepts is compared; with duplicate
			// keys encoding/json merges into reused memory, decodeHub does
			// not (and collects files from both lists)
			return
		}
		if errOurs != nil {
			t.Fatalf("decodeHub error %v on %q, encoding/json accepts it", errOurs, body)
		}
		// decodeHub collects the listed commits' files into a set and
		// decodes only the last commit in full
		var want files
		longest := 0
		for i := range std.Commits {
			c := &std.Commits[i]
			want.add(c.Added, c.Removed, c.Modified)
			longest = max(longest, len(c.Added), len(c.Removed), len(c.Modified))
			if i < len(std.Commits)-1 {
				*c = hubCommit{}
			}
		}
		sortedSet := cmpopts.SortSlices(func(a, b string) bool { return a < b })
		if diff := cmp.Diff(want.list, ours.files.list, sortedSet, cmpopts.EquateEmpty()); diff != "" || longest != ours.longestList {
			t.Fatalf("files differ on %q (longest %d, want %d) (-std +ours):\n%s", body, ours.longestList, longest, diff)
		}
		if errOurs != nil {
			t.Fatalf("decodeHub error %v on %q, encoding/json accepts it", errOurs, body)
		}
		if diff := cmp.Diff(std, ours, cmpopts.EquateEmpty(), cmpopts.IgnoreUnexported(hubPush{})); diff != "" {
			t.Fatalf("decodeHub differs from encoding/json on %q (-std +ours):\n%s", body, diff)
		}
	})
}

func TestDecodeHubErrors(t *testing.T) {
	for _, body := range []string{`{"ref":"x"`, `{"ref":"x}`, `{"commits":[{"id":"a"}}`, `{"ref":1}`, `{"deleted":"yes"}`,
		`{"x":[1,2}`, `{"size":1.5}`, `{"a":tru}`, `{} {}`, `{"a" 1}`, `[]`, ``} {
		var in hubPush
		if err := decodeHub([]byte(body), &in); err == nil {
			t.Errorf("decodeHub(%q) = nil, want an error", body)
		}
	}
}

// duplicateKeys reports whether any object in body has two keys that
// encoding/json would map to the same field (equal under case folding).
func duplicateKeys(body []byte) bool {
	d := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		object bool
		keys   map[string]bool
		key    bool // the next string token is a key
	}
	var stack []*frame
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.key {
			if k, ok := tok.(string); ok {
				f := foldAll(k)
				if top.keys[f] {
					return true
				}
				top.keys[f] = true
				top.key = false
				continue
			}
		}
		if top != nil && top.object {
			top.key = true
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, keys: map[string]bool{}, key: true})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].object {
				stack[len(stack)-1].key = true
			}
		}
	}
}

// foldAll maps every rune to the smallest rune of its case-folding orbit,
// so that foldAll(a) == foldAll(b) iff strings.EqualFold(a, b).
func foldAll(s string) string {
	var b strings.Builder
	for _, r := range s {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		b.WriteRune(m)
	}
	return b.String()
}
