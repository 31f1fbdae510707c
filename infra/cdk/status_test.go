package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pushline/pushline/infra/cdk/stack"
	"github.com/pushline/pushline/shared/event"
)

// TestStatusVariant synthesizes the stack with provider tokens (cdk-nag
// checked): the status rule, the status function, its table and its
// least-privilege role.
func TestStatusVariant(t *testing.T) {
	synthesized(t)
	synthVariant(t, stack.Options{Config: cfg, ProviderTokens: "create"})

	fnID, fn := one(t, "AWS::Lambda::Function", "Status")
	tableID, table := one(t, "AWS::DynamoDB::Table", "Statuses")
	tokens, _ := one(t, "AWS::SecretsManager::Secret", "ProviderTokens")
	vars := get(fn, "Environment", "Variables")
	if diff := cmp.Diff(strs("PUSHLINE_APPROVAL_KEY_ARN", "PUSHLINE_CONFIG_JSON", "PUSHLINE_PROVIDER_TOKENS_ARN", "PUSHLINE_PUBLIC_URL", "PUSHLINE_STATUS_TABLE"), sortedKeys(vars)); diff != "" {
		t.Errorf("status environment (-want +got):\n%s", diff)
	}
	jsonEq(t, "PUSHLINE_STATUS_TABLE", get(vars, "PUSHLINE_STATUS_TABLE"), ref(tableID))
	jsonEq(t, "PUSHLINE_PROVIDER_TOKENS_ARN", get(vars, "PUSHLINE_PROVIDER_TOKENS_ARN"), ref(tokens))
	// The run page links of the statuses: under the API's URL, signed with
	// the approval key (below).
	jsonEq(t, "PUSHLINE_PUBLIC_URL", get(vars, "PUSHLINE_PUBLIC_URL"), get(template, "Outputs", "ApiUrl", "Value"))
	jsonEq(t, "table", map[string]any{"KeySchema": table["KeySchema"], "TimeToLiveSpecification": table["TimeToLiveSpecification"], "BillingMode": table["BillingMode"]},
		map[string]any{"KeySchema": []any{map[string]any{"AttributeName": "k", "KeyType": "HASH"}},
			"TimeToLiveSpecification": map[string]any{"AttributeName": "ttl", "Enabled": true}, "BillingMode": "PAY_PER_REQUEST"})

	role := roleOf(t, fn, "Role")
	want := strs("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "logs:CreateLogStream", "logs:PutLogEvents",
		"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "states:DescribeExecution")
	if diff := cmp.Diff(want, actions(role)); diff != "" {
		t.Errorf("status role actions (-want +got):\n%s", diff)
	}
	executions := toJSON(map[string]any{"Fn::Join": []any{"", []any{"arn:", ref("AWS::Partition"), ":states:", ref("AWS::Region"), ":", ref("AWS::AccountId"), ":execution:pushline-" + cfg.Name + ":*"}}})
	for _, s := range rolePolicy(role) {
		switch s.Sid {
		case "OrderStatuses":
			if diff := cmp.Diff([]string{toJSON(arnOf(tableID))}, s.Resources); diff != "" {
				t.Errorf("OrderStatuses resources (-want +got):\n%s", diff)
			}
		case "DescribeExecutions":
			if diff := cmp.Diff([]string{executions}, s.Resources); diff != "" {
				t.Errorf("DescribeExecutions resources (-want +got):\n%s", diff)
			}
		}
		for _, r := range s.Resources {
			if r == `"*"` {
				t.Errorf("statement %s on every resource", s.Sid)
			}
		}
	}

	approvalKey, _ := one(t, "AWS::SecretsManager::Secret", "ApprovalKey")
	jsonEq(t, "PUSHLINE_APPROVAL_KEY_ARN", get(vars, "PUSHLINE_APPROVAL_KEY_ARN"), ref(approvalKey))
	secrets := map[string]bool{}
	for _, s := range rolePolicy(role) {
		for _, r := range s.Resources {
			secrets[r] = true
		}
	}
	for _, sec := range []string{tokens, approvalKey} {
		if !secrets[toJSON(ref(sec))] {
			t.Errorf("the status role cannot read %s", sec)
		}
	}

	ruleID, rule := one(t, "AWS::Events::Rule", "StatusRule")
	bus, _ := one(t, "AWS::Events::EventBus", "Bus")
	jsonEq(t, ruleID, map[string]any{"EventBusName": rule["EventBusName"], "EventPattern": rule["EventPattern"], "Target": get(rule, "Targets", 0, "Arn")},
		map[string]any{"EventBusName": ref(bus), "Target": arnOf(fnID), "EventPattern": map[string]any{
			"source": []string{event.Source}, "detail-type": []string{event.PipelineExecution, event.StageExecution, event.Approval}}})
	one(t, "AWS::CloudWatch::Alarm", "StatusErrors")
}
