package testreport

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

type nunitCase struct {
	Name      string `xml:"name,attr"`
	FullName  string `xml:"fullname,attr"`
	ClassName string `xml:"classname,attr"`
	Result    string `xml:"result,attr"`   // NUnit 3: Passed, Failed, Skipped, Inconclusive, Warning; NUnit 2: Success, Failure, Error, Ignored, …
	Executed  string `xml:"executed,attr"` // NUnit 2
	Time      string `xml:"time,attr"`     // NUnit 2, seconds
	Duration  string `xml:"duration,attr"` // NUnit 3, seconds
	Label     string `xml:"label,attr"`    // NUnit 3: Error for an exception
	Failure   *struct {
		Message string `xml:"message"`
	} `xml:"failure"`
	Reason *struct {
		Message string `xml:"message"`
	} `xml:"reason"`
}

// parseNUnit reads NUnit 2 (<test-results>) and NUnit 3 (<test-run>) XML:
// every <test-case>, however deep its suites nest.
func parseNUnit(data []byte) ([]Case, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	var cases []Case
	var suites []string
	seenRoot := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("NUnit XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if !seenRoot {
				seenRoot = true
				if t.Name.Local != "test-run" && t.Name.Local != "test-results" {
					return nil, fmt.Errorf("NUnit XML: the root element is <%s>, not <test-run> or <test-results>", t.Name.Local)
				}
			}
			switch t.Name.Local {
			case "test-suite":
				suites = append(suites, attr(t, "name"))
			case "test-case":
				var nc nunitCase
				if err := dec.DecodeElement(&nc, &t); err != nil {
					return nil, fmt.Errorf("NUnit XML: %w", err)
				}
				if len(cases) < MaxCases {
					cases = append(cases, nc.toCase(suites))
				}
			}
		case xml.EndElement:
			if t.Name.Local == "test-suite" && len(suites) > 0 {
				suites = suites[:len(suites)-1]
			}
		}
	}
	if !seenRoot {
		return nil, errors.New("NUnit XML: no <test-run> or <test-results> element")
	}
	return cases, nil
}

func (nc nunitCase) toCase(suites []string) Case {
	c := Case{Name: nc.Name, Prefix: nc.ClassName}
	if c.Prefix == "" {
		if i := strings.LastIndex(nc.FullName, "."+nc.Name); i > 0 {
			c.Prefix = nc.FullName[:i]
		}
	}
	if len(suites) > 0 {
		c.TestSuiteName = suites[len(suites)-1]
	}
	c.DurationInNanoSeconds = seconds(nc.Duration)
	if c.DurationInNanoSeconds == 0 {
		c.DurationInNanoSeconds = seconds(nc.Time)
	}
	switch strings.ToLower(nc.Result) {
	case "passed", "success":
		c.Status = Succeeded
	case "failed", "failure":
		c.Status = Failed
		if strings.EqualFold(nc.Label, "Error") {
			c.Status = Error
		}
	case "error":
		c.Status = Error
	case "skipped", "ignored", "notrunnable", "inconclusive":
		c.Status = Skipped
	default:
		c.Status = Unknown
		if strings.EqualFold(nc.Executed, "false") {
			c.Status = Skipped
		}
	}
	if nc.Failure != nil {
		c.Message = nc.Failure.Message
	} else if nc.Reason != nil {
		c.Message = nc.Reason.Message
	}
	return c
}
