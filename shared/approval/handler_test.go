package approval

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/google/go-cmp/cmp"
)

func TestApprove(t *testing.T) {
	e := newEnv(t, nil)
	w := e.post("lead@example.com", "approve", "  ship it\r\nnow  ")
	if w.Code != http.StatusOK {
		t.Fatalf("POST = %d\n%s", w.Code, w.Body)
	}
	if got := e.tasks.calls(); got != 1 || len(e.tasks.success) != 1 {
		t.Fatalf("SendTask calls = %d", got)
	}
	in := e.tasks.success[0]
	if aws.ToString(in.TaskToken) != e.req.TaskToken {
		t.Error("SendTaskSuccess got another token")
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(in.Output)), &out); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"approved": true, "approver": "lead@example.com", "comment": "ship it\nnow", "decidedAt": "2026-11-27T09:00:00Z"}
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	rec := e.record()
	if rec.State != Approved || rec.Approver != "lead@example.com" || rec.Claim != "" || !rec.DecidedAt.Equal(testNow) {
		t.Errorf("record after approval = %+v", rec.LogValue())
	}
	if diff := cmp.Diff([]string{"REQUESTED", "APPROVED"}, states(e.events)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	ev := details(e.events)[1]
	if ev["approver"] != "lead@example.com" || ev["comment"] != "ship it\nnow" || ev["stage"] != "Approve" {
		t.Errorf("APPROVED detail = %v", ev)
	}
}

