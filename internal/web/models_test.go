package web

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/nisduc/nisduc/internal/directory"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/model"
	"github.com/nisduc/nisduc/internal/storetest"
)

// synced remembers the fixtures whose built-in models are loaded, so that
// the authorization matrix loads them once.
var synced sync.Map

func (f *fixture) ensureModels() {
	if _, done := synced.LoadOrStore(f, true); !done {
		f.syncModels()
	}
}

var modelPlaceholder = regexp.MustCompile(`\{(model|draft|draftq|draftv):([a-z0-9-]+)\}`)

// fillModels replaces the model placeholders of the authorization matrix:
// {model:X} is X (the built-ins loaded), {draft:X} is "X/versions/N" of
// the open draft of X (created when there is none), {draftq:X} is
// "X?version=N" and {draftv:X} "X?v=N".
func (f *fixture) fillModels(s string) string {
	return modelPlaceholder.ReplaceAllStringFunc(s, func(m string) string {
		p := modelPlaceholder.FindStringSubmatch(m)
		f.ensureModels()
		if p[1] == "model" {
			return p[2]
		}
		n := f.openDraft(p[2])
		switch p[1] {
		case "draftq":
			return fmt.Sprintf("%s?version=%d", p[2], n)
		case "draftv":
			return fmt.Sprintf("%s?v=%d", p[2], n)
		}
		return fmt.Sprintf("%s/versions/%d", p[2], n)
	})
}

// openDraft returns the draft version of code, creating one if needed.
func (f *fixture) openDraft(code string) int {
	f.t.Helper()
	in, err := f.models.CreateDraft(cliCtx(), code)
	if err == nil {
		return in.Version
	}
	if !errs.Is(err, errs.Conflict) {
		f.t.Fatalf("draft of %s: %v", code, err)
	}
	infos, err := f.models.Versions(cliCtx(), code)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, x := range infos {
		if x.Status == model.Draft {
			return x.Version
		}
	}
	f.t.Fatalf("no draft of %s", code)
	return 0
}

// setLang sets the language of a fixture user (the pages follow it).
func (f *fixture) setLang(who, lang string) {
	f.t.Helper()
	if _, err := f.dir.UpdateUser(cliCtx(), f.users[who].ID, directory.UserUpdate{Language: &lang}); err != nil {
		f.t.Fatalf("language of %s: %v", who, err)
	}
}

func mustContain(t *testing.T, where, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s: %q not found", where, w)
		}
	}
}

var (
	matrixRE = regexp.MustCompile(`(?s)<table class="matrix">.*?</table>`)
	rowRE    = regexp.MustCompile(`(?s)<tr><th scope="row"[^>]*>([^<]*)</th>(.*?)</tr>`)
	cellRE   = regexp.MustCompile(`<td class="cell (lvl-\d)">([^<]*)</td>`)
)

// matrixCells returns the head and the cells (label and colour class) of
// each row of the n-th coloured grid of a page.
func matrixCells(t *testing.T, body string, n int) (heads []string, labels, classes [][]string) {
	t.Helper()
	tables := matrixRE.FindAllString(body, -1)
	if len(tables) <= n {
		t.Fatalf("%d matrices on the page, want more than %d", len(tables), n)
	}
	for _, r := range rowRE.FindAllStringSubmatch(tables[n], -1) {
		heads = append(heads, html.UnescapeString(r[1]))
		var ls, cs []string
		for _, c := range cellRE.FindAllStringSubmatch(r[2], -1) {
			cs = append(cs, c[1])
			ls = append(ls, html.UnescapeString(c[2]))
		}
		labels, classes = append(labels, ls), append(classes, cs)
	}
	return heads, labels, classes
}

