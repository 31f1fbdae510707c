package codebuild

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Build statuses (Build.BuildStatus and Phase.PhaseStatus), as CodeBuild names them.
const (
	StatusInProgress = "IN_PROGRESS"
	StatusSucceeded  = "SUCCEEDED"
	StatusFailed     = "FAILED"
	StatusFault      = "FAULT"
	StatusTimedOut   = "TIMED_OUT"
	StatusStopped    = "STOPPED"
)

// Phase types, in the order a build goes through them.
const (
	PhaseSubmitted       = "SUBMITTED"
	PhaseQueued          = "QUEUED"
	PhaseProvisioning    = "PROVISIONING"
	PhaseDownloadSource  = "DOWNLOAD_SOURCE"
	PhaseInstall         = "INSTALL"
	PhasePreBuild        = "PRE_BUILD"
	PhaseBuild           = "BUILD"
	PhasePostBuild       = "POST_BUILD"
	PhaseUploadArtifacts = "UPLOAD_ARTIFACTS"
	PhaseFinalizing      = "FINALIZING"
	PhaseCompleted       = "COMPLETED"
)

// StartBuildInput is the StartBuild request. It decodes straight from the
// Step Functions codebuild:startBuild Parameters (PascalCase) and, because
// encoding/json matches keys case-insensitively, from the CodeBuild API's
// camelCase request too. Fields the local runner has no use for are ignored.
type StartBuildInput struct {
	ProjectName            string `json:"ProjectName"`
	SourceTypeOverride     string `json:"SourceTypeOverride,omitempty"`     // S3 (default) or NO_SOURCE
	SourceLocationOverride string `json:"SourceLocationOverride,omitempty"` // "bucket/key" of a zip
	SourceVersion          string `json:"SourceVersion,omitempty"`
	BuildspecOverride      string `json:"BuildspecOverride,omitempty"` // path in the source, inline YAML, or arn:aws:s3:::bucket/key
	// SecondarySourcesOverride adds S3 zips unpacked at
	// $CODEBUILD_SRC_DIR_<SourceIdentifier> before the first phase.
	SecondarySourcesOverride     []Source              `json:"SecondarySourcesOverride,omitempty"`
	ArtifactsOverride            *ArtifactsOverride    `json:"ArtifactsOverride,omitempty"`
	EnvironmentVariablesOverride []EnvironmentVariable `json:"EnvironmentVariablesOverride,omitempty"`
	TimeoutInMinutesOverride     int                   `json:"TimeoutInMinutesOverride,omitempty"`
	IdempotencyToken             string                `json:"IdempotencyToken,omitempty"`
	// PrivilegedModeOverride overrides the project's privileged mode
	// (Options.Projects): the build uses the host's Docker engine.
	PrivilegedModeOverride *bool `json:"PrivilegedModeOverride,omitempty"`
	// Initiator is not part of the API: who started the build (CODEBUILD_INITIATOR).
	// Empty means "pushline-local".
	Initiator string `json:"Initiator,omitempty"`
	// Untrusted is not part of the API: the build runs code nobody vetted (a
	// fork's pull request). It is refused without a sandbox (ErrNoSandbox),
	// gets no secrets and, in the sandbox, no network.
	Untrusted bool `json:"-"`
}

// ArtifactsOverride is StartBuild's artifactsOverride.
type ArtifactsOverride struct {
	Type                 string `json:"Type"` // S3 or NO_ARTIFACTS
	Location             string `json:"Location,omitempty"`
	Path                 string `json:"Path,omitempty"`
	Name                 string `json:"Name,omitempty"`
	Packaging            string `json:"Packaging,omitempty"`     // ZIP or NONE
	NamespaceType        string `json:"NamespaceType,omitempty"` // NONE or BUILD_ID
	OverrideArtifactName bool   `json:"OverrideArtifactName,omitempty"`
	EncryptionDisabled   bool   `json:"EncryptionDisabled,omitempty"`
}

// EnvironmentVariable is one environment variable of a build.
type EnvironmentVariable struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
	Type  string `json:"Type,omitempty"` // PLAINTEXT (default); PARAMETER_STORE and SECRETS_MANAGER are refused locally
}

// Build mirrors CodeBuild's Build object. Its JSON (encoding/json, or
// PascalJSON) is the PascalCase form Step Functions returns from
// codebuild:startBuild.sync inside {"Build": …}, with times as epoch
// milliseconds; APIJSON gives the CodeBuild API's camelCase form.
type Build struct {
	Id                           string             `json:"Id"`
	Arn                          string             `json:"Arn"`
	BuildNumber                  int64              `json:"BuildNumber"`
	StartTime                    *Time              `json:"StartTime,omitempty"`
	EndTime                      *Time              `json:"EndTime,omitempty"`
	CurrentPhase                 string             `json:"CurrentPhase"`
	BuildStatus                  string             `json:"BuildStatus"`
	SourceVersion                string             `json:"SourceVersion,omitempty"`
	ResolvedSourceVersion        string             `json:"ResolvedSourceVersion,omitempty"`
	ProjectName                  string             `json:"ProjectName"`
	Phases                       []Phase            `json:"Phases"`
	Source                       Source             `json:"Source"`
	SecondarySources             []Source           `json:"SecondarySources,omitempty"`
	Artifacts                    BuildArtifacts     `json:"Artifacts"`
	Environment                  Environment        `json:"Environment"`
	Logs                         Logs               `json:"Logs"`
	TimeoutInMinutes             int                `json:"TimeoutInMinutes"`
	QueuedTimeoutInMinutes       int                `json:"QueuedTimeoutInMinutes"`
	BuildComplete                bool               `json:"BuildComplete"`
	Initiator                    string             `json:"Initiator"`
	ExportedEnvironmentVariables []ExportedVariable `json:"ExportedEnvironmentVariables,omitempty"`
	ReportArns                   []string           `json:"ReportArns,omitempty"`
}

