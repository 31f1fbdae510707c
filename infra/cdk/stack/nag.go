package stack

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Suppression is one cdk-nag AwsSolutions finding the stack accepts, on one
// construct, with the reason it is right. docs/deploy.md's security section
// lists them.
type Suppression struct {
	Rule string // e.g. "AwsSolutions-IAM5"
	// Path is the construct's path under the stack, e.g. "WebhookRole";
	// the suppression covers its children.
	Path string
	// AppliesTo narrows IAM4/IAM5 to the findings named (e.g.
	// "Resource::*"); empty: the whole rule on that construct.
	AppliesTo []string
	Reason    string
}

// Check applies cdk-nag's AwsSolutions checks to every stack under scope;
// at synthesis the findings become error and warning annotations on the
// constructs, except those suppressed.
func Check(scope constructs.IConstruct) {
	awscdk.Aspects_Of(scope).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}

// suppress records a suppression on c and its children.
func (b *builder) suppress(c constructs.IConstruct, rule string, appliesTo []string, reason string) {
	sup := &cdknag.NagPackSuppression{Id: jsii.String(rule), Reason: jsii.String(reason)}
	if len(appliesTo) > 0 {
		applies := make([]any, len(appliesTo))
		for i, a := range appliesTo {
			applies[i] = a
		}
		sup.AppliesTo = &applies
	}
	cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{sup}, jsii.Bool(true))
	path := strings.TrimPrefix(*c.Node().Path(), *b.stack.Node().Path()+"/")
	b.sups = append(b.sups, Suppression{Rule: rule, Path: path, AppliesTo: appliesTo, Reason: reason})
}

// logicalID is the logical id of c's CloudFormation resource.
func (b *builder) logicalID(c constructs.IConstruct) string {
	return *b.stack.GetLogicalId(c.Node().DefaultChild().(awscdk.CfnElement))
}

// Reasons shared by several suppressions.
const (
	reasonExecutions = "The executions of this one state machine: their names are only known at run time " +
		"(StopExecution/DescribeExecution take an execution ARN)."
	reasonPrefix = "Objects under this pipeline's own prefix <pipeline>/ of the artifact bucket; keys hold the execution name, " +
		"known only at run time."
	reasonS3Source = "CDK's grant for the project's S3 source (Source.s3): read-only, on the artifact bucket only; " +
		"the state machine overrides the location with each run's input."
	reasonKMS       = "CDK's grant for the project's encryption key (CodeBuild encrypts its artifacts with it): scoped to that one key."
	reasonBuildLogs = "CDK's default grant to CodeBuild's own log group /aws/codebuild/<project>; " +
		"log stream names are build ids, known only at run time."
	reasonWebhookRotation = "The webhook secret is also entered in every git provider's webhook settings: an automatic rotation " +
		"would break every delivery until someone updates them. Rotate by hand (docs/deploy.md, Rotating secrets)."
	reasonKeyRotation = "Rotating the link signing key invalidates every approval link already mailed; rotate by hand " +
		"between approvals (docs/deploy.md, Rotating secrets)."
)