func TestModelBrowser(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	f.syncModels()
	type want struct{ list, sector []string }
	wants := map[string]want{
		"en": {list: []string{"Regulatory models", "Sector models", "Knowledge bases", "Energy – Electricity", "NIS Directive", "v1"},
			sector: []string{"Electricity transmission", "Transmission system operation", "Essential services and sub-services", "Ransomware"}},
		"fr": {list: []string{"Modèles réglementaires", "Modèles sectoriels", "Bases de connaissances", "Énergie – Électricité", "Directive NIS"},
			sector: []string{"Transport d&#39;électricité", "Conduite du réseau de transport", "Services essentiels et sous-services"}},
	}
	for _, who := range []string{"opA_risk", "nca_analyst"} {
		for _, lang := range []string{"en", "fr"} {
			f.setLang(who, lang)
			c := f.client(who)
			resp, body := f.do(c, "GET", "/models", "", "")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s %s /models: %d", who, lang, resp.StatusCode)
			}
			mustContain(t, who+" "+lang+" /models", body, wants[lang].list...)
			mustContain(t, who+" "+lang+" /models", body, `href="/models/energy-electricity"`, `href="/models/kb-generic"`)
			resp, body = f.do(c, "GET", "/models/energy-electricity", "", "")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s %s sector page: %d", who, lang, resp.StatusCode)
			}
			mustContain(t, who+" "+lang+" sector page", body, wants[lang].sector...)
			// The impact grid: the sector's wording of the rows, coloured cells.
			heads, labels, classes := matrixCells(t, body, 0)
			if len(labels) != 5 || len(labels[0]) != 5 || classes[4][4] != "lvl-4" || classes[0][0] != "lvl-1" {
				t.Errorf("%s %s: sector impact grid %v %v", who, lang, labels, classes)
			}
			if lang == "en" && !strings.Contains(heads[0], "Less than 1 hour") {
				t.Errorf("sector grid row 1 is %q, want the sector's unavailability wording", heads[0])
			}
			// Only editors are offered a draft.
			offered := strings.Contains(body, `action="/models/energy-electricity/drafts"`)
			if offered != (who == "nca_analyst") {
				t.Errorf("%s: draft button shown = %v", who, offered)
			}
		}
		// The other kinds render too.
		for _, p := range []string{"/models/kb-generic", "/models/nis2", "/models/transport-rail", "/models/nis/diff?from=1&to=1"} {
			if resp, body := f.do(f.client(who), "GET", p, "", ""); resp.StatusCode != http.StatusOK {
				t.Errorf("%s %s: %d\n%.500s", who, p, resp.StatusCode, body)
			}
		}
	}
	f.setLang("opA_risk", "en")
	_, body := f.do(f.client("opA_risk"), "GET", "/models/kb-generic", "", "")
	mustContain(t, "knowledge base", body, "Supporting assets by type", "Threats by type", "Security measures", "Ransomware")
	_, body = f.do(f.client("opA_risk"), "GET", "/models/nis2", "", "")
	mustContain(t, "nis2", body, "Early warning", "within 24 hours", "Incident notification stages")
	resp, body := f.do(f.client("opA_risk"), "GET", "/models/nis/download?format=yaml", "", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/yaml" || !strings.HasPrefix(body, "kind: regulatory-model") {
		t.Errorf("YAML download: %d %s %.80s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if resp, _ := f.do(f.client("opA_risk"), "GET", "/models/no-such-model", "", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown model: %d, want 404", resp.StatusCode)
	}
}

