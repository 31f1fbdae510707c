package mail

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"

	"github.com/pushline/pushline/shared/event"
)

var update = flag.Bool("update", false, "rewrite golden files")

var testDate = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func sample() Message {
	return Message{
		From:    "pushline <pushline@example.com>",
		To:      []string{"Öps Team <ops@example.com>", "lead@example.com"},
		Subject: "[app] Approval needed — déploiement\r\nBcc: evil@example.com",
		Text:    "Hello ✓\nA line that is rather long, longer than seventy-six characters, so that quoted-printable must wrap it.\nhttps://x.example.com/approvals/abc?a=ops%40example.com&e=1&s=zz\n",
		HTML:    "<p>Hello ✓ <a href=\"https://x.example.com/approvals/abc?a=ops%40example.com&amp;e=1&amp;s=zz\">link</a></p>\n",
		Date:    testDate,
		ID:      "test.1@example.com",
	}
}

// parsed is a message as a mail client reads it.
type parsed struct {
	From, To, Subject, Date, ID string
	Parts                       map[string]string // content type → decoded body
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	p := parsed{From: msg.Header.Get("From"), To: msg.Header.Get("To"), Subject: subject,
		Date: msg.Header.Get("Date"), ID: msg.Header.Get("Message-ID"), Parts: map[string]string{}}
	if to, err := msg.Header.AddressList("To"); err == nil {
		var s []string
		for _, a := range to {
			s = append(s, a.Name+"|"+a.Address)
		}
		p.To = strings.Join(s, ",")
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	if mt != "multipart/alternative" {
		b, _ := io.ReadAll(quotedPrintable(msg.Body))
		p.Parts[mt] = string(b)
		return p
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, ps, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if ps["charset"] != "utf-8" {
			t.Errorf("%s charset %q", ct, ps["charset"])
		}
		b, _ := io.ReadAll(part)
		p.Parts[ct] = string(b)
	}
	return p
}

func TestBuild(t *testing.T) {
	raw, err := Build(sample())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "sample.eml", raw)
	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Errorf("line over 998 octets")
		}
		if strings.Contains(line, "\n") {
			t.Errorf("bare LF in %q", line)
		}
	}
	got := parse(t, raw)
	want := parsed{
		From:    `"pushline" <pushline@example.com>`,
		To:      "Öps Team|ops@example.com,|lead@example.com",
		Subject: "[app] Approval needed — déploiement  Bcc: evil@example.com",
		Date:    "Fri, 27 Nov 2026 09:00:00 +0000",
		ID:      "<test.1@example.com>",
		Parts: map[string]string{
			"text/plain": strings.ReplaceAll(sample().Text, "\n", "\r\n"),
			"text/html":  strings.ReplaceAll(sample().HTML, "\n", "\r\n"),
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parsed (-want +got):\n%s", diff)
	}
	again, _ := Build(sample())
	if !bytes.Equal(raw, again) {
		t.Error("Build is not deterministic")
	}
}

func TestBuildTextOnly(t *testing.T) {
	m := sample()
	m.HTML = ""
	m.ID, m.Date = "", time.Time{}
	raw, err := Build(m)
	if err != nil {
		t.Fatal(err)
	}
	got := parse(t, raw)
	if got.Parts["text/plain"] != strings.ReplaceAll(m.Text, "\n", "\r\n") || len(got.Parts) != 1 {
		t.Errorf("parts %v", got.Parts)
	}
	if !strings.HasSuffix(got.ID, "@example.com>") || got.Date == "" {
		t.Errorf("defaults: id %q date %q", got.ID, got.Date)
	}
}

func TestBuildInvalid(t *testing.T) {
	tests := map[string]func(*Message){
		"no recipient":  func(m *Message) { m.To = nil },
		"bad recipient": func(m *Message) { m.To = []string{"not an address"} },
		"bad sender":    func(m *Message) { m.From = "x\r\nBcc: y@example.com" },
		"no text":       func(m *Message) { m.Text = "" },
		"bad id":        func(m *Message) { m.ID = "a>\r\nX: y" },
	}
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			m := sample()
			edit(&m)
			if _, err := Build(m); !errors.Is(err, ErrInvalid) {
				t.Errorf("Build = %v, want ErrInvalid", err)
			}
		})
	}
}

