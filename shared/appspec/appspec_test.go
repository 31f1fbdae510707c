package appspec

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseFull(t *testing.T) {
	data, err := os.ReadFile("testdata/full.yml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse("appspec.yml", data)
	if err != nil {
		t.Fatal(err)
	}
	want := &Spec{
		Version: "0.0", OS: Linux, FileExistsBehavior: Overwrite,
		Files: []File{
			{Source: "/", Destination: "/var/www/app", Line: 4},
			{Source: "config/app.conf", Destination: "/etc/app", Line: 6},
		},
		Permissions: []Permission{
			{Object: "/var/www/app", Pattern: "**", Except: []string{"secret.txt"}, Owner: "www", Group: "www", Mode: 0o644, HasMode: true, Type: []string{"file"}, Line: 10},
			{Object: "/var/www/app/bin", Pattern: "**", Mode: 0o755, HasMode: true, Line: 18},
		},
		Hooks: map[string][]Script{
			ApplicationStop:  {{Location: "scripts/stop.sh", Timeout: time.Minute, Line: 24}},
			BeforeInstall:    {{Location: "scripts/clean.sh", Timeout: DefaultTimeout, Line: 27}},
			AfterInstall:     {{Location: "scripts/config.sh", Timeout: 5 * time.Minute, RunAs: "root", Line: 29}},
			ApplicationStart: {{Location: "scripts/start.sh", Timeout: time.Minute, Line: 33}},
			ValidateService: {
				{Location: "scripts/check.sh", Timeout: 30 * time.Second, Line: 36},
				{Location: "scripts/smoke.sh", Timeout: 30 * time.Second, Line: 38},
			},
		},
		Ignored: []string{"permissions[1].acls (line 20)"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("spec (-want +got):\n%s", d)
	}
}

func TestParseGood(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     *Spec
	}{
		{"minimal", "version: 0.0\nos: linux\n", &Spec{Version: "0.0", OS: Linux, FileExistsBehavior: Disallow}},
		{"windows, empty sections", "version: 0.0\nos: windows\nfiles:\nhooks:\npermissions:\n", &Spec{Version: "0.0", OS: Windows, FileExistsBehavior: Disallow}},
		{"lower-case behaviour", "version: 0.0\nos: linux\nfile_exists_behavior: retain\n", &Spec{Version: "0.0", OS: Linux, FileExistsBehavior: Retain}},
		{"an hour in one script", "version: 0.0\nos: linux\nhooks:\n  ValidateService:\n    - location: a\n      timeout: 3600\n",
			&Spec{Version: "0.0", OS: Linux, FileExistsBehavior: Disallow, Hooks: map[string][]Script{ValidateService: {{Location: "a", Timeout: time.Hour, Line: 5}}}}},
		{"JSON form", `{"version": 0.0, "os": "linux", "files": [{"source": "/", "destination": "/srv"}]}`,
			&Spec{Version: "0.0", OS: Linux, FileExistsBehavior: Disallow, Files: []File{{Source: "/", Destination: "/srv", Line: 1}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse("appspec.yml", []byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("spec (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", "appspec.yml: the AppSpec file is empty"},
		{"only a comment", "# nothing\n", "appspec.yml: the AppSpec file is empty"},
		{"a list", "- a\n", "appspec.yml:1: the AppSpec file must be a mapping with version and os, not a list"},
		{"no version", "os: linux\n", `appspec.yml:1: version is missing: add "version: 0.0"`},
		{"bad version", "version: 0.2\nos: linux\n", `appspec.yml:1: version must be 0.0 (the only AppSpec version), not the value "0.2"`},
		{"no os", "version: 0.0\n", `appspec.yml:1: os is missing: add "os: linux" or "os: windows"`},
		{"bad os", "version: 0.0\nos: macos\n", `appspec.yml:2: os must be linux or windows, not the value "macos"`},
		{"unknown key", "version: 0.0\nos: linux\nfiels: []\n", `appspec.yml:3: unknown key "fiels"; allowed: version, os, files, file_exists_behavior, permissions, hooks`},
		{"ECS form", "version: 0.0\nResources: []\n", "appspec.yml:2: Resources belongs to a Lambda or ECS AppSpec file; this deployment is EC2/on-premises (files and hooks)"},
		{"repeated key", "version: 0.0\nos: linux\nos: linux\n", `appspec.yml:3: the AppSpec file: key "os" is repeated (first at line 2)`},
		{"files not a list", "version: 0.0\nos: linux\nfiles: /\n", `appspec.yml:3: files must be a list, not the value "/"`},
		{"file without destination", "version: 0.0\nos: linux\nfiles:\n  - source: /\n", "appspec.yml:4: files[0].destination is missing: where on the instance the files go"},
		{"file without source", "version: 0.0\nos: linux\nfiles:\n  - destination: /srv\n", "appspec.yml:4: files[0].source is missing: a file or directory of the revision, / for all of it"},
		{"file unknown key", "version: 0.0\nos: linux\nfiles:\n  - source: /\n    destination: /srv\n    overwrite: true\n", `appspec.yml:6: files[0]: unknown key "overwrite"; allowed: source, destination`},
		{"bad behaviour", "version: 0.0\nos: linux\nfile_exists_behavior: KEEP\n", `appspec.yml:3: file_exists_behavior must be DISALLOW, OVERWRITE or RETAIN, not the value "KEEP"`},
		{"bad mode", "version: 0.0\nos: linux\npermissions:\n  - object: /srv\n    mode: 999\n", `appspec.yml:5: permissions[0].mode must be an octal mode such as 644 or 4755, not the value "999"`},
		{"permission without object", "version: 0.0\nos: linux\npermissions:\n  - mode: 644\n", "appspec.yml:4: permissions[0].object is missing: the path on the instance the permissions apply to"},
		{"bad type", "version: 0.0\nos: linux\npermissions:\n  - object: /srv\n    type: [socket]\n", `appspec.yml:5: permissions[0].type: "socket" is not file or directory`},
		{"reserved event", "version: 0.0\nos: linux\nhooks:\n  Install:\n    - location: a\n", "appspec.yml:4: hooks: Install is run by CodeDeploy itself and cannot be scripted"},
		{"unknown event", "version: 0.0\nos: linux\nhooks:\n  AfterStart:\n    - location: a\n", `appspec.yml:4: hooks: unknown lifecycle event "AfterStart"; allowed: ApplicationStop, BeforeBlockTraffic, AfterBlockTraffic, BeforeInstall, AfterInstall, ApplicationStart, ValidateService, BeforeAllowTraffic, AfterAllowTraffic`},
		{"hook not a list", "version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    location: a\n", "appspec.yml:5: hooks.AfterInstall must be a list, not a mapping"},
		{"script without location", "version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - timeout: 5\n", "appspec.yml:5: hooks.AfterInstall[0].location is missing: the script's path in the revision"},
		{"bad timeout", "version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: a\n      timeout: 5m\n", `appspec.yml:6: hooks.AfterInstall[0].timeout must be a number of seconds from 1 to 3600, not the value "5m"`},
		{"timeouts over an hour", "version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: a\n      timeout: 3000\n    - location: b\n      timeout: 601\n",
			"appspec.yml:4: hooks.AfterInstall: the scripts' timeouts add up to 3601s; CodeDeploy allows at most 3600s per lifecycle event (a script without timeout counts 3600s)"},
		{"two default timeouts", "version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: a\n    - location: b\n",
			"appspec.yml:4: hooks.AfterInstall: the scripts' timeouts add up to 7200s; CodeDeploy allows at most 3600s per lifecycle event (a script without timeout counts 3600s)"},
		{"syntax error at its line", "version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: a\n   - location: b\n", "appspec.yml:6: YAML syntax error"},
		{"tab", "version: 0.0\n\tos: linux\n", "appspec.yml:2: YAML syntax error"},
		{"two documents", "version: 0.0\nos: linux\n---\nversion: 0.0\n", "appspec.yml:3: an AppSpec file holds one YAML document; found a second one"},
		{"merge key", "version: 0.0\nos: linux\nfiles:\n  - <<: {source: /}\n    destination: /srv\n", "appspec.yml:4: files[0]: YAML merge keys (<<) are not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := Parse("appspec.yml", []byte(tc.in))
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("Parse = %+v, %v; want an *Error", spec, err)
			}
			got := err.Error()
			if len(got) > len(tc.want) && tc.want == "appspec.yml:"+got[len("appspec.yml:"):len(tc.want)] {
				got = got[:len(tc.want)] // syntax errors: compare the prefix (yaml.v3's wording)
			}
			if got != tc.want {
				t.Errorf("error\n got %s\nwant %s", err, tc.want)
			}
		})
	}
}
