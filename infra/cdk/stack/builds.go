package stack

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/statemachine"
)

// Reasons of the suppressions of build roles and projects.
const (
	reasonInputs = "Reads the build's sources: the commit's snapshot and the artifacts of earlier builds it takes as inputs " +
		"(CodeBuild secondary sources), under this pipeline's prefix <pipeline>/<execution>/, known only at run time."
	reasonSecretSuffix = "Secrets Manager appends 6 random characters to a secret's ARN: the pattern <name>-?????? " +
		"matches exactly the secret the pipeline config lists for this build."
	reasonViaService = "kms:Decrypt for the listed secrets and SecureString parameters encrypted with a customer managed key, " +
		"which only the operator knows: allowed only through Secrets Manager and SSM (kms:ViaService), which check the build's " +
		"read grants above."
	reasonImage = "image in the pipeline config for this build: the build needs tools the CodeBuild images lack; " +
		"the pipeline's owner chose and documents the image in the config."
	reasonCache = "The build's own S3 cache prefix " + cacheRoot + "<build>/ of the artifact bucket: CodeBuild names the cache " +
		"objects under it; no other build's cache, no artifact."
	reasonPrivileged = "privileged: true in the pipeline config for this build: it runs Docker (docker build, docker push), " +
		"which needs CodeBuild's privileged mode."
)

// ReportGroupVariable is the environment variable holding the ARN of a
// build's report group.
const ReportGroupVariable = "PUSHLINE_REPORT_GROUP"

// cacheRoot is where the builds' S3 caches live in the artifact bucket:
// pipeline names start with a lowercase letter, so no run's objects
// (<pipeline>/…) are under it.
const cacheRoot = "_cache/"

// CacheRetentionDays is how long a build cache no build saved again is kept.
const CacheRetentionDays = 14

// buildCache is the S3 cache of a build (buildspec cache.paths):
// cacheRoot<build> in the artifact bucket, which only that build's role may
// read and write (a cache is never shared between builds: one build
// cannot poison another's). CDK's Cache.bucket would grant read and write
// on the whole bucket, so the cache is set on the CloudFormation project.
func (b *builder) buildCache(role awsiam.Role, build string) *awscodebuild.CfnProject_ProjectCacheProperty {
	prefix := cacheRoot + build
	role.AddToPolicy(statement("ReadWriteCache", []string{"s3:GetObject", "s3:PutObject"},
		b.bucket.ArnForObjects(jsii.String(prefix+"/*"))))
	b.suppress(role, "AwsSolutions-IAM5", []string{"Resource::<" + b.logicalID(b.bucket) + ".Arn>/" + prefix + "/*"}, reasonCache)
	return &awscodebuild.CfnProject_ProjectCacheProperty{
		Type:     jsii.String("S3"),
		Location: awscdk.Fn_Join(jsii.String("/"), &[]*string{b.bucket.BucketName(), jsii.String(prefix)}),
	}
}

// reportGroup is the test report group of a build (buildspec reports):
// created here, its reports deleted with it; the build's role may create
// and update reports and put test cases and coverage in it, and nothing
// else (no report groups of its own making).
func (b *builder) reportGroup(role awsiam.Role, id, what string) awscodebuild.ReportGroup {
	group := awscodebuild.NewReportGroup(b.stack, jsii.String(id+"Reports"), &awscodebuild.ReportGroupProps{
		Type:          awscodebuild.ReportGroupType_TEST,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		DeleteReports: jsii.Bool(true),
	})
	awscdk.Tags_Of(group).Add(jsii.String("pushline:build"), jsii.String(what), nil)
	role.AddToPolicy(statement("WriteTestReports", []string{"codebuild:CreateReport", "codebuild:UpdateReport",
		"codebuild:BatchPutTestCases", "codebuild:BatchPutCodeCoverages"}, group.ReportGroupArn()))
	return group
}

