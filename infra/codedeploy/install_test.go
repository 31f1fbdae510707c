package codedeploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInstall(t *testing.T) {
	const spec = "version: 0.0\nos: linux\nfiles:\n  - source: /\n    destination: /srv/app\n  - source: bin/tool\n    destination: /usr/local/bin\n%spermissions:\n  - object: /srv/app/bin\n    pattern: \"*\"\n    mode: 750\n    type: [file]\n"
	for _, tc := range []struct {
		name, behaviour, foreign string
		wantFail                 string // a part of the error message
		wantForeign              string // the foreign file's content afterwards
	}{
		{name: "clean target"},
		{name: "disallow", foreign: "srv/app/index.html", wantFail: "a specified file already exists at this location"},
		{name: "overwrite", behaviour: "file_exists_behavior: OVERWRITE\n", foreign: "srv/app/index.html", wantForeign: "new"},
		{name: "retain", behaviour: "file_exists_behavior: RETAIN\n", foreign: "srv/app/index.html", wantForeign: "mine"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, &AutoRollback{})
			root, _ := h.svc.Target("app", "prod")
			if tc.foreign != "" {
				os.MkdirAll(filepath.Dir(filepath.Join(root, tc.foreign)), 0o755)
				os.WriteFile(filepath.Join(root, tc.foreign), []byte("mine"), 0o644)
			}
			h.objects.m["bucket/b.zip"] = bundle(t, map[string]string{
				"appspec.yml": strings.Replace(spec, "%s", tc.behaviour, 1), "index.html": "new", "bin/tool": "#!/bin/sh\n",
			})
			info := h.deploy(Revision{RevisionType: "S3", S3Location: &S3Location{Bucket: "bucket", Key: "b.zip"}})
			if tc.wantFail != "" {
				if info.Status != StatusFailed || !strings.Contains(info.ErrorInformation.Message, tc.wantFail) || !strings.Contains(info.ErrorInformation.Message, "Install") {
					t.Fatalf("status %s %+v; want Install failure %q", info.Status, info.ErrorInformation, tc.wantFail)
				}
				return
			}
			if info.Status != StatusSucceeded {
				t.Fatalf("status %s %+v", info.Status, info.ErrorInformation)
			}
			if tc.wantForeign != "" {
				if b, _ := os.ReadFile(filepath.Join(root, tc.foreign)); string(b) != tc.wantForeign {
					t.Errorf("existing file = %q, want %q", b, tc.wantForeign)
				}
			}
			fi, err := os.Stat(filepath.Join(root, "srv/app/bin/tool"))
			if err != nil || fi.Mode().Perm() != 0o750 {
				t.Errorf("permissions: %v %v", fi, err)
			}
			if _, err := os.Stat(filepath.Join(root, "usr/local/bin/tool")); err != nil {
				t.Errorf("single-file source: %v", err)
			}
		})
	}
}

func TestCleanupRemovesPreviousFiles(t *testing.T) {
	h := newHarness(t, nil)
	root, _ := h.svc.Target("app", "prod")
	spec := "version: 0.0\nos: linux\nfiles:\n  - source: site\n    destination: /srv\n"
	h.objects.m["bucket/1.zip"] = bundle(t, map[string]string{"appspec.yml": spec, "site/old.html": "1", "site/a/b.html": "1"})
	h.objects.m["bucket/2.zip"] = bundle(t, map[string]string{"appspec.yml": spec, "site/new.html": "2"})
	for _, key := range []string{"1.zip", "2.zip"} {
		if info := h.deploy(Revision{RevisionType: "S3", S3Location: &S3Location{Bucket: "bucket", Key: key}}); info.Status != StatusSucceeded {
			t.Fatalf("%s: %+v", key, info.ErrorInformation)
		}
	}
	for _, gone := range []string{"srv/old.html", "srv/a"} {
		if _, err := os.Stat(filepath.Join(root, gone)); !os.IsNotExist(err) {
			t.Errorf("%s left behind: %v", gone, err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "srv/new.html")); err != nil {
		t.Error(err)
	}
}

func TestUnzipRefusesEscapes(t *testing.T) {
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "evil.zip")
	os.WriteFile(zipPath, bundle(t, map[string]string{"../../evil": "x"}), 0o644)
	if err := unzip(zipPath, filepath.Join(dir, "out")); err == nil || !strings.Contains(err.Error(), "outside the bundle") {
		t.Fatalf("unzip = %v", err)
	}
}
