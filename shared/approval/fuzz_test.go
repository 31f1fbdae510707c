package approval

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzVerify: the link verifier never panics, and accepts only what the
// signer produced.
func FuzzVerify(f *testing.F) {
	s, _ := NewSigner(testKey)
	good := Link{ID: "0123456789abcdef0123456789abcdef", Approver: "ops@example.com", Expires: testNow.Add(3600e9)}
	f.Add(good.ID, s.Query(good).Encode())
	f.Add(good.ID, "a=ops%40example.com&e=1796029200&s=")
	f.Add("x", "a=&e=&s=")
	f.Add(good.ID, "a=ops%40example.com&a=x&e=1&s=AAAA")
	f.Fuzz(func(t *testing.T, id, rawQuery string) {
		q, err := url.ParseQuery(rawQuery)
		if err != nil {
			return
		}
		l, err := s.Verify(id, q, testNow)
		if err != nil {
			return
		}
		if l.ID != id || s.Query(l).Get("s") != q.Get("s") {
			t.Fatalf("accepted a link the signer did not make: %q %q", id, rawQuery)
		}
	})
}

// FuzzForm: the decision form parser never panics and returns only a
// clean comment within the limit.
func FuzzForm(f *testing.F) {
	f.Add("decision=approve&comment=ship+it&token=abc")
	f.Add("decision=reject&comment=%FF%FE&token=")
	f.Add("decision=approve&decision=reject")
	f.Add("comment=" + strings.Repeat("%C3%A9", 2001) + "&decision=approve")
	f.Fuzz(func(t *testing.T, body string) {
		q, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		_, comment, _, err := decodeForm(q)
		if err != nil {
			return
		}
		if !utf8.ValidString(comment) || utf8.RuneCountInString(comment) > MaxComment || strings.ContainsAny(comment, "\r\x00") {
			t.Fatalf("bad comment accepted: %q", comment)
		}
	})
}

// FuzzHandler: whatever a client sends, the handler answers a page with a
// status below 500 and never reaches Step Functions without a valid
// link and form token.
func FuzzHandler(f *testing.F) {
	f.Add("GET", "/approvals/0123456789abcdef0123456789abcdef?a=x&e=1&s=y", "", "")
	f.Add("POST", "/approvals/0123456789abcdef0123456789abcdef", "application/x-www-form-urlencoded", "decision=approve")
	f.Add("POST", "/prod/approvals/%2e%2e", "multipart/form-data; boundary=x", "--x--")
	f.Add("PATCH", "/approvals/", "text/plain", "\x00")
	f.Fuzz(func(t *testing.T, method, target, ctype, body string) {
		e := newEnv(t, nil)
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		u, err := url.ParseRequestURI(target)
		if err != nil || method == "" || strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") {
			return
		}
		r := httptest.NewRequest("GET", "https://approvals.example.com/", strings.NewReader(body))
		r.Method = method
		r.URL = u
		r.RequestURI = target
		r.Header.Set("Content-Type", ctype)
		w := httptest.NewRecorder()
		e.handler.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %s → %d", method, target, w.Code)
		}
		if e.tasks.calls() != 0 {
			t.Fatalf("%s %s reached Step Functions", method, target)
		}
		_ = http.StatusOK
	})
}
