package testreport

import (
	"os"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks no report file makes a parser panic, and that whatever
// comes out keeps the limits and uses CodeBuild's statuses.
func FuzzParse(f *testing.F) {
	for _, s := range []struct{ format, file string }{
		{JUnitXML, "junit.xml"}, {CucumberJSON, "cucumber.json"}, {TestNGXML, "testng.xml"}, {NUnit3XML, "nunit3.xml"}, {NUnitXML, "nunit2.xml"},
	} {
		data, err := os.ReadFile("testdata/" + s.file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(s.format, data)
	}
	f.Add(JUnitXML, []byte("<testsuite><testsuite><testcase name='x'><failure>boom</failure></testcase></testsuite></testsuite>"))
	f.Fuzz(func(t *testing.T, format string, data []byte) {
		cases, err := Parse(format, data)
		if err != nil {
			return
		}
		for _, c := range cases {
			switch c.Status {
			case Succeeded, Failed, Skipped, Error, Unknown:
			default:
				t.Fatalf("status %q", c.Status)
			}
			if len(c.Message) > MaxMessage+len("…") || !utf8.ValidString(c.Message) {
				t.Fatalf("message of %d bytes", len(c.Message))
			}
			if c.DurationInNanoSeconds < 0 {
				t.Fatalf("duration %d", c.DurationInNanoSeconds)
			}
		}
		if s := Summarize(cases); s.Total != len(cases) {
			t.Fatalf("summary total %d of %d", s.Total, len(cases))
		}
	})
}
