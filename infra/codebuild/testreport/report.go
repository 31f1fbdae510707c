package testreport

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// File formats, as the buildspec's reports.<group>.file-format names them.
const (
	JUnitXML     = "JUNITXML"
	CucumberJSON = "CUCUMBERJSON"
	TestNGXML    = "TESTNGXML"
	NUnitXML     = "NUNITXML"
	NUnit3XML    = "NUNIT3XML"
)

// Test statuses, as CodeBuild's TestCase.status.
const (
	Succeeded = "SUCCEEDED"
	Failed    = "FAILED"
	Skipped   = "SKIPPED"
	Error     = "ERROR"
	Unknown   = "UNKNOWN"
)

// Limits on what one file yields.
const (
	MaxFileBytes = 64 << 20
	MaxCases     = 100000
	MaxMessage   = 4096
)

// ErrFormat is a file format the local runner does not parse.
var ErrFormat = errors.New("unsupported report file format")

// Case is one test, shaped as CodeBuild's TestCase.
type Case struct {
	Prefix                string `json:"prefix,omitempty"` // class, or feature
	Name                  string `json:"name"`
	Status                string `json:"status"`
	DurationInNanoSeconds int64  `json:"durationInNanoSeconds"`
	Message               string `json:"message,omitempty"`
	TestSuiteName         string `json:"testSuiteName,omitempty"`
}

// FullName is "<prefix>.<name>", or the name alone.
func (c Case) FullName() string {
	if c.Prefix == "" {
		return c.Name
	}
	return c.Prefix + "." + c.Name
}

// Summary counts a report's tests (CodeBuild's TestReportSummary).
type Summary struct {
	Total                 int            `json:"total"`
	StatusCounts          map[string]int `json:"statusCounts"`
	DurationInNanoSeconds int64          `json:"durationInNanoSeconds"`
}

// Summarize counts cases by status.
func Summarize(cases []Case) Summary {
	s := Summary{StatusCounts: map[string]int{Succeeded: 0, Failed: 0, Skipped: 0, Error: 0, Unknown: 0}}
	for _, c := range cases {
		s.Total++
		s.StatusCounts[c.Status]++
		s.DurationInNanoSeconds += c.DurationInNanoSeconds
	}
	return s
}

// Parse reads one report file of the given format ("" is JUNITXML).
func Parse(format string, data []byte) ([]Case, error) {
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("report file of %d bytes is over the limit of %d", len(data), MaxFileBytes)
	}
	var cases []Case
	var err error
	switch strings.ToUpper(format) {
	case "", JUnitXML:
		cases, err = parseJUnit(data)
	case CucumberJSON:
		cases, err = parseCucumber(data)
	case TestNGXML:
		cases, err = parseTestNG(data)
	case NUnitXML, NUnit3XML:
		cases, err = parseNUnit(data)
	default:
		return nil, fmt.Errorf("%w: %s", ErrFormat, format)
	}
	if err != nil {
		return nil, err
	}
	for i := range cases {
		cases[i].Message = clip(cases[i].Message)
		cases[i].Name = clip(cases[i].Name)
		cases[i].Prefix = clip(cases[i].Prefix)
	}
	return cases, nil
}

// clip trims s and bounds it to MaxMessage bytes of valid UTF-8.
func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= MaxMessage {
		return strings.ToValidUTF8(s, "�")
	}
	s = s[:MaxMessage]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// seconds converts a duration in (fractional) seconds to nanoseconds; 0 when
// it is not a number.
func seconds(s string) int64 {
	var f float64
	if _, err := fmt.Sscanf(strings.TrimSpace(s), "%g", &f); err != nil || f < 0 || f > 1e9 {
		return 0
	}
	return int64(f * 1e9)
}
