package mail

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Build renders m as a MIME message with CRLF line endings: a
// multipart/alternative of text/plain and text/html when m.HTML is set,
// else a single text/plain part; bodies quoted-printable UTF-8; the
// subject RFC 2047 encoded when it is not plain ASCII. The boundary is
// derived from the content, so equal messages build to equal bytes.
func Build(m Message) ([]byte, error) {
	from, to, err := addresses(m)
	if err != nil {
		return nil, err
	}
	if m.Text == "" {
		return nil, fmt.Errorf("%w: no text body", ErrInvalid)
	}
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	id := m.ID
	if id == "" {
		id = NewID(from.Address)
	}
	if strings.ContainsAny(id, "<>\r\n \t") {
		return nil, fmt.Errorf("%w: message id %q", ErrInvalid, id)
	}
	var hdr bytes.Buffer
	header(&hdr, "From", from.String())
	tos := make([]string, len(to))
	for i, a := range to {
		tos[i] = a.String()
	}
	header(&hdr, "To", strings.Join(tos, ", "))
	// Encoded words are folded onto continuation lines (RFC 2047 §2).
	header(&hdr, "Subject", strings.ReplaceAll(mime.QEncoding.Encode("utf-8", subjectText(m.Subject)), "?= =?", "?=\r\n =?"))
	header(&hdr, "Date", date.Format(time.RFC1123Z))
	header(&hdr, "Message-ID", "<"+id+">")
	header(&hdr, "MIME-Version", "1.0")
	header(&hdr, "Auto-Submitted", "auto-generated")

	text, err := qp(m.Text)
	if err != nil {
		return nil, err
	}
	if m.HTML == "" {
		var b bytes.Buffer
		b.Write(hdr.Bytes())
		header(&b, "Content-Type", `text/plain; charset="utf-8"`)
		header(&b, "Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		b.Write(text)
		return b.Bytes(), nil
	}
	html, err := qp(m.HTML)
	if err != nil {
		return nil, err
	}
	sum := sha256.New()
	sum.Write(hdr.Bytes())
	sum.Write(text)
	sum.Write(html)
	boundary := "pushline-" + hex.EncodeToString(sum.Sum(nil)[:12])

	var b bytes.Buffer
	b.Write(hdr.Bytes())
	header(&b, "Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.WriteString("\r\n")
	for _, p := range []struct {
		typ  string
		body []byte
	}{{"text/plain", text}, {"text/html", html}} {
		b.WriteString("--" + boundary + "\r\n")
		header(&b, "Content-Type", p.typ+`; charset="utf-8"`)
		header(&b, "Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		b.Write(p.body)
		b.WriteString("\r\n")
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes(), nil
}

// NewID returns a random Message-ID (without angle brackets) at the
// domain of addr.
func NewID(addr string) string {
	domain := "pushline.invalid"
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && i < len(addr)-1 {
		domain = addr[i+1:]
	}
	return rand.Text() + "@" + domain
}

// addresses parses and checks m's sender and recipients.
func addresses(m Message) (*mail.Address, []*mail.Address, error) {
	from, err := mail.ParseAddress(m.From)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: from %q: %v", ErrInvalid, m.From, err)
	}
	if len(m.To) == 0 {
		return nil, nil, fmt.Errorf("%w: no recipient", ErrInvalid)
	}
	to := make([]*mail.Address, 0, len(m.To))
	for _, s := range m.To {
		a, err := mail.ParseAddress(s)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: to %q: %v", ErrInvalid, s, err)
		}
		to = append(to, a)
	}
	return from, to, nil
}

// envelope builds m and returns it with its envelope: the bare sender
// and recipient addresses, as SES and SMTP take them.
func envelope(m Message) (raw []byte, from string, to []string, err error) {
	raw, err = Build(m)
	if err != nil {
		return nil, "", nil, err
	}
	f, ts, _ := addresses(m) // checked by Build
	to = make([]string, len(ts))
	for i, a := range ts {
		to[i] = a.Address
	}
	return raw, f.Address, to, nil
}

func header(b *bytes.Buffer, name, value string) {
	b.WriteString(name)
	b.WriteString(": ")
	b.WriteString(value)
	b.WriteString("\r\n")
}

// oneLine folds any line breaks and control characters of a header value
// into spaces (no header injection).
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// maxSubject bounds a subject, in characters.
const maxSubject = 250

// subjectText is the subject as sent: on one line, at most maxSubject
// characters, and with no "=?" that a mail client would take for the
// start of an encoded word.
func subjectText(s string) string {
	s = strings.ToValidUTF8(oneLine(s), "\uFFFD")
	s = strings.ReplaceAll(s, "=?", "= ?")
	if utf8.RuneCountInString(s) > maxSubject {
		s = string([]rune(s)[:maxSubject-1]) + "…"
	}
	return s
}

// qp encodes s (normalised to CRLF line endings) as quoted-printable.
func qp(s string) ([]byte, error) {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.ReplaceAll(s, "\n", "\r\n")
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		return nil, fmt.Errorf("encode body: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encode body: %w", err)
	}
	return b.Bytes(), nil
}
