package statemachine

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pushline/pushline/shared/config"
)

var update = flag.Bool("update", false, "rewrite testdata/*.asl.json goldens")

// configs returns the example configs of testdata, by base name.
func configs(t testing.TB) map[string]*config.Config {
	t.Helper()
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*config.Config{}
	for _, f := range files {
		if strings.HasSuffix(f, ".asl.json") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = cfg
	}
	if len(out) < 6 {
		t.Fatalf("only %d example configs", len(out))
	}
	return out
}

func TestGolden(t *testing.T) {
	for name, cfg := range configs(t) {
		t.Run(name, func(t *testing.T) {
			def, err := Generate(cfg)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := Generate(cfg)
			if !bytes.Equal(def, again) {
				t.Fatal("Generate is not deterministic")
			}
			golden := filepath.Join("testdata", name+".asl.json")
			if *update {
				if err := os.WriteFile(golden, def, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./shared/statemachine -update)", err)
			}
			if d := cmp.Diff(string(want), string(def)); d != "" {
				t.Errorf("definition differs from %s (-want +got; refresh with -update):\n%s", golden, d)
			}
		})
	}
}

// TestASLValidator runs npm's asl-validator on every golden definition.
func TestASLValidator(t *testing.T) {
	bin, err := filepath.Abs("../../node_modules/.bin/asl-validator")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("asl-validator missing (run npm ci): %v", err)
		}
		t.Skipf("asl-validator missing (run npm ci): %v", err)
	}
	goldens, _ := filepath.Glob("testdata/*.asl.json")
	if len(goldens) == 0 {
		t.Fatal("no goldens")
	}
	args := []string{}
	for _, g := range goldens {
		args = append(args, "--json-path", g)
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("asl-validator: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), "is valid"); n != len(goldens) {
		t.Errorf("asl-validator validated %d of %d definitions:\n%s", n, len(goldens), out)
	}
}

func TestKeys(t *testing.T) {
	cfgs := configs(t)
	tests := []struct {
		name string
		want []string
	}{
		{"cdk", []string{"ArtifactBucket", "EventBusName", "SourceFunctionArn", "NotifyFunctionArn", "ProjectBuild", "ProjectTest", "ProjectDeploy"}},
		{"minimal", []string{"ArtifactBucket", "EventBusName", "SourceFunctionArn", "ProjectBuild"}},
		{"queued", []string{"ArtifactBucket", "EventBusName", "SourceFunctionArn", "NotifyFunctionArn", "QueueFunctionArn", "ProjectPlan", "ProjectApply"}},
		{"inputs", []string{"ArtifactBucket", "EventBusName", "SourceFunctionArn", "NotifyFunctionArn", "ProjectCompile", "ProjectLintCode", "ProjectPackageZip", "ProjectDeploy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, Keys(cfgs[tt.name])); d != "" {
				t.Errorf("Keys (-want +got):\n%s", d)
			}
		})
	}
	// Every key Keys lists is used, and every placeholder is listed.
	for name, cfg := range cfgs {
		def, _ := Generate(cfg)
		var used []string
		for _, m := range placeholderRE.FindAllSubmatch(def, -1) {
			if k := string(m[1]); !contains(used, k) {
				used = append(used, k)
			}
		}
		keys := Keys(cfg)
		for _, k := range keys {
			if !contains(used, k) {
				t.Errorf("%s: key %s listed but not used", name, k)
			}
		}
		for _, k := range used {
			if !contains(keys, k) {
				t.Errorf("%s: placeholder %s used but not listed", name, k)
			}
		}
	}
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

