package stack

import (
	"fmt"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"

	"github.com/pushline/pushline/shared/statemachine"
)

// prefixPattern is the IAM5 finding of objects under the pipeline's prefix.
func (b *builder) prefixPattern() string {
	return "Resource::<" + b.logicalID(b.bucket) + ".Arn>/" + b.cfg.Name + "/*"
}

// executionPattern is the IAM5 finding of the machine's executions.
func (b *builder) executionPattern() string {
	return "arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:" + b.machineName + ":*"
}

func (b *builder) stateMachine() error {
	logs := awslogs.NewLogGroup(b.stack, jsii.String("StateMachineLogs"), &awslogs.LogGroupProps{
		// Step Functions requires the /aws/vendedlogs/ prefix to avoid the
		// resource policy size limit.
		LogGroupName:  jsii.String("/aws/vendedlogs/states/" + b.machineName),
		Retention:     awslogs.RetentionDays_THREE_MONTHS,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := awsiam.NewRole(b.stack, jsii.String("StateMachineRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("states.amazonaws.com"), nil),
		Description: jsii.String("pushline " + b.cfg.Name + ": the pipeline state machine"),
	})
	var projectArns []*string
	for _, bd := range b.cfg.Builds() {
		projectArns = append(projectArns, b.projects[bd.Name].ProjectArn())
	}
	if len(projectArns) > 0 {
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("RunBuilds"),
			Actions:   jsii.Strings("codebuild:StartBuild", "codebuild:StopBuild", "codebuild:BatchGetBuilds"),
			Resources: &projectArns,
		}))
		role.AddToPolicy(statement("ManagedRuleForSyncBuilds",
			[]string{"events:PutTargets", "events:PutRule", "events:DescribeRule"},
			b.stack.FormatArn(&awscdk.ArnComponents{
				Service: jsii.String("events"), Resource: jsii.String("rule"),
				ResourceName: jsii.String(ManagedRule), ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME,
			})))
	}
	keys := statemachine.Keys(b.cfg)
	var invoke []*string
	for _, f := range []struct{ key, name string }{
		{statemachine.KeySourceFunctionArn, Source},
		{statemachine.KeyNotifyFunctionArn, Notify},
		{statemachine.KeyQueueFunctionArn, Queue},
	} {
		if slices.Contains(keys, f.key) {
			invoke = append(invoke, b.functions[f.name].FunctionArn())
		}
	}
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("InvokeSteps"),
		Actions:   jsii.Strings("lambda:InvokeFunction"),
		Resources: &invoke,
	}))
	role.AddToPolicy(statement("PutEvents", []string{"events:PutEvents"}, b.bus.EventBusArn()))

	values := map[string]*string{
		statemachine.KeyArtifactBucket:    b.bucket.BucketName(),
		statemachine.KeyEventBusName:      b.bus.EventBusName(),
		statemachine.KeySourceFunctionArn: b.functions[Source].FunctionArn(),
		statemachine.KeyNotifyFunctionArn: b.functions[Notify].FunctionArn(),
	}
	if q, ok := b.functions[Queue]; ok {
		values[statemachine.KeyQueueFunctionArn] = q.FunctionArn()
	}
	b.codeDeploy(role, values)
	for _, bd := range b.cfg.Builds() {
		values[statemachine.ProjectKey(bd.Name)] = b.projects[bd.Name].ProjectName()
	}
	subs := map[string]*string{}
	for _, k := range keys {
		v, ok := values[k]
		if !ok {
			return fmt.Errorf("%w: the definition needs ${%s}, which the stack does not provide", ErrOptions, k)
		}
		subs[k] = v
	}
	b.machine = awsstepfunctions.NewStateMachine(b.stack, jsii.String("StateMachine"), &awsstepfunctions.StateMachineProps{
		StateMachineName:        jsii.String(b.machineName),
		StateMachineType:        awsstepfunctions.StateMachineType_STANDARD,
		DefinitionBody:          awsstepfunctions.DefinitionBody_FromString(jsii.String(string(b.definition))),
		DefinitionSubstitutions: &subs,
		Role:                    role,
		TracingEnabled:          jsii.Bool(true),
		Logs: &awsstepfunctions.LogOptions{
			Destination: logs,
			Level:       awsstepfunctions.LogLevel_ALL,
			// Execution data holds task tokens and commit messages: keep
			// it out of the logs.
			IncludeExecutionData: jsii.Bool(false),
		},
	})
	b.suppress(role, "AwsSolutions-IAM5", []string{"Resource::*"}, "CDK's grants for logging and tracing: CloudWatch Logs "+
		"log delivery (logs:CreateLogDelivery, …) and X-Ray (xray:PutTraceSegments, …) support no resource-level permissions.")
	return nil
}