// The regulatory model page shows the seed's Figure 5 matrix: rows
// unavailability 1–5, columns users affected 1–5.
func TestModelRegulatoryMatrix(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	f.syncModels()
	resp, body := f.do(f.client("opB_admin"), "GET", "/models/nis", "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	heads, labels, classes := matrixCells(t, body, 0)
	want := [][]string{
		{"Low", "Low", "Low", "Medium", "High"},
		{"Low", "Low", "Medium", "Medium", "High"},
		{"Low", "Medium", "Medium", "High", "High"},
		{"Medium", "Medium", "High", "High", "Very high"},
		{"Medium", "High", "High", "Very high", "Very high"},
	}
	if len(labels) != len(want) {
		t.Fatalf("impact matrix rows %v", labels)
	}
	colour := map[string]string{"Low": "lvl-1", "Medium": "lvl-2", "High": "lvl-3", "Very high": "lvl-4"}
	for i := range want {
		if !slices.Equal(labels[i], want[i]) {
			t.Errorf("row %d = %v, want %v", i+1, labels[i], want[i])
		}
		for j, l := range want[i] {
			if j < len(classes[i]) && classes[i][j] != colour[l] {
				t.Errorf("cell %d,%d %s coloured %s, want %s", i+1, j+1, l, classes[i][j], colour[l])
			}
		}
	}
	if !strings.HasPrefix(heads[0], "1") || !strings.Contains(heads[0], "Less than 4 hours") || !strings.Contains(heads[4], "More than 4 days") {
		t.Errorf("rows are not unavailability 1–5: %v", heads)
	}
	mustContain(t, "nis columns", matrixRE.FindString(body), "Users affected (nationally)", "1 — Very low", "5 — Very high")
	// The risk matrix is the second grid: likelihood 1–4 × impact Low..Very high.
	_, risk, _ := matrixCells(t, body, 1)
	if len(risk) != 4 || len(risk[0]) != 4 {
		t.Errorf("risk matrix %v", risk)
	}
	mustContain(t, "nis", body, "Acceptance threshold", "Likelihood", "Unlikely")
}

// textareaRE finds the editor's text.
var textareaRE = regexp.MustCompile(`(?s)<textarea id="yaml"[^>]*>\n(.*?)</textarea>`)

func editorText(t *testing.T, body string) string {
	t.Helper()
	m := textareaRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no editor on the page:\n%.800s", body)
	}
	return html.UnescapeString(m[1])
}

func lineOf(text, s string) int {
	i := strings.Index(text, s)
	if i < 0 {
		return 0
	}
	return strings.Count(text[:i], "\n") + 1
}

