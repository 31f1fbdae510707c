package stack

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/pushline/pushline/infra/codebuild"
	"github.com/pushline/pushline/infra/codedeploy"
)

// awsHandler routes the one AWS endpoint: the JSON protocols by their
// X-Amz-Target, everything else to S3. trusted is the stack's own clients
// (inprocess.go); requests from the network (builds, the CLI, the aws CLI)
// cannot answer task tokens, and read execution histories without them
// (guardTokens).
func (s *Stack) awsHandler(trusted bool) http.Handler {
	var sf http.Handler = s.engine.Handler()
	if !trusted {
		sf = guardTokens(sf)
	}
	sf = withDeadlines(sf, smallBodyRead, answerWrite)
	cb := withDeadlines(s.runner.Handler(), smallBodyRead, answerWrite)
	s3h := withDeadlines(s.objects.server, objectIO, objectIO)
	logs := withDeadlines(logsAPI(s.buildLogs()), smallBodyRead, answerWrite)
	cd := withDeadlines(s.codedeploy.Handler(), smallBodyRead, answerWrite)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AWSStepFunctions."):
			sf.ServeHTTP(w, r)
		case codebuild.IsAPIRequest(r):
			cb.ServeHTTP(w, r)
		case strings.HasPrefix(r.Header.Get("X-Amz-Target"), logsTarget):
			logs.ServeHTTP(w, r)
		case codedeploy.IsAPIRequest(r):
			cd.ServeHTTP(w, r)
		default:
			s3h.ServeHTTP(w, r)
		}
	})
}

// tokenDenied is the answer to a task token call from the network: a
// build could otherwise read an approval's token and approve its own run.
const tokenDenied = "task tokens are answered only through the approval pages"

// redactedToken replaces task tokens in histories read from the network.
const redactedToken = "(redacted)"

// guardTokens refuses SendTaskSuccess, SendTaskFailure and
// SendTaskHeartbeat (AccessDeniedException, as AWS answers a caller its
// policy denies) and takes the task tokens out of execution histories.
func guardTokens(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("X-Amz-Target") {
		case "AWSStepFunctions.SendTaskSuccess", "AWSStepFunctions.SendTaskFailure", "AWSStepFunctions.SendTaskHeartbeat":
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
			w.WriteHeader(http.StatusBadRequest)
			b, _ := json.Marshal(map[string]string{"__type": "AccessDeniedException", "message": tokenDenied})
			w.Write(b)
		case "AWSStepFunctions.GetExecutionHistory":
			rec := &bufferedAnswer{header: http.Header{}, status: http.StatusOK}
			h.ServeHTTP(rec, r)
			body := rec.body.Bytes()
			if rec.status == http.StatusOK {
				body = redactTokens(body)
			}
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(rec.status)
			w.Write(body)
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// redactTokens replaces every "taskToken" value in a JSON document, also
// inside string values that hold JSON (a task's parameters), with
// redactedToken. A document it cannot read is returned as is: the engine
// writes the histories, and one without a task token needs nothing.
func redactTokens(doc []byte) []byte {
	if !bytes.Contains(doc, []byte("taskToken")) {
		return doc
	}
	v, ok := decodeJSON(string(doc))
	if !ok {
		return doc
	}
	out, ok := encodeJSON(redact(v))
	if !ok {
		return doc
	}
	return []byte(out)
}

func redact(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if _, isString := e.(string); isString && k == "taskToken" {
				v[k] = redactedToken
				continue
			}
			v[k] = redact(e)
		}
	case []any:
		for i, e := range v {
			v[i] = redact(e)
		}
	case string:
		if !strings.Contains(v, "taskToken") {
			return v
		}
		if inner, ok := decodeJSON(v); ok {
			if s, ok := encodeJSON(redact(inner)); ok {
				return s
			}
		}
	}
	return v
}

func decodeJSON(s string) (any, bool) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil || d.More() {
		return nil, false
	}
	return v, true
}

func encodeJSON(v any) (string, bool) {
	var b strings.Builder
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return "", false
	}
	return strings.TrimSuffix(b.String(), "\n"), true
}

// bufferedAnswer keeps a handler's answer to rewrite it.
type bufferedAnswer struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *bufferedAnswer) Header() http.Header { return r.header }

func (r *bufferedAnswer) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}

func (r *bufferedAnswer) Write(p []byte) (int, error) {
	r.wrote = true
	return r.body.Write(p)
}
