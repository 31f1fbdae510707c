package statemachine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pushline/pushline/shared/config"
)

// Placeholder keys (without "${" and "}") every definition, or some,
// needs. Build stages add ProjectKey(stage) each.
const (
	KeyArtifactBucket    = "ArtifactBucket"
	KeyEventBusName      = "EventBusName"
	KeySourceFunctionArn = "SourceFunctionArn"
	KeyNotifyFunctionArn = "NotifyFunctionArn" // only with approval stages
	KeyQueueFunctionArn  = "QueueFunctionArn"  // only in queued mode
)

// ErrMissingKey is wrapped by Substitute when a placeholder has no value.
var ErrMissingKey = errors.New("definition placeholder without a value")

// ProjectKey is the placeholder key of the CodeBuild project of a build
// stage or action: "Project" + its name without '-' and '_', each part
// capitalized ("Build" → "ProjectBuild", "deploy-prod" →
// "ProjectDeployProd").
func ProjectKey(stage string) string { return "Project" + config.StageKey(stage) }

// Keys lists the placeholder keys the definition of cfg uses, each once:
// ArtifactBucket, EventBusName, SourceFunctionArn, then NotifyFunctionArn
// if there is an approval stage, QueueFunctionArn in queued mode, then
// ProjectKey of each build stage and action in order (config.Builds), then
// DeployConsoleUrl if there is a deploy stage.
func Keys(cfg *config.Config) []string {
	keys := []string{KeyArtifactBucket, KeyEventBusName, KeySourceFunctionArn}
	for _, s := range cfg.Stages {
		if s.IsApproval() {
			keys = append(keys, KeyNotifyFunctionArn)
			break
		}
	}
	if cfg.Mode == config.ModeQueued {
		keys = append(keys, KeyQueueFunctionArn)
	}
	for _, b := range cfg.Builds() {
		keys = append(keys, ProjectKey(b.Name))
	}
	if hasDeploy(cfg) {
		keys = append(keys, KeyDeployConsoleURL)
	}
	return keys
}

var placeholderRE = regexp.MustCompile(`\$\{([A-Za-z][A-Za-z0-9_]*)\}`)

// Substitute replaces every ${Key} placeholder of def with values[Key],
// escaped for a JSON string, as CloudFormation's DefinitionSubstitutions
// do. It fails, naming every key, if a placeholder has no value; values
// no placeholder uses are ignored.
func Substitute(def []byte, values map[string]string) ([]byte, error) {
	var missing []string
	out := placeholderRE.ReplaceAllFunc(def, func(m []byte) []byte {
		key := string(m[2 : len(m)-1])
		v, ok := values[key]
		if !ok {
			if !slices.Contains(missing, key) {
				missing = append(missing, key)
			}
			return m
		}
		var b strings.Builder
		for _, c := range v {
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteRune(c)
			case c < 0x20:
				fmt.Fprintf(&b, `\u%04x`, c)
			default:
				b.WriteRune(c)
			}
		}
		return []byte(b.String())
	})
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("substitute %s: %w", strings.Join(missing, ", "), ErrMissingKey)
	}
	return out, nil
}

// Generate returns the state machine definition of cfg: Amazon States
// Language, JSONPath, for a Standard workflow; indented JSON (compact
// above 512 KiB), the same bytes for the same config. Environment-specific values are ${Key}
// placeholders (see Keys). cfg must be valid (config.Parse's result: the
// deprecated input already folded into inputs).
func Generate(cfg *config.Config) ([]byte, error) {
	if cfg == nil {
		return nil, errors.New("generate definition: no config")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("generate definition: %w", err)
	}
	g := newGen(cfg)
	def := g.definition()
	if g.err != nil {
		return nil, g.err
	}
	out, err := marshal(def)
	if err != nil || len(out) <= maxIndented {
		return out, err
	}
	var b bytes.Buffer
	if err := json.Compact(&b, out); err != nil {
		return nil, fmt.Errorf("generate definition: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// maxIndented is the size above which Generate writes the definition
// without indentation: Step Functions takes at most 1 MiB, and a pipeline
// of 20 stages of 5 actions is 1.2 MB indented, 0.7 MB compact.
const maxIndented = 512 << 10
