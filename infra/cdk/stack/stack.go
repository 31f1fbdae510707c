package stack

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsses"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/event"
	"github.com/pushline/pushline/shared/statemachine"
)

// Defaults of the options.
const (
	DefaultAssetDir              = "build"
	DefaultArtifactRetentionDays = 30
	// StageName is the API Gateway stage; the webhook URL ends /<StageName>/webhook.
	StageName = "prod"
	// StatusChange is the detail-type of Step Functions' execution
	// events on the default bus (source aws.states).
	StatusChange = "Step Functions Execution Status Change"
	// ManagedRule is the EventBridge rule Step Functions manages for
	// codebuild:startBuild.sync.
	ManagedRule = "StepFunctionsGetEventForCodeBuildStartBuildRule"
	// MaxBuilds is the most build stages and actions a stack holds: 4
	// resources each (project, role, policy, report group), 360 in all,
	// with the rest of the stack (at most ~100 resources) within
	// CloudFormation's 500 a stack; and the state machine role's inline
	// policy (10,240 characters) lists each project's ARN.
	MaxBuilds = 90
	// maxEnvBytes is Lambda's limit on a function's environment (4 KB).
	maxEnvBytes = 4096
)

// Function names: each is functions/<name> built into <AssetDir>/<name>/bootstrap.
const (
	Webhook  = "webhook"
	Source   = "source"
	Notify   = "notify"
	Approval = "approval"
	Queue    = "queue"
	Watch    = "watch"
)

// ErrOptions is returned for options the stack cannot be built from.
var ErrOptions = errors.New("invalid stack options")

// Permission is one IAM statement a build stage's role gets on top of
// reading its input and writing its own artifact (e.g. what the deploy
// stage needs to deploy).
type Permission struct {
	Actions   []string `json:"actions"`
	Resources []string `json:"resources"`
}

// Options say what to build.
type Options struct {
	// Config is the pipeline config (config.Load()).
	Config *config.Config
	// AssetDir holds <function>/bootstrap for every function (make build);
	// default DefaultAssetDir.
	AssetDir string
	// ArtifactRetentionDays is how long artifacts and source snapshots are
	// kept; default DefaultArtifactRetentionDays.
	ArtifactRetentionDays int
	// Permissions are extra IAM statements per build stage or action name.
	Permissions map[string][]Permission
	// ProviderTokens: "" for none (public repositories), "create" for a new
	// secret the user fills, or the ARN of an existing secret.
	ProviderTokens string
	// StackProps are passed to awscdk.NewStack (e.g. a fixed environment).
	StackProps awscdk.StackProps
}

// ID returns the stack id (and CloudFormation stack name) of a pipeline.
func ID(pipeline string) string { return "pushline-" + pipeline }

// Built is a built pushline stack.
type Built struct {
	Stack awscdk.Stack
	// Suppressions are the cdk-nag findings accepted on its constructs,
	// already recorded on them.
	Suppressions []Suppression
	// Definition is the state machine definition in the template:
	// statemachine.Generate(config), placeholders filled by
	// DefinitionSubstitutions.
	Definition []byte
}

// New builds the pushline stack of opts.Config into app.
func New(app constructs.Construct, opts Options) (*Built, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	cfg := opts.Config
	configJSON, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: encode config: %v", ErrOptions, err)
	}
	if len(configJSON) > maxEnvBytes-1024 {
		return nil, fmt.Errorf("%w: the config is %d bytes of JSON; Lambda allows 4 KB of environment in all", ErrOptions, len(configJSON))
	}

	definition, err := statemachine.Generate(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOptions, err)
	}

	props := opts.StackProps
	if props.StackName == nil {
		props.StackName = jsii.String(ID(cfg.Name))
	}
	if props.Description == nil {
		props.Description = jsii.String("pushline pipeline " + cfg.Name + ": webhook -> Step Functions -> CodeBuild")
	}
	stack := awscdk.NewStack(app, jsii.String(ID(cfg.Name)), &props)
	awscdk.Tags_Of(stack).Add(jsii.String("pushline:pipeline"), jsii.String(cfg.Name), nil)
	b := &builder{stack: stack, opts: opts, cfg: cfg, configJSON: string(configJSON), definition: definition}
	if err := b.build(); err != nil {
		return nil, err
	}
	return &Built{Stack: stack, Suppressions: b.sups, Definition: definition}, nil
}

