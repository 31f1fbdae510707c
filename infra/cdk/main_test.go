package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"

	"github.com/pushline/pushline/infra/cdk/stack"
	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/statemachine"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// One synthesis serves every test: jsii is one node process, not safe
// under t.Parallel, and a synthesis takes seconds.
var (
	synthErr error
	built    *stack.Built
	cfg      *config.Config
	tpl      assertions.Template
	template map[string]any // the synthesized template, decoded
	outdir   string
	assetDir string
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := func() int {
		os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
		// The config is cdk.json's, as cdk synth sees it.
		os.Unsetenv(config.EnvConfigJSON)
		os.Unsetenv(config.EnvConfigFile)
		tmp, err := os.MkdirTemp("", "pushline-cdk-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(tmp)
		outdir = filepath.Join(tmp, "cdk.out")
		assetDir, err = stubAssets(filepath.Join(tmp, "build"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		os.Setenv("PUSHLINE_ASSET_DIR", assetDir)
		synthErr = synthesize()
		return m.Run()
	}()
	jsii.Close()
	os.Exit(code)
}

// stubAssets writes a stub bootstrap for every function, so the tests need
// no make build.
func stubAssets(dir string) (string, error) {
	for _, f := range []string{stack.Webhook, stack.Source, stack.Notify, stack.Approval, stack.Watch, stack.Queue, stack.Status, stack.CodeCommit, stack.Runs} {
		if err := os.MkdirAll(filepath.Join(dir, f), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, f, "bootstrap"), []byte("#!/bin/sh\n# stub "+f+"\n"), 0o755); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// synthesize builds and synthesizes the app as main does. cdk-nag errors
// fail the synthesis (a jsii panic), reported with the validation report.
func synthesize() (err error) {
	defer func() {
		if r := recover(); r != nil {
			report, _ := os.ReadFile(filepath.Join(outdir, "validation-report.json"))
			err = fmt.Errorf("synthesis failed: %v\n%s", r, report)
		}
	}()
	var app awscdk.App
	// What the CDK CLI adds to the context of every synthesis.
	cli := map[string]any{"aws:cdk:enable-path-metadata": true, "aws:cdk:enable-asset-metadata": true}
	app, built, err = newApp(outdir, cli)
	if err != nil {
		return err
	}
	app.Synth(nil)
	cfg, err = config.Load()
	if err != nil {
		return err
	}
	tpl = assertions.Template_FromStack(built.Stack, nil)
	// The template as written to the cloud assembly, as cdk synth writes it.
	raw, err := os.ReadFile(filepath.Join(outdir, *built.Stack.TemplateFile()))
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, &template)
}

func synthesized(t *testing.T) {
	t.Helper()
	if synthErr != nil {
		t.Fatal(synthErr)
	}
}

// assert runs a jsii assertion, turning its panic into a test error.
func assert(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

// resources returns the logical ids and properties of the template's
// resources of type typ, sorted by id.
func resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range template["Resources"].(map[string]any) {
		r := r.(map[string]any)
		if r["Type"] == typ {
			props, _ := r["Properties"].(map[string]any)
			out[id] = props
		}
	}
	return out
}

// one returns the only resource of type typ whose logical id starts with prefix.
func one(t *testing.T, typ, prefix string) (string, map[string]any) {
	t.Helper()
	var ids []string
	rs := resources(typ)
	for id := range rs {
		if strings.HasPrefix(id, prefix) {
			ids = append(ids, id)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("%s %s*: found %v, want one", typ, prefix, ids)
	}
	return ids[0], rs[ids[0]]
}

// get follows a path of keys and indexes into v.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func ref(id string) map[string]any   { return map[string]any{"Ref": id} }
func arnOf(id string) map[string]any { return map[string]any{"Fn::GetAtt": []any{id, "Arn"}} }
func toJSON(v any) string            { b, _ := json.Marshal(v); return string(b) }
func strs(v ...string) []string      { return v }
func jsonEq(t *testing.T, what string, got, want any) {
	t.Helper()
	var g, w any
	json.Unmarshal([]byte(toJSON(got)), &g)
	json.Unmarshal([]byte(toJSON(want)), &w)
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

// statement is an IAM statement of the template, actions sorted.
type statement struct {
	Sid       string
	Actions   []string
	Resources []string // JSON of each resource
}

// rolePolicy returns every statement of the inline policies attached to
// the role with logical id role.
func rolePolicy(role string) []statement {
	var out []statement
	for _, p := range resources("AWS::IAM::Policy") {
		attached := false
		for _, r := range get(p, "Roles").([]any) {
			attached = attached || toJSON(r) == toJSON(ref(role))
		}
		if !attached {
			continue
		}
		for _, s := range get(p, "PolicyDocument", "Statement").([]any) {
			st := statement{}
			st.Sid, _ = get(s, "Sid").(string)
			st.Actions = list(get(s, "Action"))
			for _, r := range anyList(get(s, "Resource")) {
				if str, ok := r.(string); ok {
					st.Resources = append(st.Resources, str)
				} else {
					st.Resources = append(st.Resources, toJSON(r))
				}
			}
			sort.Strings(st.Actions)
			sort.Strings(st.Resources)
			out = append(out, st)
		}
	}
	return out
}

// actions returns the sorted set of actions a role's policies allow.
func actions(role string) []string {
	var out []string
	for _, s := range rolePolicy(role) {
		for _, a := range s.Actions {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	sort.Strings(out)
	return out
}

func anyList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

func list(v any) []string {
	var out []string
	for _, x := range anyList(v) {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// roleOf returns the logical id of the role a resource's property names.
func roleOf(t *testing.T, props map[string]any, key string) string {
	t.Helper()
	l, ok := get(props, key, "Fn::GetAtt").([]any)
	if !ok || len(l) != 2 {
		t.Fatalf("%s is not a role's Fn::GetAtt: %s", key, toJSON(get(props, key)))
	}
	return l[0].(string)
}

func TestNagFindsNothingUnsuppressed(t *testing.T) {
	synthesized(t)
	a := assertions.Annotations_FromStack(built.Stack)
	var msgs []string
	for _, m := range *a.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))) {
		//lint:ignore SA1019 the assertions API returns this type; its replacement is not in the Go bindings
		msgs = append(msgs, "error "+*m.Id+": "+fmt.Sprint(m.Entry.Data))
	}
	for _, m := range *a.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))) {
		//lint:ignore SA1019 as above
		msgs = append(msgs, "warning "+*m.Id+": "+fmt.Sprint(m.Entry.Data))
	}
	if len(msgs) > 0 {
		t.Errorf("cdk-nag findings:\n%s", strings.Join(msgs, "\n"))
	}
	for _, s := range built.Suppressions {
		if !strings.HasPrefix(s.Rule, "AwsSolutions-") || s.Path == "" || len(s.Reason) < 40 {
			t.Errorf("suppression %+v: want a rule, a construct and a reason", s)
		}
	}
}

// TestSuppressionsDocumented keeps docs/deploy.md's security table equal to
// the suppressions the stack records (golden: testdata/suppressions.md).
func TestSuppressionsDocumented(t *testing.T) {
	synthesized(t)
	var b strings.Builder
	b.WriteString("| rule | construct | applies to | why |\n|---|---|---|---|\n")
	for _, s := range built.Suppressions {
		applies := "all"
		if len(s.AppliesTo) > 0 {
			applies = "`" + strings.Join(s.AppliesTo, "`<br>`") + "`"
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s |\n", strings.TrimPrefix(s.Rule, "AwsSolutions-"), s.Path, applies, s.Reason)
	}
	golden(t, "testdata/suppressions.md", b.String())
	doc, err := os.ReadFile("../../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), b.String()) {
		t.Errorf("docs/deploy.md's security section lacks the suppression table of testdata/suppressions.md (copy it there)")
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./infra/cdk -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; go test ./infra/cdk -update rewrites it):\n%s", path, diff)
	}
}

var contentHash = regexp.MustCompile(`[0-9a-f]{32}$`)

// TestTemplateShape snapshots the resources (type and logical id) and
// outputs of the template: any resource added, removed or renamed shows.
func TestTemplateShape(t *testing.T) {
	synthesized(t)
	var lines []string
	counts := map[string]int{}
	for id, r := range template["Resources"].(map[string]any) {
		typ := get(r, "Type").(string)
		counts[typ]++
		// A deployment's id ends with a hash of the whole API: keep the prefix.
		lines = append(lines, typ+" "+contentHash.ReplaceAllString(id, "…"))
	}
	sort.Strings(lines)
	var summary []string
	for typ, n := range counts {
		summary = append(summary, fmt.Sprintf("%3d %s", n, typ))
	}
	sort.Slice(summary, func(i, j int) bool { return summary[i][4:] < summary[j][4:] })
	var outs []string
	for id := range template["Outputs"].(map[string]any) {
		outs = append(outs, "output "+id)
	}
	sort.Strings(outs)
	got := strings.Join(summary, "\n") + "\n\n" + strings.Join(lines, "\n") + "\n\n" + strings.Join(outs, "\n") + "\n"
	golden(t, "testdata/template-shape.txt", got)
}

func TestStateMachineDefinition(t *testing.T) {
	synthesized(t)
	_, sm := one(t, "AWS::StepFunctions::StateMachine", "StateMachine")
	def, err := statemachine.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := get(sm, "DefinitionString"); got != string(def) {
		t.Errorf("DefinitionString is not statemachine.Generate(cfg):\n%s", cmp.Diff(string(def), got))
	}
	if string(built.Definition) != string(def) {
		t.Error("Built.Definition is not statemachine.Generate(cfg)")
	}
	subs := get(sm, "DefinitionSubstitutions").(map[string]any)
	var keys []string
	for k := range subs {
		keys = append(keys, k)
	}
	want := statemachine.Keys(cfg)
	sort.Strings(keys)
	sort.Strings(want)
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("DefinitionSubstitutions keys (-want +got):\n%s", diff)
	}
	bucket, _ := one(t, "AWS::S3::Bucket", "Artifacts")
	bus, _ := one(t, "AWS::Events::EventBus", "Bus")
	source, _ := one(t, "AWS::Lambda::Function", "Source")
	notify, _ := one(t, "AWS::Lambda::Function", "Notify")
	wantSubs := map[string]any{
		"ArtifactBucket":    ref(bucket),
		"EventBusName":      ref(bus),
		"SourceFunctionArn": arnOf(source),
		"NotifyFunctionArn": arnOf(notify),
	}
	for _, s := range cfg.Stages {
		if !s.IsApproval() {
			id, _ := one(t, "AWS::CodeBuild::Project", statemachine.ProjectKey(s.Name))
			wantSubs[statemachine.ProjectKey(s.Name)] = ref(id)
		}
	}
	jsonEq(t, "DefinitionSubstitutions", subs, wantSubs)

	// The substituted definition is valid ASL.
	values := map[string]string{}
	for _, k := range statemachine.Keys(cfg) {
		values[k] = "arn:aws:lambda:us-east-1:123456789012:function:" + k
	}
	values["ArtifactBucket"] = "pushline-artifacts"
	values["EventBusName"] = "pushline-app"
	filled, err := statemachine.Substitute(def, values)
	if err != nil {
		t.Fatal(err)
	}
	aslValidate(t, filled)
}

// aslValidate runs asl-validator (npm, node_modules/.bin) on a definition.
func aslValidate(t *testing.T, def []byte) {
	t.Helper()
	bin, err := filepath.Abs("../../node_modules/.bin/asl-validator")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("asl-validator missing (%v): run npm ci", err)
		}
		t.Skipf("asl-validator missing (%v): run npm ci", err)
	}
	f := filepath.Join(t.TempDir(), "definition.asl.json")
	if err := os.WriteFile(f, def, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runCommand(bin, "--json-path", f)
	if err != nil {
		t.Errorf("asl-validator: %v\n%s", err, out)
	}
}

func TestStateMachine(t *testing.T) {
	synthesized(t)
	_, sm := one(t, "AWS::StepFunctions::StateMachine", "StateMachine")
	logs, _ := one(t, "AWS::Logs::LogGroup", "StateMachineLogs")
	jsonEq(t, "state machine", map[string]any{
		"StateMachineName":     sm["StateMachineName"],
		"StateMachineType":     sm["StateMachineType"],
		"LoggingConfiguration": sm["LoggingConfiguration"],
		"TracingConfiguration": sm["TracingConfiguration"],
	}, map[string]any{
		"StateMachineName": "pushline-" + cfg.Name,
		"StateMachineType": "STANDARD",
		"LoggingConfiguration": map[string]any{
			"Destinations":         []any{map[string]any{"CloudWatchLogsLogGroup": map[string]any{"LogGroupArn": arnOf(logs)}}},
			"IncludeExecutionData": false,
			"Level":                "ALL",
		},
		"TracingConfiguration": map[string]any{"Enabled": true},
	})
	role := roleOf(t, sm, "RoleArn")
	var projects []string
	for id := range resources("AWS::CodeBuild::Project") {
		projects = append(projects, toJSON(arnOf(id)))
	}
	sort.Strings(projects)
	source, _ := one(t, "AWS::Lambda::Function", "Source")
	notify, _ := one(t, "AWS::Lambda::Function", "Notify")
	bus, _ := one(t, "AWS::Events::EventBus", "Bus")
	got := map[string]statement{}
	for _, s := range rolePolicy(role) {
		got[s.Sid] = s
	}
	want := map[string]statement{
		"RunBuilds": {Sid: "RunBuilds", Actions: strs("codebuild:BatchGetBuilds", "codebuild:StartBuild", "codebuild:StopBuild"), Resources: projects},
		"ManagedRuleForSyncBuilds": {Sid: "ManagedRuleForSyncBuilds", Actions: strs("events:DescribeRule", "events:PutRule", "events:PutTargets"),
			Resources: strs(toJSON(map[string]any{"Fn::Join": []any{"", []any{"arn:", ref("AWS::Partition"), ":events:", ref("AWS::Region"), ":", ref("AWS::AccountId"), ":rule/StepFunctionsGetEventForCodeBuildStartBuildRule"}}}))},
		"InvokeSteps": {Sid: "InvokeSteps", Actions: strs("lambda:InvokeFunction"), Resources: sorted(toJSON(arnOf(source)), toJSON(arnOf(notify)))},
		"PutEvents":   {Sid: "PutEvents", Actions: strs("events:PutEvents"), Resources: strs(toJSON(arnOf(bus)))},
	}
	for sid, w := range want {
		if diff := cmp.Diff(w, got[sid]); diff != "" {
			t.Errorf("state machine role statement %s (-want +got):\n%s", sid, diff)
		}
	}
	// Besides those, only what CDK adds for logging and tracing.
	var rest []string
	for sid, s := range got {
		if _, ok := want[sid]; !ok {
			rest = append(rest, s.Actions...)
		}
	}
	sort.Strings(rest)
	wantRest := strs("logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies",
		"logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery",
		"xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments")
	if diff := cmp.Diff(wantRest, rest); diff != "" {
		t.Errorf("state machine role's other actions (-want +got):\n%s", diff)
	}
}

func sesIdentity(name string) string {
	return toJSON(map[string]any{"Fn::Join": []any{"", []any{"arn:", ref("AWS::Partition"), ":ses:", ref("AWS::Region"), ":", ref("AWS::AccountId"), ":identity/" + name}}})
}

func sorted(s ...string) []string { sort.Strings(s); return s }

func TestFunctions(t *testing.T) {
	synthesized(t)
	configJSON, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		prefix  string
		memory  float64
		timeout float64
		env     []string
		actions []string
	}{
		{"Webhook", 512, 29,
			strs("PUSHLINE_CONFIG_JSON", "PUSHLINE_EVENT_BUS", "PUSHLINE_STATE_MACHINE_ARN", "PUSHLINE_WEBHOOK_SECRET_ARN"),
			strs("events:PutEvents", "logs:CreateLogStream", "logs:PutLogEvents", "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
				"states:DescribeExecution", "states:ListExecutions", "states:StartExecution", "states:StopExecution")},
		{"Source", 1769, 600,
			strs("PUSHLINE_ARTIFACT_BUCKET", "PUSHLINE_CONFIG_JSON"),
			strs("kms:Decrypt", "kms:GenerateDataKey", "logs:CreateLogStream", "logs:PutLogEvents", "s3:AbortMultipartUpload", "s3:PutObject")},
		{"Notify", 256, 30,
			strs("PUSHLINE_APPROVAL_KEY_ARN", "PUSHLINE_APPROVAL_TABLE", "PUSHLINE_APPROVAL_URL", "PUSHLINE_CONFIG_JSON", "PUSHLINE_EVENT_BUS", "PUSHLINE_MAIL_FROM"),
			strs("dynamodb:GetItem", "dynamodb:PutItem", "events:PutEvents", "logs:CreateLogStream", "logs:PutLogEvents", "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "ses:SendEmail")},
		{"Approval", 256, 29,
			strs("PUSHLINE_APPROVAL_KEY_ARN", "PUSHLINE_APPROVAL_TABLE", "PUSHLINE_CONFIG_JSON", "PUSHLINE_EVENT_BUS"),
			strs("dynamodb:GetItem", "dynamodb:UpdateItem", "events:PutEvents", "logs:CreateLogStream", "logs:PutLogEvents",
				"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "states:DescribeExecution", "states:SendTaskFailure", "states:SendTaskSuccess")},
		{"Watch", 128, 30,
			strs("PUSHLINE_CONFIG_JSON", "PUSHLINE_EVENT_BUS", "PUSHLINE_STATE_MACHINE_ARN"),
			strs("events:PutEvents", "logs:CreateLogStream", "logs:PutLogEvents", "states:DescribeExecution")},
		{"Runs", 512, 29,
			strs("PUSHLINE_APPROVAL_KEY_ARN", "PUSHLINE_CONFIG_JSON", "PUSHLINE_PUBLIC_URL", "PUSHLINE_STATE_MACHINE_ARN"),
			strs("codebuild:BatchGetBuilds", "codebuild:ListBuildsForProject", "kms:Decrypt", "logs:CreateLogStream", "logs:GetLogEvents",
				"logs:PutLogEvents", "s3:GetObject", "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
				"states:DescribeExecution", "states:GetExecutionHistory", "states:ListExecutions", "states:StartExecution")},
	}
	if n := len(resources("AWS::Lambda::Function")); n != len(tests) {
		t.Errorf("%d functions, want %d (no queue function in %s mode)", n, len(tests), cfg.Mode)
	}
	roles := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			id, fn := one(t, "AWS::Lambda::Function", tt.prefix)
			logs, lg := one(t, "AWS::Logs::LogGroup", tt.prefix+"Logs")
			jsonEq(t, id, map[string]any{
				"Runtime": fn["Runtime"], "Architectures": fn["Architectures"], "Handler": fn["Handler"],
				"MemorySize": fn["MemorySize"], "Timeout": fn["Timeout"], "LoggingConfig": fn["LoggingConfig"],
			}, map[string]any{
				"Runtime": "provided.al2023", "Architectures": []string{"arm64"}, "Handler": "bootstrap",
				"MemorySize": tt.memory, "Timeout": tt.timeout,
				"LoggingConfig": map[string]any{"LogFormat": "JSON", "LogGroup": ref(logs)},
			})
			if lg["RetentionInDays"] == nil {
				t.Errorf("%s: no log retention", logs)
			}
			vars := get(fn, "Environment", "Variables").(map[string]any)
			var names []string
			for k := range vars {
				names = append(names, k)
			}
			sort.Strings(names)
			if diff := cmp.Diff(tt.env, names); diff != "" {
				t.Errorf("environment (-want +got):\n%s", diff)
			}
			if got := vars["PUSHLINE_CONFIG_JSON"]; got != string(configJSON) {
				t.Errorf("PUSHLINE_CONFIG_JSON = %v, want %s", got, configJSON)
			}
			if c, err := config.Parse([]byte(fmt.Sprint(vars["PUSHLINE_CONFIG_JSON"]))); err != nil {
				t.Errorf("PUSHLINE_CONFIG_JSON does not parse: %v", err)
			} else if diff := cmp.Diff(cfg, c); diff != "" {
				t.Errorf("PUSHLINE_CONFIG_JSON parses to another config:\n%s", diff)
			}
			role := roleOf(t, fn, "Role")
			if roles[role] {
				t.Errorf("role %s shared with another function", role)
			}
			roles[role] = true
			if diff := cmp.Diff(tt.actions, actions(role)); diff != "" {
				t.Errorf("role %s actions (-want +got):\n%s", role, diff)
			}
			assert(t, "role trusts only Lambda", func() {
				tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), assertions.Match_ObjectLike(&map[string]any{
					"AssumeRolePolicyDocument": map[string]any{"Statement": []any{map[string]any{
						"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": map[string]any{"Service": "lambda.amazonaws.com"},
					}}},
					"Description": assertions.Match_StringLikeRegexp(jsii.String("the " + strings.ToLower(tt.prefix) + " function")),
				}))
			})
		})
	}
}