func TestModelEditorJourney(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	f.syncModels()
	c := f.client("nca_analyst")

	resp, _ := f.do(c, "POST", "/models/nis-lu/drafts", "application/x-www-form-urlencoded", "")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/models/nis-lu/versions/2/edit" {
		t.Fatalf("create draft: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A second click opens the same draft.
	resp, _ = f.do(c, "POST", "/models/nis-lu/drafts", "application/x-www-form-urlencoded", "")
	if resp.Header.Get("Location") != "/models/nis-lu/versions/2/edit" {
		t.Errorf("second draft: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := f.do(c, "GET", "/models/nis-lu/versions/2/edit", "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("editor: %d", resp.StatusCode)
	}
	text := editorText(t, body)
	if !strings.Contains(text, "acceptance_threshold: medium") || !strings.Contains(text, "version: 2") {
		t.Fatalf("editor text is not the draft:\n%.400s", text)
	}

	// An error: an unknown risk level. Validate and Save both name its
	// line in the submitted text; Save keeps the text and stores nothing.
	broken := strings.Replace(text, "acceptance_threshold: medium", "acceptance_threshold: extreme", 1)
	line := lineOf(broken, "acceptance_threshold: extreme")
	for _, action := range []string{"validate", "save"} {
		form := url.Values{"action": {action}, "yaml": {strings.ReplaceAll(broken, "\n", "\r\n")}}.Encode()
		resp, body = f.do(c, "POST", "/models/nis-lu/versions/2", "application/x-www-form-urlencoded", form)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("%s broken: %d", action, resp.StatusCode)
		}
		mustContain(t, action+" broken", body, fmt.Sprintf(">line %d</a> <code>risk.acceptance_threshold</code>", line))
		if kept := editorText(t, body); kept != broken {
			t.Errorf("%s: the form does not keep the user's text", action)
		}
	}
	if v, err := f.models.Get(cliCtx(), "nis-lu", 2); err != nil || v.Doc.Risk.AcceptanceThreshold != "medium" {
		t.Fatalf("the invalid draft was stored: %v %v", err, v.Doc.Risk.AcceptanceThreshold)
	}
	// A YAML syntax error names its line too.
	bad := strings.Replace(text, "version: 2", "version: [2", 1)
	resp, body = f.do(c, "POST", "/models/nis-lu/versions/2", "application/x-www-form-urlencoded", url.Values{"action": {"validate"}, "yaml": {bad}}.Encode())
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, ">line ") {
		t.Errorf("syntax error: %d", resp.StatusCode)
	}

	// Fix, validate, save.
	fixed := strings.Replace(text, "acceptance_threshold: medium", "acceptance_threshold: high", 1)
	resp, body = f.do(c, "POST", "/models/nis-lu/versions/2", "application/x-www-form-urlencoded", url.Values{"action": {"validate"}, "yaml": {fixed}}.Encode())
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "The document has no problem.") {
		t.Errorf("validate fixed: %d", resp.StatusCode)
	}
	resp, _ = f.do(c, "POST", "/models/nis-lu/versions/2", "application/x-www-form-urlencoded", url.Values{"action": {"save"}, "yaml": {fixed}}.Encode())
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save fixed: %d", resp.StatusCode)
	}
	if v, _ := f.models.Get(cliCtx(), "nis-lu", 2); v.Doc.Risk.AcceptanceThreshold != "high" || v.Status != model.Draft {
		t.Fatalf("saved draft: %v %s", v.Doc.Risk.AcceptanceThreshold, v.Status)
	}

	// The diff shows the change; the publish page shows it before confirming.
	resp, body = f.do(c, "GET", "/models/nis-lu/diff?from=1&to=2", "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("diff: %d", resp.StatusCode)
	}
	mustContain(t, "diff", body, "<code class=\"wrap\">risk.acceptance_threshold</code>", "<code class=\"wrap\">medium</code>", "<code class=\"wrap\">high</code>", "<code class=\"wrap\">version</code>")
	resp, body = f.do(c, "GET", "/models/nis-lu/versions/2/publish", "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("publish page: %d", resp.StatusCode)
	}
	mustContain(t, "publish page", body, "risk.acceptance_threshold", `action="/models/nis-lu/versions/2/publish"`)
	// An operator sees neither the draft nor the editor.
	for _, p := range []string{"/models/nis-lu?v=2", "/models/nis-lu/versions/2/edit", "/models/nis-lu/diff?from=1&to=2"} {
		if resp, _ := f.do(f.client("opA_admin"), "GET", p, "", ""); resp.StatusCode != http.StatusForbidden {
			t.Errorf("operator %s: %d, want 403", p, resp.StatusCode)
		}
	}

	resp, _ = f.do(c, "POST", "/models/nis-lu/versions/2/publish", "application/x-www-form-urlencoded", "")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/models/nis-lu" {
		t.Fatalf("publish: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	v, err := f.models.Get(cliCtx(), "nis-lu", 0)
	if err != nil || v.Version != 2 || v.Doc.Risk.AcceptanceThreshold != "high" {
		t.Fatalf("published: %v %+v", err, v)
	}
	_, body = f.do(f.client("opA_admin"), "GET", "/models/nis-lu", "", "")
	mustContain(t, "published page", body, "<code>nis-lu</code> · v2")
	// A published version is no longer editable.
	if resp, _ := f.do(c, "GET", "/models/nis-lu/versions/2/edit", "", ""); resp.StatusCode != http.StatusConflict {
		t.Errorf("editing a published version: %d, want 409", resp.StatusCode)
	}
}

func TestModelEditRefused(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	f.syncModels()
	for _, who := range []string{"opA_admin", "opA_risk", "admin", "csirt_observer"} {
		resp, _ := f.do(f.client(who), "POST", "/models/nis/drafts", "application/x-www-form-urlencoded", "")
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s creating a draft: %d, want 403", who, resp.StatusCode)
		}
	}
	if infos, _ := f.models.Versions(cliCtx(), "nis"); len(infos) != 1 {
		t.Errorf("versions of nis: %d, want 1", len(infos))
	}
}