func TestReject(t *testing.T) {
	e := newEnv(t, nil)
	w := e.post("ops@example.com", "reject", "<b>not today</b>")
	if w.Code != http.StatusOK {
		t.Fatalf("POST = %d\n%s", w.Code, w.Body)
	}
	if len(e.tasks.failures) != 1 || len(e.tasks.success) != 0 {
		t.Fatalf("calls: %d success, %d failure", len(e.tasks.success), len(e.tasks.failures))
	}
	f := e.tasks.failures[0]
	if aws.ToString(f.Error) != "Pushline.Rejected" {
		t.Errorf("error = %q", aws.ToString(f.Error))
	}
	var cause map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(f.Cause)), &cause); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"approver": "ops@example.com", "comment": "<b>not today</b>", "decidedAt": "2026-11-27T09:00:00Z"}
	if diff := cmp.Diff(want, cause); diff != "" {
		t.Errorf("cause (-want +got):\n%s", diff)
	}
	if strings.Contains(w.Body.String(), "<b>not today") {
		t.Error("comment not escaped in the page")
	}
	if e.record().State != Rejected {
		t.Errorf("state = %s", e.record().State)
	}
	if diff := cmp.Diff([]string{"REQUESTED", "REJECTED"}, states(e.events)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestRace: many concurrent POSTs, from both approvers, approving and
// rejecting: exactly one reaches Step Functions, the others get 409.
func TestRace(t *testing.T) {
	for _, store := range []struct {
		name string
		new  func(t *testing.T) Store
	}{
		{"mem", func(*testing.T) Store { return NewMemStore() }},
		{"dir", func(t *testing.T) Store {
			s, err := NewDirStore(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
	} {
		t.Run(store.name, func(t *testing.T) {
			e := newEnv(t, store.new(t))
			const n = 50
			codes := make([]int, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					who, what := "ops@example.com", "approve"
					if i%2 == 1 {
						who = "lead@example.com"
					}
					if i%3 == 2 {
						what = "reject"
					}
					codes[i] = e.post(who, what, "").Code
				})
			}
			close(start)
			wg.Wait()
			count := map[int]int{}
			for _, c := range codes {
				count[c]++
			}
			if diff := cmp.Diff(map[int]int{200: 1, 409: n - 1}, count); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			if got := e.tasks.calls(); got != 1 {
				t.Errorf("SendTask calls = %d, want exactly 1", got)
			}
			if rec := e.record(); !rec.Decided() {
				t.Errorf("record state = %s", rec.State)
			}
			if got := len(states(e.events)); got != 2 {
				t.Errorf("%d events, want REQUESTED + one decision", got)
			}
		})
	}
}

// TestRaceSuccessOnly is the evidence in its plainest form: 50 concurrent
// approvals by the same approver, one SendTaskSuccess.
func TestRaceSuccessOnly(t *testing.T) {
	e := newEnv(t, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 50 {
		wg.Go(func() {
			if e.post("ops@example.com", "approve", "").Code == http.StatusOK {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ok != 1 || len(e.tasks.success) != 1 || len(e.tasks.failures) != 0 {
		t.Fatalf("%d OK pages, %d SendTaskSuccess, %d SendTaskFailure; want 1, 1, 0", ok, len(e.tasks.success), len(e.tasks.failures))
	}
}

func TestGetNeverDecides(t *testing.T) {
	e := newEnv(t, nil)
	before := e.record()
	for i := range 30 {
		method := http.MethodGet
		if i%3 == 0 {
			method = http.MethodHead
		}
		who := "ops@example.com"
		if i%2 == 1 {
			who = "lead@example.com"
		}
		w := e.do(method, e.link(who)+"&decision=approve&token="+url.QueryEscape(e.formToken(who)), nil, nil)
		if w.Code != http.StatusOK {
			t.Fatalf("%s = %d", method, w.Code)
		}
	}
	if diff := cmp.Diff(before, e.record()); diff != "" {
		t.Errorf("GET changed the record (-before +after):\n%s", diff)
	}
	if got := e.tasks.calls(); got != 0 {
		t.Errorf("GET made %d Step Functions calls", got)
	}
	if diff := cmp.Diff([]string{"REQUESTED"}, states(e.events)); diff != "" {
		t.Errorf("GET emitted events (-want +got):\n%s", diff)
	}
}

func TestBadLinks(t *testing.T) {
	type check func(t *testing.T, e *env, body string)
	samePending := func(t *testing.T, e *env, _ string) {
		if s := e.record().State; s != Pending {
			t.Errorf("record state = %s, want PENDING", s)
		}
	}
	tests := []struct {
		name   string
		setup  func(e *env)
		method string
		target func(e *env) string
		form   func(e *env) url.Values
		hdr    map[string]string
		want   int
		calls  int
		check  check
	}{
		{name: "forged signature GET", method: "GET", want: 403,
			target: func(e *env) string { return strings.Replace(e.link("ops@example.com"), "&s=", "&s=A", 1) }},
		{name: "tampered approver POST", method: "POST", want: 403, check: samePending,
			target: func(e *env) string {
				return strings.Replace(e.link("ops@example.com"), "a=ops%40example.com", "a=mallory%40example.com", 1)
			}},
		{name: "tampered expiry", method: "GET", want: 403,
			target: func(e *env) string {
				u, _ := url.Parse(e.link("ops@example.com"))
				q := u.Query()
				q.Set("e", "9999999999")
				u.RawQuery = q.Encode()
				return u.RequestURI()
			}},
		{name: "no query", method: "GET", want: 403,
			target: func(e *env) string { return "/approvals/" + e.id }},
		{name: "unknown id, valid signature", method: "GET", want: 404,
			target: func(e *env) string {
				return "/approvals/ffffffffffffffffffffffffffffffff?" + e.signer.Query(Link{ID: "ffffffffffffffffffffffffffffffff", Approver: "ops@example.com", Expires: testNow.Add(time.Hour)}).Encode()
			}},
		{name: "malformed id", method: "GET", want: 404,
			target: func(e *env) string { return "/approvals/..%2F..%2Fetc%2Fpasswd" }},
		{name: "no id", method: "GET", want: 404, target: func(e *env) string { return "/approvals/" }},
		{name: "signed for someone not on the approval", method: "GET", want: 403,
			target: func(e *env) string {
				return "/approvals/" + e.id + "?" + e.signer.Query(Link{ID: e.id, Approver: "x@example.com", Expires: e.record().ExpiresAt}).Encode()
			}},
		{name: "expired link GET", method: "GET", want: 410,
			setup: func(e *env) { e.advance(72*time.Hour + time.Second) }},
		{name: "expired link POST", method: "POST", want: 410, check: samePending,
			setup: func(e *env) { e.advance(73 * time.Hour) }},
		{name: "already decided GET", method: "GET", want: 409,
			setup: func(e *env) { e.mustPost("lead@example.com", "approve", "lgtm") },
			calls: 1,
			check: func(t *testing.T, e *env, body string) {
				for _, s := range []string{"Already approved", "lead@example.com", "Fri, 27 Nov 2026 09:00 UTC", "lgtm"} {
					if !strings.Contains(body, s) {
						t.Errorf("409 page lacks %q", s)
					}
				}
				if strings.Contains(body, "<form") {
					t.Error("409 page has a form")
				}
			}},
		{name: "already decided POST", method: "POST", want: 409, calls: 1,
			setup: func(e *env) { e.mustPost("lead@example.com", "reject", "") }},
		{name: "already decided, link expired since", method: "GET", want: 409, calls: 1,
			setup: func(e *env) { e.mustPost("lead@example.com", "reject", ""); e.advance(100 * time.Hour) }},
		{name: "timed out on the Step Functions side", method: "POST", want: 410, calls: 0,
			setup: func(e *env) { e.tasks.setErr(apiError("TaskTimedOut")) },
			check: func(t *testing.T, e *env, _ string) {
				if s := e.record().State; s != Expired {
					t.Errorf("state = %s, want EXPIRED", s)
				}
				if w := e.do("GET", e.link("ops@example.com"), nil, nil); w.Code != 410 {
					t.Errorf("GET after timeout = %d, want 410", w.Code)
				}
				if got := states(e.events); len(got) != 1 {
					t.Errorf("events = %v, want only REQUESTED", got)
				}
			}},
		{name: "task does not exist", method: "POST", want: 410,
			setup: func(e *env) { e.tasks.setErr(apiError("TaskDoesNotExist")) }},
		{name: "invalid token", method: "POST", want: 410,
			setup: func(e *env) { e.tasks.setErr(apiError("InvalidToken")) }},
		{name: "step functions outage", method: "POST", want: 503, check: func(t *testing.T, e *env, _ string) {
			samePending(t, e, "")
			rec := e.record()
			if rec.Claim != "" || rec.Approver != "" {
				t.Errorf("claim not rolled back: %+v", rec)
			}
			e.tasks.setErr(nil)
			if w := e.post("ops@example.com", "approve", ""); w.Code != 200 {
				t.Errorf("retry after outage = %d", w.Code)
			}
		}, setup: func(e *env) { e.tasks.setErr(apiError("ServiceUnavailable")) }},
		{name: "step functions unreachable", method: "POST", want: 503, check: samePending,
			setup: func(e *env) { e.tasks.setErr(errors.New("dial tcp: connection refused")) }},
		{name: "bad form token", method: "POST", want: 403, check: samePending,
			form: func(e *env) url.Values { return url.Values{"decision": {"approve"}, "token": {"bogus"}} }},
		{name: "form token of another approver", method: "POST", want: 403, check: samePending,
			form: func(e *env) url.Values {
				return url.Values{"decision": {"approve"}, "token": {e.formToken("lead@example.com")}}
			}},
		{name: "no form token", method: "POST", want: 403, check: samePending,
			form: func(e *env) url.Values { return url.Values{"decision": {"approve"}} }},
		{name: "cross-site post", method: "POST", want: 403, check: samePending,
			hdr: map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{name: "foreign origin", method: "POST", want: 403, check: samePending,
			hdr: map[string]string{"Origin": "https://evil.example"}},
		{name: "null origin is fine", method: "POST", want: 200, calls: 1,
			hdr: map[string]string{"Origin": "null"}},
		{name: "bad decision", method: "POST", want: 400, check: samePending,
			form: func(e *env) url.Values {
				return url.Values{"decision": {"maybe"}, "token": {e.formToken("ops@example.com")}}
			}},
		{name: "comment too long", method: "POST", want: 400, check: samePending,
			form: func(e *env) url.Values {
				return url.Values{"decision": {"approve"}, "comment": {strings.Repeat("é", MaxComment+1)}, "token": {e.formToken("ops@example.com")}}
			}},
		{name: "body too large", method: "POST", want: 413, check: samePending,
			form: func(e *env) url.Values {
				return url.Values{"decision": {"approve"}, "comment": {strings.Repeat("x", 70000)}, "token": {e.formToken("ops@example.com")}}
			}},
		{name: "json body", method: "POST", want: 415, check: samePending,
			hdr: map[string]string{"Content-Type": "application/json"}},
		{name: "PUT", method: "PUT", want: 405},
		{name: "DELETE", method: "DELETE", want: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			if tt.setup != nil {
				tt.setup(e)
			}
			target := e.link("ops@example.com")
			if tt.target != nil {
				target = tt.target(e)
			}
			var form url.Values
			if tt.method == "POST" {
				form = url.Values{"decision": {"approve"}, "token": {e.formToken("ops@example.com")}}
				if tt.form != nil {
					form = tt.form(e)
				}
			}
			w := e.do(tt.method, target, form, tt.hdr)
			if w.Code != tt.want {
				t.Fatalf("%s = %d, want %d\n%s", tt.method, w.Code, tt.want, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			if !strings.Contains(w.Body.String(), "</html>") {
				t.Error("no page")
			}
			if got := e.tasks.calls(); got != tt.calls {
				t.Errorf("SendTask calls = %d, want %d", got, tt.calls)
			}
			if tt.check != nil {
				tt.check(t, e, w.Body.String())
			}
		})
	}
}

func (e *env) mustPost(who, decision, comment string) {
	if w := e.post(who, decision, comment); w.Code != 200 {
		e.t.Fatalf("POST %s = %d\n%s", decision, w.Code, w.Body)
	}
}

// TestStaleClaim: a claim left behind by a crash between the claim and
// Step Functions lapses after ClaimLease.
func TestStaleClaim(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.store.Decide(context.Background(), e.id, Transition{From: Pending, To: Deciding, NewClaim: "crashed", ClaimedAt: testNow, Approver: "ops@example.com", DecidedAt: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if w := e.do("GET", e.link("lead@example.com"), nil, nil); w.Code != 409 {
		t.Fatalf("GET during a fresh claim = %d, want 409", w.Code)
	}
	if w := e.post("lead@example.com", "approve", ""); w.Code != 409 {
		t.Fatalf("POST during a fresh claim = %d, want 409", w.Code)
	}
	e.advance(ClaimLease + time.Second)
	if w := e.do("GET", e.link("lead@example.com"), nil, nil); w.Code != 200 {
		t.Fatalf("GET after the lease = %d, want 200", w.Code)
	}
	if w := e.post("lead@example.com", "approve", ""); w.Code != 200 {
		t.Fatalf("POST after the lease = %d, want 200", w.Code)
	}
	if rec := e.record(); rec.State != Approved || rec.Approver != "lead@example.com" {
		t.Errorf("record = %s by %s", rec.State, rec.Approver)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, nil)
	w := e.do("GET", e.link("ops@example.com"), nil, nil)
	for k, want := range map[string]string{
		"Cache-Control":   "no-store",
		"Referrer-Policy": "no-referrer",
		"X-Frame-Options": "DENY",
	} {
		if got := w.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if !strings.Contains(w.Header().Get("Content-Security-Policy"), "default-src 'none'") {
		t.Error("no CSP")
	}
	if strings.Contains(w.Body.String(), "<script") {
		t.Error("the page has a script (the commit message was not escaped?)")
	}
}

func BenchmarkGetPage(b *testing.B) {
	e := newEnv(b, nil)
	target := e.link("ops@example.com")
	for b.Loop() {
		if w := e.do("GET", target, nil, nil); w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

// TestGetEndedExecution: the page of an approval whose execution has
// ended (stopped, superseded, failed) says so (410, no form) and the
// record becomes EXPIRED, so no link offers a decision nobody waits for.
func TestGetEndedExecution(t *testing.T) {
	for _, st := range []sfntypes.ExecutionStatus{sfntypes.ExecutionStatusAborted, sfntypes.ExecutionStatusFailed, sfntypes.ExecutionStatusSucceeded, sfntypes.ExecutionStatusTimedOut} {
		t.Run(string(st), func(t *testing.T) {
			e := newEnv(t, nil)
			e.tasks.setStatus(e.req.Execution, st)
			w := e.do(http.MethodGet, e.link("ops@example.com"), nil, nil)
			if w.Code != http.StatusGone || strings.Contains(w.Body.String(), "<form") || !strings.Contains(w.Body.String(), "no longer waits") {
				t.Errorf("GET = %d, want 410 without a form:\n%s", w.Code, w.Body)
			}
			if got := e.record().State; got != Expired {
				t.Errorf("record %s, want %s", got, Expired)
			}
			if w := e.post("lead@example.com", "approve", ""); w.Code != http.StatusGone {
				t.Errorf("POST afterwards = %d, want 410", w.Code)
			}
			if got := e.tasks.calls(); got != 0 {
				t.Errorf("%d decisions sent", got)
			}
		})
	}
}

// TestGetDescribeOutage: when Step Functions cannot say whether the
// execution still runs, the page shows as before (the POST decides).
func TestGetDescribeOutage(t *testing.T) {
	e := newEnv(t, nil)
	e.tasks.describeErr = apiError("ThrottlingException")
	w := e.do(http.MethodGet, e.link("ops@example.com"), nil, nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "<form") {
		t.Errorf("GET = %d, want 200 with the form:\n%s", w.Code, w.Body)
	}
	if got := e.record().State; got != Pending {
		t.Errorf("record %s, want %s", got, Pending)
	}
	if e.tasks.describes == 0 {
		t.Error("DescribeExecution not asked")
	}
	e.tasks.describeErr = apiError("ExecutionDoesNotExist")
	if w := e.do(http.MethodGet, e.link("ops@example.com"), nil, nil); w.Code != http.StatusOK {
		t.Errorf("GET with an unknown execution = %d, want 200 (the POST decides)", w.Code)
	}
	if w := e.post("ops@example.com", "approve", ""); w.Code != http.StatusOK {
		t.Errorf("POST = %d, want 200", w.Code)
	}
}
