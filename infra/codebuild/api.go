package codebuild

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pushline/pushline/infra/codebuild/testreport"
)

// targetPrefix is the X-Amz-Target prefix of the CodeBuild JSON API.
const targetPrefix = "CodeBuild_20161006."

// apiError is a CodeBuild API error answer.
type apiError struct {
	status int
	typ    string
	msg    string
}

// Handler serves the CodeBuild JSON API (awsJson1_1, selected by
// X-Amz-Target) for BatchGetBuilds, ListBuilds, ListBuildsForProject,
// StartBuild, StopBuild, BatchGetReports and DescribeTestCases, so the AWS CLI can inspect local builds:
//
//	aws --endpoint-url http://127.0.0.1:4566 codebuild batch-get-builds --ids <id>
//
// Requests are not signature-checked (it is a local endpoint).
func (r *Runner) Handler() http.Handler {
	return http.HandlerFunc(r.serveAPI)
}

// IsAPIRequest reports whether req is for this API (by its X-Amz-Target), so
// one endpoint can route among several AWS services.
func IsAPIRequest(req *http.Request) bool {
	return strings.HasPrefix(req.Header.Get("X-Amz-Target"), targetPrefix)
}

func (r *Runner) serveAPI(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		writeAPIError(w, &apiError{http.StatusMethodNotAllowed, "InvalidInputException", "use POST"})
		return
	}
	op, ok := strings.CutPrefix(req.Header.Get("X-Amz-Target"), targetPrefix)
	if !ok {
		writeAPIError(w, &apiError{http.StatusBadRequest, "UnknownOperationException", "X-Amz-Target must be " + targetPrefix + "<operation>"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20+1))
	if err != nil {
		writeAPIError(w, &apiError{http.StatusBadRequest, "InvalidInputException", "cannot read the request body"})
		return
	}
	if len(body) > 1<<20 {
		writeAPIError(w, &apiError{http.StatusRequestEntityTooLarge, "InvalidInputException", "request body over 1 MiB"})
		return
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	var out any
	var aerr *apiError
	switch op {
	case "BatchGetBuilds":
		out, aerr = r.apiBatchGetBuilds(body)
	case "ListBuilds":
		out, aerr = r.apiList(body, false)
	case "ListBuildsForProject":
		out, aerr = r.apiList(body, true)
	case "StartBuild":
		out, aerr = r.apiStartBuild(req.Context(), body)
	case "StopBuild":
		out, aerr = r.apiStopBuild(req.Context(), body)
	case "BatchGetReports":
		out, aerr = r.apiBatchGetReports(body)
	case "DescribeTestCases":
		out, aerr = r.apiDescribeTestCases(body)
	default:
		aerr = &apiError{http.StatusBadRequest, "UnknownOperationException", "operation " + op + " is not supported by the local CodeBuild"}
	}
	if aerr != nil {
		r.log.Info("codebuild api: request refused", "op", op, "type", aerr.typ, "msg", aerr.msg)
		writeAPIError(w, aerr)
		return
	}
	data, err := json.Marshal(out)
	if err != nil {
		r.log.Error("codebuild api: encode answer", "op", op, "err", err)
		writeAPIError(w, &apiError{http.StatusInternalServerError, "InternalFailure", "internal error"})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Write(data)
}

func writeAPIError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", e.typ)
	w.WriteHeader(e.status)
	data, _ := json.Marshal(map[string]string{"__type": e.typ, "message": e.msg})
	w.Write(data)
}

func decode(body []byte, v any) *apiError {
	if err := json.Unmarshal(body, v); err != nil {
		return &apiError{http.StatusBadRequest, "SerializationException", "the request body is not valid JSON for this operation"}
	}
	return nil
}

func invalid(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidInputException", msg}
}

func (r *Runner) apiBuilds(bs []*Build) ([]json.RawMessage, *apiError) {
	out := make([]json.RawMessage, 0, len(bs))
	for _, b := range bs {
		data, err := b.APIJSON()
		if err != nil {
			r.log.Error("codebuild api: encode build", "build", b.Id, "err", err)
			return nil, &apiError{http.StatusInternalServerError, "InternalFailure", "internal error"}
		}
		out = append(out, data)
	}
	return out, nil
}

func (r *Runner) apiBatchGetBuilds(body []byte) (any, *apiError) {
	var in struct {
		Ids []string `json:"ids"`
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if len(in.Ids) == 0 || len(in.Ids) > 100 {
		return nil, invalid("ids must list 1 to 100 build ids")
	}
	var found []*Build
	notFound := []string{}
	for _, id := range in.Ids {
		if bs := r.BatchGetBuilds([]string{id}); len(bs) == 1 {
			found = append(found, bs[0])
		} else {
			notFound = append(notFound, id)
		}
	}
	builds, e := r.apiBuilds(found)
	if e != nil {
		return nil, e
	}
	return map[string]any{"builds": builds, "buildsNotFound": notFound}, nil
}

const pageSize = 100

func (r *Runner) apiList(body []byte, perProject bool) (any, *apiError) {
	var in struct {
		ProjectName string `json:"projectName"`
		SortOrder   string `json:"sortOrder"`
		NextToken   string `json:"nextToken"`
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if perProject && in.ProjectName == "" {
		return nil, invalid("projectName is required")
	}
	if !perProject {
		in.ProjectName = ""
	}
	ids := r.ListBuilds(in.ProjectName)
	switch strings.ToUpper(in.SortOrder) {
	case "", "DESCENDING":
	case "ASCENDING":
		slices.Reverse(ids)
	default:
		return nil, invalid("sortOrder must be ASCENDING or DESCENDING")
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 || n > len(ids) {
			return nil, invalid("nextToken is not valid")
		}
		start = n
	}
	end := min(start+pageSize, len(ids))
	out := map[string]any{"ids": append([]string{}, ids[start:end]...)}
	if end < len(ids) {
		out["nextToken"] = strconv.Itoa(end)
	}
	return out, nil
}

func (r *Runner) apiStartBuild(ctx context.Context, body []byte) (any, *apiError) {
	var in StartBuildInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	in.Initiator = "aws-cli"
	b, err := r.StartBuild(ctx, in)
	if err != nil {
		return nil, r.mapError(err)
	}
	return r.oneBuild(b)
}

func (r *Runner) apiStopBuild(ctx context.Context, body []byte) (any, *apiError) {
	var in struct {
		Id string `json:"id"`
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if in.Id == "" {
		return nil, invalid("id is required")
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	b, err := r.StopBuild(ctx, in.Id)
	if err != nil {
		return nil, r.mapError(err)
	}
	return r.oneBuild(b)
}

func (r *Runner) oneBuild(b *Build) (any, *apiError) {
	data, err := b.APIJSON()
	if err != nil {
		r.log.Error("codebuild api: encode build", "build", b.Id, "err", err)
		return nil, &apiError{http.StatusInternalServerError, "InternalFailure", "internal error"}
	}
	return map[string]any{"build": data}, nil
}

// mapError maps the runner's errors to API errors, in one place.
func (r *Runner) mapError(err error) *apiError {
	switch {
	case errors.Is(err, ErrInvalidInput):
		return invalid(err.Error())
	case errors.Is(err, ErrNotFound):
		return &apiError{http.StatusBadRequest, "ResourceNotFoundException", err.Error()}
	case errors.Is(err, ErrClosed):
		return &apiError{http.StatusServiceUnavailable, "ServiceUnavailableException", "the local CodeBuild is shutting down"}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &apiError{http.StatusServiceUnavailable, "ServiceUnavailableException", "timed out"}
	}
	r.log.Error("codebuild api: internal error", "err", err)
	return &apiError{http.StatusInternalServerError, "InternalFailure", "internal error"}
}

// LogHandler serves a build's log as text: GET /<build id> (mount it under
// the LogsBaseURL path with http.StripPrefix). While the build runs it
// serves what has been written so far. Unknown builds get 404.
func (r *Runner) LogHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		id := strings.TrimPrefix(req.URL.Path, "/")
		p, err := r.LogPath(id)
		if err != nil {
			http.Error(w, "no such build", http.StatusNotFound)
			return
		}
		f, err := os.Open(p)
		if err != nil {
			http.Error(w, "no log yet", http.StatusNotFound)
			return
		}
		defer f.Close()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if req.Method == http.MethodHead {
			return
		}
		if _, err := io.Copy(w, f); err != nil {
			r.log.Debug("codebuild: serve log", "build", id, "err", err)
		}
	})
}

func (r *Runner) apiBatchGetReports(body []byte) (any, *apiError) {
	var in struct {
		ReportArns []string `json:"reportArns"`
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if len(in.ReportArns) == 0 || len(in.ReportArns) > 100 {
		return nil, invalid("reportArns must list 1 to 100 report ARNs")
	}
	reports := []Report{}
	notFound := []string{}
	for _, arn := range in.ReportArns {
		rp, ok := r.report(arn)
		if !ok {
			notFound = append(notFound, arn)
			continue
		}
		rp.Cases, rp.Files, rp.Problems = nil, nil, nil // DescribeTestCases gives the cases
		reports = append(reports, *rp)
	}
	return map[string]any{"reports": reports, "reportsNotFound": notFound}, nil
}

func (r *Runner) apiDescribeTestCases(body []byte) (any, *apiError) {
	var in struct {
		ReportArn string `json:"reportArn"`
		Filter    struct {
			Status  string `json:"status"`
			Keyword string `json:"keyword"`
		} `json:"filter"`
		MaxResults int    `json:"maxResults"`
		NextToken  string `json:"nextToken"`
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if in.ReportArn == "" {
		return nil, invalid("reportArn is required")
	}
	rp, ok := r.report(in.ReportArn)
	if !ok {
		return nil, &apiError{http.StatusBadRequest, "ResourceNotFoundException", "report " + in.ReportArn + " not found"}
	}
	type testCase struct {
		ReportArn string `json:"reportArn"`
		testreport.Case
	}
	var cases []testCase
	for _, c := range rp.Cases {
		if in.Filter.Status != "" && !strings.EqualFold(c.Status, in.Filter.Status) {
			continue
		}
		if in.Filter.Keyword != "" && !strings.Contains(c.FullName(), in.Filter.Keyword) {
			continue
		}
		cases = append(cases, testCase{ReportArn: rp.Arn, Case: c})
	}
	limit := in.MaxResults
	if limit <= 0 || limit > pageSize {
		limit = pageSize
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 || n > len(cases) {
			return nil, invalid("nextToken is not valid")
		}
		start = n
	}
	end := min(start+limit, len(cases))
	out := map[string]any{"testCases": append([]testCase{}, cases[start:end]...)}
	if end < len(cases) {
		out["nextToken"] = strconv.Itoa(end)
	}
	return out, nil
}
