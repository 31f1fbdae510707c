package approval

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	htmltemplate "html/template"
	netmail "net/mail"
	"net/url"
	"strings"
	texttemplate "text/template"

	"github.com/pushline/pushline/shared/mail"
)

//go:embed templates
var templateFS embed.FS

var (
	pageTmpl     = htmltemplate.Must(htmltemplate.ParseFS(templateFS, "templates/page.html"))
	mailHTMLTmpl = htmltemplate.Must(htmltemplate.ParseFS(templateFS, "templates/mail.html"))
	mailTextTmpl = texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/mail.txt"))
)

// timeLayout is how pages and mails show times.
const timeLayout = "Mon, 02 Jan 2006 15:04 UTC"

// summary is what pages and mails show of an approval.
type summary struct {
	Pipeline, Stage          string
	Repository, RepoURL      string
	RefKind, RefName         string
	Commit, Short, CommitURL string
	CommitMessage, Author    string
	Pusher                   string
	Builds                   []Build
	Expires                  string
}

func summarize(r *Record) *summary {
	p := r.Push
	s := &summary{
		Pipeline:      r.Pipeline,
		Stage:         r.Stage,
		Repository:    p.Repository,
		RepoURL:       webURL(p.WebURL),
		Commit:        p.After,
		Short:         short(p.After),
		CommitURL:     webURL(p.HeadCommit.URL),
		CommitMessage: strings.TrimSpace(p.HeadCommit.Message),
		Author:        p.HeadCommit.Author,
		Pusher:        p.Pusher,
		Expires:       r.ExpiresAt.UTC().Format(timeLayout),
	}
	switch {
	case p.Branch != "":
		s.RefKind, s.RefName = "Branch", p.Branch
	case p.Tag != "":
		s.RefKind, s.RefName = "Tag", p.Tag
	default:
		s.RefKind, s.RefName = "Ref", p.Ref
	}
	for _, b := range r.Builds {
		b.LogsURL = webURL(b.LogsURL)
		s.Builds = append(s.Builds, b)
	}
	return s
}

// webURL keeps only http(s) URLs (no javascript:, data:, …).
func webURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	return s
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

// RequestMail renders the approval request mail of r for one approver,
// whose signed link is link.
func RequestMail(r *Record, from, approver, link string) (mail.Message, error) {
	data := struct {
		Approval *summary
		Approver string
		Link     string
	}{summarize(r), approver, link}
	var text, html bytes.Buffer
	if err := mailTextTmpl.Execute(&text, data); err != nil {
		return mail.Message{}, fmt.Errorf("render mail text: %w", err)
	}
	if err := mailHTMLTmpl.Execute(&html, data); err != nil {
		return mail.Message{}, fmt.Errorf("render mail html: %w", err)
	}
	s := data.Approval
	subject := fmt.Sprintf("[%s] Approval needed for %s: %s %s %s (%s)", s.Pipeline, s.Stage, s.Repository, strings.ToLower(s.RefKind), s.RefName, s.Short)
	return mail.Message{
		ID:      messageID(r.ID, from, approver),
		From:    from,
		To:      []string{approver},
		Subject: subject,
		Text:    text.String(),
		HTML:    html.String(),
	}, nil
}

// page is the data of the approval page.
type page struct {
	Status   string // short label above the title
	Title    string
	Message  string
	Approval *summary
	Decision *decisionView
	Form     *formView
}

type decisionView struct {
	State, Approver, At, Comment string
	RunURL                       string // the run page ("follow the run"), if known
}

type formView struct {
	Token      string
	Approver   string
	MaxComment int
}

func decisionOf(r *Record) *decisionView {
	return &decisionView{
		State:    strings.ToLower(r.State),
		Approver: r.Approver,
		At:       r.DecidedAt.UTC().Format(timeLayout),
		Comment:  r.Comment,
	}
}

func renderPage(p page) ([]byte, error) {
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, p); err != nil {
		return nil, fmt.Errorf("render page: %w", err)
	}
	return b.Bytes(), nil
}

// messageID is the Message-ID of the mail of approval id to approver: the
// same for a retried notify, so mail clients show one message.
func messageID(id, from, approver string) string {
	domain := "pushline.invalid"
	if a, err := netmail.ParseAddress(from); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
			domain = a.Address[i+1:]
		}
	}
	sum := sha256.Sum256([]byte(strings.ToLower(approver)))
	return "approval." + id + "." + hex.EncodeToString(sum[:4]) + "@" + domain
}
