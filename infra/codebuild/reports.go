package codebuild

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pushline/pushline/infra/codebuild/buildspec"
	"github.com/pushline/pushline/infra/codebuild/testreport"
)

// Report statuses, as CodeBuild's Report.status.
const (
	ReportSucceeded  = "SUCCEEDED"
	ReportFailed     = "FAILED"
	ReportIncomplete = "INCOMPLETE"
)

// Report is one test report of a build, shaped as CodeBuild's Report
// (BatchGetReports; JSON in the API's camelCase, created in epoch seconds),
// with its test cases (DescribeTestCases). A build's reports are kept in
// <Dir>/<build id>/reports.json.
type Report struct {
	Arn            string             `json:"arn"`
	Type           string             `json:"type"` // TEST
	Name           string             `json:"name"` // the report group's name, <project>-<name in the buildspec>
	ReportGroupArn string             `json:"reportGroupArn"`
	ExecutionID    string             `json:"executionId"` // the build's ARN
	Status         string             `json:"status"`
	Created        float64            `json:"created"`
	TestSummary    testreport.Summary `json:"testSummary"`
	// Files are the report files read, relative to the source folder;
	// Problems what went wrong reading them (Status INCOMPLETE).
	Files    []string          `json:"files,omitempty"`
	Problems []string          `json:"problems,omitempty"`
	Cases    []testreport.Case `json:"testCases,omitempty"`
}

// Failing lists the report's failed and errored tests.
func (rp *Report) Failing() []testreport.Case {
	var out []testreport.Case
	for _, c := range rp.Cases {
		if c.Status == testreport.Failed || c.Status == testreport.Error {
			out = append(out, c)
		}
	}
	return out
}

// maxFailuresShown bounds the failing tests a failure summary names.
const maxFailuresShown = 5

// FailureSummary says in one line which tests failed and why, or "".
func (rp *Report) FailureSummary() string {
	failing := rp.Failing()
	if len(failing) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "report %s: %d of %d tests failed: ", rp.Name, len(failing), rp.TestSummary.Total)
	for i, c := range failing {
		if i == maxFailuresShown {
			fmt.Fprintf(&b, "; and %d more", len(failing)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(c.FullName())
		if msg := firstLine(c.Message, 200); msg != "" {
			b.WriteString(": " + msg)
		}
	}
	return b.String()
}

func firstLine(s string, limit int) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return s
}

// Reports returns a build's test reports with their test cases.
func (r *Runner) Reports(buildID string) ([]Report, error) {
	rn, ok := r.get(buildID)
	if !ok {
		return nil, fmt.Errorf("reports of %s: %w", buildID, ErrNotFound)
	}
	return readReports(rn.dir)
}

func readReports(dir string) ([]Report, error) {
	data, err := os.ReadFile(filepath.Join(dir, "reports.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read reports: %w", err)
	}
	var reps []Report
	if err := json.Unmarshal(data, &reps); err != nil {
		return nil, fmt.Errorf("read reports: %w", err)
	}
	return reps, nil
}

// report finds a report by its ARN.
func (r *Runner) report(arn string) (*Report, bool) {
	r.mu.Lock()
	runs := make([]*run, 0, len(r.runs))
	for _, rn := range r.runs {
		runs = append(runs, rn)
	}
	r.mu.Unlock()
	for _, rn := range runs {
		rn.mu.Lock()
		has := slices.Contains(rn.build.ReportArns, arn)
		rn.mu.Unlock()
		if !has {
			continue
		}
		reps, err := readReports(rn.dir)
		if err != nil {
			r.log.Warn("codebuild: read reports", "dir", rn.dir, "err", err)
			return nil, false
		}
		for i := range reps {
			if reps[i].Arn == arn {
				return &reps[i], true
			}
		}
	}
	return nil, false
}

