package mail

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"
	"unicode/utf8"

	"github.com/pushline/pushline/shared/event"
)

// maxCause bounds the cause quoted in a failure notice.
const maxCause = 4000

// MaxFailures is how many of a failed build's phase messages (event.Detail
// Failures: the failing tests, the failed command) a failure notice
// quotes, each cut at maxFailure bytes.
const (
	MaxFailures = 10
	maxFailure  = 2000
)

const failureText = `{{.Pipeline}}: {{.What}}

Repository: {{.Repository}}
Ref: {{.Ref}}
Commit: {{.Commit}}{{if .Stage}}
Stage: {{.Stage}}{{end}}{{if .BuildID}}
Build: {{.BuildID}}{{end}}{{if .LogsURL}}
Logs: {{.LogsURL}}{{end}}{{if .Approver}}
By: {{.Approver}}{{end}}{{if .Comment}}
Comment: {{.Comment}}{{end}}
Execution: {{.Execution}}{{if .RunURL}}
Run page: {{.RunURL}}{{end}}
{{if .Error}}
Error: {{.Error}}{{end}}{{if .Cause}}
Cause:
{{.Cause}}{{end}}{{if .Failures}}

Why the build failed:{{range .Failures}}
- {{.}}{{end}}{{end}}{{if .LogTail}}

Last {{len .LogTail}} lines of the build's log:
{{range .LogTail}}{{.}}
{{end}}{{end}}
`

const failureHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.What}}</title></head>
<body style="font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2328;line-height:1.5">
<h1 style="font-size:20px">{{.Pipeline}}: {{.What}}</h1>
<table cellpadding="4" style="border-collapse:collapse">
<tr><td style="color:#59636e">Repository</td><td>{{.Repository}}</td></tr>
<tr><td style="color:#59636e">Ref</td><td>{{.Ref}}</td></tr>
<tr><td style="color:#59636e">Commit</td><td><code>{{.Commit}}</code></td></tr>
{{- if .Stage}}<tr><td style="color:#59636e">Stage</td><td>{{.Stage}}</td></tr>{{end}}
{{- if .BuildID}}<tr><td style="color:#59636e">Build</td><td>{{.BuildID}}</td></tr>{{end}}
{{- if .LogsURL}}<tr><td style="color:#59636e">Logs</td><td><a href="{{.LogsURL}}">{{.LogsURL}}</a></td></tr>{{end}}
{{- if .Approver}}<tr><td style="color:#59636e">By</td><td>{{.Approver}}</td></tr>{{end}}
{{- if .Comment}}<tr><td style="color:#59636e">Comment</td><td>{{.Comment}}</td></tr>{{end}}
<tr><td style="color:#59636e">Execution</td><td>{{.Execution}}</td></tr>
{{- if .RunURL}}<tr><td style="color:#59636e">Run page</td><td><a href="{{.RunURL}}">{{.RunURL}}</a></td></tr>{{end}}
</table>
{{- if .Error}}
<p><strong>Error:</strong> {{.Error}}</p>
{{- end}}
{{- if .Cause}}
<pre style="white-space:pre-wrap;background:#f6f8fa;padding:8px">{{.Cause}}</pre>
{{- end}}
{{- if .Failures}}
<p><strong>Why the build failed:</strong></p>
<ul>
{{- range .Failures}}
<li style="white-space:pre-wrap">{{.}}</li>
{{- end}}
</ul>
{{- end}}
{{- if .LogTail}}
<p><strong>Last {{len .LogTail}} lines of the build's log:</strong></p>
<pre style="white-space:pre-wrap;background:#0d1117;color:#e6edf3;padding:8px;font-size:12px">{{range .LogTail}}{{.}}
{{end}}</pre>
{{- end}}
</body></html>
`

var (
	failureTextTmpl = texttemplate.Must(texttemplate.New("text").Parse(failureText))
	failureHTMLTmpl = htmltemplate.Must(htmltemplate.New("html").Parse(failureHTML))
)

// Failure renders the notice of a failure event (a FAILED pipeline or
// stage, a REJECTED or TIMED_OUT approval) for the config's
// notifications.failures.
func Failure(from string, to []string, d event.Detail) (Message, error) {
	return FailureWith(from, to, d, FailureExtra{})
}

// MaxLogTail is how many of the failed build's last log lines a failure
// notice quotes.
const MaxLogTail = 50

// FailureExtra is what a failure notice adds when the sender knows it:
// the run page (a signed link) and the last lines of the failed build's
// log (at most MaxLogTail are quoted).
type FailureExtra struct {
	RunURL  string
	LogTail []string
}

// FailureWith is Failure with the run page link and the log's tail.
func FailureWith(from string, to []string, d event.Detail, x FailureExtra) (Message, error) {
	what := strings.ToLower(strings.ReplaceAll(d.State, "_", " "))
	switch {
	case d.Stage != "" && (d.State == event.Rejected || d.State == event.TimedOut):
		what = "approval of " + d.Stage + " " + what
	case d.Stage != "":
		what = "stage " + d.Stage + " " + what
	default:
		what = "pipeline " + what
	}
	if len(x.LogTail) > MaxLogTail {
		x.LogTail = x.LogTail[len(x.LogTail)-MaxLogTail:]
	}
	v := struct {
		event.Detail
		What    string
		RunURL  string
		LogTail []string
	}{d, what, x.RunURL, x.LogTail}
	v.Failures = failures(d.Failures)
	if u, err := url.Parse(v.RunURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		v.RunURL = ""
	}
	if u, err := url.Parse(v.LogsURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		v.LogsURL = ""
	}
	v.Cause = clip(v.Cause, maxCause)
	var text, html bytes.Buffer
	if err := failureTextTmpl.Execute(&text, v); err != nil {
		return Message{}, fmt.Errorf("render failure text: %w", err)
	}
	if err := failureHTMLTmpl.Execute(&html, v); err != nil {
		return Message{}, fmt.Errorf("render failure html: %w", err)
	}
	ref := strings.TrimPrefix(strings.TrimPrefix(d.Ref, "refs/heads/"), "refs/tags/")
	commit := d.Commit
	if len(commit) > 12 {
		commit = commit[:12]
	}
	return Message{
		From:    from,
		To:      to,
		Subject: fmt.Sprintf("[%s] %s: %s %s (%s)", d.Pipeline, capitalize(what), d.Repository, ref, commit),
		Text:    text.String(),
		HTML:    html.String(),
	}, nil
}

// failures are the non-empty messages of d.Failures, at most MaxFailures
// (then a line saying how many more), each clipped.
func failures(msgs []string) []string {
	var out []string
	for i, m := range msgs {
		m = strings.TrimSpace(m)
		if m == "" {
			continue
		}
		if len(out) == MaxFailures {
			out = append(out, fmt.Sprintf("… and %d more", countNonEmpty(msgs[i:])))
			break
		}
		out = append(out, clip(m, maxFailure))
	}
	return out
}

func countNonEmpty(msgs []string) int {
	n := 0
	for _, m := range msgs {
		if strings.TrimSpace(m) != "" {
			n++
		}
	}
	return n
}

// clip cuts s to at most n bytes on a character boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	c := s[:n]
	for !utf8.ValidString(c) {
		c = c[:len(c)-1]
	}
	return c + "…"
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
