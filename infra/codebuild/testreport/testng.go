package testreport

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

type testngMethod struct {
	Name       string `xml:"name,attr"`
	Status     string `xml:"status,attr"`
	DurationMS string `xml:"duration-ms,attr"`
	IsConfig   string `xml:"is-config,attr"`
	Exception  *struct {
		Class   string `xml:"class,attr"`
		Message string `xml:"message"`
	} `xml:"exception"`
}

// parseTestNG reads TestNG's testng-results.xml: suites of tests of classes
// of test-methods (configuration methods left out).
func parseTestNG(data []byte) ([]Case, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	var cases []Case
	var class, suite string
	seenRoot := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("TestNG XML: %w", err)
		}
		t, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if !seenRoot {
			seenRoot = true
			if t.Name.Local != "testng-results" {
				return nil, fmt.Errorf("TestNG XML: the root element is <%s>, not <testng-results>", t.Name.Local)
			}
		}
		switch t.Name.Local {
		case "suite":
			suite = attr(t, "name")
		case "class":
			class = attr(t, "name")
		case "test-method":
			var m testngMethod
			if err := dec.DecodeElement(&m, &t); err != nil {
				return nil, fmt.Errorf("TestNG XML: %w", err)
			}
			if strings.EqualFold(m.IsConfig, "true") || len(cases) >= MaxCases {
				continue
			}
			c := Case{Prefix: class, Name: m.Name, TestSuiteName: suite, DurationInNanoSeconds: seconds(m.DurationMS) / 1000}
			switch strings.ToUpper(m.Status) {
			case "PASS":
				c.Status = Succeeded
			case "FAIL":
				c.Status = Failed
			case "SKIP":
				c.Status = Skipped
			default:
				c.Status = Unknown
			}
			if m.Exception != nil {
				c.Message = strings.TrimSpace(m.Exception.Class + ": " + strings.TrimSpace(m.Exception.Message))
			}
			cases = append(cases, c)
		}
	}
	if !seenRoot {
		return nil, errors.New("TestNG XML: no <testng-results> element")
	}
	return cases, nil
}
