package codebuild_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/pushline/pushline/infra/codebuild"
)

// A build started the way a codebuild:startBuild.sync task starts one, and
// the task's outcome: output on success, error and cause otherwise.
func Example() {
	dir, _ := os.MkdirTemp("", "builds")
	defer os.RemoveAll(dir)
	r := codebuild.New(codebuild.Options{Dir: dir, LogsBaseURL: "http://127.0.0.1:8080/builds/"})
	defer r.Close()

	params := `{"ProjectName": "Test", "SourceTypeOverride": "NO_SOURCE",
	  "BuildspecOverride": "version: 0.2\nphases:\n  build:\n    commands:\n      - test 1 -eq 2\n"}`
	var in codebuild.StartBuildInput
	if err := json.Unmarshal([]byte(params), &in); err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	b, err := r.StartBuild(ctx, in)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(b.BuildStatus, b.CurrentPhase)
	b, _ = r.Wait(ctx, b.Id)
	name, cause := b.Failure()
	var c struct{ Build *codebuild.Build }
	json.Unmarshal([]byte(cause), &c)
	fmt.Println(name, c.Build.BuildStatus)
	for _, p := range c.Build.Phases {
		if p.PhaseStatus == codebuild.StatusFailed {
			fmt.Println(p.PhaseType, p.Contexts[0].StatusCode, p.Contexts[0].Message)
		}
	}
	// Output:
	// IN_PROGRESS SUBMITTED
	// States.TaskFailed FAILED
	// BUILD COMMAND_EXECUTION_ERROR Error while executing command: test 1 -eq 2. Reason: exit status 1
}