// TestFunctionResources pins the resources each function's statements name.
func TestFunctionResources(t *testing.T) {
	synthesized(t)
	machine := toJSON(map[string]any{"Fn::Join": []any{"", []any{"arn:", ref("AWS::Partition"), ":states:", ref("AWS::Region"), ":", ref("AWS::AccountId"), ":stateMachine:pushline-" + cfg.Name}}})
	executions := toJSON(map[string]any{"Fn::Join": []any{"", []any{"arn:", ref("AWS::Partition"), ":states:", ref("AWS::Region"), ":", ref("AWS::AccountId"), ":execution:pushline-" + cfg.Name + ":*"}}})
	bucket, _ := one(t, "AWS::S3::Bucket", "Artifacts")
	table, _ := one(t, "AWS::DynamoDB::Table", "Approvals")
	prefix := toJSON(map[string]any{"Fn::Join": []any{"", []any{arnOf(bucket), "/" + cfg.Name + "/*"}}})
	tests := []struct {
		fn, sid string
		want    []string
	}{
		{"Webhook", "StartAndListExecutions", strs(machine)},
		{"Webhook", "StopAndDescribeExecutions", strs(executions)},
		{"Source", "PutSourceSnapshots", strs(prefix)},
		{"Notify", "CreateApprovalRecords", strs(toJSON(arnOf(table)))},
		{"Approval", "ReadAndDecideApprovalRecords", strs(toJSON(arnOf(table)))},
		{"Approval", "AnswerTaskTokens", strs(machine)},
		{"Watch", "DescribeExecutions", strs(executions)},
		{"Notify", "SendApprovalMail", sorted(sesIdentity("pushline@example.com"), sesIdentity("example.com"), sesIdentity("ops@example.com"))},
	}
	for _, tt := range tests {
		t.Run(tt.fn+"/"+tt.sid, func(t *testing.T) {
			_, fn := one(t, "AWS::Lambda::Function", tt.fn)
			for _, s := range rolePolicy(roleOf(t, fn, "Role")) {
				if s.Sid == tt.sid {
					if diff := cmp.Diff(tt.want, s.Resources); diff != "" {
						t.Errorf("resources (-want +got):\n%s", diff)
					}
					return
				}
			}
			t.Errorf("no statement %s", tt.sid)
		})
	}
	for _, f := range []string{"Webhook", "Watch"} {
		_, fn := one(t, "AWS::Lambda::Function", f)
		if got := toJSON(get(fn, "Environment", "Variables", "PUSHLINE_STATE_MACHINE_ARN")); got != machine {
			t.Errorf("%s: PUSHLINE_STATE_MACHINE_ARN = %s, want %s", f, got, machine)
		}
	}
	bus, _ := one(t, "AWS::Events::EventBus", "Bus")
	for _, f := range []string{"Webhook", "Notify", "Approval", "Watch"} {
		_, fn := one(t, "AWS::Lambda::Function", f)
		if got := toJSON(get(fn, "Environment", "Variables", "PUSHLINE_EVENT_BUS")); got != toJSON(ref(bus)) {
			t.Errorf("%s: PUSHLINE_EVENT_BUS = %s, want %s", f, got, toJSON(ref(bus)))
		}
	}
}