// codebuild adds a CodeBuild project, with its own role, for each build
// stage and each action (config.Builds): the state machine starts them by
// their ProjectKey placeholders.
func (b *builder) codebuild() {
	b.projects = map[string]awscodebuild.Project{}
	logs := awslogs.NewLogGroup(b.stack, jsii.String("BuildLogs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_THREE_MONTHS,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	for _, bd := range b.cfg.Builds() {
		b.project(bd, logs)
	}
}

func (b *builder) project(bd config.NamedBuild, logs awslogs.LogGroup) {
	what := "stage " + bd.Stage
	if bd.Name != bd.Stage {
		what = "action " + bd.Name + " of stage " + bd.Stage
	}
	id := statemachine.ProjectKey(bd.Name) // unique per build (config validation)
	role := awsiam.NewRole(b.stack, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("codebuild.amazonaws.com"), nil),
		Description: jsii.String("pushline " + b.cfg.Name + ": the builds of " + what),
	})
	// Read its sources (the commit's snapshot, and its inputs: earlier
	// builds' artifacts, as secondary sources), write only its artifact.
	role.AddToPolicy(statement("ReadInputs", []string{"s3:GetObject", "s3:GetObjectVersion"},
		b.bucket.ArnForObjects(jsii.String(b.cfg.Name+"/*"))))
	role.AddToPolicy(statement("WriteOwnArtifact", []string{"s3:PutObject"},
		b.bucket.ArnForObjects(jsii.String(b.cfg.Name+"/*/"+bd.Name+".zip"))))
	b.secretGrants(role, bd.Secrets)
	for i, p := range b.opts.Permissions[bd.Name] {
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String(fmt.Sprintf("Configured%d", i)),
			Actions:   jsii.Strings(p.Actions...),
			Resources: jsii.Strings(p.Resources...),
		}))
	}
	cache := b.buildCache(role, bd.Name)
	reports := b.reportGroup(role, id, what)
	env, lambdaCompute := buildEnvironment(bd.Build)
	// The buildspec names its report group by this variable
	// (reports: $PUSHLINE_REPORT_GROUP: …), so its reports land in the
	// group the role may write.
	env.EnvironmentVariables = &map[string]*awscodebuild.BuildEnvironmentVariable{
		ReportGroupVariable: {Value: reports.ReportGroupArn()},
	}
	var timeout, queued awscdk.Duration
	if !lambdaCompute { // Lambda compute has neither (CodeBuild caps its builds at 15 min)
		d := bd.Timeout.Duration
		if d == 0 {
			d = config.DefaultBuildTimeout
		}
		timeout = awscdk.Duration_Minutes(jsii.Number(d.Minutes()))
		queued = awscdk.Duration_Hours(jsii.Number(1))
	}
	project := awscodebuild.NewProject(b.stack, jsii.String(id), &awscodebuild.ProjectProps{
		Description: jsii.String("pushline " + b.cfg.Name + ": " + what),
		Role:        role,
		// The state machine overrides the location with each run's
		// commit snapshot; this placeholder is never built.
		Source: awscodebuild.Source_S3(&awscodebuild.S3SourceProps{
			Bucket: b.bucket,
			Path:   jsii.String(b.cfg.Name + "/source.zip"),
		}),
		BuildSpec:                   awscodebuild.BuildSpec_FromSourceFilename(jsii.String(bd.Buildspec)),
		Environment:                 env,
		Timeout:                     timeout,
		QueuedTimeout:               queued,
		GrantReportGroupPermissions: jsii.Bool(false),
		EncryptionKey:               b.key,
		Logging: &awscodebuild.LoggingOptions{
			CloudWatch: &awscodebuild.CloudWatchLoggingOptions{
				LogGroup: logs,
				Prefix:   jsii.String(bd.Name),
			},
		},
	})
	project.Node().DefaultChild().(awscodebuild.CfnProject).SetCache(cache)
	b.projects[bd.Name] = project
	b.suppress(role, "AwsSolutions-IAM5", []string{b.prefixPattern()}, reasonInputs)
	b.suppress(role, "AwsSolutions-IAM5", []string{"Resource::<" + b.logicalID(b.bucket) + ".Arn>/" + b.cfg.Name + "/*/" + bd.Name + ".zip"},
		"Writes only this build's own artifact <pipeline>/<execution>/"+bd.Name+".zip; the execution is known only at run time.")
	b.suppress(role, "AwsSolutions-IAM5", []string{"Action::s3:GetBucket*", "Action::s3:GetObject*", "Action::s3:List*"}, reasonS3Source)
	b.suppress(role, "AwsSolutions-IAM5", []string{"Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*"}, reasonKMS)
	b.suppress(role, "AwsSolutions-IAM5", []string{"Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/codebuild/<" +
		b.logicalID(project) + ">:*"}, reasonBuildLogs)
	if wild := configuredWildcards(b.opts.Permissions[bd.Name]); len(wild) > 0 {
		b.suppress(role, "AwsSolutions-IAM5", wild, "Configured by the operator for this build (pushline:permissions in cdk.json's context).")
	}
	if bd.Privileged {
		b.suppress(project, "AwsSolutions-CB3", nil, reasonPrivileged)
	}
	if bd.Image != "" && !strings.HasPrefix(bd.Image, "aws/codebuild/") {
		b.suppress(project, "AwsSolutions-CB5", nil, reasonImage)
	}
}

