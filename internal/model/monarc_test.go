package model

import (
	"bytes"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// monarcData is the MONARC open knowledge base of ../shared/data (see its
// README): the tests skip without it, and fail in CI.
const monarcData = "../../../shared/data/monarc-objects"

func monarcDir(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(monarcData + "/threats"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: CI must have ../shared/data beside the checkout", monarcData)
		}
		t.Skipf("%s is absent (a fresh clone without ../shared/data): MONARC import not tested on real data", monarcData)
	}
	return monarcData
}

func TestFromMONARCRealData(t *testing.T) {
	dir := monarcDir(t)
	start := time.Now()
	doc, problems := FromMONARC(os.DirFS(dir))
	t.Logf("converted %s in %v", dir, time.Since(start))
	if len(problems) > 0 {
		t.Fatalf("problems on the real data: %v", problems)
	}
	// The counts of ../shared/data/README.md (30 threats, 706
	// vulnerabilities, 42 assets) and the 30 NIS measures for OES.
	if got := [4]int{len(doc.Threats), len(doc.Vulnerabilities), len(doc.Assets), len(doc.Measures)}; got != [4]int{30, 706, 42, 30} {
		t.Errorf("threats, vulnerabilities, assets, measures = %v, want [30 706 42 30]", got)
	}
	if got := DocumentLanguages(doc); !slices.Equal(got, []string{"de", "en", "fr", "nl"}) {
		t.Errorf("languages %v", got)
	}
	if doc.Kind != KindKnowledgeBase || doc.Code != "monarc" || doc.Labels["en"] != "MONARC knowledge base" {
		t.Errorf("envelope %s %s %v", doc.Kind, doc.Code, doc.Labels)
	}

	threat := func(monarc string) *Threat {
		for i := range doc.Threats {
			if doc.Threats[i].MonarcUUID == monarc {
				return &doc.Threats[i]
			}
		}
		t.Fatalf("no threat with MONARC UUID %s", monarc)
		return nil
	}
	// "Error in use" (MA11), merged from its four files.
	ma11 := *threat("b402d4e0-4576-11e9-9173-0800277f0571")
	want := Threat{Code: "ma11", UUID: MONARCUUID("threat", "b402d4e0-4576-11e9-9173-0800277f0571"),
		MonarcUUID: "b402d4e0-4576-11e9-9173-0800277f0571", Type: "compromise-of-functions",
		Criteria: []string{"C", "I", "A"},
		Labels:   Text{"en": "Error in use", "fr": "Erreur d'utilisation", "de": "Benutzungsfehler", "nl": "Gebruiksfout"}}
	ma11.Descriptions = nil
	if !reflect.DeepEqual(ma11, want) {
		t.Errorf("MA11:\n%+v\nwant\n%+v", ma11, want)
	}
	if ma11.UUID != "b402d4e0-4576-11e9-9173-0800277f0571" {
		t.Errorf("MA11 uuid %s: want MONARC's own UUID, kept", ma11.UUID)
	}
	// c/i/a flags as criteria.
	for monarc, criteria := range map[string][]string{
		"b402d557-4576-11e9-9173-0800277f0571": {"C"},      // MD15 Eavesdropping
		"b402d63d-4576-11e9-9173-0800277f0571": {"I", "A"}, // ME11 Fire
		"b402d5df-4576-11e9-9173-0800277f0571": {"A"},      // MDA16 Saturation of the information system
	} {
		if got := threat(monarc).Criteria; !slices.Equal(got, criteria) {
			t.Errorf("%s criteria %v, want %v", threat(monarc).Code, got, criteria)
		}
	}
	if fire := threat("b402d63d-4576-11e9-9173-0800277f0571"); fire.Type != "physical-damage" || fire.Labels["fr"] != "Incendie" {
		t.Errorf("ME11: %+v", fire)
	}
	types := map[string]Text{}
	for _, tt := range doc.ThreatTypes {
		types[tt.Code] = tt.Labels
	}
	if len(types) != 6 || types["loss-of-essential-services"]["fr"] != "Perte de services essentiels" {
		t.Errorf("threat types: %v", types)
	}

	vuln := func(monarc string) *Vulnerability {
		for i := range doc.Vulnerabilities {
			if doc.Vulnerabilities[i].MonarcUUID == monarc {
				return &doc.Vulnerabilities[i]
			}
		}
		t.Fatalf("no vulnerability with MONARC UUID %s", monarc)
		return nil
	}
	// Triplet 7f9ea65e: asset LOG_OS, threat MD24, vulnerability 143.
	v143 := vuln("69fc07a5-4591-11e9-9173-0800277f0571")
	if v143.Code != "vuln-143" || !slices.Contains(v143.Threats, "md24") || !slices.Contains(v143.AssetTypes, "software") {
		t.Errorf("vulnerability 143: %+v", v143)
	}
	if v143.Labels["fr"] != "Les mots de passe saisis pour accéder au système d'exploitation sont déchiffrables" {
		t.Errorf("vulnerability 143 fr: %q", v143.Labels["fr"])
	}
	// Merged languages: vulnerability 1 has no NL file, 902 no FR file.
	if l := vuln("69fbfdd6-4591-11e9-9173-0800277f0571").Labels; len(l) != 3 || l["nl"] != "" || l["en"] != "No screen locker/locking functionality is active" {
		t.Errorf("vulnerability 1 labels %v", l)
	}
	if l := vuln("69fc286c-4591-11e9-9173-0800277f0571").Labels; len(l) != 3 || l["fr"] != "" || l["nl"] == "" {
		t.Errorf("vulnerability 902 labels %v", l)
	}
	linked := 0
	for _, v := range doc.Vulnerabilities {
		if len(v.Threats) > 0 {
			linked++
		}
	}
	if linked != 673 { // the vulnerabilities named by the 1,938 triplets
		t.Errorf("%d vulnerabilities linked to threats, want 673", linked)
	}

	assetTypes := map[string]string{}
	perType := map[string]int{}
	for _, a := range doc.Assets {
		assetTypes[a.Code] = a.Type
		perType[a.Type]++
	}
	for code, typ := range map[string]string{"bat-loc": "site", "ov-salle-it": "site", "log-os": "software",
		"mat-fix": "hardware", "reseau": "network", "per-dec": "personnel", "sys-mes": "system",
		"org-ext": "outsourced-service", "info": "system", "serv-ess": "site"} {
		if assetTypes[code] != typ {
			t.Errorf("asset %s type %q, want %s", code, assetTypes[code], typ)
		}
	}
	if len(perType) != 7 {
		t.Errorf("asset types used: %v", perType)
	}

	var m *Measure
	for i := range doc.Measures {
		if doc.Measures[i].Code == "nis-cg-1-1-2" {
			m = &doc.Measures[i]
		}
	}
	if m == nil || m.UUID != "02527779-a76f-42fc-b420-6726099d4241" || m.Labels["en"] != "Information system security policy" ||
		!slices.Equal(m.References["nis-cg"], []string{"1.1.2"}) ||
		!slices.Contains(m.References["iso-iec-27002"], "267fc596-f705-11e8-b555-0800279aaa2b") ||
		len(m.References["nist-csf"]) == 0 {
		t.Errorf("measure nis-cg-1-1-2: %+v", m)
	}

	monarcRoundTrip(t, doc)

	// The same folder gives the same document.
	again, _ := FromMONARC(os.DirFS(dir))
	if !bytes.Equal(doc.JSON(), again.JSON()) {
		t.Error("two conversions of the same folder differ")
	}
	other, _ := FromMONARCCode(os.DirFS(dir), "monarc-2021")
	if other.Code != "monarc-2021" || other.UUID == doc.UUID || other.Threats[0].UUID != doc.Threats[0].UUID {
		t.Errorf("--code: %s %s", other.Code, other.UUID)
	}
}

