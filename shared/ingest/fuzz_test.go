package ingest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/webhook"
)

var fuzzEventHeaders = []string{"X-GitHub-Event", "X-Gitlab-Event", "X-Event-Key", "X-Gitea-Event", "X-Forgejo-Event"}

// FuzzServe: whatever a client sends — signed or not — the handler
// answers a status from DESIGN.md's table with a JSON body, never a 5xx
// (Step Functions is up), never a panic.
func FuzzServe(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(eventsDir, "*", "*.headers.json"))
	for _, hp := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(hp, eventsDir+"/"), ".headers.json")
		h, b := delivery(f, name)
		for i, k := range fuzzEventHeaders {
			if ev := h.Get(k); ev != "" {
				f.Add(uint8(i), ev, h.Get("Content-Type"), true, b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, ev, ct string, signed bool, body []byte) {
		e := newEnv(t, config.ModeSuperseded)
		h := http.Header{}
		h.Set(fuzzEventHeaders[int(which)%len(fuzzEventHeaders)], ev)
		h.Set("Content-Type", ct)
		h.Set("X-Request-UUID", "fuzz")
		if signed {
			p, v, err := webhook.Detect(h)
			if err == nil {
				k, val := webhook.SignatureHeader(p, v, []byte(testSecret), body)
				h.Set(k, val)
			}
		}
		r := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
		r.Header = h
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		switch w.Code {
		case 200, 202, 400, 401, 413, 415:
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
		if !bytes.HasPrefix(w.Body.Bytes(), []byte("{")) {
			t.Fatalf("body %q is not a JSON object", w.Body.String())
		}
		if w.Code == 202 && e.sfn.Starts() == 0 {
			t.Fatal("202 without an execution")
		}
	})
}
