package drive

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Mail is one message found in an outbox.
type Mail struct {
	Path    string
	To      string
	Subject string
	Text    string
}

// Outbox reads every .eml message in dir, oldest first.
func Outbox(dir string) ([]Mail, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []Mail
	for _, n := range names {
		if strings.HasPrefix(filepath.Base(n), ".") { // a message being written
			continue
		}
		m, err := readMail(n)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func readMail(path string) (Mail, error) {
	f, err := os.Open(path)
	if err != nil {
		return Mail{}, err
	}
	defer f.Close()
	msg, err := mail.ReadMessage(f)
	if err != nil {
		return Mail{}, fmt.Errorf("read %s: %w", path, err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		subject = msg.Header.Get("Subject")
	}
	text, err := textPart(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	if err != nil {
		return Mail{}, fmt.Errorf("read %s: %w", path, err)
	}
	return Mail{Path: path, To: msg.Header.Get("To"), Subject: subject, Text: text}, nil
}

// textPart returns the first text/plain part of a message body, decoded.
func textPart(contentType, encoding string, body io.Reader) (string, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		r := multipart.NewReader(body, params["boundary"])
		for {
			p, err := r.NextRawPart()
			if errors.Is(err, io.EOF) {
				return "", errors.New("no text/plain part")
			}
			if err != nil {
				return "", err
			}
			if t, err := textPart(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err == nil && t != "" {
				return t, nil
			}
		}
	}
	if mt != "text/plain" {
		return "", nil
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	return string(b), err
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"]+/approvals/[^\s<>"]+`)

// Links returns the approval links in a mail's text.
func (m Mail) Links() []string { return linkRE.FindAllString(m.Text, -1) }

// Page is an approval page as a person sees it.
type Page struct {
	Status int
	HTML   string
}

// Open GETs an approval link.
func Open(ctx context.Context, link string) (*Page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", link, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &Page{Status: resp.StatusCode, HTML: string(b)}, nil
}

var (
	formRE   = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	attrRE   = regexp.MustCompile(`(?is)([a-z-]+)\s*=\s*"([^"]*)"`)
	inputRE  = regexp.MustCompile(`(?is)<(input|button|textarea)\b([^>]*)>`)
	headerRE = regexp.MustCompile(`(?is)<h1[^>]*>(.*?)</h1>`)
	tagRE    = regexp.MustCompile(`<[^>]+>`)
)

// Title is the page's first heading, without markup.
func (p *Page) Title() string {
	m := headerRE.FindStringSubmatch(p.HTML)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(html.UnescapeString(tagRE.ReplaceAllString(m[1], "")))
}

func attrs(s string) map[string]string {
	out := map[string]string{}
	for _, m := range attrRE.FindAllStringSubmatch(s, -1) {
		out[strings.ToLower(m[1])] = html.UnescapeString(m[2])
	}
	return out
}

// Submit fills the page's POST form as a person would — the comment field
// and the button named for the decision ("approve" or "reject") — and
// submits it from link's origin. It returns the answer page.
func (p *Page) Submit(ctx context.Context, link, decision, comment string) (*Page, error) {
	form := formRE.FindStringSubmatch(p.HTML)
	if form == nil {
		return nil, errors.New("the page has no form")
	}
	fa := attrs(form[1])
	if !strings.EqualFold(fa["method"], "post") {
		return nil, fmt.Errorf("the page's form method is %q, not post", fa["method"])
	}
	base, err := url.Parse(link)
	if err != nil {
		return nil, err
	}
	action, err := base.Parse(fa["action"])
	if err != nil {
		return nil, fmt.Errorf("form action %q: %w", fa["action"], err)
	}
	values := url.Values{}
	pressed := false
	for _, m := range inputRE.FindAllStringSubmatch(form[2], -1) {
		a := attrs(m[2])
		name := a["name"]
		if name == "" {
			continue
		}
		switch strings.ToLower(m[1]) {
		case "textarea":
			if comment != "" {
				values.Set(name, comment)
			}
		case "button":
			if strings.EqualFold(a["value"], decision) && !pressed {
				values.Set(name, a["value"])
				pressed = true
			}
		default:
			switch strings.ToLower(a["type"]) {
			case "submit":
				if strings.EqualFold(a["value"], decision) && !pressed {
					values.Set(name, a["value"])
					pressed = true
				}
			case "text":
				if comment != "" && strings.Contains(strings.ToLower(name), "comment") {
					values.Set(name, comment)
				}
			default:
				values.Set(name, a["value"])
			}
		}
	}
	if !pressed {
		return nil, fmt.Errorf("the page has no %q button", decision)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(values.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base.Scheme+"://"+base.Host)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("submit %s: %w", action, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &Page{Status: resp.StatusCode, HTML: string(b)}, nil
}