func TestCodeBuild(t *testing.T) {
	synthesized(t)
	bucket, _ := one(t, "AWS::S3::Bucket", "Artifacts")
	key, _ := one(t, "AWS::KMS::Key", "Key")
	logs, _ := one(t, "AWS::Logs::LogGroup", "BuildLogs")
	roles := map[string]bool{}
	n := 0
	for _, s := range cfg.Stages {
		if s.IsApproval() {
			continue
		}
		n++
		t.Run(s.Name, func(t *testing.T) {
			_, p := one(t, "AWS::CodeBuild::Project", statemachine.ProjectKey(s.Name))
			timeout := s.Timeout.Minutes()
			jsonEq(t, "project", map[string]any{
				"Source": p["Source"], "TimeoutInMinutes": p["TimeoutInMinutes"], "EncryptionKey": p["EncryptionKey"],
				"LogsConfig": p["LogsConfig"], "ComputeType": get(p, "Environment", "ComputeType"), "Artifacts": p["Artifacts"],
			}, map[string]any{
				"Source": map[string]any{"Type": "S3", "BuildSpec": s.Buildspec,
					"Location": map[string]any{"Fn::Join": []any{"", []any{ref(bucket), "/" + cfg.Name + "/source.zip"}}}},
				"TimeoutInMinutes": timeout,
				"EncryptionKey":    arnOf(key),
				"LogsConfig":       map[string]any{"CloudWatchLogs": map[string]any{"GroupName": ref(logs), "Status": "ENABLED", "StreamName": s.Name}},
				"ComputeType":      orDefault(s.ComputeType, "BUILD_GENERAL1_SMALL"),
				"Artifacts":        map[string]any{"Type": "NO_ARTIFACTS"},
			})
			role := roleOf(t, p, "ServiceRole")
			if roles[role] {
				t.Errorf("role %s shared with another stage", role)
			}
			roles[role] = true
			// Build stages read inputs, write their own artifact and
			// cache, report tests, log: nothing else (no configured permissions in cdk.json).
			want := strs("codebuild:BatchPutCodeCoverages", "codebuild:BatchPutTestCases", "codebuild:CreateReport", "codebuild:UpdateReport",
				"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*",
				"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
				"s3:GetBucket*", "s3:GetObject", "s3:GetObject*", "s3:GetObjectVersion", "s3:List*", "s3:PutObject")
			if diff := cmp.Diff(want, actions(role)); diff != "" {
				t.Errorf("role actions (-want +got):\n%s", diff)
			}
			for _, st := range rolePolicy(role) {
				if st.Sid == "WriteOwnArtifact" {
					own := toJSON(map[string]any{"Fn::Join": []any{"", []any{arnOf(bucket), "/" + cfg.Name + "/*/" + s.Name + ".zip"}}})
					if diff := cmp.Diff(strs(own), st.Resources); diff != "" {
						t.Errorf("WriteOwnArtifact resources (-want +got):\n%s", diff)
					}
				}
			}
		})
	}
	if got := len(resources("AWS::CodeBuild::Project")); got != n {
		t.Errorf("%d projects, want %d (one per build stage)", got, n)
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func TestArtifactBucket(t *testing.T) {
	synthesized(t)
	id, b := one(t, "AWS::S3::Bucket", "Artifacts")
	logBucket, lb := one(t, "AWS::S3::Bucket", "AccessLogs")
	key, _ := one(t, "AWS::KMS::Key", "Key")
	jsonEq(t, "artifact bucket", b, map[string]any{
		"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{
			"BucketKeyEnabled":              true,
			"ServerSideEncryptionByDefault": map[string]any{"KMSMasterKeyID": arnOf(key), "SSEAlgorithm": "aws:kms"},
		}}},
		"LifecycleConfiguration": map[string]any{"Rules": []any{map[string]any{
			"Id": "artifact-retention", "Status": "Enabled", "ExpirationInDays": float64(stack.DefaultArtifactRetentionDays),
			"NoncurrentVersionExpiration":    map[string]any{"NoncurrentDays": 1},
			"AbortIncompleteMultipartUpload": map[string]any{"DaysAfterInitiation": 1},
		}, map[string]any{
			"Id": "build-cache", "Status": "Enabled", "Prefix": "_cache/", "ExpirationInDays": float64(stack.CacheRetentionDays),
			"NoncurrentVersionExpiration":    map[string]any{"NoncurrentDays": 1},
			"AbortIncompleteMultipartUpload": map[string]any{"DaysAfterInitiation": 1},
		}}},
		"LoggingConfiguration":           map[string]any{"DestinationBucketName": ref(logBucket), "LogFilePrefix": "artifacts/"},
		"OwnershipControls":              map[string]any{"Rules": []any{map[string]any{"ObjectOwnership": "BucketOwnerEnforced"}}},
		"PublicAccessBlockConfiguration": map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
		"VersioningConfiguration":        map[string]any{"Status": "Enabled"},
		"Tags":                           b["Tags"],
	})
	if get(lb, "PublicAccessBlockConfiguration", "BlockPublicAcls") != true {
		t.Error("access log bucket: public access not blocked")
	}
	for _, bucket := range []string{id, logBucket} {
		assert(t, bucket+" enforces TLS", func() {
			tpl.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), &map[string]any{
				"Bucket": ref(bucket),
				"PolicyDocument": assertions.Match_ObjectLike(&map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
					assertions.Match_ObjectLike(&map[string]any{
						"Action": "s3:*", "Effect": "Deny", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
					}),
				})}),
			})
		})
	}
	if got := get(template, "Resources", key, "Properties", "EnableKeyRotation"); got != true {
		t.Errorf("key rotation = %v, want true", got)
	}
}