func (o *Options) fill() error {
	if o.Config == nil {
		return fmt.Errorf("%w: no config", ErrOptions)
	}
	if o.AssetDir == "" {
		o.AssetDir = DefaultAssetDir
	}
	if o.ArtifactRetentionDays == 0 {
		o.ArtifactRetentionDays = DefaultArtifactRetentionDays
	}
	if o.ArtifactRetentionDays < 1 {
		return fmt.Errorf("%w: artifact retention %d days: want at least 1", ErrOptions, o.ArtifactRetentionDays)
	}
	for _, name := range functionNames(o.Config) {
		p := filepath.Join(o.AssetDir, name, "bootstrap")
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%w: %s missing: run make build (or set PUSHLINE_ASSET_DIR)", ErrOptions, p)
		}
	}
	builds := map[string]bool{}
	for _, bd := range o.Config.Builds() {
		builds[bd.Name] = true
	}
	if n := len(builds); n > MaxBuilds {
		return fmt.Errorf("%w: %d build stages and actions: one stack holds at most %d (CloudFormation's 500 resources a stack, "+
			"4 per build; the state machine role lists every project)", ErrOptions, n, MaxBuilds)
	}
	for name, ps := range o.Permissions {
		if !builds[name] {
			return fmt.Errorf("%w: permissions for stage %q: no build stage or action has that name", ErrOptions, name)
		}
		for i, p := range ps {
			if len(p.Actions) == 0 || len(p.Resources) == 0 {
				return fmt.Errorf("%w: permissions for stage %q, statement %d: want actions and resources", ErrOptions, name, i)
			}
			if slices.Contains(p.Actions, "*") {
				return fmt.Errorf("%w: permissions for stage %q, statement %d: action \"*\" is not allowed; name the actions", ErrOptions, name, i)
			}
		}
	}
	if t := o.ProviderTokens; t != "" && t != "create" && !strings.HasPrefix(t, "arn:") {
		return fmt.Errorf("%w: provider tokens %q: want \"create\" or a secret ARN", ErrOptions, t)
	}
	return nil
}

// functionNames lists the Lambda functions a config needs.
func functionNames(cfg *config.Config) []string {
	names := []string{Webhook, Source, Notify, Approval, Watch, Runs}
	if cfg.Mode == config.ModeQueued {
		names = append(names, Queue)
	}
	if len(codeCommitRepos(cfg)) > 0 {
		names = append(names, CodeCommit)
	}
	return names
}

type builder struct {
	stack      awscdk.Stack
	sups       []Suppression
	opts       Options
	cfg        *config.Config
	configJSON string
	definition []byte

	key          awskms.Key
	logBucket    awss3.Bucket
	bucket       awss3.Bucket
	bus          awsevents.EventBus
	topic        awssns.Topic
	table        awsdynamodb.Table
	webhookKey   awssecretsmanager.Secret
	approvalKey  awssecretsmanager.Secret
	tokens       awssecretsmanager.ISecret
	identity     awsses.EmailIdentity
	functions    map[string]awslambda.Function
	projects     map[string]awscodebuild.Project // by stage name
	api          awsapigateway.RestApi
	machine      awsstepfunctions.StateMachine
	machineName  string
	machineArn   *string
	executionArn *string
}

