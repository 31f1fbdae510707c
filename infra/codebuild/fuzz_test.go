package codebuild

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzHandler feeds arbitrary bodies to the read and stop operations of the
// API: never a panic, never a 5xx, always a JSON answer. (StartBuild is left
// out: a valid random request would run random commands.)
func FuzzHandler(f *testing.F) {
	ops := []string{"BatchGetBuilds", "ListBuilds", "ListBuildsForProject", "StopBuild", "Nope"}
	f.Add(uint8(0), `{"ids":["Build:1"]}`)
	f.Add(uint8(1), `{"sortOrder":"ASCENDING","nextToken":"1"}`)
	f.Add(uint8(2), `{"projectName":"Build"}`)
	f.Add(uint8(3), `{"id":"arn:aws:codebuild:us-east-1:000000000000:build/Build:1"}`)
	f.Add(uint8(4), `[]`)
	r := New(Options{Dir: f.TempDir()})
	h := r.Handler()
	f.Fuzz(func(t *testing.T, op uint8, body string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", targetPrefix+ops[int(op)%len(ops)])
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q: status %d", ops[int(op)%len(ops)], body, rec.Code)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("answer is not JSON: %s", rec.Body.Bytes())
		}
	})
}