func TestApprovalTable(t *testing.T) {
	synthesized(t)
	_, tb := one(t, "AWS::DynamoDB::Table", "Approvals")
	jsonEq(t, "table", tb, map[string]any{
		"AttributeDefinitions":             []any{map[string]any{"AttributeName": "id", "AttributeType": "S"}},
		"KeySchema":                        []any{map[string]any{"AttributeName": "id", "KeyType": "HASH"}},
		"BillingMode":                      "PAY_PER_REQUEST",
		"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
		"SSESpecification":                 map[string]any{"SSEEnabled": true},
		"TimeToLiveSpecification":          map[string]any{"AttributeName": "ttl", "Enabled": true},
		"Tags":                             tb["Tags"],
	})
}

func TestSecrets(t *testing.T) {
	synthesized(t)
	for _, tt := range []struct{ prefix, name string }{
		{"WebhookSecret", "pushline/" + cfg.Name + "/webhook"},
		{"ApprovalKey", "pushline/" + cfg.Name + "/approval-key"},
	} {
		_, s := one(t, "AWS::SecretsManager::Secret", tt.prefix)
		if s["Name"] != tt.name || get(s, "GenerateSecretString", "PasswordLength") == nil {
			t.Errorf("%s: name %v, generated %v; want %s, generated", tt.prefix, s["Name"], s["GenerateSecretString"], tt.name)
		}
	}
	if n := len(resources("AWS::SecretsManager::Secret")); n != 2 {
		t.Errorf("%d secrets, want 2 (no provider tokens configured)", n)
	}
}

