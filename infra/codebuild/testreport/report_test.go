package testreport

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	tests := []struct {
		file, format string
		want         []Case
	}{
		{"junit.xml", "", []Case{
			{Prefix: "greet.GreetTest", Name: "TestHello", Status: Succeeded, DurationInNanoSeconds: 10e6, TestSuiteName: "greet"},
			{Prefix: "greet.GreetTest", Name: "TestBye", Status: Failed, DurationInNanoSeconds: 15e6, TestSuiteName: "greet", Message: `expected "bye", got "hello"`},
			{Prefix: "greet.GreetTest", Name: "TestPanic", Status: Error, DurationInNanoSeconds: 5e6, TestSuiteName: "greet", Message: "runtime error: index out of range [3] with length 3"},
			{Prefix: "greet.GreetTest", Name: "TestLater", Status: Skipped, TestSuiteName: "greet", Message: "not yet"},
			{Name: "TestNested", Status: Succeeded, DurationInNanoSeconds: 1.5e9, TestSuiteName: "inner"},
		}},
		{"cucumber.json", "CUCUMBERJSON", []Case{
			{Prefix: "Login", Name: "good password", Status: Succeeded, DurationInNanoSeconds: 3e6, TestSuiteName: "features/login.feature"},
			{Prefix: "Login", Name: "bad password", Status: Failed, DurationInNanoSeconds: 2000, TestSuiteName: "features/login.feature", Message: "is refused: expected 401, got 200"},
			{Prefix: "Login", Name: "sso", Status: Skipped, TestSuiteName: "features/login.feature"},
		}},
		{"testng.xml", "TESTNGXML", []Case{
			{Prefix: "com.acme.CalcTest", Name: "adds", Status: Succeeded, DurationInNanoSeconds: 12e6, TestSuiteName: "Suite"},
			{Prefix: "com.acme.CalcTest", Name: "divides", Status: Failed, DurationInNanoSeconds: 3e6, TestSuiteName: "Suite", Message: "java.lang.ArithmeticException: / by zero"},
			{Prefix: "com.acme.CalcTest", Name: "roots", Status: Skipped, TestSuiteName: "Suite"},
		}},
		{"nunit3.xml", "NUNIT3XML", []Case{
			{Prefix: "Acme.Tests.MathTests", Name: "Adds", Status: Succeeded, DurationInNanoSeconds: 12e6, TestSuiteName: "MathTests"},
			{Prefix: "Acme.Tests.MathTests", Name: "Divides", Status: Failed, DurationInNanoSeconds: 2e6, TestSuiteName: "MathTests", Message: "Expected: 2 But was: 3"},
			{Prefix: "Acme.Tests.MathTests", Name: "Later", Status: Skipped, TestSuiteName: "MathTests", Message: "not ready"},
		}},
		{"nunit2.xml", "NUNITXML", []Case{
			{Name: "Acme.Tests.MathTests.Adds", Status: Succeeded, DurationInNanoSeconds: 10e6, TestSuiteName: "Acme.Tests.dll"},
			{Name: "Acme.Tests.MathTests.Divides", Status: Failed, DurationInNanoSeconds: 1e6, TestSuiteName: "Acme.Tests.dll", Message: "Expected: 2 But was: 3"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile("testdata/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse(tt.format, data)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	data, _ := os.ReadFile("testdata/junit.xml")
	cases, err := Parse(JUnitXML, data)
	if err != nil {
		t.Fatal(err)
	}
	want := Summary{Total: 5, StatusCounts: map[string]int{Succeeded: 2, Failed: 1, Error: 1, Skipped: 1, Unknown: 0}, DurationInNanoSeconds: 1530e6}
	if diff := cmp.Diff(want, Summarize(cases)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseBad(t *testing.T) {
	tests := []struct{ name, format, in, want string }{
		{"empty junit", "", "", "JUnit XML: no <testsuites> or <testsuite> element"},
		{"html", "JUNITXML", "<html><body/></html>", "JUnit XML: the root element is <html>, not <testsuites> or <testsuite>"},
		{"broken xml", "JUNITXML", "<testsuite><testcase name='a'>", "JUnit XML: XML syntax error on line 1: unexpected EOF"},
		{"cucumber object", "CUCUMBERJSON", "{}", "cucumber JSON: json: cannot unmarshal object into Go value of type []testreport.cucumberFeature"},
		{"testng root", "TESTNGXML", "<testsuite/>", "TestNG XML: the root element is <testsuite>, not <testng-results>"},
		{"nunit root", "NUNIT3XML", "<testsuite/>", "NUnit XML: the root element is <testsuite>, not <test-run> or <test-results>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.format, []byte(tt.in))
			if err == nil || err.Error() != tt.want {
				t.Errorf("err %v, want %s", err, tt.want)
			}
		})
	}
	if _, err := Parse("VISUALSTUDIOTRX", nil); !errors.Is(err, ErrFormat) {
		t.Errorf("TRX: %v, want ErrFormat", err)
	}
}

func TestClip(t *testing.T) {
	long := strings.Repeat("é", MaxMessage)
	got := clip(long)
	if len(got) > MaxMessage+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("clip: %d bytes", len(got))
	}
}

func BenchmarkParseJUnit(b *testing.B) {
	data, _ := os.ReadFile("testdata/junit.xml")
	for b.Loop() {
		if _, err := Parse(JUnitXML, data); err != nil {
			b.Fatal(err)
		}
	}
}
