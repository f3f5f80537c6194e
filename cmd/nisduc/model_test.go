package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nisduc/nisduc/internal/errs"
)

// modelCLI runs `nisduc model ARGS` through the cli helper once the command
// is registered in main.go; until then it runs cmdModel the way run does
// (same streams, same exit codes).
func modelCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	for _, c := range commands() {
		if c.name == "model" {
			return cli(t, stdin, append([]string{"model"}, args...)...)
		}
	}
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: testGetenv}
	err := cmdModel(context.Background(), e, args)
	code := 0
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, &ue):
		errb.WriteString("nisduc model: " + ue.msg + "\n")
		code = 2
	default:
		printErr(&errb, err)
		code = errs.ExitCode(errs.CodeOf(err))
	}
	return code, out.String(), errb.String()
}

const modelTestdata = "../../internal/model/testdata"

func TestModelValidate(t *testing.T) {
	valid, _ := filepath.Glob(modelTestdata + "/valid/*.yaml")
	code, out, errOut := modelCLI(t, "", append([]string{"validate"}, valid...)...)
	if code != 0 || strings.TrimSpace(out) != "ok" {
		t.Fatalf("valid files: exit %d\n%s%s", code, out, errOut)
	}
	broken := modelTestdata + "/broken/unknown-threshold.yaml"
	code, out, errOut = modelCLI(t, "", "validate", valid[0], broken, valid[2])
	want := broken + `:45 risk.acceptance_threshold: unknown level "medium"
` + broken + `:46 risk.treatment_options[2]: value must be one of 'reduce', 'accept', 'share', 'avoid'
` + broken + `:46 risk.treatment_options[3]: "accept" is listed twice (first at risk.treatment_options[1])
`
	if code != 1 || out != want {
		t.Errorf("broken file: exit %d\n%s\nwant\n%s", code, out, want)
	}
	if !strings.Contains(errOut, "problems found: 3") {
		t.Errorf("stderr: %s", errOut)
	}
	// A missing file is a problem too; no file is a usage error.
	code, out, _ = modelCLI(t, "", "validate", filepath.Join(t.TempDir(), "none.yaml"))
	if code != 1 || !strings.Contains(out, "none.yaml: ") {
		t.Errorf("missing file: %d %s", code, out)
	}
	code, out, _ = modelCLI(t, "", "validate", valid[0], valid[0])
	if code != 1 || !strings.Contains(out, `another knowledge-base has code "kb-test"`) {
		t.Errorf("the same document twice: %d %s", code, out)
	}
	if code, _, _ := modelCLI(t, "", "validate"); code != 2 {
		t.Errorf("no file: exit %d", code)
	}
}

func TestModelImportExportList(t *testing.T) {
	data := t.TempDir()
	kbFile := modelTestdata + "/valid/kb.yaml"
	code, out, errOut := modelCLI(t, "", "import", "--data", data, kbFile, "--publish")
	if code != 0 || !strings.Contains(out, "imported kb-test version 1 (knowledge-base, published)") {
		t.Fatalf("import: %d %s %s", code, out, errOut)
	}
	code, out, errOut = modelCLI(t, "", "import", "--data", data, kbFile)
	if code != 0 || !strings.Contains(out, "imported kb-test version 2 (knowledge-base, draft)") {
		t.Fatalf("second import: %d %s %s", code, out, errOut)
	}
	code, out, _ = modelCLI(t, "", "list", "--data", data)
	if code != 0 || !strings.Contains(out, "kb-test") || !strings.Contains(out, "CODE") {
		t.Fatalf("list: %d %s", code, out)
	}
	code, out, _ = modelCLI(t, "", "list", "--data", data, "--format", "json")
	var list []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil {
		t.Fatalf("list json: %d %s", code, out)
	}
	found := false
	for _, m := range list {
		if m["code"] == "kb-test" {
			found = m["published"] == 1.0 && m["draft"] == 2.0
		}
	}
	if !found {
		t.Errorf("kb-test not listed as published 1 with draft 2: %s", out)
	}

	// Export, YAML and JSON, round-trips through validate.
	for _, format := range []string{"yaml", "json"} {
		code, out, errOut = modelCLI(t, "", "export", "--data", data, "kb-test@1", "--format", format)
		if code != 0 {
			t.Fatalf("export %s: %d %s", format, code, errOut)
		}
		f := filepath.Join(t.TempDir(), "kb."+format)
		os.WriteFile(f, []byte(out), 0o600)
		if code, vout, _ := modelCLI(t, "", "validate", f); code != 0 {
			t.Errorf("exported %s does not validate: %s", format, vout)
		}
	}
	if code, _, errOut := modelCLI(t, "", "export", "--data", data, "kb-test@9"); code != 1 || !strings.Contains(errOut, "no model kb-test@9") {
		t.Errorf("export of a missing version: %d %s", code, errOut)
	}
	if code, _, _ := modelCLI(t, "", "export", "--data", data, "kb-test@x"); code != 2 {
		t.Errorf("bad version: exit %d", code)
	}
	// Importing a broken document lists its problems.
	code, _, errOut = modelCLI(t, "", "import", "--data", data, modelTestdata+"/broken/unknown-field.yaml")
	if code != 1 || !strings.Contains(errOut, `assets[0].labells: `) || !strings.Contains(errOut, `unknown-field.yaml:13: unknown field "labells"`) {
		t.Errorf("broken import: %d %s", code, errOut)
	}
}