func TestEvents(t *testing.T) {
	synthesized(t)
	bus, b := one(t, "AWS::Events::EventBus", "Bus")
	if b["Name"] != "pushline-"+cfg.Name {
		t.Errorf("bus name %v, want pushline-%s", b["Name"], cfg.Name)
	}
	topic, tp := one(t, "AWS::SNS::Topic", "Failures")
	key, _ := one(t, "AWS::KMS::Key", "Key")
	_, rule := one(t, "AWS::Events::Rule", "FailureRule")
	jsonEq(t, "failure rule", map[string]any{"EventBusName": rule["EventBusName"], "EventPattern": rule["EventPattern"], "Targets": rule["Targets"]},
		map[string]any{
			"EventBusName": ref(bus),
			// One mail per failed execution: every failure ends in one
			// Pipeline Execution State Change FAILED.
			"EventPattern": map[string]any{"source": []string{"pushline"}, "detail-type": []string{"Pipeline Execution State Change"},
				"detail": map[string]any{"state": []string{"FAILED"}}},
			"Targets": []any{map[string]any{"Arn": ref(topic), "Id": "Target0"}},
		})
	jsonEq(t, "topic key", tp["KmsMasterKeyId"], arnOf(key))
	var emails []string
	for _, s := range resources("AWS::SNS::Subscription") {
		if toJSON(s["TopicArn"]) == toJSON(ref(topic)) && s["Protocol"] == "email" {
			emails = append(emails, s["Endpoint"].(string))
		}
	}
	sort.Strings(emails)
	if diff := cmp.Diff(sorted(cfg.Notifications.Failures...), emails); diff != "" {
		t.Errorf("failure subscriptions (-want +got):\n%s", diff)
	}
	assert(t, "topic enforces TLS", func() {
		tpl.HasResourceProperties(jsii.String("AWS::SNS::TopicPolicy"), assertions.Match_ObjectLike(&map[string]any{
			"PolicyDocument": assertions.Match_ObjectLike(&map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{"Action": "sns:Publish", "Effect": "Deny",
					"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}}),
			})}),
		}))
	})
	assert(t, "EventBridge may publish to the topic", func() {
		tpl.HasResourceProperties(jsii.String("AWS::SNS::TopicPolicy"), assertions.Match_ObjectLike(&map[string]any{
			"PolicyDocument": assertions.Match_ObjectLike(&map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{"Action": "sns:Publish", "Effect": "Allow",
					"Principal": map[string]any{"Service": "events.amazonaws.com"}}),
			})}),
		}))
	})
	_, id := one(t, "AWS::SES::EmailIdentity", "Sender")
	if id["EmailIdentity"] != cfg.Notifications.From {
		t.Errorf("SES identity %v, want %s", id["EmailIdentity"], cfg.Notifications.From)
	}
}

