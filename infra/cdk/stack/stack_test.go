package stack

import (
	"testing"

	"github.com/pushline/pushline/shared/config"
)

// The CDK app's tests (infra/cdk) synthesize the stack; these need no jsii.

func TestComputeTypesCoverConfig(t *testing.T) {
	for _, ct := range config.ComputeTypes {
		if _, ok := computeTypes[ct]; !ok {
			t.Errorf("config allows compute type %s, the stack does not map it", ct)
		}
	}
	if len(computeTypes) != len(config.ComputeTypes) {
		t.Errorf("the stack maps %d compute types, the config allows %d", len(computeTypes), len(config.ComputeTypes))
	}
}

func TestSenderAddress(t *testing.T) {
	tests := []struct{ from, want string }{
		{"pushline@example.com", "pushline@example.com"},
		{"Pushline <ci@example.com>", "ci@example.com"},
		{`"CI, bot" <ci@example.com>`, "ci@example.com"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := senderAddress(tt.from); got != tt.want {
			t.Errorf("senderAddress(%q) = %q, want %q", tt.from, got, tt.want)
		}
	}
}

func TestID(t *testing.T) {
	if got := ID("app"); got != "pushline-app" {
		t.Errorf("ID(app) = %q", got)
	}
}