func (b *builder) build() error {
	b.machineName = ID(b.cfg.Name)
	// The machine's ARN is built from its fixed name, not referenced: the
	// queue function needs it and the machine needs the queue function.
	b.machineArn = b.stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("states"), Resource: jsii.String("stateMachine"),
		ResourceName: jsii.String(b.machineName), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
	b.executionArn = b.stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("states"), Resource: jsii.String("execution"),
		ResourceName: jsii.String(b.machineName + ":*"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
	b.encryptionKey()
	b.buckets()
	b.events()
	b.secrets()
	b.approvals()
	b.lambdas()
	b.codeCommit()
	b.stopRule()
	b.codebuild()
	if err := b.stateMachine(); err != nil {
		return err
	}
	b.restAPI()
	b.runPages()
	if err := b.statuses(); err != nil {
		return err
	}
	b.alarms()
	b.outputs()
	return nil
}

// alarms tell the failure topic what no pipeline event reports: a function
// failing (crash, timeout, an AWS call refused) and the API answering 5xx
// (which by contract only happens when Step Functions is unavailable).
func (b *builder) alarms() {
	action := awscloudwatchactions.NewSnsAction(b.topic)
	five := awscdk.Duration_Minutes(jsii.Number(5))
	alarm := func(id, desc string, metric awscloudwatch.IMetric) {
		a := awscloudwatch.NewAlarm(b.stack, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String("pushline " + b.cfg.Name + ": " + desc),
			Metric:             metric,
			Threshold:          jsii.Number(1),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		a.AddAlarmAction(action)
	}
	for _, name := range functionNames(b.cfg) {
		alarm(title(name)+"Errors", "the "+name+" function failed",
			b.functions[name].MetricErrors(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")}))
	}
	alarm("Api5xx", "the API answered 5xx (Step Functions unavailable, or a function failed)",
		b.api.MetricServerError(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")}))
}

func (b *builder) encryptionKey() {
	b.key = awskms.NewKey(b.stack, jsii.String("Key"), &awskms.KeyProps{
		Description:       jsii.String("pushline " + b.cfg.Name + ": artifacts, build outputs, failure topic"),
		EnableKeyRotation: jsii.Bool(true),
		Alias:             jsii.String("alias/pushline/" + b.cfg.Name),
	})
	// EventBridge (failure events) and CloudWatch (alarms) publish to the
	// encrypted topic.
	b.key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("PublishToEncryptedTopic"),
		Principals: &[]awsiam.IPrincipal{
			awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil),
			awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil),
		},
		Actions:   jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"),
		Resources: jsii.Strings("*"),
	}), nil)
}

func (b *builder) buckets() {
	b.logBucket = awss3.NewBucket(b.stack, jsii.String("AccessLogs"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED, // the only encryption server access logs support
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		Versioned:         jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                          jsii.String("expire-access-logs"),
			Expiration:                  awscdk.Duration_Days(jsii.Number(90)),
			NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(1)),
		}},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	days := float64(b.opts.ArtifactRetentionDays)
	b.bucket = awss3.NewBucket(b.stack, jsii.String("Artifacts"), &awss3.BucketProps{
		Encryption:             awss3.BucketEncryption_KMS,
		EncryptionKey:          b.key,
		BucketKeyEnabled:       jsii.Bool(true),
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:             jsii.Bool(true),
		Versioned:              jsii.Bool(true),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		ServerAccessLogsBucket: b.logBucket,
		ServerAccessLogsPrefix: jsii.String("artifacts/"),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("artifact-retention"),
			Expiration:                          awscdk.Duration_Days(jsii.Number(days)),
			NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(1)),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1)),
		}, {
			// The builds' S3 caches: a cache no build saved again for
			// two weeks goes (the shorter of the two rules applies).
			Id:                                  jsii.String("build-cache"),
			Prefix:                              jsii.String(cacheRoot),
			Expiration:                          awscdk.Duration_Days(jsii.Number(CacheRetentionDays)),
			NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(1)),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1)),
		}},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
}