// Phase is one entry of Build.Phases.
type Phase struct {
	PhaseType         string         `json:"PhaseType"`
	PhaseStatus       string         `json:"PhaseStatus,omitempty"`
	StartTime         *Time          `json:"StartTime,omitempty"`
	EndTime           *Time          `json:"EndTime,omitempty"`
	DurationInSeconds *int64         `json:"DurationInSeconds,omitempty"`
	Contexts          []PhaseContext `json:"Contexts,omitempty"`
}

// PhaseContext explains a phase's outcome (StatusCode e.g. COMMAND_EXECUTION_ERROR).
type PhaseContext struct {
	StatusCode string `json:"StatusCode"`
	Message    string `json:"Message"`
}

// Source is the build's source, or one of its secondary sources (which have
// a SourceIdentifier).
type Source struct {
	Type             string `json:"Type"`
	Location         string `json:"Location,omitempty"`
	Buildspec        string `json:"Buildspec,omitempty"`
	SourceIdentifier string `json:"SourceIdentifier,omitempty"`
}

// BuildArtifacts is where the build's output artifact went.
type BuildArtifacts struct {
	Location  string `json:"Location,omitempty"` // arn:aws:s3:::bucket/path/name
	Sha256sum string `json:"Sha256sum,omitempty"`
	Md5sum    string `json:"Md5sum,omitempty"`
}

// Environment describes the build environment (always the local machine).
type Environment struct {
	Type                     string                `json:"Type"`
	Image                    string                `json:"Image"`
	ComputeType              string                `json:"ComputeType"`
	EnvironmentVariables     []EnvironmentVariable `json:"EnvironmentVariables"`
	PrivilegedMode           bool                  `json:"PrivilegedMode"`
	ImagePullCredentialsType string                `json:"ImagePullCredentialsType"`
}

// Logs says where the build's log is.
type Logs struct {
	GroupName  string `json:"GroupName"`
	StreamName string `json:"StreamName"`
	DeepLink   string `json:"DeepLink"`
}

// ExportedVariable is one env.exported-variables value captured at the end of the build.
type ExportedVariable struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// Time is a timestamp that encodes as epoch milliseconds (as Step Functions
// returns CodeBuild's times) and decodes from epoch milliseconds, epoch
// seconds with a fraction (the CodeBuild API) or RFC 3339.
type Time struct{ time.Time }

func newTime(t time.Time) *Time { return &Time{t.UTC().Truncate(time.Millisecond)} }

// MarshalJSON encodes epoch milliseconds.
func (t Time) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, t.UnixMilli(), 10), nil
}

// UnmarshalJSON accepts epoch milliseconds, epoch seconds or an RFC 3339 string.
func (t *Time) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fmt.Errorf("time %q: %w", s, err)
		}
		t.Time = v.UTC()
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("time %s: %w", b, err)
	}
	if f > 1e11 { // milliseconds
		t.Time = time.UnixMilli(int64(f)).UTC()
	} else {
		t.Time = time.UnixMilli(int64(f * 1000)).UTC()
	}
	return nil
}

// Succeeded reports whether the build ended SUCCEEDED.
func (b *Build) Succeeded() bool { return b.BuildStatus == StatusSucceeded }

// Failure gives what Step Functions' codebuild:startBuild.sync fails the task
// with when the build ends other than SUCCEEDED: error "States.TaskFailed" and
// cause the JSON of {"Build": <the build, PascalCase>}. For a build that
// succeeded or is still running it returns "", "".
func (b *Build) Failure() (name, cause string) {
	if !b.BuildComplete || b.Succeeded() {
		return "", ""
	}
	data, err := json.Marshal(struct{ Build *Build }{b})
	if err != nil { // cannot happen: Build has only plain fields
		return "States.TaskFailed", fmt.Sprintf("build %s %s", b.Id, b.BuildStatus)
	}
	return "States.TaskFailed", string(data)
}

// Output is the task result Step Functions gives for a codebuild:startBuild(.sync)
// task: {"Build": …}.
func (b *Build) Output() ([]byte, error) {
	return json.Marshal(struct{ Build *Build }{b})
}

// APIJSON encodes the build as the CodeBuild JSON API does: camelCase keys and
// times as epoch seconds.
func (b *Build) APIJSON() (json.RawMessage, error) {
	data, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encode build: %w", err)
	}
	return camelJSON(data)
}

// camelJSON rewrites PascalCase JSON to camelCase, turning the millisecond
// values of keys ending in "Time" into seconds.
func camelJSON(data []byte) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode build: %w", err)
	}
	out, err := json.Marshal(camel(v, ""))
	if err != nil {
		return nil, fmt.Errorf("encode build: %w", err)
	}
	return out, nil
}

func camel(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			m[lowerFirst(k)] = camel(val, k)
		}
		return m
	case []any:
		for i := range x {
			x[i] = camel(x[i], "")
		}
		return x
	case json.Number:
		if strings.HasSuffix(key, "Time") {
			if ms, err := x.Int64(); err == nil {
				return json.Number(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64))
			}
		}
		return x
	}
	return v
}

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}

// clone deep-copies a build (its JSON round trip is exact).
func (b *Build) clone() *Build {
	data, err := json.Marshal(b)
	if err != nil {
		panic(fmt.Sprintf("codebuild: clone build: %v", err)) // unreachable: plain data
	}
	var c Build
	if err := json.Unmarshal(data, &c); err != nil {
		panic(fmt.Sprintf("codebuild: clone build: %v", err))
	}
	return &c
}