func TestModelImportPage(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	f.syncModels()
	c := f.client("nca_admin")
	doc := newKB(t, "kb-import-test")
	body, ctype := multipartFile(t, "kb.yaml", doc)
	resp, page := f.do(c, "POST", "/models/import", ctype, body)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/models/kb-import-test/versions/1/edit" {
		t.Fatalf("import: %d %q\n%.600s", resp.StatusCode, resp.Header.Get("Location"), page)
	}
	broken := strings.Replace(doc, "type: hardware", "type: software-and-more", 1)
	body, ctype = multipartFile(t, "broken.yaml", broken)
	resp, page = f.do(c, "POST", "/models/import", ctype, body)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("broken import: %d", resp.StatusCode)
	}
	mustContain(t, "broken import", page, fmt.Sprintf(">line %d</a>", lineOf(broken, "type: software-and-more")), "assets[0].type")
}

// newKB is a small valid knowledge base with fresh UUIDs.
func newKB(t *testing.T, code string) string {
	t.Helper()
	u := uuid.NewString
	return fmt.Sprintf(`kind: knowledge-base
code: %s
uuid: %s
version: 1
labels: {en: Test knowledge base, fr: Base de test}
asset_types:
  - {code: hardware, labels: {en: Hardware}}
assets:
  - code: test-server
    uuid: %s
    type: hardware
    labels: {en: Test server}
threat_types:
  - {code: technical-failures, labels: {en: Technical failures}}
threats:
  - code: test-failure
    uuid: %s
    type: technical-failures
    criteria: [A]
    labels: {en: Test failure}
`, code, u(), u(), u())
}

func multipartFile(t *testing.T, name, content string) (string, string) {
	t.Helper()
	const boundary = "nisducmodeltestboundary"
	var b strings.Builder
	fmt.Fprintf(&b, "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=%q\r\nContent-Type: application/yaml\r\n\r\n%s\r\n--%s--\r\n", boundary, name, content, boundary)
	return b.String(), "multipart/form-data; boundary=" + boundary
}