func (b *builder) events() {
	b.bus = awsevents.NewEventBus(b.stack, jsii.String("Bus"), &awsevents.EventBusProps{
		EventBusName: jsii.String(ID(b.cfg.Name)),
	})
	b.topic = awssns.NewTopic(b.stack, jsii.String("Failures"), &awssns.TopicProps{
		DisplayName: jsii.String("pushline " + b.cfg.Name + " failures"),
		MasterKey:   b.key,
		EnforceSSL:  jsii.Bool(true),
	})
	for _, addr := range b.cfg.Notifications.Failures {
		b.topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(addr), nil))
	}
	// Every failure (a build failed or timed out, an approval rejected or
	// timed out, a step's own error) ends in exactly one Pipeline Execution
	// State Change FAILED: one mail per failed execution.
	awsevents.NewRule(b.stack, jsii.String("FailureRule"), &awsevents.RuleProps{
		Description: jsii.String("pushline " + b.cfg.Name + ": a failed execution (Pipeline Execution State Change FAILED) to the failure topic"),
		EventBus:    b.bus,
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(event.Source),
			DetailType: jsii.Strings(event.PipelineExecution),
			Detail:     &map[string]any{"state": []string{event.Failed}},
		},
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewSnsTopic(b.topic, nil)},
	})
	if from := senderAddress(b.cfg.Notifications.From); from != "" {
		b.identity = awsses.NewEmailIdentity(b.stack, jsii.String("Sender"), &awsses.EmailIdentityProps{
			Identity: awsses.Identity_Email(jsii.String(from)),
		})
	}
}

func (b *builder) secrets() {
	b.webhookKey = b.randomSecret("WebhookSecret", "webhook", "the webhook secret to enter in the git provider", 48)
	b.approvalKey = b.randomSecret("ApprovalKey", "approval-key", "the key that signs approval links", 64)
	b.suppress(b.webhookKey, "AwsSolutions-SMG4", nil, reasonWebhookRotation)
	b.suppress(b.approvalKey, "AwsSolutions-SMG4", nil, reasonKeyRotation)
	switch t := b.opts.ProviderTokens; {
	case t == "create":
		b.tokens = awssecretsmanager.NewSecret(b.stack, jsii.String("ProviderTokens"), &awssecretsmanager.SecretProps{
			SecretName:  jsii.String("pushline/" + b.cfg.Name + "/provider-tokens"),
			Description: jsii.String(`pushline ` + b.cfg.Name + `: tokens for private repositories, JSON {"<provider>": "<token>", "<provider>:<repository>": "<token>"}`),
			GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
				SecretStringTemplate: jsii.String("{}"),
				GenerateStringKey:    jsii.String("unused"),
				ExcludePunctuation:   jsii.Bool(true),
			},
		})
		b.suppress(b.tokens, "AwsSolutions-SMG4", nil, "Provider tokens are issued by GitHub, GitLab, … and rotated there; "+
			"put the new value with aws secretsmanager put-secret-value.")
	case t != "":
		b.tokens = awssecretsmanager.Secret_FromSecretCompleteArn(b.stack, jsii.String("ProviderTokens"), jsii.String(t))
	}
}

// randomSecret is a secret pushline/<pipeline>/<name> that Secrets Manager
// generates: length letters and digits.
func (b *builder) randomSecret(id, name, desc string, length float64) awssecretsmanager.Secret {
	return awssecretsmanager.NewSecret(b.stack, jsii.String(id), &awssecretsmanager.SecretProps{
		SecretName:  jsii.String("pushline/" + b.cfg.Name + "/" + name),
		Description: jsii.String("pushline " + b.cfg.Name + ": " + desc),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			PasswordLength:     jsii.Number(length),
			ExcludePunctuation: jsii.Bool(true),
		},
	})
}

