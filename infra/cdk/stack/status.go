package stack

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/jsii-runtime-go"

	"github.com/pushline/pushline/shared/event"
)

// Status is the commit status function (functions/status).
const Status = "status"

// statuses adds commit statuses (shared/status) when provider tokens are
// configured: a rule on the pipeline's bus sends its Pipeline, Stage and
// Approval State Change events to the status function, which keeps the
// latest state of each commit context in a DynamoDB table (conditional
// writes keep the order; items expire after 30 days). Its role may read
// the tokens secret and the link key, read and write that table, describe
// this machine's executions (a run's input names its host) and write its
// own logs: nothing else. The statuses link the run page under the API's
// URL, signed with the link key (the approval key) as runpage signs them.
func (b *builder) statuses() error {
	if b.tokens == nil {
		return nil
	}
	if p := filepath.Join(b.opts.AssetDir, Status, "bootstrap"); !exists(p) {
		return fmt.Errorf("%w: %s missing: run make build (or set PUSHLINE_ASSET_DIR)", ErrOptions, p)
	}
	table := awsdynamodb.NewTable(b.stack, jsii.String("Statuses"), &awsdynamodb.TableProps{
		PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String("k"), Type: awsdynamodb.AttributeType_STRING},
		TimeToLiveAttribute: jsii.String("ttl"),
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Encryption:          awsdynamodb.TableEncryption_AWS_MANAGED,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		// Only the order of statuses already posted: nothing to keep.
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	f := b.lambda(fn{name: Status, memory: 128, timeout: 60, env: map[string]*string{
		"PUSHLINE_STATUS_TABLE":        table.TableName(),
		"PUSHLINE_PROVIDER_TOKENS_ARN": b.tokens.SecretArn(),
		"PUSHLINE_PUBLIC_URL":          b.baseURL(),
		"PUSHLINE_APPROVAL_KEY_ARN":    b.approvalKey.SecretArn(), // signs the run page links
	}})
	b.functions[Status] = f
	f.AddToRolePolicy(statement("OrderStatuses", []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}, table.TableArn()))
	f.AddToRolePolicy(statement("DescribeExecutions", []string{"states:DescribeExecution"}, b.executionArn))
	b.tokens.GrantRead(f, nil)
	b.approvalKey.GrantRead(f, nil)
	b.suppress(f.Role(), "AwsSolutions-IAM5", []string{"Resource::" + b.executionPattern()}, reasonExecutions)

	awsevents.NewRule(b.stack, jsii.String("StatusRule"), &awsevents.RuleProps{
		Description: jsii.String("pushline " + b.cfg.Name + ": run, stage and approval events to the status function (commit statuses)"),
		EventBus:    b.bus,
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(event.Source),
			DetailType: jsii.Strings(event.PipelineExecution, event.StageExecution, event.Approval),
		},
		// A failed invocation (the table unavailable) is retried; a status
		// the host refuses is not a failure (logged and counted).
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(f, &awseventstargets.LambdaFunctionProps{
			RetryAttempts: jsii.Number(4),
			MaxEventAge:   awscdk.Duration_Hours(jsii.Number(1)),
		})},
	})
	alarm := awscloudwatch.NewAlarm(b.stack, jsii.String("StatusErrors"), &awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String("pushline " + b.cfg.Name + ": the status function failed (its table unavailable)"),
		Metric:             f.MetricErrors(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum")}),
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	alarm.AddAlarmAction(awscloudwatchactions.NewSnsAction(b.topic))
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