// The API journeys, through the OpenAPI harness (YAML bodies, which the
// harness cannot read, are checked by hand: status, type, error shape).
func TestAPIModels(t *testing.T) {
	a, f := newAPITester(t)
	f.syncModels()
	analyst := f.client("nca_analyst")
	op := f.client("opA_admin")

	var list struct {
		Items []model.Summary `json:"items"`
	}
	a.call(op, "GET", "/api/v1/models", "", http.StatusOK).json(t, &list)
	if !slices.ContainsFunc(list.Items, func(s model.Summary) bool {
		return s.Code == "nis" && s.Published == 1 && s.Kind == model.KindRegulatory
	}) {
		t.Errorf("list: %+v", list.Items)
	}
	r := a.call(op, "GET", "/api/v1/models/nis", "", http.StatusOK)
	if r.Header.Get("X-Model-Status") != "published" || !strings.Contains(string(r.body), `"acceptance_threshold": "medium"`) {
		t.Errorf("get nis: %s %.200s", r.Header.Get("X-Model-Status"), r.body)
	}
	nisJSON := string(r.body)
	a.call(op, "GET", "/api/v1/models/nis?version=1&format=json", "", http.StatusOK)
	resp, body := f.do(op, "GET", "/api/v1/models/nis?format=yaml", "", "")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/yaml" || !strings.HasPrefix(body, "kind: regulatory-model\ncode: nis\n") {
		t.Errorf("YAML export: %d %s %.60q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	a.call(op, "GET", "/api/v1/models/nis/versions", "", http.StatusOK)
	a.call(op, "GET", "/api/v1/models/nope", "", http.StatusNotFound)
	a.call(op, "GET", "/api/v1/models/nis?version=9", "", http.StatusNotFound)
	a.refused(op, "GET", "/api/v1/models/nis?format=xml", "", "", http.StatusUnprocessableEntity, "format")

	// Validate: every problem, field = path, message "file:line: …".
	brokenJSON := strings.Replace(nisJSON, `"acceptance_threshold": "medium"`, `"acceptance_threshold": "extreme"`, 1)
	brokenJSON = strings.Replace(brokenJSON, `"treatment_options": [`, `"treatment_options": ["pray", `, 1)
	r = a.send(op, "POST", "/api/v1/models/validate?name=nis.json", "application/json", brokenJSON, http.StatusUnprocessableEntity, false)
	var e apiError
	r.json(t, &e)
	wantMsg := fmt.Sprintf("nis.json:%d: ", lineOf(brokenJSON, `"acceptance_threshold"`))
	if !slices.ContainsFunc(e.Error.Fields, func(fe errsField) bool {
		return fe.Field == "risk.acceptance_threshold" && strings.HasPrefix(fe.Message, wantMsg)
	}) || len(e.Error.Fields) < 2 {
		t.Errorf("validate: want risk.acceptance_threshold at %q among several problems, got %+v", wantMsg, e.Error.Fields)
	}
	a.send(op, "POST", "/api/v1/models/validate", "application/json", nisJSON, http.StatusOK, false)
	// YAML, by Content-Type.
	yamlDoc := newKB(t, "kb-yaml")
	brokenYAML := strings.Replace(yamlDoc, "criteria: [A]", "criteria: [A, Z]", 1)
	resp, body = f.do(op, "POST", "/api/v1/models/validate?name=kb.yaml", "application/yaml", brokenYAML)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, fmt.Sprintf(`kb.yaml:%d: `, lineOf(brokenYAML, "criteria:"))) {
		t.Errorf("YAML validate: %d %s", resp.StatusCode, body)
	}
	a.checkResponse(resp, "POST", "/api/v1/models/validate?name=kb.yaml", body)
	if resp, body := f.do(op, "POST", "/api/v1/models/validate", "application/yaml", yamlDoc); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"ok": true`) {
		t.Errorf("YAML validate ok: %d %s", resp.StatusCode, body)
	}
	a.refused(op, "POST", "/api/v1/models/validate", "text/plain", "kind: x", http.StatusUnprocessableEntity, "Content-Type")

	// Editing is for authorities only.
	a.call(op, "POST", "/api/v1/models/nis/drafts", "", http.StatusForbidden)
	a.call(f.client("admin"), "POST", "/api/v1/models/nis/drafts", "", http.StatusForbidden)

	// Draft → save → diff → publish.
	r = a.call(analyst, "POST", "/api/v1/models/nis/drafts", "", http.StatusCreated)
	var in model.Info
	r.json(t, &in)
	if in.Version != 2 || in.Status != model.Draft || r.Header.Get("Location") != "/api/v1/models/nis?version=2" {
		t.Fatalf("draft: %+v %s", in, r.Header.Get("Location"))
	}
	a.call(analyst, "POST", "/api/v1/models/nis/drafts", "", http.StatusConflict)
	a.call(op, "GET", "/api/v1/models/nis?version=2", "", http.StatusForbidden)
	draft := strings.Replace(nisJSON, `"version": 1,`, `"version": 2,`, 1)
	draft = strings.Replace(draft, `"acceptance_threshold": "medium"`, `"acceptance_threshold": "high"`, 1)
	a.invalid(analyst, "PUT", "/api/v1/models/nis/versions/2", strings.Replace(draft, `"acceptance_threshold": "high"`, `"acceptance_threshold": "extreme"`, 1), "risk.acceptance_threshold")
	a.call(analyst, "PUT", "/api/v1/models/nis/versions/2", draft, http.StatusOK)
	a.call(op, "PUT", "/api/v1/models/nis/versions/2", draft, http.StatusForbidden)
	var diff apiDiff
	a.call(analyst, "GET", "/api/v1/models/nis/diff?from=1&to=2", "", http.StatusOK).json(t, &diff)
	if !slices.ContainsFunc(diff.Changes, func(c model.Change) bool {
		return c.Path == "risk.acceptance_threshold" && c.Op == model.Changed && c.Old == "medium" && c.New == "high"
	}) {
		t.Errorf("diff: %+v", diff.Changes)
	}
	a.refused(analyst, "GET", "/api/v1/models/nis/diff?from=1", "", "", http.StatusUnprocessableEntity, "to")
	a.call(op, "POST", "/api/v1/models/nis/versions/2/publish", "", http.StatusForbidden)
	r = a.call(analyst, "POST", "/api/v1/models/nis/versions/2/publish", "", http.StatusOK)
	r.json(t, &in)
	if in.Status != model.Published || in.PublishedAt == nil {
		t.Errorf("publish: %+v", in)
	}
	a.call(analyst, "POST", "/api/v1/models/nis/versions/2/publish", "", http.StatusConflict)
	a.call(analyst, "PUT", "/api/v1/models/nis/versions/2", draft, http.StatusConflict)
	a.call(op, "GET", "/api/v1/models/nis", "", http.StatusOK).json(t, &map[string]any{})
	if v, _ := f.models.Get(cliCtx(), "nis", 0); v.Version != 2 {
		t.Errorf("latest published nis is v%d, want v2", v.Version)
	}

	// Import: JSON through the harness, YAML by hand.
	kb := newKB(t, "kb-api")
	var kbDoc map[string]any
	if d, ps := model.Parse("kb", []byte(kb)); d == nil || len(ps) > 0 {
		t.Fatalf("test KB: %v", ps)
	} else if err := json.Unmarshal(d.JSON(), &kbDoc); err != nil {
		t.Fatal(err)
	}
	a.call(op, "POST", "/api/v1/models", jsonBody(t, kbDoc), http.StatusForbidden)
	r = a.call(analyst, "POST", "/api/v1/models", jsonBody(t, kbDoc), http.StatusCreated)
	r.json(t, &in)
	if in.Code != "kb-api" || in.Version != 1 || in.Status != model.Draft {
		t.Errorf("import: %+v", in)
	}
	a.call(analyst, "POST", "/api/v1/models?publish=true", jsonBody(t, kbDoc), http.StatusCreated).json(t, &in)
	if in.Version != 2 || in.Status != model.Draft {
		t.Errorf("re-import of a known code: %+v, want draft v2", in)
	}
	resp, body = f.do(analyst, "POST", "/api/v1/models?publish=true", "application/yaml", newKB(t, "kb-api-yaml"))
	if resp.StatusCode != http.StatusCreated || !strings.Contains(body, `"status": "published"`) {
		t.Errorf("YAML import: %d %s", resp.StatusCode, body)
	}
	a.checkResponse(resp, "POST", "/api/v1/models?publish=true", body)

	// Schemas: public, with or without .json.
	anon := f.client("anon")
	for _, k := range []string{"regulatory-model", "knowledge-base.json", "sector-model.json"} {
		r := a.call(anon, "GET", "/api/v1/schemas/"+k, "", http.StatusOK)
		if !strings.Contains(string(r.body), `"$schema"`) {
			t.Errorf("schema %s: %.100s", k, r.body)
		}
	}
	a.refused(anon, "GET", "/api/v1/schemas/nope", "", "", http.StatusNotFound, "")
	a.call(anon, "GET", "/api/v1/models", "", http.StatusUnauthorized)
}

type errsField = errs.FieldError

// checkResponse checks a response the test sent by hand (a YAML request
// the harness cannot read) against the document.
func (a *apiTester) checkResponse(resp *http.Response, method, target, body string) {
	a.t.Helper()
	_, respP := a.spec.check(exchange{method: method, target: target, reqHeader: http.Header{}, status: resp.StatusCode, respHeader: resp.Header, respBody: []byte(body)})
	for _, p := range respP {
		a.t.Errorf("%s %s → %d: %s", method, target, resp.StatusCode, p)
	}
}