// processReports reads the buildspec's reports, keeps them in reports.json
// and the build's ReportArns, logs a line per report and, when the build
// failed, puts the failing tests into its failed phase's contexts.
func (x *execution) processReports() {
	if x.spec == nil || len(x.spec.Reports) == 0 {
		return
	}
	var reps []Report
	for _, sr := range x.spec.Reports {
		rp, ok := x.readReport(sr)
		if !ok {
			continue
		}
		s := rp.TestSummary
		x.message(fmt.Sprintf("Report %s: %s, %d tests: %d succeeded, %d failed, %d errors, %d skipped", rp.Name, rp.Status, s.Total,
			s.StatusCounts[testreport.Succeeded], s.StatusCounts[testreport.Failed], s.StatusCounts[testreport.Error], s.StatusCounts[testreport.Skipped]))
		for _, p := range rp.Problems {
			x.message("Report " + rp.Name + ": " + p)
		}
		reps = append(reps, rp)
	}
	if len(reps) == 0 {
		return
	}
	data, err := json.Marshal(reps)
	if err == nil {
		tmp := filepath.Join(x.rn.dir, "reports.json.tmp")
		if err = os.WriteFile(tmp, data, 0o644); err == nil {
			err = os.Rename(tmp, filepath.Join(x.rn.dir, "reports.json"))
		}
	}
	if err != nil {
		x.r.log.Error("codebuild: save reports", "build", x.rn.build.Id, "err", err)
		return
	}
	var summaries []string
	for i := range reps {
		if s := reps[i].FailureSummary(); s != "" {
			summaries = append(summaries, x.mask(s))
		}
	}
	x.rn.mu.Lock()
	defer x.rn.mu.Unlock()
	b := x.rn.build
	for _, rp := range reps {
		b.ReportArns = append(b.ReportArns, rp.Arn)
	}
	if x.status == StatusSucceeded || len(summaries) == 0 {
		return
	}
	// the test failures explain the failed phase best: they come first in
	// its contexts, and travel with the build into the task's failure cause
	for i := len(b.Phases) - 1; i >= 0; i-- {
		if p := &b.Phases[i]; p.PhaseStatus == StatusFailed {
			var tests []PhaseContext
			for _, s := range summaries {
				tests = append(tests, PhaseContext{StatusCode: "TEST_FAILURES", Message: s})
			}
			p.Contexts = append(tests, p.Contexts...)
			break
		}
	}
}

// readReport reads one reports entry's files; false when none matched.
func (x *execution) readReport(sr buildspec.Report) (Report, bool) {
	// the name may be an environment variable ($PUSHLINE_REPORT_GROUP), as
	// in CodeBuild; a report group's ARN names that group
	name := os.Expand(sr.Name, x.getenv)
	group := x.in.ProjectName + "-" + name
	if i := strings.LastIndex(name, ":report-group/"); i >= 0 {
		group = name[i+len(":report-group/"):]
	}
	rp := Report{
		Arn:            fmt.Sprintf("arn:aws:codebuild:%s:%s:report/%s:%s", x.r.o.Region, x.r.o.Account, group, x.uuid),
		Type:           "TEST",
		Name:           group,
		ReportGroupArn: fmt.Sprintf("arn:aws:codebuild:%s:%s:report-group/%s", x.r.o.Region, x.r.o.Account, group),
		ExecutionID:    x.rn.build.Arn,
		Created:        float64(time.Now().UnixMilli()) / 1000,
	}
	switch sr.FileFormat {
	case testreport.JUnitXML, testreport.CucumberJSON, testreport.TestNGXML, testreport.NUnitXML, testreport.NUnit3XML:
	default:
		x.message(fmt.Sprintf("Report %s: file-format %s is not read by the local runner; skipped", group, sr.FileFormat))
		return rp, false
	}
	bases, err := artifactBases(x.srcDir, sr.BaseDirectory)
	if err != nil {
		x.message(fmt.Sprintf("Report %s: %v; skipped", group, err))
		return rp, false
	}
	for _, base := range bases {
		files, err := collectArtifacts(base, sr.Files, nil, false)
		if err != nil {
			rp.Problems = append(rp.Problems, err.Error())
			continue
		}
		for _, f := range files {
			rel, _ := filepath.Rel(x.srcDir, f.full)
			rp.Files = append(rp.Files, filepath.ToSlash(rel))
			cases, err := parseReportFile(sr.FileFormat, f.full)
			if err != nil {
				rp.Problems = append(rp.Problems, fmt.Sprintf("%s: %v", filepath.ToSlash(rel), err))
				continue
			}
			rp.Cases = append(rp.Cases, cases...)
		}
	}
	if len(rp.Files) == 0 {
		x.message(fmt.Sprintf("Report %s: no report files match %s; skipped", group, strings.Join(sr.Files, ", ")))
		return rp, false
	}
	for i := range rp.Cases {
		rp.Cases[i].Message = x.mask(rp.Cases[i].Message)
	}
	rp.TestSummary = testreport.Summarize(rp.Cases)
	switch {
	case len(rp.Problems) > 0:
		rp.Status = ReportIncomplete
	case rp.TestSummary.StatusCounts[testreport.Failed]+rp.TestSummary.StatusCounts[testreport.Error] > 0:
		rp.Status = ReportFailed
	default:
		rp.Status = ReportSucceeded
	}
	return rp, true
}

func parseReportFile(format, path string) ([]testreport.Case, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, testreport.MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	return testreport.Parse(format, data)
}
