package webhook

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
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
		if json.Unmarshal(body, &std) != nil || !utf8.Valid(body) || strings.Count(string(body), `"commits"`) > 1 {
			return // only what encoding/json accepts is compared
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
