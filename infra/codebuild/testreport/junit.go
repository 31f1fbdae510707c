package testreport

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitOutcome `xml:"failure"`
	Error     *junitOutcome `xml:"error"`
	Skipped   *junitOutcome `xml:"skipped"`
}

type junitOutcome struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// parseJUnit reads JUnit XML: <testsuites> or <testsuite> (nested suites
// too) of <testcase>s, streamed so that any nesting works.
func parseJUnit(data []byte) ([]Case, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	var cases []Case
	var suites []string
	root := true
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("JUnit XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root {
				root = false
				if t.Name.Local != "testsuites" && t.Name.Local != "testsuite" {
					return nil, fmt.Errorf("JUnit XML: the root element is <%s>, not <testsuites> or <testsuite>", t.Name.Local)
				}
			}
			switch t.Name.Local {
			case "testsuite":
				suites = append(suites, attr(t, "name"))
			case "testcase":
				var jc junitCase
				if err := dec.DecodeElement(&jc, &t); err != nil {
					return nil, fmt.Errorf("JUnit XML: %w", err)
				}
				if len(cases) >= MaxCases {
					continue
				}
				c := Case{Prefix: jc.ClassName, Name: jc.Name, Status: Succeeded, DurationInNanoSeconds: seconds(jc.Time)}
				if len(suites) > 0 {
					c.TestSuiteName = suites[len(suites)-1]
				}
				switch {
				case jc.Failure != nil:
					c.Status, c.Message = Failed, jc.Failure.message()
				case jc.Error != nil:
					c.Status, c.Message = Error, jc.Error.message()
				case jc.Skipped != nil:
					c.Status, c.Message = Skipped, jc.Skipped.message()
				}
				cases = append(cases, c)
			}
		case xml.EndElement:
			if t.Name.Local == "testsuite" && len(suites) > 0 {
				suites = suites[:len(suites)-1]
			}
		}
	}
	if root {
		return nil, errors.New("JUnit XML: no <testsuites> or <testsuite> element")
	}
	return cases, nil
}

// message is the outcome's message attribute, else its text.
func (o *junitOutcome) message() string {
	if o.Message != "" {
		return o.Message
	}
	return o.Text
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}
