package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/jsii-runtime-go"

	"github.com/pushline/pushline/shared/codecommit"
	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/push"
)

// CodeCommit is the function CodeCommit's events start the pipeline
// through (functions/codecommit), built only when a repository is on
// CodeCommit.
const CodeCommit = "codecommit"

// codeCommitRepos are the config's CodeCommit repository names.
func codeCommitRepos(cfg *config.Config) []string {
	var names []string
	for _, r := range cfg.Repositories {
		if r.Provider == push.CodeCommit {
			names = append(names, r.Repository)
		}
	}
	return names
}

func (b *builder) codeCommitArns() []*string {
	var arns []*string
	for _, name := range codeCommitRepos(b.cfg) {
		arns = append(arns, b.stack.FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("codecommit"), Resource: jsii.String(name), ArnFormat: awscdk.ArnFormat_NO_RESOURCE_NAME,
		}))
	}
	return arns
}

// codeCommit adds, for CodeCommit repositories: the codecommit function
// (start executions as the webhook does; read the head commit and the
// changed files), the rule sending it the repositories' reference events,
// and the source function's read access (GetFolder, GetFile).
func (b *builder) codeCommit() {
	repos := b.codeCommitArns()
	if len(repos) == 0 {
		return
	}
	f := b.lambda(fn{name: CodeCommit, memory: 256, timeout: 60, env: map[string]*string{
		"PUSHLINE_STATE_MACHINE_ARN": b.machineArn,
		"PUSHLINE_EVENT_BUS":         b.bus.EventBusName(),
	}})
	b.functions[CodeCommit] = f
	f.AddToRolePolicy(statement("StartAndListExecutions", []string{"states:StartExecution", "states:ListExecutions"}, b.machineArn))
	f.AddToRolePolicy(statement("StopAndDescribeExecutions", []string{"states:StopExecution", "states:DescribeExecution"}, b.executionArn))
	f.AddToRolePolicy(statement("ReadPushedCommits", []string{"codecommit:GetCommit", "codecommit:GetDifferences"}, repos...))
	b.bus.GrantPutEventsTo(f, nil)
	b.suppress(f.Role(), "AwsSolutions-IAM5", []string{"Resource::" + b.executionPattern()}, reasonExecutions)

	b.functions[Source].AddToRolePolicy(statement("ReadCodeCommitSnapshots", []string{"codecommit:GetFolder", "codecommit:GetFile"}, repos...))

	awsevents.NewRule(b.stack, jsii.String("CodeCommitRule"), &awsevents.RuleProps{
		Description: jsii.String("pushline " + b.cfg.Name + ": branches and tags created or updated in its CodeCommit repositories to the codecommit function"),
		// No EventBus: CodeCommit sends its events to the default bus.
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(codecommit.Source),
			DetailType: jsii.Strings(codecommit.DetailType),
			Resources:  &repos,
			Detail: &map[string]any{
				"event":         []string{codecommit.ReferenceCreated, codecommit.ReferenceUpdated},
				"referenceType": []string{"branch", "tag"},
			},
		},
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(f, &awseventstargets.LambdaFunctionProps{
			RetryAttempts: jsii.Number(8),
			MaxEventAge:   awscdk.Duration_Hours(jsii.Number(2)),
		})},
	})
}