// TestSMTP sends through a real SMTP server (go-smtp) on 127.0.0.1:0 and
// checks what it received.
func TestSMTP(t *testing.T) {
	be := &backend{}
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	s := SMTP{Addr: ln.Addr().String(), Timeout: 5 * time.Second}
	if err := s.Send(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	be.mu.Lock()
	defer be.mu.Unlock()
	if len(be.got) != 1 {
		t.Fatalf("server got %d messages", len(be.got))
	}
	m := be.got[0]
	if m.from != "pushline@example.com" {
		t.Errorf("MAIL FROM %q", m.from)
	}
	if diff := cmp.Diff([]string{"ops@example.com", "lead@example.com"}, m.to); diff != "" {
		t.Errorf("RCPT TO (-want +got):\n%s", diff)
	}
	got := parse(t, m.data)
	if !strings.Contains(got.Parts["text/plain"], "Hello ✓") || !strings.Contains(got.Parts["text/plain"], "s=zz") {
		t.Errorf("text part %q", got.Parts["text/plain"])
	}
	if !strings.Contains(got.Parts["text/html"], `<a href="https://x.example.com/approvals/abc?a=ops%40example.com&amp;e=1&amp;s=zz">`) {
		t.Errorf("html part %q", got.Parts["text/html"])
	}
	if !strings.HasPrefix(got.Subject, "[app] Approval needed — déploiement") {
		t.Errorf("subject %q", got.Subject)
	}

	// A dead relay is an error, not a hang.
	dead := SMTP{Addr: "127.0.0.1:1", Timeout: time.Second}
	if err := dead.Send(context.Background(), sample()); err == nil {
		t.Error("send to a closed port succeeded")
	}
}

type received struct {
	from string
	to   []string
	data []byte
}

type backend struct {
	mu  sync.Mutex
	got []received
}

func (b *backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{be: b}, nil }

type session struct {
	be  *backend
	cur received
}

func (s *session) Reset()        { s.cur = received{} }
func (s *session) Logout() error { return nil }
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.cur.from = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.to = append(s.cur.to, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = b
	s.be.mu.Lock()
	s.be.got = append(s.be.got, s.cur)
	s.be.mu.Unlock()
	return nil
}

func TestOutbox(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	now := testDate
	o := Outbox{Dir: dir, Now: func() time.Time { now = now.Add(time.Millisecond); return now }}
	for i := range 3 {
		m := sample()
		m.Subject = string(rune('a' + i))
		if err := o.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 3 {
		t.Fatalf("outbox holds %v", names)
	}
	for i, n := range names {
		if !strings.HasPrefix(n, "20261127T090000.00"+string(rune('1'+i))) || !strings.HasSuffix(n, ".eml") {
			t.Errorf("name %q", n)
		}
		raw, _ := os.ReadFile(filepath.Join(dir, n))
		if got := parse(t, raw).Subject; got != string(rune('a'+i)) {
			t.Errorf("%s: subject %q (names do not sort by time?)", n, got)
		}
	}
	bad := sample()
	bad.To = nil
	if err := o.Send(context.Background(), bad); err == nil {
		t.Error("invalid message written")
	}
}

type fakeSES struct {
	t  *testing.T
	in []*sesv2.SendEmailInput
}

func (f *fakeSES) SendEmail(_ context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.in = append(f.in, in)
	return &sesv2.SendEmailOutput{MessageId: aws.String("ses-1")}, nil
}

func TestSES(t *testing.T) {
	f := &fakeSES{t: t}
	if err := (SES{API: f, ConfigurationSet: "pushline"}).Send(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	in := f.in[0]
	want, _ := Build(sample())
	if !bytes.Equal(in.Content.Raw.Data, want) {
		t.Error("SES raw data is not the built message")
	}
	if aws.ToString(in.FromEmailAddress) != "pushline@example.com" || aws.ToString(in.ConfigurationSetName) != "pushline" {
		t.Errorf("from %q set %q", aws.ToString(in.FromEmailAddress), aws.ToString(in.ConfigurationSetName))
	}
	if diff := cmp.Diff([]string{"ops@example.com", "lead@example.com"}, in.Destination.ToAddresses); diff != "" {
		t.Errorf("destination (-want +got):\n%s", diff)
	}
}

func TestFailure(t *testing.T) {
	d := event.Detail{
		Pipeline: "app", Execution: "arn:aws:states:us-east-1:000000000000:execution:pushline-app:main-9fceb02d0ae5-3c2f0e4a81b7",
		State: event.Failed, Repository: "acme/app", Ref: "refs/heads/main", Commit: "9fceb02d0ae598e95dc970b74767f19372d61af8",
		Stage: "Test", BuildID: "pushline-app-Test:5f2c", LogsURL: "https://logs.example.com/x?a=1&b=2",
		Error: "States.TaskFailed", Cause: `{"Build":{"BuildStatus":"FAILED","Phases":[{"PhaseType":"BUILD","<b>":"x"}]}}`,
		Failures: []string{
			"report app-Test-unit: 1 of 2 tests failed: greet.TestBye: expected <bye>, got hello",
			"",
			"Error while executing command: go test ./... Reason: exit status 1",
		},
	}
	m, err := Failure("pushline@example.com", []string{"team@example.com"}, d)
	if err != nil {
		t.Fatal(err)
	}
	if want := "[app] Stage Test failed: acme/app main (9fceb02d0ae5)"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	golden(t, "failure.txt", []byte(m.Text))
	golden(t, "failure.html", []byte(m.HTML))
	if strings.Contains(m.HTML, `"<b>"`) || strings.Contains(m.HTML, "<bye>") {
		t.Error("cause or failures not escaped")
	}
	d2 := d
	d2.State, d2.Error, d2.Cause, d2.BuildID, d2.LogsURL, d2.Stage = event.TimedOut, "States.Timeout", "", "", "javascript:alert(1)", "Approve"
	m2, _ := Failure("pushline@example.com", []string{"team@example.com"}, d2)
	if want := "[app] Approval of Approve timed out: acme/app main (9fceb02d0ae5)"; m2.Subject != want {
		t.Errorf("subject %q, want %q", m2.Subject, want)
	}
	if strings.Contains(m2.HTML, "javascript:") || strings.Contains(m2.Text, "javascript:") {
		t.Error("unsafe logs URL rendered")
	}
	if _, err := Build(m2); err != nil {
		t.Error(err)
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update and review):\n%s", name, got)
	}
}

func BenchmarkBuild(b *testing.B) {
	m := sample()
	for b.Loop() {
		if _, err := Build(m); err != nil {
			b.Fatal(err)
		}
	}
}

// quotedPrintable decodes a single-part body.
func quotedPrintable(r io.Reader) io.Reader { return qpReader(r) }
