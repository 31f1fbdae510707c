package approval

import (
	"bytes"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pmail "github.com/pushline/pushline/shared/mail"
)

// golden compares got with testdata/<name>, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update and review the diff):\n%s", name, got)
	}
}

func TestPageGolden(t *testing.T) {
	pages := []struct {
		name string
		run  func(e *env) []byte
	}{
		{"page-pending.html", func(e *env) []byte { return e.do("GET", e.link("ops@example.com"), nil, nil).Body.Bytes() }},
		{"page-approved.html", func(e *env) []byte { return e.post("ops@example.com", "approve", "Ship it <3").Body.Bytes() }},
		{"page-decided-409.html", func(e *env) []byte {
			e.mustPost("lead@example.com", "reject", "Not on a Friday & not like this")
			return e.do("GET", e.link("ops@example.com"), nil, nil).Body.Bytes()
		}},
		{"page-expired-410.html", func(e *env) []byte {
			e.advance(100 * time.Hour)
			return e.do("GET", e.link("ops@example.com"), nil, nil).Body.Bytes()
		}},
		{"page-forged-403.html", func(e *env) []byte {
			return e.do("GET", strings.Replace(e.link("ops@example.com"), "a=ops", "a=eve", 1), nil, nil).Body.Bytes()
		}},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			golden(t, p.name, p.run(newEnv(t, nil)))
		})
	}
}

func TestMailGolden(t *testing.T) {
	e := newEnv(t, nil)
	if len(e.mail.sent) != 2 {
		t.Fatalf("%d mails sent, want one per approver", len(e.mail.sent))
	}
	m := e.mail.sent[0]
	if m.To[0] != "ops@example.com" || e.mail.sent[1].To[0] != "lead@example.com" {
		t.Errorf("recipients %v, %v", m.To, e.mail.sent[1].To)
	}
	golden(t, "mail.txt", []byte(m.Text))
	golden(t, "mail.html", []byte(m.HTML))
	if want := "[app] Approval needed for Approve: acme/app branch main (9fceb02d0ae5)"; m.Subject != want {
		t.Errorf("subject = %q, want %q", m.Subject, want)
	}
	link := e.signer.URL(testBase, Link{ID: e.id, Approver: "ops@example.com", Expires: e.record().ExpiresAt})
	if !strings.Contains(m.Text, link) {
		t.Errorf("text part lacks the link %s", link)
	}
	if strings.Contains(e.mail.sent[1].Text, link) {
		t.Error("the second approver got the first one's link")
	}

	// The .eml as the outbox writes it; also the events/ sample.
	dir := t.TempDir()
	ob := pmail.Outbox{Dir: dir, Now: func() time.Time { return testNow }}
	if err := ob.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("outbox has %v", files)
	}
	eml, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "mail.eml", eml)
	if *update {
		if err := os.WriteFile("../../events/approval/request-mail.eml", eml, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	checkEML(t, eml, link)
}

// checkEML parses a request mail as a mail client would and checks both
// parts carry the link.
func checkEML(t *testing.T, eml []byte, link string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(eml))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || !strings.Contains(subject, "acme/app") || !strings.Contains(subject, "main") || !strings.Contains(subject, "Approve") {
		t.Errorf("subject %q (%v)", subject, err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q", msg.Header.Get("Content-Type"))
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	var types []string
	for {
		p, err := r.NextPart() // decodes quoted-printable
		if err != nil {
			break
		}
		var b bytes.Buffer
		b.ReadFrom(p)
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		types = append(types, ct)
		want := link
		if ct == "text/html" {
			want = strings.ReplaceAll(link, "&", "&amp;")
		}
		if !strings.Contains(b.String(), want) {
			t.Errorf("%s part lacks the link", ct)
		}
	}
	if strings.Join(types, ",") != "text/plain,text/html" {
		t.Errorf("parts %v", types)
	}
}
