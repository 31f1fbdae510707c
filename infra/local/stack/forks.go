package stack

import (
	"context"
	"encoding/json"

	"github.com/pushline/pushline/infra/states"
	"github.com/pushline/pushline/shared/push"
)

// untrusted reports whether an execution builds a fork's pull request:
// its builds then run as codebuild's Untrusted builds (only in the
// sandbox, without network or secrets). The webhook already refuses forks
// without the sandbox; this holds for every build whatever started it. An
// execution whose input cannot be read counts as untrusted.
func (s *Stack) untrusted(ctx context.Context, execution string) bool {
	out, err := s.engine.DescribeExecution(ctx, states.DescribeExecutionInput{ExecutionArn: execution})
	if err != nil || out.Input == nil {
		return true
	}
	var in push.Input
	if json.Unmarshal([]byte(*out.Input), &in) != nil {
		return true
	}
	return in.Push.PullRequest != nil && in.Push.PullRequest.Fork
}