// secretGrants lets a build read exactly the secrets its config lists:
// secretsmanager:GetSecretValue on the Secrets Manager secrets (by name:
// <name>-??????, the suffix Secrets Manager appends; by ARN: that ARN),
// ssm:GetParameters on the SSM parameters, and kms:Decrypt through those
// two services for secrets under a customer managed key.
func (b *builder) secretGrants(role awsiam.Role, secrets []string) {
	var sm, ssm []*string
	var patterns []string
	for _, s := range secrets {
		arn := strings.HasPrefix(s, "arn:")
		switch config.SecretKind(s) {
		case config.SecretsManager:
			if arn {
				sm = append(sm, jsii.String(s))
				continue
			}
			sm = append(sm, b.stack.FormatArn(&awscdk.ArnComponents{
				Service: jsii.String("secretsmanager"), Resource: jsii.String("secret"),
				ResourceName: jsii.String(s + "-??????"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
			}))
			patterns = append(patterns, "Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:"+s+"-??????")
		case config.Parameter:
			if arn {
				ssm = append(ssm, jsii.String(s))
				continue
			}
			ssm = append(ssm, b.stack.FormatArn(&awscdk.ArnComponents{
				Service: jsii.String("ssm"), Resource: jsii.String("parameter"),
				ResourceName: jsii.String(strings.TrimPrefix(s, "/")), ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME,
			}))
		}
	}
	if len(sm) > 0 {
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("ReadSecrets"), Actions: jsii.Strings("secretsmanager:GetSecretValue"), Resources: &sm,
		}))
	}
	if len(ssm) > 0 {
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("ReadParameters"), Actions: jsii.Strings("ssm:GetParameters"), Resources: &ssm,
		}))
	}
	if len(secrets) == 0 {
		return
	}
	region := *b.stack.Region()
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("DecryptSecrets"),
		Actions:   jsii.Strings("kms:Decrypt"),
		Resources: jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{
			"kms:ViaService": []any{"secretsmanager." + region + ".amazonaws.com", "ssm." + region + ".amazonaws.com"},
		}},
	}))
	if len(patterns) > 0 {
		b.suppress(role, "AwsSolutions-IAM5", patterns, reasonSecretSuffix)
	}
	b.suppress(role, "AwsSolutions-IAM5", []string{"Resource::*"}, reasonViaService)
}

// computeTypes maps the config's CodeBuild compute types to CDK's.
var computeTypes = map[string]awscodebuild.ComputeType{
	"BUILD_GENERAL1_SMALL":   awscodebuild.ComputeType_SMALL,
	"BUILD_GENERAL1_MEDIUM":  awscodebuild.ComputeType_MEDIUM,
	"BUILD_GENERAL1_LARGE":   awscodebuild.ComputeType_LARGE,
	"BUILD_GENERAL1_XLARGE":  awscodebuild.ComputeType_X_LARGE,
	"BUILD_GENERAL1_2XLARGE": awscodebuild.ComputeType_X2_LARGE,
	"BUILD_LAMBDA_1GB":       awscodebuild.ComputeType_LAMBDA_1GB,
	"BUILD_LAMBDA_2GB":       awscodebuild.ComputeType_LAMBDA_2GB,
	"BUILD_LAMBDA_4GB":       awscodebuild.ComputeType_LAMBDA_4GB,
	"BUILD_LAMBDA_8GB":       awscodebuild.ComputeType_LAMBDA_8GB,
	"BUILD_LAMBDA_10GB":      awscodebuild.ComputeType_LAMBDA_10GB,
}

// buildEnvironment is a build's environment: the standard Linux image
// (Ubuntu, standard:7.0), or the build's image (a CodeBuild image id
// "aws/codebuild/…", else a registry image), on the compute type asked
// for (default BUILD_GENERAL1_SMALL), privileged when asked; or, for
// BUILD_LAMBDA_*, Amazon Linux 2023 with Node.js 22 on Lambda compute
// (config validation keeps image and privileged off it).
func buildEnvironment(bd config.Build) (env *awscodebuild.BuildEnvironment, lambdaCompute bool) {
	ct, ok := computeTypes[bd.ComputeType]
	if !ok {
		ct = awscodebuild.ComputeType_SMALL // "" (config validation rejects the rest)
	}
	if strings.HasPrefix(bd.ComputeType, "BUILD_LAMBDA_") {
		return &awscodebuild.BuildEnvironment{BuildImage: awscodebuild.LinuxLambdaBuildImage_AMAZON_LINUX_2023_NODE_22(), ComputeType: ct}, true
	}
	image := awscodebuild.LinuxBuildImage_STANDARD_7_0()
	switch {
	case strings.HasPrefix(bd.Image, "aws/codebuild/"):
		image = awscodebuild.LinuxBuildImage_FromCodeBuildImageId(jsii.String(bd.Image))
	case bd.Image != "":
		image = awscodebuild.LinuxBuildImage_FromDockerRegistry(jsii.String(bd.Image), nil)
	}
	env = &awscodebuild.BuildEnvironment{BuildImage: image, ComputeType: ct}
	if bd.Privileged {
		env.Privileged = jsii.Bool(true)
	}
	return env, false
}

// configuredWildcards are the IAM5 findings of configured permissions.
func configuredWildcards(ps []Permission) []string {
	var out []string
	for _, p := range ps {
		for _, a := range p.Actions {
			if strings.Contains(a, "*") {
				out = append(out, "Action::"+a)
			}
		}
		for _, r := range p.Resources {
			if strings.Contains(r, "*") {
				out = append(out, "Resource::"+r)
			}
		}
	}
	return out
}