func (b *builder) approvals() {
	b.table = awsdynamodb.NewTable(b.stack, jsii.String("Approvals"), &awsdynamodb.TableProps{
		PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String("id"), Type: awsdynamodb.AttributeType_STRING},
		TimeToLiveAttribute: jsii.String("ttl"),
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Encryption:          awsdynamodb.TableEncryption_AWS_MANAGED,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
}

// fn describes one Lambda function.
type fn struct {
	name    string
	memory  float64
	timeout float64 // seconds
	env     map[string]*string
}

func (b *builder) lambdas() {
	b.functions = map[string]awslambda.Function{}
	busName := b.bus.EventBusName()
	specs := []fn{
		{name: Webhook, memory: 512, timeout: 29, env: map[string]*string{
			"PUSHLINE_STATE_MACHINE_ARN":  b.machineArn,
			"PUSHLINE_WEBHOOK_SECRET_ARN": b.webhookKey.SecretArn(),
			"PUSHLINE_EVENT_BUS":          busName,
		}},
		{name: Source, memory: 1769, timeout: 600, env: map[string]*string{
			"PUSHLINE_ARTIFACT_BUCKET": b.bucket.BucketName(),
		}},
		{name: Notify, memory: 256, timeout: 30, env: map[string]*string{
			"PUSHLINE_EVENT_BUS":        busName,
			"PUSHLINE_APPROVAL_KEY_ARN": b.approvalKey.SecretArn(),
			"PUSHLINE_APPROVAL_TABLE":   b.table.TableName(),
			// PUSHLINE_APPROVAL_URL is added once the API exists.
		}},
		{name: Approval, memory: 256, timeout: 29, env: map[string]*string{
			"PUSHLINE_EVENT_BUS":        busName,
			"PUSHLINE_APPROVAL_KEY_ARN": b.approvalKey.SecretArn(),
			"PUSHLINE_APPROVAL_TABLE":   b.table.TableName(),
		}},
		{name: Watch, memory: 128, timeout: 30, env: map[string]*string{
			"PUSHLINE_EVENT_BUS":         busName,
			"PUSHLINE_STATE_MACHINE_ARN": b.machineArn,
		}},
	}
	if from := b.cfg.Notifications.From; from != "" {
		specs[2].env["PUSHLINE_MAIL_FROM"] = jsii.String(from)
	}
	if b.tokens != nil {
		specs[1].env["PUSHLINE_PROVIDER_TOKENS_ARN"] = b.tokens.SecretArn()
	}
	if b.cfg.Mode == config.ModeQueued {
		specs = append(specs, fn{name: Queue, memory: 128, timeout: 10, env: map[string]*string{
			"PUSHLINE_STATE_MACHINE_ARN": b.machineArn,
		}})
	}
	for _, s := range specs {
		b.functions[s.name] = b.lambda(s)
	}

	// webhook: start, list, stop, describe executions; emit events; read its secret.
	w := b.functions[Webhook]
	w.AddToRolePolicy(statement("StartAndListExecutions", []string{"states:StartExecution", "states:ListExecutions"}, b.machineArn))
	w.AddToRolePolicy(statement("StopAndDescribeExecutions", []string{"states:StopExecution", "states:DescribeExecution"}, b.executionArn))
	b.bus.GrantPutEventsTo(w, nil)
	b.webhookKey.GrantRead(w, nil)
	b.suppress(w.Role(), "AwsSolutions-IAM5", []string{"Resource::" + b.executionPattern()}, reasonExecutions)

	// source: write source snapshots under <pipeline>/; read provider tokens.
	src := b.functions[Source]
	src.AddToRolePolicy(statement("PutSourceSnapshots", []string{"s3:PutObject", "s3:AbortMultipartUpload"},
		b.bucket.ArnForObjects(jsii.String(b.cfg.Name+"/*"))))
	src.AddToRolePolicy(statement("EncryptSourceSnapshots", []string{"kms:GenerateDataKey", "kms:Decrypt"}, b.key.KeyArn()))
	if b.tokens != nil {
		b.tokens.GrantRead(src, nil)
	}
	b.suppress(src.Role(), "AwsSolutions-IAM5", []string{b.prefixPattern()}, reasonPrefix)

	// notify: store approval records, send mail, emit events, sign links.
	n := b.functions[Notify]
	// GetItem: a retried notify finds the record it created (approval.Notifier).
	n.AddToRolePolicy(statement("CreateApprovalRecords", []string{"dynamodb:PutItem", "dynamodb:GetItem"}, b.table.TableArn()))
	if b.identity != nil {
		n.AddToRolePolicy(statement("SendApprovalMail", []string{"ses:SendEmail"}, b.mailIdentityArns()...))
	}
	b.bus.GrantPutEventsTo(n, nil)
	b.approvalKey.GrantRead(n, nil)

	// approval: read and decide approval records, answer the task token.
	a := b.functions[Approval]
	a.AddToRolePolicy(statement("ReadAndDecideApprovalRecords", []string{"dynamodb:GetItem", "dynamodb:UpdateItem"}, b.table.TableArn()))
	a.AddToRolePolicy(statement("AnswerTaskTokens", []string{"states:SendTaskSuccess", "states:SendTaskFailure"}, b.machineArn))
	// DescribeExecution: a GET of a link whose execution ended answers 410 (approval.Handler).
	a.AddToRolePolicy(statement("DescribeExecutions", []string{"states:DescribeExecution"}, b.executionArn))
	b.bus.GrantPutEventsTo(a, nil)
	b.approvalKey.GrantRead(a, nil)
	b.suppress(a.Role(), "AwsSolutions-IAM5", []string{"Resource::" + b.executionPattern()}, reasonExecutions)

	// watch: read a stopped execution's input, emit STOPPED.
	wt := b.functions[Watch]
	wt.AddToRolePolicy(statement("DescribeExecutions", []string{"states:DescribeExecution"}, b.executionArn))
	b.bus.GrantPutEventsTo(wt, nil)
	b.suppress(wt.Role(), "AwsSolutions-IAM5", []string{"Resource::" + b.executionPattern()}, reasonExecutions)

	if q, ok := b.functions[Queue]; ok {
		q.AddToRolePolicy(statement("ListExecutions", []string{"states:ListExecutions"}, b.machineArn))
		q.AddToRolePolicy(statement("DescribeExecutions", []string{"states:DescribeExecution"}, b.executionArn))
		b.suppress(q.Role(), "AwsSolutions-IAM5", []string{"Resource::" + b.executionPattern()}, reasonExecutions)
	}
}

// stopRule sends Step Functions' own event for this machine's executions
// stopped with StopExecution (status ABORTED, on the default bus) to the
// watch function, which emits STOPPED (shared/watch).
func (b *builder) stopRule() {
	awsevents.NewRule(b.stack, jsii.String("StopRule"), &awsevents.RuleProps{
		Description: jsii.String("pushline " + b.cfg.Name + ": executions stopped by hand to the watch function (emits STOPPED)"),
		// No EventBus: Step Functions sends its events to the default bus.
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.states"),
			DetailType: jsii.Strings(StatusChange),
			Detail: &map[string]any{
				"status":          []string{"ABORTED"},
				"stateMachineArn": []*string{b.machineArn},
			},
		},
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(b.functions[Watch], &awseventstargets.LambdaFunctionProps{
			RetryAttempts: jsii.Number(8),
			MaxEventAge:   awscdk.Duration_Hours(jsii.Number(2)),
		})},
	})
}

