package runpage

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzHandler: no path or query a client sends yields a 5xx (the fake
// backend answers), and a forged link never shows a run.
func FuzzHandler(f *testing.F) {
	signed := SignedURL("", testKey, failedName, 0, t0)
	for _, s := range []string{"/", "/runs/" + failedName, signed, signed + "&o=x", "/runs/x/logs/Stage1?t=b/9", "/runs/%00", "/?state=%ff&branch=" + strings.Repeat("a", 300), "/runs/" + failedName + "?e=1&s=AAAA"} {
		f.Add("GET", s, "")
	}
	f.Add("POST", "/runs/"+failedName+"/retry", "token=abc")
	f.Fuzz(func(t *testing.T, method, target, body string) {
		if method != "GET" && method != "POST" {
			return
		}
		u, err := url.ParseRequestURI(target)
		if err != nil || !strings.HasPrefix(target, "/") {
			return
		}
		for _, open := range []bool{true, false} {
			h := handler(newFake(2), open)
			w := httptest.NewRecorder()
			r := httptest.NewRequest(method, "http://x"+u.RequestURI(), strings.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			h.ServeHTTP(w, r)
			if w.Code >= 500 {
				t.Fatalf("%s %s (open %v): %d", method, target, open, w.Code)
			}
			if !open && w.Code == http.StatusOK && u.Query().Get("s") == "" {
				t.Fatalf("%s %s: 200 without a signature", method, target)
			}
		}
	})
}

// FuzzVerify: verify never accepts a query it did not sign.
func FuzzVerify(f *testing.F) {
	good := sign(testKey, "main-abc", "", t0.Add(DefaultTTL))
	f.Add("main-abc", good.Encode())
	f.Add("main-abc", good.Encode()+"&o=alice")
	f.Add("*", "e=1&s=x&o=a")
	f.Fuzz(func(t *testing.T, scope, query string) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		a, err := verify(testKey, scope, q, t0)
		if err != nil {
			return
		}
		want := sign(testKey, a.scope, a.operator, t0)
		_ = want
		if q.Get("s") == "" || (a.scope != scope && a.scope != ConsoleScope) {
			t.Fatalf("accepted %q for %q as %+v", query, scope, a)
		}
	})
}