// TestStopRule: Step Functions' ABORTED events of this machine's
// executions, on the default bus, invoke the watch function (STOPPED).
func TestStopRule(t *testing.T) {
	synthesized(t)
	machine := map[string]any{"Fn::Join": []any{"", []any{"arn:", ref("AWS::Partition"), ":states:", ref("AWS::Region"), ":", ref("AWS::AccountId"), ":stateMachine:pushline-" + cfg.Name}}}
	watch, _ := one(t, "AWS::Lambda::Function", "Watch")
	_, rule := one(t, "AWS::Events::Rule", "StopRule")
	if rule["EventBusName"] != nil {
		t.Errorf("stop rule on bus %v, want the default bus (Step Functions sends its events there)", rule["EventBusName"])
	}
	jsonEq(t, "stop rule", map[string]any{"EventPattern": rule["EventPattern"], "State": rule["State"], "Target": get(rule, "Targets", 0, "Arn")},
		map[string]any{
			"EventPattern": map[string]any{
				"source": []string{"aws.states"}, "detail-type": []string{"Step Functions Execution Status Change"},
				"detail": map[string]any{"status": []string{"ABORTED"}, "stateMachineArn": []any{machine}},
			},
			"State":  "ENABLED",
			"Target": arnOf(watch),
		})
	if n := len(anyList(rule["Targets"])); n != 1 {
		t.Errorf("%d targets, want 1", n)
	}
	if get(rule, "Targets", 0, "RetryPolicy") == nil {
		t.Errorf("stop rule target has no retry policy")
	}
	assert(t, "EventBridge may invoke the watch function from the stop rule only", func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), assertions.Match_ObjectLike(&map[string]any{
			"Action": "lambda:InvokeFunction", "FunctionName": arnOf(watch), "Principal": "events.amazonaws.com",
			"SourceArn": assertions.Match_ObjectLike(&map[string]any{"Fn::GetAtt": assertions.Match_ArrayWith(&[]any{"Arn"})}),
		}))
	})
}