// monarcRoundTrip checks that doc passes Validate, and reads back through
// its YAML export and Parse without problems and unchanged.
func monarcRoundTrip(t *testing.T, doc *Document) {
	t.Helper()
	if ps := Validate(NewSet(doc)); len(ps) > 0 {
		t.Fatalf("Validate: %v", ps)
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{"monarc.yaml", doc.YAML()}, {"monarc.json", doc.JSON()}} {
		parsed, ps := Parse(f.name, f.data)
		if len(ps) > 0 || parsed == nil {
			t.Fatalf("%s does not parse: %v", f.name, ps)
		}
		if ps := Validate(NewSet(parsed)); len(ps) > 0 {
			t.Fatalf("%s: Validate: %v", f.name, ps)
		}
		if !bytes.Equal(parsed.JSON(), doc.JSON()) {
			t.Errorf("%s does not read back the same", f.name)
		}
	}
}

func TestFromMONARCBroken(t *testing.T) {
	doc, problems := FromMONARC(os.DirFS("testdata/monarc/broken"))
	var got []string
	for _, p := range problems {
		got = append(got, p.String())
	}
	want := []string{
		`risks/77777777-7777-1777-8777-777777777777.json: the triplet names an unknown threat "99999999-9999-1999-8999-999999999999"; it is left out`,
		`threats/22222222-2222-1222-8222-222222222222_FR.json: threat 22222222-2222-1222-8222-222222222222 has no English file; the FR label is used`,
		`threats/33333333-3333-1333-8333-333333333333_EN.json: not a MONARC threat: unexpected end of JSON input`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(doc.Threats) != 2 || len(doc.Vulnerabilities) != 1 || len(doc.Assets) != 1 || len(doc.Measures) != 1 {
		t.Fatalf("counts %d %d %d %d", len(doc.Threats), len(doc.Vulnerabilities), len(doc.Assets), len(doc.Measures))
	}
	x2 := doc.Threats[1]
	if x2.Code != "x2" || x2.Labels["en"] != "Dégâts des eaux" || x2.Labels["fr"] != "Dégâts des eaux" ||
		x2.Type != "physical-damage" || !slices.Equal(x2.Criteria, []string{"I", "A"}) || x2.Descriptions != nil {
		t.Errorf("threat without English: %+v", x2)
	}
	if len(doc.ThreatTypes) != 1 || doc.ThreatTypes[0].Labels["fr"] != "Sinistres physiques" {
		t.Errorf("threat types %+v", doc.ThreatTypes)
	}
	v := doc.Vulnerabilities[0]
	if v.Code != "vuln-7" || !slices.Equal(v.Threats, []string{"x1"}) || !slices.Equal(v.AssetTypes, []string{"site"}) ||
		v.Labels["de"] != "Keine Branderkennung" {
		t.Errorf("vulnerability %+v", v)
	}
	m := doc.Measures[0]
	if m.Code != "nis-cg-2-3-1" || !reflect.DeepEqual(m.References, map[string][]string{
		"nis-cg": {"2.3.1"}, "iso-iec-27002": {"267fc596-f705-11e8-b555-0800279aaa2b"}}) {
		t.Errorf("measure %+v", m)
	}
	monarcRoundTrip(t, doc)
}

func TestFromMONARCProblems(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	const u = "0b5e3f2a-4576-11e9-9173-0800277f0571"
	tests := []struct {
		name string
		fsys fstest.MapFS
		want []string
	}{
		{"empty folder", fstest.MapFS{}, []string{
			"assets: cannot read the folder: file does not exist",
			"threats: cannot read the folder: file does not exist",
			"vulnerabilities: cannot read the folder: file does not exist",
		}},
		{"file names, uuid and language", fstest.MapFS{
			"threats/notes.json":          file(`{}`),
			"threats/README.md":           file(`ignored`),
			"threats/" + u + "_EN.json":   file(`{"uuid": "` + u + `", "code": "T", "label": "T", "language": "FR", "c": true}`),
			"threats/" + u + "_DE.json":   file(`{"uuid": "1b5e3f2a-4576-11e9-9173-0800277f0571", "label": "T"}`),
			"assets/" + u + "_EN.json":    file(`{"uuid": "` + u + `", "code": "ZZZ", "label": "Z", "type": "Secondary"}`),
			"vulnerabilities/x_EN.json":   file(`{}`),
			"risks/r.json":                file(`{"asset": "` + u + `", "threat": "` + u + `", "vulnerability": "` + u + `"}`),
			"referentials/r.json":         file(`[]`),
			"referentials-mapping/m.json": file(`{"label": "A - B", "values": [{"control": "` + u + `", "match": "` + u + `"}]}`),
		}, []string{
			`assets/` + u + `_EN.json: asset ` + u + `: no asset type is known for code "ZZZ"; system is used`,
			`referentials-mapping/m.json: values[0]: neither "` + u + `" nor "` + u + `" is a measure of referentials/; left out`,
			`referentials/r.json: not a MONARC referential: field "": array where an object was expected`,
			`risks/r.json: the triplet names an unknown vulnerability "` + u + `"; it is left out`,
			`threats/` + u + `_DE.json: uuid 1b5e3f2a-4576-11e9-9173-0800277f0571 differs from the file name`,
			`threats/` + u + `_EN.json: language "FR" differs from the file name; the file name's "EN" is used`,
			`threats/notes.json: not a MONARC object file name (<uuid>_<LANG>.json)`,
			`vulnerabilities/x_EN.json: not a MONARC object file name (<uuid>_<LANG>.json)`,
		}},
		{"no criteria, no label", fstest.MapFS{
			"threats/" + u + "_EN.json": file(`{"uuid": "` + u + `", "code": "T9", "label": " ", "theme": ""}`),
			"assets/.keep":              file(``),
			"vulnerabilities/.keep":     file(``),
		}, []string{
			`threats/` + u + `_EN.json: threat ` + u + ` affects none of c, i, a; C, I and A are assumed`,
			`threats/` + u + `_EN.json: threat ` + u + ` has no label in any language; "T9" is used`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, problems := FromMONARC(tt.fsys)
			var got []string
			for _, p := range problems {
				got = append(got, p.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			monarcRoundTrip(t, doc)
		})
	}
}

func TestMONARCHelpers(t *testing.T) {
	for in, want := range map[string]string{"MA11": "ma11", "OV_SALLE_IT": "ov-salle-it", " Défaillances techniques ": "defaillances-techniques", "1.1.2": "1-1-2", "__": ""} {
		if got := slug(in, 90); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
	codes := []string{"10", "2", "MA11", "MA2", "1"}
	slices.SortFunc(codes, func(a, b string) int {
		if naturalLess(a, b) {
			return -1
		}
		if naturalLess(b, a) {
			return 1
		}
		return 0
	})
	if !slices.Equal(codes, []string{"1", "2", "10", "MA2", "MA11"}) {
		t.Errorf("natural order %v", codes)
	}
	v1 := "b402d4e0-4576-11e9-9173-0800277f0571"
	if got := MONARCUUID("threat", strings.ToUpper(v1)); got != v1 {
		t.Errorf("MONARCUUID(%s) = %s, want MONARC's UUID kept (in lower case)", v1, got)
	}
	if got := MONARCUUID("threat", "not-a-uuid"); !v4(got) || got != MONARCUUID("threat", "not-a-uuid") || got == MONARCUUID("asset", "not-a-uuid") {
		t.Errorf("a malformed MONARC id gets a stable derived UUID per kind: %s", got)
	}
	if v := "02527779-a76f-42fc-b420-6726099d4241"; MONARCUUID("measure", v) != v {
		t.Error("a version-4 MONARC UUID is kept")
	}
}

func FuzzMONARCObject(f *testing.F) {
	for _, seed := range []string{
		`{"a": true, "c": true, "code": "MA11", "description": "A person commits an operating error.", "i": true, "label": "Error in use", "language": "EN", "theme": "Compromise of functions", "uuid": "b402d4e0-4576-11e9-9173-0800277f0571"}`,
		`{"code": "1", "description": "", "label": "No screen locker", "mode": 0, "status": 1, "uuid": "69fbfdd6-4591-11e9-9173-0800277f0571"}`,
		`{"code": "BAT_LOC", "label": "Premises", "type": "Secondary", "uuid": "D2023C5D-44D1-11E9-A78C-0800277F0571", "version": 1}`,
		`{"a": 1, "c": "0", "i": null, "uuid": "b402d4e0-4576-11e9-9173-0800277f0571"}`,
		`{"uuid": "not-a-uuid"}`, `{"uuid": 3}`, `[]`, `{`, ``, `{"language": "E\u00f1"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := DecodeMONARCObject(data)
		if err != nil {
			if o != (MONARCObject{}) {
				t.Errorf("an error with a non-empty object: %+v", o)
			}
			return
		}
		if !uuidRE.MatchString(o.UUID) {
			t.Errorf("accepted uuid %q", o.UUID)
		}
		if o.Language != "" && !isLang(o.Language) {
			t.Errorf("accepted language %q", o.Language)
		}
		// Whatever the object says, the converter builds a valid document.
		fsys := fstest.MapFS{"threats/" + o.UUID + "_EN.json": &fstest.MapFile{Data: data}}
		doc, _ := FromMONARC(fsys)
		if len(doc.Threats) != 1 {
			t.Fatalf("%d threats from one valid file", len(doc.Threats))
		}
		if ps := Validate(NewSet(doc)); len(ps) > 0 {
			t.Errorf("Validate: %v", ps)
		}
		if _, ps := Parse("fuzz.json", doc.JSON()); len(ps) > 0 {
			t.Errorf("Parse: %v", ps)
		}
	})
}
