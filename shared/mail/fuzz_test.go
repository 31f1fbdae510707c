package mail

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
)

// FuzzBuild: whatever the subject and bodies (commit messages, comments
// and causes end up there), Build yields one message a mail parser reads
// back: no injected header, the subject and both parts intact.
func FuzzBuild(f *testing.F) {
	f.Add("[app] Approval needed", "text\n", "<p>html</p>")
	f.Add("Subject\r\nBcc: x@example.com", "line\r\n.\r\nQUIT\r\n", "")
	f.Add("é — ✓ "+strings.Repeat("long ", 40), strings.Repeat("=", 200), "--pushline-\r\n--")
	f.Fuzz(func(t *testing.T, subject, text, html string) {
		if text == "" {
			return
		}
		raw, err := Build(Message{From: "p@example.com", To: []string{"o@example.com"}, Subject: subject, Text: text, HTML: html, ID: "x@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if n := 8; (html == "" && len(msg.Header) != n+1) || (html != "" && len(msg.Header) != n) {
			t.Fatalf("%d headers: %v", len(msg.Header), msg.Header)
		}
		got, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if w := strings.TrimSpace(subjectText(subject)); err != nil || strings.TrimSpace(got) != w {
			t.Fatalf("subject %q, want %q (%v)", got, w, err)
		}
		norm := func(s string) string {
			s = strings.ReplaceAll(s, "\r\n", "\n")
			return strings.ReplaceAll(strings.ReplaceAll(s, "\r", "\n"), "\n", "\r\n")
		}
		want := map[string]string{"text/plain": norm(text)}
		_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
		parts := map[string]string{}
		if html == "" {
			b, _ := io.ReadAll(qpReader(msg.Body))
			parts["text/plain"] = string(b)
		} else {
			want["text/html"] = norm(html)
			r := multipart.NewReader(msg.Body, params["boundary"])
			for {
				p, err := r.NextPart()
				if err != nil {
					break
				}
				b, _ := io.ReadAll(p)
				ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
				parts[ct] = string(b)
			}
		}
		for ct, w := range want {
			if parts[ct] != w {
				t.Fatalf("%s part %q, want %q", ct, parts[ct], w)
			}
		}
	})
}