func TestAPI(t *testing.T) {
	synthesized(t)
	api, a := one(t, "AWS::ApiGateway::RestApi", "Api")
	jsonEq(t, "endpoint", a["EndpointConfiguration"], map[string]any{"Types": []string{"REGIONAL"}})
	_, stage := one(t, "AWS::ApiGateway::Stage", "ApiDeploymentStage")
	access, _ := one(t, "AWS::Logs::LogGroup", "ApiAccessLogs")
	jsonEq(t, "stage", map[string]any{
		"StageName": stage["StageName"], "TracingEnabled": stage["TracingEnabled"], "MethodSettings": stage["MethodSettings"],
		"AccessLogDestination": get(stage, "AccessLogSetting", "DestinationArn"),
	}, map[string]any{
		"StageName": stack.StageName, "TracingEnabled": true,
		"MethodSettings": []any{map[string]any{"DataTraceEnabled": false, "HttpMethod": "*", "LoggingLevel": "ERROR", "MetricsEnabled": true,
			"ResourcePath": "/*", "ThrottlingBurstLimit": 50, "ThrottlingRateLimit": 20}},
		"AccessLogDestination": map[string]any{"Fn::Join": []any{"", []any{"arn:", ref("AWS::Partition"), ":logs:", ref("AWS::Region"), ":",
			ref("AWS::AccountId"), ":log-group:", ref(access)}}},
	})
	functions := map[string]string{}
	for _, f := range []string{"Webhook", "Approval", "Runs"} {
		id, _ := one(t, "AWS::Lambda::Function", f)
		functions[id] = strings.ToLower(f)
	}
	type route struct{ Path, Method, Function string }
	var got []route
	paths := map[string]string{}
	for id, r := range resources("AWS::ApiGateway::Resource") {
		paths[id] = r["PathPart"].(string)
		if parent, ok := get(r, "ParentId", "Ref").(string); ok {
			paths[id] = parent + "/" + paths[id]
		}
	}
	for _, m := range resources("AWS::ApiGateway::Method") {
		if get(m, "RestApiId", "Ref") != api || get(m, "Integration", "Type") != "AWS_PROXY" {
			t.Errorf("method %s: not a proxy integration of the API", toJSON(m))
			continue
		}
		// The root resource's id is the API's RootResourceId attribute.
		path := ""
		if res, ok := get(m, "ResourceId", "Ref").(string); ok {
			path = paths[res]
		} else if toJSON(get(m, "ResourceId")) != toJSON(map[string]any{"Fn::GetAtt": []any{api, "RootResourceId"}}) {
			t.Errorf("method %s: resource neither a Ref nor the root", toJSON(m))
			continue
		}
		for id, p := range paths {
			path = strings.ReplaceAll(path, id, p)
		}
		uri := toJSON(get(m, "Integration", "Uri"))
		name := uri
		for id, f := range functions {
			if strings.Contains(uri, `"`+id+`"`) {
				name = f
			}
		}
		got = append(got, route{"/" + path, m["HttpMethod"].(string), name})
	}
	sort.Slice(got, func(i, j int) bool { return got[i].Path+got[i].Method < got[j].Path+got[j].Method })
	want := []route{{"/", "GET", "runs"}, {"/approvals/{id}", "GET", "approval"}, {"/approvals/{id}", "POST", "approval"},
		{"/runs/{proxy+}", "ANY", "runs"}, {"/webhook", "ANY", "webhook"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("routes (-want +got):\n%s", diff)
	}
}

func TestOutputs(t *testing.T) {
	synthesized(t)
	for _, o := range []string{"ApiUrl", "ApprovalKeySecretArn", "WebhookUrl", "WebhookSecretArn", "WebhookSecretCommand", "ArtifactBucketName", "StateMachineArn", "EventBusName"} {
		assert(t, "output "+o, func() { tpl.HasOutput(jsii.String(o), &map[string]any{}) })
	}
	url := toJSON(get(template, "Outputs", "WebhookUrl", "Value"))
	if !strings.Contains(url, `"/`+stack.StageName+`/webhook"`) {
		t.Errorf("WebhookUrl = %s: want …/%s/webhook", url, stack.StageName)
	}
	cmd := toJSON(get(template, "Outputs", "WebhookSecretCommand", "Value"))
	if !strings.Contains(cmd, "aws secretsmanager get-secret-value") {
		t.Errorf("WebhookSecretCommand = %s", cmd)
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name    string
		ctx     map[string]any
		want    stack.Options
		wantErr bool
	}{
		{"none", nil, stack.Options{}, false},
		{"retention number", map[string]any{ContextRetention: 14.0}, stack.Options{ArtifactRetentionDays: 14}, false},
		{"retention string", map[string]any{ContextRetention: "7"}, stack.Options{ArtifactRetentionDays: 7}, false},
		{"retention fraction", map[string]any{ContextRetention: 1.5}, stack.Options{}, true},
		{"retention zero", map[string]any{ContextRetention: 0.0}, stack.Options{}, true},
		{"retention word", map[string]any{ContextRetention: "week"}, stack.Options{}, true},
		{"permissions object", map[string]any{ContextPermissions: map[string]any{
			"Deploy": []any{map[string]any{"actions": []any{"cloudformation:*"}, "resources": []any{"arn:aws:cloudformation:*:*:stack/app-*"}}},
		}}, stack.Options{Permissions: map[string][]stack.Permission{
			"Deploy": {{Actions: strs("cloudformation:*"), Resources: strs("arn:aws:cloudformation:*:*:stack/app-*")}},
		}}, false},
		{"permissions string", map[string]any{ContextPermissions: `{"Deploy":[{"actions":["s3:PutObject"],"resources":["arn:aws:s3:::site/*"]}]}`},
			stack.Options{Permissions: map[string][]stack.Permission{"Deploy": {{Actions: strs("s3:PutObject"), Resources: strs("arn:aws:s3:::site/*")}}}}, false},
		{"permissions unknown key", map[string]any{ContextPermissions: `{"Deploy":[{"action":["s3:PutObject"]}]}`}, stack.Options{}, true},
		{"permissions not JSON", map[string]any{ContextPermissions: `{`}, stack.Options{}, true},
		{"tokens create", map[string]any{ContextProviderTokens: "create"}, stack.Options{ProviderTokens: "create"}, false},
		{"tokens number", map[string]any{ContextProviderTokens: 1.0}, stack.Options{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := options(func(k string) any { return tt.ctx[k] })
			if tt.wantErr {
				if !errors.Is(err, errContext) {
					t.Errorf("err = %v, want errContext", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func runCommand(name string, args ...string) ([]byte, error) {
	return exec.Command(name, args...).CombinedOutput()
}

// TestCLISynth runs cdk synth as make synth does (offline, the node CLI
// running go run ./infra/cdk) and checks it writes the template the tests
// see. It compiles and synthesizes once more: skipped with -short.
func TestCLISynth(t *testing.T) {
	synthesized(t)
	if testing.Short() {
		t.Skip("-short: skipping cdk synth through the CLI")
	}
	bin, err := filepath.Abs("../../node_modules/.bin/cdk")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("cdk CLI missing (%v): run npm ci", err)
		}
		t.Skipf("cdk CLI missing (%v): run npm ci", err)
	}
	out := t.TempDir()
	cmd := exec.Command(bin, "synth", "--quiet", "-o", out)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "PUSHLINE_ASSET_DIR="+assetDir)
	cmd.Env = slices.DeleteFunc(cmd.Env, func(kv string) bool { return strings.HasPrefix(kv, "CDK_CONTEXT_JSON=") })
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cdk synth: %v\n%s", err, b)
	}
	raw, err := os.ReadFile(filepath.Join(out, stack.ID(cfg.Name)+".template.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(template, got); diff != "" {
		t.Errorf("cdk synth's template differs from the tests' (-tests +cli):\n%s", diff)
	}
}

// TestQueuedVariant synthesizes a second stack: queued mode (the queue
// function), no approval stage, a sender with a display name, configured
// deploy permissions, a provider tokens secret and a shorter retention.
func TestQueuedVariant(t *testing.T) {
	synthesized(t)
	qcfg := variantConfig(t, "queued.json")
	perm := stack.Permission{Actions: strs("cloudformation:*"), Resources: strs("arn:aws:cloudformation:*:*:stack/svc-*/*")}
	synthVariant(t, stack.Options{
		Config: qcfg, ArtifactRetentionDays: 7, ProviderTokens: "create",
		Permissions: map[string][]stack.Permission{"deploy-prod": {perm}},
	})

	if n := len(resources("AWS::Lambda::Function")); n != 8 {
		t.Errorf("%d functions, want 8 (with queue, and status: tokens are configured)", n)
	}
	queue, q := one(t, "AWS::Lambda::Function", "Queue")
	if diff := cmp.Diff(strs("PUSHLINE_CONFIG_JSON", "PUSHLINE_STATE_MACHINE_ARN"), sortedKeys(get(q, "Environment", "Variables"))); diff != "" {
		t.Errorf("queue environment (-want +got):\n%s", diff)
	}
	want := strs("logs:CreateLogStream", "logs:PutLogEvents", "states:DescribeExecution", "states:ListExecutions")
	if diff := cmp.Diff(want, actions(roleOf(t, q, "Role"))); diff != "" {
		t.Errorf("queue role actions (-want +got):\n%s", diff)
	}
	source, src := one(t, "AWS::Lambda::Function", "Source")
	tokens, _ := one(t, "AWS::SecretsManager::Secret", "ProviderTokens")
	jsonEq(t, "PUSHLINE_PROVIDER_TOKENS_ARN", get(src, "Environment", "Variables", "PUSHLINE_PROVIDER_TOKENS_ARN"), ref(tokens))
	if !slices.Contains(actions(roleOf(t, src, "Role")), "secretsmanager:GetSecretValue") {
		t.Error("source role cannot read the provider tokens")
	}

	_, sm := one(t, "AWS::StepFunctions::StateMachine", "StateMachine")
	for _, s := range rolePolicy(roleOf(t, sm, "RoleArn")) {
		if s.Sid == "InvokeSteps" {
			if diff := cmp.Diff(sorted(toJSON(arnOf(source)), toJSON(arnOf(queue))), s.Resources); diff != "" {
				t.Errorf("InvokeSteps (no approval: no notify) (-want +got):\n%s", diff)
			}
		}
	}
	keys := sortedKeys(get(sm, "DefinitionSubstitutions"))
	if diff := cmp.Diff(sorted(statemachine.Keys(qcfg)...), keys); diff != "" {
		t.Errorf("DefinitionSubstitutions keys (-want +got):\n%s", diff)
	}
	def, err := statemachine.Generate(qcfg)
	if err != nil {
		t.Fatal(err)
	}
	if get(sm, "DefinitionString") != string(def) {
		t.Error("DefinitionString is not statemachine.Generate(cfg)")
	}

	_, deploy := one(t, "AWS::CodeBuild::Project", "ProjectDeployProd")
	_, build := one(t, "AWS::CodeBuild::Project", "ProjectBuild")
	var configured []statement
	for _, s := range rolePolicy(roleOf(t, deploy, "ServiceRole")) {
		if strings.HasPrefix(s.Sid, "Configured") {
			configured = append(configured, s)
		}
	}
	if diff := cmp.Diff([]statement{{Sid: "Configured0", Actions: perm.Actions, Resources: perm.Resources}}, configured); diff != "" {
		t.Errorf("deploy-prod configured statements (-want +got):\n%s", diff)
	}
	if slices.Contains(actions(roleOf(t, build, "ServiceRole")), "cloudformation:*") {
		t.Error("the build stage got the deploy stage's permissions")
	}
	jsonEq(t, "build project", map[string]any{"ComputeType": get(build, "Environment", "ComputeType"), "Timeout": build["TimeoutInMinutes"]},
		map[string]any{"ComputeType": "BUILD_GENERAL1_MEDIUM", "Timeout": 20})

	_, bucket := one(t, "AWS::S3::Bucket", "Artifacts")
	if got := get(bucket, "LifecycleConfiguration", "Rules", 0, "ExpirationInDays"); got != 7.0 {
		t.Errorf("retention %v days, want 7", got)
	}
	_, id := one(t, "AWS::SES::EmailIdentity", "Sender")
	if id["EmailIdentity"] != "ci@example.com" {
		t.Errorf("SES identity %v, want the bare address ci@example.com", id["EmailIdentity"])
	}
	if n := len(resources("AWS::SNS::Subscription")); n != 0 {
		t.Errorf("%d subscriptions, want none (no failures configured)", n)
	}
}

func sortedKeys(v any) []string {
	m, _ := v.(map[string]any)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestNewRejects checks the options New refuses before building anything.
func TestNewRejects(t *testing.T) {
	synthesized(t)
	tests := []struct {
		name string
		opts stack.Options
	}{
		{"no config", stack.Options{AssetDir: assetDir}},
		{"no bootstraps", stack.Options{Config: cfg, AssetDir: t.TempDir()}},
		{"negative retention", stack.Options{Config: cfg, AssetDir: assetDir, ArtifactRetentionDays: -1}},
		{"permissions for an approval stage", stack.Options{Config: cfg, AssetDir: assetDir,
			Permissions: map[string][]stack.Permission{"Approve": {{Actions: strs("s3:GetObject"), Resources: strs("*")}}}}},
		{"permissions for no stage", stack.Options{Config: cfg, AssetDir: assetDir,
			Permissions: map[string][]stack.Permission{"Nope": {{Actions: strs("s3:GetObject"), Resources: strs("*")}}}}},
		{"action *", stack.Options{Config: cfg, AssetDir: assetDir,
			Permissions: map[string][]stack.Permission{"Deploy": {{Actions: strs("*"), Resources: strs("*")}}}}},
		{"no resources", stack.Options{Config: cfg, AssetDir: assetDir,
			Permissions: map[string][]stack.Permission{"Deploy": {{Actions: strs("s3:GetObject")}}}}},
		{"bad tokens", stack.Options{Config: cfg, AssetDir: assetDir, ProviderTokens: "yes"}},
		{"too many builds", stack.Options{Config: manyBuilds(t, stack.MaxBuilds+1), AssetDir: assetDir}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// New checks its options before it touches the scope.
			if _, err := stack.New(nil, tt.opts); !errors.Is(err, stack.ErrOptions) {
				t.Errorf("err = %v, want ErrOptions", err)
			}
		})
	}
}

func TestAlarms(t *testing.T) {
	synthesized(t)
	topic, _ := one(t, "AWS::SNS::Topic", "Failures")
	type alarm struct{ Metric, Namespace, Dimension string }
	var got []alarm
	for id, a := range resources("AWS::CloudWatch::Alarm") {
		jsonEq(t, id, map[string]any{"AlarmActions": a["AlarmActions"], "Threshold": a["Threshold"], "ComparisonOperator": a["ComparisonOperator"],
			"TreatMissingData": a["TreatMissingData"], "Statistic": a["Statistic"], "Period": a["Period"]},
			map[string]any{"AlarmActions": []any{ref(topic)}, "Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
				"TreatMissingData": "notBreaching", "Statistic": "Sum", "Period": 300})
		dim := toJSON(get(a, "Dimensions", 0, "Value"))
		got = append(got, alarm{a["MetricName"].(string), a["Namespace"].(string), dim})
	}
	var want []alarm
	for _, f := range []string{"Webhook", "Source", "Notify", "Approval", "Watch", "Runs"} {
		id, _ := one(t, "AWS::Lambda::Function", f)
		want = append(want, alarm{"Errors", "AWS/Lambda", toJSON(ref(id))})
	}
	want = append(want, alarm{"5XXError", "AWS/ApiGateway", `"pushline-` + cfg.Name + `"`})
	less := func(a, b alarm) int { return strings.Compare(a.Metric+a.Dimension, b.Metric+b.Dimension) }
	slices.SortFunc(got, less)
	slices.SortFunc(want, less)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("alarms (-want +got):\n%s", diff)
	}
}
