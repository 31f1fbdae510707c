package approval

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/pushline/pushline/shared/awstest"
	"github.com/pushline/pushline/shared/mail"
)

var update = flag.Bool("update", false, "rewrite golden files")

var (
	testKey = []byte("0123456789abcdef0123456789abcdef")
	testNow = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
)

const testBase = "https://approvals.example.com/prod"

// fakeTasks records SendTaskSuccess / SendTaskFailure calls and answers
// err (nil: success).
type fakeTasks struct {
	t        testing.TB
	mu       sync.Mutex
	err      error
	success  []sfn.SendTaskSuccessInput
	failures []sfn.SendTaskFailureInput

	status      map[string]sfntypes.ExecutionStatus // by ARN; absent: RUNNING
	describeErr error                               // DescribeExecution's answer when set
	describes   int
}

func (f *fakeTasks) DescribeExecution(_ context.Context, in *sfn.DescribeExecutionInput, _ ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.describes++
	if f.describeErr != nil {
		return nil, f.describeErr
	}
	st, ok := f.status[aws.ToString(in.ExecutionArn)]
	if !ok {
		st = sfntypes.ExecutionStatusRunning
	}
	return &sfn.DescribeExecutionOutput{ExecutionArn: in.ExecutionArn, Status: st}, nil
}

// setStatus sets the status DescribeExecution reports for arn.
func (f *fakeTasks) setStatus(arn string, st sfntypes.ExecutionStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.status == nil {
		f.status = map[string]sfntypes.ExecutionStatus{}
	}
	f.status[arn] = st
}

func newFakeTasks(t testing.TB) *fakeTasks { return &fakeTasks{t: t} }

func (f *fakeTasks) SendTaskSuccess(_ context.Context, in *sfn.SendTaskSuccessInput, _ ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !json.Valid([]byte(aws.ToString(in.Output))) {
		f.t.Errorf("SendTaskSuccess output is not JSON: %q", aws.ToString(in.Output))
	}
	if f.err != nil {
		return nil, f.err
	}
	f.success = append(f.success, *in)
	return &sfn.SendTaskSuccessOutput{}, nil
}

func (f *fakeTasks) SendTaskFailure(_ context.Context, in *sfn.SendTaskFailureInput, _ ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	f.failures = append(f.failures, *in)
	return &sfn.SendTaskFailureOutput{}, nil
}

func (f *fakeTasks) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.success) + len(f.failures)
}

func (f *fakeTasks) setErr(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

// newEvents is EventBridge, checking that each event is an Approval
// State Change with a JSON detail.
func newEvents(t testing.TB) *awstest.Events {
	return &awstest.Events{Check: func(e ebtypes.PutEventsRequestEntry) {
		var d map[string]any
		if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &d); err != nil {
			t.Errorf("event detail is not JSON: %v", err)
		}
		if aws.ToString(e.Source) != "pushline" || aws.ToString(e.DetailType) != "Approval State Change" {
			t.Errorf("event source/detail-type = %q/%q", aws.ToString(e.Source), aws.ToString(e.DetailType))
		}
	}}
}

// details returns the details of the events put.
func details(f *awstest.Events) []map[string]any {
	var out []map[string]any
	for _, e := range f.Entries() {
		var d map[string]any
		_ = json.Unmarshal([]byte(aws.ToString(e.Detail)), &d)
		out = append(out, d)
	}
	return out
}

// states returns the states of the events put.
func states(f *awstest.Events) []string {
	var s []string
	for _, d := range details(f) {
		s = append(s, d["state"].(string))
	}
	return s
}

// fakeMail collects sent messages.
type fakeMail struct {
	mu   sync.Mutex
	sent []mail.Message
	err  error
}

func (f *fakeMail) Send(_ context.Context, m mail.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.sent = append(f.sent, m)
	return nil
}

// apiError is a Step Functions error with a code.
func apiError(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: code + " (test)"}
}

// env is a notify + approval setup around one request.
type env struct {
	t       testing.TB
	store   Store
	signer  *Signer
	tasks   *fakeTasks
	events  *awstest.Events
	mail    *fakeMail
	now     time.Time
	nowMu   sync.Mutex
	logs    *bytes.Buffer
	logMu   *sync.Mutex
	handler *Handler
	req     Request
	id      string
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func testRequest(t testing.TB) Request {
	t.Helper()
	b, err := os.ReadFile("../../events/approval/notify-input.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var r Request
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("notify-input.json: %v", err)
	}
	return r
}

// newEnv runs the notify handler for the sample request against store
// (nil: a MemStore).
func newEnv(t testing.TB, store Store) *env {
	t.Helper()
	if store == nil {
		store = NewMemStore()
	}
	signer, err := NewSigner(testKey)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: store, signer: signer, tasks: newFakeTasks(t), events: newEvents(t),
		mail: &fakeMail{}, now: testNow, logs: &bytes.Buffer{}, logMu: &sync.Mutex{}, req: testRequest(t)}
	log := slog.New(slog.NewTextHandler(lockedWriter{e.logMu, e.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	n := &Notifier{Store: store, Signer: signer, Mail: e.mail, Events: e.events, EventBus: "pushline-app",
		BaseURL: testBase, From: "pushline <pushline@example.com>", Now: e.clock, Log: log}
	if err := n.Handle(context.Background(), e.req); err != nil {
		t.Fatalf("notify: %v", err)
	}
	e.id = IDFor(e.req.TaskToken)
	e.handler = &Handler{Store: store, Signer: signer, Tasks: e.tasks, Events: e.events, EventBus: "pushline-app", Now: e.clock, Log: log}
	t.Cleanup(func() {
		e.logMu.Lock()
		defer e.logMu.Unlock()
		if strings.Contains(e.logs.String(), e.req.TaskToken) {
			t.Errorf("the task token appears in the logs:\n%s", e.logs)
		}
	})
	return e
}

func (e *env) clock() time.Time {
	e.nowMu.Lock()
	defer e.nowMu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.nowMu.Lock()
	e.now = e.now.Add(d)
	e.nowMu.Unlock()
}

// link returns the path+query of approver's link.
func (e *env) link(approver string) string {
	rec, err := e.store.Get(context.Background(), e.id)
	if err != nil {
		e.t.Fatal(err)
	}
	u, err := url.Parse(e.signer.URL(testBase, Link{ID: e.id, Approver: approver, Expires: rec.ExpiresAt}))
	if err != nil {
		e.t.Fatal(err)
	}
	return u.RequestURI()
}

func (e *env) formToken(approver string) string {
	rec, err := e.store.Get(context.Background(), e.id)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.signer.FormToken(Link{ID: e.id, Approver: approver, Expires: rec.ExpiresAt})
}

func (e *env) do(method, target string, form url.Values, hdr map[string]string) *httptest.ResponseRecorder {
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	r := httptest.NewRequest(method, "https://approvals.example.com"+target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, r)
	if strings.Contains(w.Body.String(), e.req.TaskToken) {
		e.t.Errorf("%s %s: the task token appears in the page", method, target)
	}
	return w
}

func (e *env) post(approver, decision, comment string) *httptest.ResponseRecorder {
	return e.do(http.MethodPost, e.link(approver), url.Values{
		"decision": {decision}, "comment": {comment}, "token": {e.formToken(approver)},
	}, map[string]string{"Origin": "https://approvals.example.com", "Sec-Fetch-Site": "same-origin"})
}

func (e *env) record() *Record {
	r, err := e.store.Get(context.Background(), e.id)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}
