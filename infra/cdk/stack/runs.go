package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/jsii-runtime-go"
)

// Runs is the run page function (functions/runs).
const Runs = "runs"

// runPages adds the run pages (docs/runs.md): the runs function behind
// the API (GET /, GET and POST /runs/{proxy+}) with exactly the IAM it
// needs: read the executions' history and start retries and reruns of
// this state machine, read its builds and their logs, download its
// artifacts, read the link key. Every request carries a link signed with
// that key (the function checks it), so the methods have no authorizer.
func (b *builder) runPages() {
	f := b.lambda(fn{name: Runs, memory: 512, timeout: 29, env: map[string]*string{
		"PUSHLINE_STATE_MACHINE_ARN": b.machineArn,
		"PUSHLINE_APPROVAL_KEY_ARN":  b.approvalKey.SecretArn(),
		"PUSHLINE_PUBLIC_URL":        b.baseURL(),
	}})
	b.functions[Runs] = f
	f.AddToRolePolicy(statement("ListAndStartExecutions", []string{"states:ListExecutions", "states:StartExecution"}, b.machineArn))
	f.AddToRolePolicy(statement("ReadExecutions", []string{"states:DescribeExecution", "states:GetExecutionHistory"}, b.executionArn))
	var projects []*string
	for _, p := range b.projects {
		projects = append(projects, p.ProjectArn())
	}
	if len(projects) > 0 {
		f.AddToRolePolicy(statement("ReadBuilds", []string{"codebuild:BatchGetBuilds", "codebuild:ListBuildsForProject"}, projects...))
	}
	logGroup := b.stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("logs"), Resource: jsii.String("log-group"),
		ResourceName: jsii.String("*"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
	if lg, ok := b.stack.Node().TryFindChild(jsii.String("BuildLogs")).(interface{ LogGroupArn() *string }); ok {
		logGroup = lg.LogGroupArn()
	}
	f.AddToRolePolicy(statement("ReadBuildLogs", []string{"logs:GetLogEvents"}, logGroup))
	f.AddToRolePolicy(statement("DownloadArtifacts", []string{"s3:GetObject"}, b.bucket.ArnForObjects(jsii.String(b.cfg.Name+"/*"))))
	f.AddToRolePolicy(statement("DecryptArtifacts", []string{"kms:Decrypt"}, b.key.KeyArn()))
	b.approvalKey.GrantRead(f, nil)
	b.suppress(f.Role(), "AwsSolutions-IAM5", []string{"Resource::" + b.executionPattern(), b.prefixPattern()}, reasonExecutions+
		" Artifacts: "+reasonPrefix)

	integration := awsapigateway.NewLambdaIntegration(f, &awsapigateway.LambdaIntegrationOptions{Proxy: jsii.Bool(true)})
	reason := "Run pages authenticate with links signed with the approval key and expiring (read-only for mail and " +
		"commit statuses; short-lived operator links issued by `pushline link --operator` to whoever can read the key " +
		"with IAM); the function verifies the signature before reading anything."
	console := b.api.Root().AddMethod(jsii.String("GET"), integration, nil)
	pages := b.api.Root().AddResource(jsii.String("runs"), nil).AddProxy(&awsapigateway.ProxyResourceOptions{
		DefaultIntegration: integration, AnyMethod: jsii.Bool(true),
	})
	for _, c := range []awscdk.IResource{console, pages.AnyMethod()} {
		b.suppress(c, "AwsSolutions-APIG4", nil, reason)
		b.suppress(c, "AwsSolutions-COG4", nil, reason)
	}
}
