package model

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/broken")

// validSet loads testdata/valid: a knowledge base, a regulatory model and a
// sector model that reference each other and have no problem.
func validSet(t testing.TB) *Set {
	t.Helper()
	set, ps := LoadDir(os.DirFS("testdata"), "valid")
	if len(ps) > 0 {
		t.Fatalf("testdata/valid has problems:\n%s", joinProblems(ps))
	}
	if set.Len() != 3 {
		t.Fatalf("testdata/valid: %d documents, want 3", set.Len())
	}
	return set
}

func joinProblems(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// check parses one file and validates it in place of its namesake of the
// valid set: every problem, parse and rules, as the CLI reports them.
func checkFile(t testing.TB, name string, data []byte) []Problem {
	t.Helper()
	set := validSet(t)
	d, ps := Parse(name, data)
	set.Put(d)
	ps = append(ps, Validate(set)...)
	SortProblems(ps)
	return ps
}

// Every document of testdata/broken gives exactly the problems of its
// golden file (run with -update to rewrite them, then read the diff).
func TestBrokenCorpus(t *testing.T) {
	files, _ := filepath.Glob("testdata/broken/*.yaml")
	if len(files) < 15 {
		t.Fatalf("only %d broken documents", len(files))
	}
	for _, f := range files {
		name := strings.TrimPrefix(filepath.ToSlash(f), "testdata/")
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got := joinProblems(checkFile(t, name, data))
			if got == "" {
				t.Fatal("no problem found in a broken document")
			}
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got != string(want) {
				t.Errorf("problems differ\n got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// The example of docs/models.md, exactly.
func TestProblemFormat(t *testing.T) {
	data, _ := os.ReadFile("testdata/broken/unknown-asset.yaml")
	ps := checkFile(t, "sectors/rail.yaml", data)
	want := `sectors/rail.yaml:19 essential_services[0].sub_services[0].assets[2]: unknown supporting asset "sig-interlock"`
	if len(ps) != 1 || ps[0].String() != want {
		t.Fatalf("got %q, want %q", joinProblems(ps), want)
	}
	if ps[0].Key != "model.err.unknown_asset" || ps[0].Args[0] != "sig-interlock" {
		t.Errorf("catalogue key %q %v", ps[0].Key, ps[0].Args)
	}
}

// Problems are sorted by file and line, and every one carries a line.
func TestProblemsSortedAndLocated(t *testing.T) {
	set := validSet(t)
	for _, name := range []string{"unknown-type.yaml", "unknown-threshold.yaml", "duplicate-uuid.yaml"} {
		data, _ := os.ReadFile("testdata/broken/" + name)
		d, ps := Parse("b/"+name, data)
		s := NewSet(set.Docs()...)
		s.Put(d)
		ps = append(ps, Validate(s)...)
		SortProblems(ps)
		for i, p := range ps {
			if p.Line == 0 {
				t.Errorf("%s: no line: %s", name, p)
			}
			if i > 0 && ps[i-1].File == p.File && ps[i-1].Line > p.Line {
				t.Errorf("%s: not sorted", name)
			}
		}
	}
}

func TestValidateReportsDuplicateDocuments(t *testing.T) {
	set := validSet(t)
	kb := set.Get(KindKnowledgeBase, "kb-test").Clone()
	kb.UUID = "0b3e3e1c-5b0a-4a43-9a44-6e8f0b1c2d3e"
	set.Add(kb)
	ps := Validate(set)
	var msgs []string
	for _, p := range ps {
		msgs = append(msgs, p.Message)
	}
	if !strings.Contains(strings.Join(msgs, "\n"), `another knowledge-base has code "kb-test"`) {
		t.Errorf("duplicate document not reported: %v", msgs)
	}
	// Its elements repeat every UUID of the first copy.
	dup := 0
	for _, m := range msgs {
		if strings.HasPrefix(m, "duplicate UUID") {
			dup++
		}
	}
	if want := len(kb.Assets) + len(kb.Threats) + len(kb.Vulnerabilities) + len(kb.Measures); dup != want {
		t.Errorf("%d duplicate UUIDs reported, want %d", dup, want)
	}
}

// Export then import gives the same document, through YAML and through JSON.
func TestRoundTrip(t *testing.T) {
	set := validSet(t)
	builtins, _ := Builtins()
	for _, d := range append(set.Docs(), builtins.Docs()...) {
		for _, format := range []string{"yaml", "json"} {
			var out []byte
			if format == "yaml" {
				out = d.YAML()
			} else {
				out = d.JSON()
			}
			back, ps := Parse(d.File(), out)
			if back == nil {
				t.Fatalf("%s as %s does not parse back: %v", d.File(), format, ps)
			}
			if !sameDocument(d, back) {
				t.Errorf("%s: %s round trip changed the document:\n%s\n---\n%s", d.File(), format, d.JSON(), back.JSON())
			}
			if !bytes.Equal(back.JSON(), d.JSON()) {
				t.Errorf("%s: canonical JSON differs after the %s round trip", d.File(), format)
			}
		}
	}
}

// sameDocument compares the exported content of two documents.
func sameDocument(a, b *Document) bool {
	x, y := *a, *b
	x.file, x.lines, y.file, y.lines = "", nil, "", nil
	return reflect.DeepEqual(x, y)
}

// Lists written empty and lists left out read the same.
func TestEmptyListsNormalized(t *testing.T) {
	d, ps := Parse("x.yaml", []byte(`{kind: knowledge-base, code: k, uuid: 6ed76971-ebb0-4da7-a872-04410b20d3e6, version: 1,
labels: {en: K}, asset_types: [{code: a, labels: {en: A}}], assets: [], threat_types: [{code: t, labels: {en: T}}], threats: [], measures: []}`))
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	if d.Assets != nil || d.Measures != nil {
		t.Errorf("empty lists kept: %#v %#v", d.Assets, d.Measures)
	}
}

func TestParseLimits(t *testing.T) {
	big := bytes.Repeat([]byte("#"), MaxSize+1)
	if _, ps := Parse("big.yaml", big); len(ps) != 1 || ps[0].Key != "model.err.too_large" {
		t.Errorf("oversized: %v", ps)
	}
	for in, key := range map[string]string{
		"":                        "model.err.empty",
		"- a\n- b\n":              "model.err.not_mapping",
		"kind: x\n---\nkind: y\n": "model.err.several",
		"a: [" + strings.Repeat("[", 40) + strings.Repeat("]", 40) + "]": "model.err.depth",
	} {
		_, ps := Parse("in.yaml", []byte(in))
		if len(ps) == 0 || ps[0].Key != key {
			t.Errorf("%q: %v, want %s", in, ps, key)
		}
	}
}

func TestSchemaServed(t *testing.T) {
	for _, k := range Kinds {
		b, ok := Schema(string(k))
		if !ok {
			t.Fatalf("no schema for %s", k)
		}
		var s map[string]any
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("%s: $schema %v", k, s["$schema"])
		}
	}
	if _, ok := Schema("../model"); ok {
		t.Error("Schema accepted an unknown kind")
	}
}

func TestDiff(t *testing.T) {
	set := validSet(t)
	a := set.Get(KindSector, "sector-test")
	b := a.Clone()
	es := &b.EssentialServices[0]
	es.SubServices = append(es.SubServices, SubService{Code: "balancing", UUID: "6d1e2f30-4152-4367-8809-c4d5e6f70819", Labels: Text{"en": "Balancing"}})
	es.SubServices[0].Assets = []string{"scada-ems"} // firewall removed
	es.Labels = Text{"en": "Electricity transmission", "fr": "Transport d'électricité"}
	b.Assets = nil
	b.Impact.Matrix.Cells[1][2] = "medium"
	got := map[string]Op{}
	for _, c := range Diff(a, b) {
		got[c.Path] = c.Op
	}
	want := map[string]Op{
		"essential_services[electricity-transmission].sub_services[+balancing]":                                      Added,
		"essential_services[electricity-transmission].sub_services[transmission-system-operation].assets[-firewall]": Removed,
		"essential_services[electricity-transmission].labels.fr":                                                     Added,
		"assets":                    Removed,
		"impact.matrix.cells[1][2]": Changed,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Diff:\n got %v\nwant %v", got, want)
	}
	if d := Diff(a, a.Clone()); len(d) != 0 {
		t.Errorf("Diff of equal documents: %v", d)
	}
	if d := Diff(nil, a); len(d) == 0 || d[0].Op != Added {
		t.Errorf("Diff from nothing: %v", d)
	}
}

// FuzzParse: whatever the input, Parse returns problems, never panics, and
// a document it returns without problems survives Validate and export.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"testdata/valid", "testdata/broken"} {
		files, _ := filepath.Glob(dir + "/*.yaml")
		for _, file := range files {
			b, _ := os.ReadFile(file)
			f.Add(b)
		}
	}
	f.Add([]byte("kind: sector-model\nimpact: {matrix: {cells: [[a], []]}}\n"))
	f.Add([]byte("{\"kind\": \"regulatory-model\", \"risk\": {\"matrix\": null}}"))
	f.Add([]byte("a: &x [*x]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, ps := Parse("fuzz.yaml", data)
		if d == nil && len(ps) == 0 {
			t.Fatal("no document and no problem")
		}
		for _, p := range ps {
			if p.Message == "" {
				t.Fatalf("problem without message: %#v", p)
			}
		}
		if d != nil {
			Validate(NewSet(d))
			_ = Diff(d, d)
			back, _ := Parse("again.yaml", d.JSON())
			if len(ps) == 0 && (back == nil || !bytes.Equal(back.JSON(), d.JSON())) {
				t.Fatalf("a valid document does not round-trip")
			}
		}
	})
}

// JSON is read through the YAML parser, escapes YAML lacks included, and
// problems keep their lines.
func TestJSONInput(t *testing.T) {
	in := "{\n\t\"kind\": \"knowledge-base\",\n\t\"code\": \"kb-j\",\n\t\"uuid\": \"6ed76971-ebb0-4da7-a872-04410b20d3e6\",\n\t\"version\": 1,\n" +
		"\t\"labels\": {\"en\": \"a\\/b \\u00e9 \\\\/ \\ud83d\\ude00 \\\"q\\\"\"},\n" +
		"\t\"asset_types\": [{\"code\": \"hardware\", \"labels\": {\"en\": \"Hardware\"}}],\n" +
		"\t\"threat_types\": [{\"code\": \"physical\", \"labels\": {\"en\": \"Physical\"}}],\n" +
		"\t\"colour\": 1e3\n}"
	d, ps := Parse("t.json", []byte(in))
	if d == nil {
		t.Fatal(ps)
	}
	if want := "a/b é \\/ 😀 \"q\""; d.Labels["en"] != want {
		t.Errorf("label %q, want %q", d.Labels["en"], want)
	}
	if len(ps) != 1 || ps[0].String() != `t.json:9 colour: unknown field "colour"` {
		t.Errorf("problems: %v", ps)
	}
}