// mailIdentityArns are the SES identities approval mail involves: the
// sender's address and its domain (whichever the user verified), and, for
// the SES sandbox, where SES also authorizes against the recipients'
// identities, every approver's address.
func (b *builder) mailIdentityArns() []*string {
	from := senderAddress(b.cfg.Notifications.From)
	names := []string{from}
	if at := strings.LastIndexByte(from, '@'); at >= 0 {
		names = append(names, from[at+1:])
	}
	for _, s := range b.cfg.Stages {
		if s.IsApproval() {
			for _, a := range s.Approval.Approvers {
				if !slices.Contains(names, a) {
					names = append(names, a)
				}
			}
		}
	}
	arns := make([]*string, len(names))
	for i, n := range names {
		arns[i] = b.stack.FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("ses"), Resource: jsii.String("identity"),
			ResourceName: jsii.String(n), ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME,
		})
	}
	return arns
}

func (b *builder) lambda(s fn) awslambda.Function {
	id := title(s.name)
	logs := awslogs.NewLogGroup(b.stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_MONTH,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := awsiam.NewRole(b.stack, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("pushline " + b.cfg.Name + ": the " + s.name + " function"),
	})
	role.AddToPolicy(statement("WriteOwnLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"},
		logs.LogGroupArn()))
	env := map[string]*string{"PUSHLINE_CONFIG_JSON": jsii.String(b.configJSON)}
	for k, v := range s.env {
		env[k] = v
	}
	return awslambda.NewFunction(b.stack, jsii.String(id), &awslambda.FunctionProps{
		Description:   jsii.String("pushline " + b.cfg.Name + ": " + s.name),
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  awslambda.Architecture_ARM_64(),
		Handler:       jsii.String("bootstrap"),
		Code:          awslambda.Code_FromAsset(jsii.String(filepath.Join(b.opts.AssetDir, s.name)), nil),
		MemorySize:    jsii.Number(s.memory),
		Timeout:       awscdk.Duration_Seconds(jsii.Number(s.timeout)),
		Role:          role,
		LogGroup:      logs,
		LoggingFormat: awslambda.LoggingFormat_JSON,
		Environment:   &env,
	})
}