func TestProjectKey(t *testing.T) {
	for in, want := range map[string]string{
		"Build": "ProjectBuild", "deploy-prod": "ProjectDeployProd", "unit_tests": "ProjectUnitTests",
		"Step01": "ProjectStep01", "a-b_c": "ProjectABC",
	} {
		if got := ProjectKey(in); got != want {
			t.Errorf("ProjectKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSubstitute(t *testing.T) {
	cfg := configs(t)["cdk"]
	def, _ := Generate(cfg)
	values := map[string]string{
		"ArtifactBucket":    "pushline-app-artifacts",
		"EventBusName":      "pushline-app",
		"SourceFunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:pushline-app-source",
		"NotifyFunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:pushline-app-notify",
		"ProjectBuild":      "pushline-app-Build",
		"ProjectTest":       "pushline-app-Test",
		"ProjectDeploy":     `odd "name" \ here`,
		"Unused":            "x",
	}
	out, err := Substitute(def, values)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("${")) {
		t.Error("placeholders left")
	}
	var v map[string]any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("substituted definition is not JSON: %v", err)
	}
	if !bytes.Contains(out, []byte(`"ProjectName": "odd \"name\" \\ here"`)) {
		t.Error("value not escaped for JSON")
	}

	delete(values, "ProjectTest")
	delete(values, "EventBusName")
	_, err = Substitute(def, values)
	if !errors.Is(err, ErrMissingKey) || err.Error() != "substitute EventBusName, ProjectTest: definition placeholder without a value" {
		t.Errorf("err = %v", err)
	}
}

func TestGenerateInvalid(t *testing.T) {
	if _, err := Generate(nil); err == nil {
		t.Error("nil config: no error")
	}
	_, err := Generate(&config.Config{Name: "x"})
	if !errors.Is(err, config.ErrInvalid) {
		t.Errorf("err = %v, want config.ErrInvalid", err)
	}
}

func BenchmarkGenerate(b *testing.B) {
	cfg := configs(b)["many"]
	for b.Loop() {
		if _, err := Generate(cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPathsShorthand checks that every JSONPath in the definitions uses
// only dot notation with member-name-shorthand names (letters, digits,
// '_'): AWS requires bracket notation for anything else, and some
// engines do not parse it inside intrinsic functions.
var skipBracketRE = regexp.MustCompile(`^\$\.skip\['[A-Za-z][A-Za-z0-9_-]*'\]"`)

func TestPathsShorthand(t *testing.T) {
	pathRE := regexp.MustCompile(`\$\$?((?:\.[^.\s,)"']+)*)`)
	segRE := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// The failures filter (a Parameters value of its own, never inside an
	// intrinsic) is the one path that cannot be a reference path.
	filter := regexp.MustCompile(`"failures\.\$":\s*"` + regexp.QuoteMeta(failuresPath) + `"`)
	for name, cfg := range configs(t) {
		def, _ := Generate(cfg)
		def = filter.ReplaceAll(def, []byte(`"failures":[]`))
		if bytes.Contains(def, []byte("[?(")) {
			t.Errorf("%s: a filter other than the failures path", name)
		}
		for _, m := range pathRE.FindAllSubmatch(def, -1) {
			if bytes.HasPrefix(m[0], []byte("${")) {
				continue
			}
			// A skip flag is $.skip['name'] for a stage name with '-'
			// (a Choice variable, never inside an intrinsic).
			if string(m[1]) == ".skip[" && skipBracketRE.Match(def[bytes.Index(def, m[0]):]) {
				continue
			}
			for _, seg := range strings.Split(strings.TrimPrefix(string(m[1]), "."), ".") {
				if seg != "" && !segRE.MatchString(seg) {
					t.Errorf("%s: path %s has segment %q", name, m[0], seg)
				}
			}
		}
	}
}

// TestCDKExampleCurrent keeps testdata/cdk.json (the config the docs'
// figures are for) equal to the repository's cdk.json config.
func TestCDKExampleCurrent(t *testing.T) {
	data, err := os.ReadFile("../../cdk.json")
	if err != nil {
		t.Skipf("no cdk.json: %v", err)
	}
	var doc struct {
		Context struct {
			Pushline json.RawMessage `json:"pushline"`
		} `json:"context"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	repo, err := config.Parse(doc.Context.Pushline)
	if err != nil {
		t.Fatalf("cdk.json: %v", err)
	}
	if d := cmp.Diff(configs(t)["cdk"], repo); d != "" {
		t.Errorf("testdata/cdk.json differs from cdk.json's config (copy it, run -update, check docs/state-machine.md's figures):\n%s", d)
	}
}

// TestReachable checks that every state can be reached from StartAt,
// every transition names an existing state, and every task retries and
// catches.
func TestReachable(t *testing.T) {
	for name, cfg := range configs(t) {
		def, _ := Generate(cfg)
		var d machineStates
		if err := json.Unmarshal(def, &d); err != nil {
			t.Fatal(err)
		}
		checkReachable(t, name, d)
	}
}

type machineStates struct {
	StartAt string
	States  map[string]map[string]any
}

// checkReachable checks one machine, or a Parallel state's branch.
func checkReachable(t *testing.T, name string, d machineStates) {
	t.Helper()
	{
		seen := map[string]bool{}
		var visit func(s string)
		visit = func(s string) {
			if seen[s] {
				return
			}
			st, ok := d.States[s]
			if !ok {
				t.Errorf("%s: transition to missing state %q", name, s)
				return
			}
			seen[s] = true
			for _, b := range asSlice(st["Branches"]) {
				raw, _ := json.Marshal(b)
				var sub machineStates
				_ = json.Unmarshal(raw, &sub)
				checkReachable(t, name+"/"+s, sub)
			}
			if st["Type"] == "Task" || st["Type"] == "Parallel" && len(asSlice(st["Catch"])) == 0 {
				catches := asSlice(st["Catch"])
				if len(catches) == 0 || asSlice(catches[len(catches)-1].(map[string]any)["ErrorEquals"])[0] != "States.ALL" || len(asSlice(st["Retry"])) == 0 {
					t.Errorf("%s: task %q lacks a Retry or a final States.ALL Catch", name, s)
				}
			}
			var next []string
			for _, k := range []string{"Next", "Default"} {
				if n, ok := st[k].(string); ok {
					next = append(next, n)
				}
			}
			for _, k := range []string{"Choices", "Catch"} {
				for _, c := range asSlice(st[k]) {
					next = append(next, c.(map[string]any)["Next"].(string))
				}
			}
			for _, n := range next {
				visit(n)
			}
		}
		visit(d.StartAt)
		for s := range d.States {
			if !seen[s] {
				t.Errorf("%s: state %q unreachable", name, s)
			}
			if len(s) > 80 {
				t.Errorf("%s: state name %q over 80 characters", name, s)
			}
		}
	}
}

// TestStageNamesLikeHelperStates generates a machine whose stages are
// named like the machine's own states would be without their suffixes.
func TestStageNamesLikeHelperStates(t *testing.T) {
	var stages []config.Stage
	for _, n := range []string{"Queue", "Failed", "Pipeline", "Failure", "Build", "Approval", "Succeeded"} {
		stages = append(stages, config.Stage{Name: n, Build: config.Build{Buildspec: "b.yml"}})
	}
	cfg := &config.Config{Name: "x", Mode: config.ModeQueued, Repositories: []config.Repository{{Provider: "github", Repository: "a/b"}}, Stages: stages}
	if _, err := Generate(cfg); err != nil {
		t.Fatal(err)
	}
}
