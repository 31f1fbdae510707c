package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/pushline/pushline/shared/statemachine"
)

const reasonDeploymentConfigs = "CreateDeployment reads the deployment group's deployment configuration, which the group " +
	"(not pushline's config) names: CodeDeploy's predefined configs or the account's own."

// codeDeploy lets the state machine run the config's deploy stages:
// CreateDeployment, GetDeployment and StopDeployment on exactly the named
// deployment groups (and the revision registration CreateDeployment does
// on their applications), and fills the console link placeholder.
func (b *builder) codeDeploy(role awsiam.Role, values map[string]*string) {
	var groups, apps []*string
	seen := map[string]bool{}
	for _, st := range b.cfg.Stages {
		if st.Deploy == nil || st.Deploy.CodeDeploy == nil {
			continue
		}
		cd := st.Deploy.CodeDeploy
		groups = append(groups, b.codeDeployArn("deploymentgroup", cd.Application+"/"+cd.DeploymentGroup))
		if !seen[cd.Application] {
			seen[cd.Application] = true
			apps = append(apps, b.codeDeployArn("application", cd.Application))
		}
	}
	if len(groups) == 0 {
		return
	}
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("RunDeployments"),
		Actions:   jsii.Strings("codedeploy:CreateDeployment", "codedeploy:GetDeployment", "codedeploy:StopDeployment"),
		Resources: &groups,
	}))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("RegisterRevisions"),
		Actions:   jsii.Strings("codedeploy:GetApplicationRevision", "codedeploy:RegisterApplicationRevision"),
		Resources: &apps,
	}))
	configs := b.codeDeployArn("deploymentconfig", "*")
	role.AddToPolicy(statement("ReadDeploymentConfigs", []string{"codedeploy:GetDeploymentConfig"}, configs))
	b.suppress(role, "AwsSolutions-IAM5", []string{"Resource::arn:<AWS::Partition>:codedeploy:<AWS::Region>:<AWS::AccountId>:deploymentconfig:*"}, reasonDeploymentConfigs)
	values[statemachine.KeyDeployConsoleURL] = awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("https://"), b.stack.Region(), jsii.String(".console.aws.amazon.com/codesuite/codedeploy/deployments/"),
	})
}

func (b *builder) codeDeployArn(resource, name string) *string {
	return b.stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("codedeploy"), Resource: jsii.String(resource), ResourceName: jsii.String(name),
		ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
}