func (b *builder) restAPI() {
	access := awslogs.NewLogGroup(b.stack, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_THREE_MONTHS,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	b.api = awsapigateway.NewRestApi(b.stack, jsii.String("Api"), &awsapigateway.RestApiProps{
		RestApiName:   jsii.String(ID(b.cfg.Name)),
		Description:   jsii.String("pushline " + b.cfg.Name + ": webhook and approval pages"),
		EndpointTypes: &[]awsapigateway.EndpointType{awsapigateway.EndpointType_REGIONAL},
		// The access log needs the account's API Gateway CloudWatch role.
		CloudWatchRole:              jsii.Bool(true),
		CloudWatchRoleRemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		DeployOptions: &awsapigateway.StageOptions{
			StageName:            jsii.String(StageName),
			ThrottlingRateLimit:  jsii.Number(20),
			ThrottlingBurstLimit: jsii.Number(50),
			LoggingLevel:         awsapigateway.MethodLoggingLevel_ERROR,
			// Request bodies carry signatures and approval comments.
			DataTraceEnabled:     jsii.Bool(false),
			MetricsEnabled:       jsii.Bool(true),
			TracingEnabled:       jsii.Bool(true),
			AccessLogDestination: awsapigateway.NewLogGroupLogDestination(access),
			AccessLogFormat: awsapigateway.AccessLogFormat_JsonWithStandardFields(&awsapigateway.JsonWithStandardFieldProps{
				Caller: jsii.Bool(false), HttpMethod: jsii.Bool(true), Ip: jsii.Bool(true),
				Protocol: jsii.Bool(true), RequestTime: jsii.Bool(true), ResourcePath: jsii.Bool(true),
				ResponseLength: jsii.Bool(true), Status: jsii.Bool(true), User: jsii.Bool(false),
			}),
		},
	})
	// Bodies are verified by the functions (signatures, forms); the
	// validator checks the path parameter and that a body is well formed
	// where a model is set (none is).
	validator := b.api.AddRequestValidator(jsii.String("Validator"), &awsapigateway.RequestValidatorOptions{
		ValidateRequestParameters: jsii.Bool(true),
		ValidateRequestBody:       jsii.Bool(true),
	})
	b.suppress(b.api, "AwsSolutions-IAM4", []string{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"},
		"API Gateway's account-wide role for writing access and execution logs; AWS documents this managed policy for it.")
	opts := &awsapigateway.MethodOptions{RequestValidator: validator}
	hook := awsapigateway.NewLambdaIntegration(b.functions[Webhook], &awsapigateway.LambdaIntegrationOptions{Proxy: jsii.Bool(true)})
	// ANY so that the webhook function answers other methods with its own 405.
	post := b.api.Root().AddResource(jsii.String("webhook"), nil).AddMethod(jsii.String("ANY"), hook, opts)
	decide := awsapigateway.NewLambdaIntegration(b.functions[Approval], &awsapigateway.LambdaIntegrationOptions{Proxy: jsii.Bool(true)})
	approvals := b.api.Root().AddResource(jsii.String("approvals"), nil).AddResource(jsii.String("{id}"), nil)
	idOpts := &awsapigateway.MethodOptions{
		RequestValidator:  validator,
		RequestParameters: &map[string]*bool{"method.request.path.id": jsii.Bool(true)},
	}
	get := approvals.AddMethod(jsii.String("GET"), decide, idOpts)
	decision := approvals.AddMethod(jsii.String("POST"), decide, idOpts)
	for _, m := range []struct {
		method awsapigateway.Method
		reason string
	}{
		{post, "Git providers authenticate with the webhook secret: the function verifies the HMAC signature " +
			"(or GitLab's token) in constant time before anything else; providers cannot sign AWS requests or fetch tokens."},
		{get, "Approvers authenticate with the signed, expiring, single-use link mailed to them; the function " +
			"verifies the signature. GET only shows the page."},
		{decision, "Approvers authenticate with the signed, expiring, single-use link mailed to them; the function " +
			"verifies the signature before recording the decision."},
	} {
		b.suppress(m.method, "AwsSolutions-APIG4", nil, m.reason)
		b.suppress(m.method, "AwsSolutions-COG4", nil, m.reason)
	}
	b.suppress(b.api.DeploymentStage(), "AwsSolutions-APIG3", nil, "No WAF web ACL by default (from $5 a month plus "+
		"$1 per rule): every request is authenticated by the functions and throttled by the stage. Associate one with "+
		"the stage if your policy requires it (docs/deploy.md).")

	b.functions[Notify].AddEnvironment(jsii.String("PUSHLINE_APPROVAL_URL"), b.baseURL(), nil)
}

// baseURL is the API stage's URL without the trailing slash RestApi.Url has.
func (b *builder) baseURL() *string {
	return awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("https://"), b.api.RestApiId(), jsii.String(".execute-api."),
		awscdk.Aws_REGION(), jsii.String("."), awscdk.Aws_URL_SUFFIX(), jsii.String("/" + StageName),
	})
}

