package webhook

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzDecodeHubValid holds decodeHub to encoding/json's notion of JSON:
// it accepts no body json.Valid rejects (skipped parts included), and it
// rejects no body that encoding/json decodes into a hubPush.
func FuzzDecodeHubValid(f *testing.F) {
	for _, fx := range loadFixtures(f) {
		if strings.HasPrefix(fx.name, "github/") || strings.HasPrefix(fx.name, "gitea/") {
			f.Add(fx.body)
		}
	}
	for _, c := range invalidHubBodies {
		f.Add([]byte(c))
	}
	f.Add([]byte(`{"x":[1,-0.5e+3,0,true,false,null,{},[],{"a":[{}]},"\u00e9\n"],"ref":"r"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var in hubPush
		err := decodeHub(body, &in)
		valid := json.Valid(body)
		if err == nil && !valid {
			t.Fatalf("decodeHub accepts %q, json.Valid does not", body)
		}
		var std hubPush
		if err != nil && json.Unmarshal(body, &std) == nil {
			t.Fatalf("decodeHub rejects %q (%v), encoding/json decodes it", body, err)
		}
	})
}

// invalidHubBodies are malformed in places decodeHub skips or decodes.
var invalidHubBodies = []string{
	`{"x":"a` + "\n" + `b","ref":"r"}`,    // control character in a skipped string
	`{"ref":"a` + "\t" + `b"}`,            // control character in a decoded string
	`{"x":"\q"}`,                          // bad escape in a skipped string
	`{"x":"\u12G4"}`,                      // bad \u escape
	`{"x":"\u12"}`,                        // short \u escape
	`{"x":01}`,                            // leading zero
	`{"x":1.}`,                            // fraction without digits
	`{"x":.5}`,                            // no integer part
	`{"x":1e}`,                            // exponent without digits
	`{"x":-}`,                             // lone minus
	`{"x":+1}`,                            // plus sign
	`{"x":1-2}`,                           // junk after a number
	`{"x":[1,2}`,                          // bracket mismatch
	`{"x":{"a":1]}`,                       // bracket mismatch
	`{"x":[1,]}`,                          // trailing comma
	`{"x":{"a":1,}}`,                      // trailing comma
	`{"x":{"a" 1}}`,                       // missing colon
	`{"x":{1:2}}`,                         // non-string key
	`{"x":[tru]}`,                         // bad literal
	`{"x":[nul]}`,                         // bad literal
	`{"x":[1 2]}`,                         // missing comma
	`{"x":[]]}`,                           // extra bracket
	`{"commits":[{"added":["a"],"x":[}]}`, // inside a listed commit
	`{"commits":[{"added":["a` + "\x01" + `"]}]}`,
	`{"size":01}`,
	`{"size":1.0}`,
	`{"x":"\ud800"} x`,
	`{"x":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`, // one level too deep
}

func TestDecodeHubRejectsInvalid(t *testing.T) {
	for _, body := range invalidHubBodies {
		if json.Valid([]byte(body)) && !strings.Contains(body, `"size"`) {
			t.Errorf("json.Valid(%.60q) = true; the case tests nothing", body)
		}
		var in hubPush
		if err := decodeHub([]byte(body), &in); err == nil {
			t.Errorf("decodeHub(%.60q) = nil, want an error", body)
		}
	}
}

// TestDecodeHubDepth: encoding/json's nesting limit, exactly.
func TestDecodeHubDepth(t *testing.T) {
	for _, depth := range []int{maxDepth - 1, maxDepth} {
		// the top-level object is one level
		inner := strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1)
		for _, body := range []string{`{"x":` + inner + `}`, `{"x":` + strings.Replace(inner, "[]", `[{"a":1}]`, 1) + `}`} {
			valid := json.Valid([]byte(body))
			var in hubPush
			err := decodeHub([]byte(body), &in)
			if (err == nil) != valid {
				t.Errorf("depth %d: decodeHub error %v, json.Valid %v", depth, err, valid)
			}
		}
	}
}
