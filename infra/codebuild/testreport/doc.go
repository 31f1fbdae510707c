// Package testreport parses the test report files a buildspec's reports
// section names, in CodeBuild's file formats: JUNITXML (the default),
// CUCUMBERJSON, TESTNGXML, NUNITXML and NUNIT3XML. Parse gives one Case per
// test with CodeBuild's statuses (SUCCEEDED, FAILED, SKIPPED, ERROR);
// Summarize counts them.
//
//	cases, err := testreport.Parse(testreport.JUnitXML, data)
//	sum := testreport.Summarize(cases) // sum.Total, sum.StatusCounts["FAILED"], …
//
// Input is untrusted: a file over MaxFileBytes, more than MaxCases tests or
// a message over MaxMessage bytes is cut, never a panic.
package testreport