func (b *builder) outputs() {
	out := func(id, desc string, v *string) {
		awscdk.NewCfnOutput(b.stack, jsii.String(id), &awscdk.CfnOutputProps{Description: jsii.String(desc), Value: v})
	}
	out("WebhookUrl", "the payload URL to enter in the git provider's webhook settings",
		awscdk.Fn_Join(jsii.String(""), &[]*string{b.baseURL(), jsii.String("/webhook")}))
	out("ApiUrl", "the API's URL: the console and run pages (GET /, /runs/<run>), PUSHLINE_PUBLIC_URL for pushline link", b.baseURL())
	out("WebhookSecretArn", "the Secrets Manager secret holding the webhook secret", b.webhookKey.SecretArn())
	out("WebhookSecretCommand", "the command that prints the webhook secret",
		awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String("aws secretsmanager get-secret-value --query SecretString --output text --region "),
			awscdk.Aws_REGION(), jsii.String(" --secret-id "), b.webhookKey.SecretArn(),
		}))
	out("ArtifactBucketName", "the artifact bucket (source snapshots and stage artifacts)", b.bucket.BucketName())
	out("StateMachineArn", "the pipeline's state machine", b.machine.StateMachineArn())
	out("EventBusName", "the event bus pushline emits its events on", b.bus.EventBusName())
	out("ApprovalKeySecretArn", "the secret holding the link signing key: PUSHLINE_APPROVAL_KEY_ARN for pushline link --operator",
		b.approvalKey.SecretArn())
	if b.tokens != nil {
		out("ProviderTokensSecretArn", "the secret holding provider tokens for private repositories", b.tokens.SecretArn())
	}
}

// senderAddress is the bare address of notifications.from, which may be
// "Name <address>"; SES verifies (and IAM names) the address.
func senderAddress(from string) string {
	if a, err := mail.ParseAddress(from); err == nil {
		return a.Address
	}
	return from
}

func statement(sid string, actions []string, resources ...*string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Actions:   jsii.Strings(actions...),
		Resources: &resources,
	})
}

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
