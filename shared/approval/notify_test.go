package approval

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNotify(t *testing.T) {
	e := newEnv(t, nil)
	rec := e.record()
	if rec.State != Pending || !rec.ExpiresAt.Equal(testNow.Add(72*time.Hour)) || rec.TaskToken != e.req.TaskToken {
		t.Errorf("record = %+v", rec.LogValue())
	}
	if diff := cmp.Diff([]string{"REQUESTED"}, states(e.events)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	d := details(e.events)[0]
	want := map[string]any{"pipeline": "app", "execution": e.req.Execution, "state": "REQUESTED", "repository": "acme/app",
		"ref": "refs/heads/main", "commit": e.req.Push.After, "stage": "Approve"}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("REQUESTED detail (-want +got):\n%s", diff)
	}
	for _, m := range e.mail.sent {
		for _, part := range []string{m.Subject, m.Text, m.HTML, m.ID} {
			if strings.Contains(part, e.req.TaskToken) {
				t.Error("the task token appears in a mail")
			}
		}
	}
}

func TestNotifyRetry(t *testing.T) {
	e := newEnv(t, nil)
	n := &Notifier{Store: e.store, Signer: e.signer, Mail: e.mail, Events: e.events, BaseURL: testBase, From: "pushline@example.com", Now: func() time.Time { return testNow.Add(time.Minute) }}
	// Same token again: same record, same expiry, mail again.
	if err := n.Handle(context.Background(), e.req); err != nil {
		t.Fatal(err)
	}
	if got := e.store.(*MemStore).Len(); got != 1 {
		t.Fatalf("%d records after a retry", got)
	}
	if len(e.mail.sent) != 4 || e.mail.sent[0].ID != e.mail.sent[2].ID {
		t.Errorf("retry mail: %d sent, ids %q / %q", len(e.mail.sent), e.mail.sent[0].ID, e.mail.sent[2].ID)
	}
	if !e.record().ExpiresAt.Equal(testNow.Add(72 * time.Hour)) {
		t.Error("a retry moved the expiry")
	}
	// Once decided, a retry sends nothing.
	e.mustPost("ops@example.com", "approve", "")
	if err := n.Handle(context.Background(), e.req); err != nil {
		t.Fatal(err)
	}
	if len(e.mail.sent) != 4 {
		t.Errorf("mail sent for a decided approval")
	}
}

func TestNotifyErrors(t *testing.T) {
	base := testRequest(t)
	tests := []struct {
		name string
		edit func(r *Request)
		mail error
		want error
	}{
		{"no token", func(r *Request) { r.TaskToken = "" }, nil, ErrInvalidRequest},
		{"no approvers", func(r *Request) { r.Approvers = nil }, nil, ErrInvalidRequest},
		{"no execution", func(r *Request) { r.Execution = "" }, nil, ErrInvalidRequest},
		{"negative timeout", func(r *Request) { r.TimeoutSeconds = -1 }, nil, ErrInvalidRequest},
		{"mail down", func(*Request) {}, errors.New("smtp: connection refused"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base
			tt.edit(&r)
			signer, _ := NewSigner(testKey)
			n := &Notifier{Store: NewMemStore(), Signer: signer, Mail: &fakeMail{err: tt.mail}, BaseURL: testBase, From: "p@example.com"}
			err := n.Handle(context.Background(), r)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestNotifyDefaultTimeout(t *testing.T) {
	r := testRequest(t)
	r.TimeoutSeconds = 0
	s := NewMemStore()
	signer, _ := NewSigner(testKey)
	n := &Notifier{Store: s, Signer: signer, Mail: &fakeMail{}, BaseURL: testBase, From: "p@example.com", Now: func() time.Time { return testNow }}
	if err := n.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	rec, _ := s.Get(context.Background(), IDFor(r.TaskToken))
	if !rec.ExpiresAt.Equal(testNow.Add(DefaultTimeout)) {
		t.Errorf("expiry %v", rec.ExpiresAt)
	}
}

// TestNotifyMailError: when no approver could be mailed, Handle returns a
// *MailError itself (not wrapped: aws-lambda-go names the error type of
// the returned value, so the state machine sees errorType "MailError" and
// retries it); the record is kept, and the retry mails without a second
// record.
func TestNotifyMailError(t *testing.T) {
	e := newEnv(t, nil)
	r := e.req
	r.TaskToken = "another-token"
	down := &fakeMail{err: errors.New("dial tcp 127.0.0.1:2525: connect: connection refused")}
	n := &Notifier{Store: e.store, Signer: e.signer, Mail: down, BaseURL: testBase, From: "p@example.com", Now: func() time.Time { return testNow }}
	err := n.Handle(context.Background(), r)
	me, ok := err.(*MailError)
	if !ok {
		t.Fatalf("err = %T %v, want *MailError", err, err)
	}
	if got := reflect.TypeOf(err).Elem().Name(); got != "MailError" {
		t.Errorf("error type name %q, want MailError", got)
	}
	if me.ID != IDFor(r.TaskToken) || me.Failed != len(r.Approvers) || !errors.Is(err, down.err) || !strings.Contains(err.Error(), "no approver could be mailed") {
		t.Errorf("MailError %+v: %v", me, err)
	}
	if strings.Contains(err.Error(), r.TaskToken) {
		t.Error("the task token appears in the error")
	}
	before := e.store.(*MemStore).Len()
	n.Mail = e.mail
	if err := n.Handle(context.Background(), r); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if got := e.store.(*MemStore).Len(); got != before {
		t.Errorf("%d records after the retry, want %d", got, before)
	}
}
