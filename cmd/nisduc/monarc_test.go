package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

// monarcObjects is the MONARC open knowledge base of ../shared/data: the
// test skips without it, and fails in CI.
const monarcObjects = "../../../shared/data/monarc-objects"

func TestModelImportMONARC(t *testing.T) {
	if _, err := os.Stat(monarcObjects + "/threats"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: CI must have ../shared/data beside the checkout", monarcObjects)
		}
		t.Skipf("%s is absent (a fresh clone without ../shared/data): import-monarc not tested on real data", monarcObjects)
	}
	data := t.TempDir()
	start := time.Now()
	code, out, errOut := cli(t, "", "model", "import-monarc", monarcObjects, "--data", data, "--publish")
	t.Logf("import-monarc took %v (store opening and migrations included)", time.Since(start))
	want := "imported monarc version 1 (knowledge-base, published): 30 threats, 706 vulnerabilities, 42 assets, 30 measures; languages de, en, fr, nl\n"
	if code != 0 || out != want {
		t.Fatalf("import-monarc: exit %d\n%s%s\nwant %s", code, out, errOut, want)
	}
	// Again: a new draft of the same model; another code: a new model.
	code, out, errOut = cli(t, "", "model", "import-monarc", "--data", data, monarcObjects)
	if code != 0 || !strings.HasPrefix(out, "imported monarc version 2 (knowledge-base, draft): 30 threats") {
		t.Fatalf("second import: exit %d %s %s", code, out, errOut)
	}
	code, out, errOut = cli(t, "", "model", "import-monarc", "--data", t.TempDir(), "--code", "monarc-lu", monarcObjects)
	if code != 0 || !strings.HasPrefix(out, "imported monarc-lu version 1 (knowledge-base, draft)") {
		t.Fatalf("--code: exit %d %s %s", code, out, errOut)
	}
	// The same knowledge base under a second code beside a published
	// first would hold its UUIDs twice.
	code, _, errOut = cli(t, "", "model", "import-monarc", "--data", data, "--code", "monarc-lu", "--publish", monarcObjects)
	if code != 1 || !strings.Contains(errOut, "duplicate UUID") {
		t.Errorf("second code beside the first: exit %d %.300s", code, errOut)
	}
	// The stored model exports with MONARC's UUIDs.
	code, out, _ = cli(t, "", "model", "export", "--data", data, "monarc@1")
	if code != 0 || !strings.Contains(out, "monarc_uuid: b402d4e0-4576-11e9-9173-0800277f0571") || !strings.Contains(out, "en: Error in use") {
		t.Errorf("export: exit %d %.300s", code, out)
	}
}

func TestModelImportMONARCProblems(t *testing.T) {
	data := t.TempDir()
	broken := "../../internal/model/testdata/monarc/broken"
	code, out, errOut := cli(t, "", "model", "import-monarc", broken, "--data", data)
	if code != 1 || out != "" ||
		!strings.Contains(errOut, "threats/22222222-2222-1222-8222-222222222222_FR.json: threat 22222222-2222-1222-8222-222222222222 has no English file; the FR label is used\n") ||
		!strings.Contains(errOut, "3 problems (nothing imported; --force imports anyway)") {
		t.Fatalf("broken folder: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = cli(t, "", "model", "import-monarc", broken, "--data", data, "--force", "--code", "monarc-test")
	if code != 0 || out != "imported monarc-test version 1 (knowledge-base, draft): 2 threats, 1 vulnerabilities, 1 assets, 1 measures; languages de, en, fr\n" {
		t.Fatalf("--force: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := cli(t, "", "model", "import-monarc", "--data", data, "--code", "Bad_Code", "--force", broken); code != 1 || !strings.Contains(errOut, "code") {
		t.Errorf("bad code: exit %d %s", code, errOut)
	}
	if code, _, errOut := cli(t, "", "model", "import-monarc", "--data", data, t.TempDir()+"/none"); code != 1 || !strings.Contains(errOut, "is not a folder") {
		t.Errorf("missing folder: exit %d %s", code, errOut)
	}
	if code, _, _ := cli(t, "", "model", "import-monarc", "--data", data); code != 2 {
		t.Errorf("no folder: exit %d", code)
	}
}
