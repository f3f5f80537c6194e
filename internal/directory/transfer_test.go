package directory

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
	"github.com/nisduc/nisduc/internal/storetest"
)

// another returns an empty store of the same dialect as db.
func another(t *testing.T, db *store.DB) *store.DB {
	if db.Dialect == store.Postgres {
		return storetest.Postgres(t)
	}
	return storetest.SQLite(t)
}

func countOrgs(t *testing.T, db *store.DB) int {
	var n int
	if err := db.QueryRow(context.Background(), `SELECT COUNT(*) FROM organizations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Export → import into an empty store → export gives the same document,
// UUIDs and all; importing it again changes nothing.
func TestExportImportRoundTrip(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		f := newFx(t, db)
		var first bytes.Buffer
		if err := f.dir.Export(f.ctx(f.gridAdmin), &first); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("operator exporting: %v", err)
		}
		if err := f.dir.Export(f.ctx(f.admin), &first); err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(first.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if doc["format"] != DocFormat || doc["version"] != float64(1) || doc["exported_at"] != "2026-03-01T09:30:00Z" {
			t.Fatalf("header = %v %v %v", doc["format"], doc["version"], doc["exported_at"])
		}
		if n := len(doc["organizations"].([]any)); n != 8 {
			t.Fatalf("%d organisations exported", n)
		}
		if !strings.Contains(first.String(), f.ids["lux-grid"]) || !strings.Contains(first.String(), `"asns": [
        64501
      ]`) {
			t.Fatalf("export lacks the grid's UUID or ASN:\n%s", first.String())
		}

		db2 := another(t, db)
		db2.Now = db.Now
		dir2 := newService(db2)
		ctx2 := authz.WithActor(context.Background(), authz.CLI("test"))
		res, err := dir2.Import(ctx2, bytes.NewReader(first.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if res != (ImportResult{Created: 8, LinksCreated: 7}) {
			t.Fatalf("first import: %+v", res)
		}
		var second bytes.Buffer
		if err := dir2.Export(ctx2, &second); err != nil {
			t.Fatal(err)
		}
		if first.String() != second.String() {
			t.Fatalf("round trip differs:\n--- first\n%s\n--- second\n%s", first.String(), second.String())
		}
		// The imported directory serves the same policy.
		t1, _ := f.dir.Target(context.Background(), f.ids["lux-grid"])
		t2, _ := dir2.Target(context.Background(), f.ids["lux-grid"])
		if len(t1.Links) != 3 || len(t2.Links) != len(t1.Links) {
			t.Fatalf("targets differ: %+v vs %+v", t1, t2)
		}
		res, err = dir2.Import(ctx2, bytes.NewReader(first.Bytes()))
		if err != nil || res != (ImportResult{Unchanged: 8}) {
			t.Fatalf("second import: %+v %v", res, err)
		}
		es := auditFor(t, db2, f.ids["lux-grid"])
		if len(es) != 1 || es[0].Action != "org.create" || es[0].Details["via"] != "import" {
			t.Fatalf("import audit: %+v", es)
		}
	})
}

// An import that changes entries updates them in place by UUID, even when
// two organisations swap short names.
func TestImportUpdates(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		f := newFx(t, db)
		admin := f.ctx(f.admin)
		var buf bytes.Buffer
		if err := f.dir.Export(admin, &buf); err != nil {
			t.Fatal(err)
		}
		d, err := ParseDocument(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		for i := range d.Organizations {
			o := &d.Organizations[i]
			switch o.ShortName {
			case "aqua":
				o.ShortName = "rail-lu"
			case "rail-lu":
				o.ShortName = "aqua"
			case "lux-grid":
				o.Prefixes = append(o.Prefixes, "203.0.113.0/24")
			}
		}
		for i := range d.Supervision {
			if d.Supervision[i].Role == authz.CSIRTLink && d.Supervision[i].Sector == "energy" {
				d.Supervision[i].Model = ModelNIS2
			}
		}
		var changed bytes.Buffer
		if err := WriteDocument(&changed, d); err != nil {
			t.Fatal(err)
		}
		res, err := f.dir.Import(admin, &changed)
		if err != nil {
			t.Fatal(err)
		}
		if res != (ImportResult{Updated: 3, Unchanged: 5, LinksUpdated: 1}) {
			t.Fatalf("result %+v", res)
		}
		if id, _ := f.dir.ResolveOrg(context.Background(), "aqua"); id != f.ids["rail-lu"] {
			t.Fatalf("short names not swapped")
		}
		g, _ := f.dir.GetOrg(admin, f.ids["lux-grid"])
		if len(g.Prefixes) != 3 {
			t.Fatalf("prefix not added: %v", g.Prefixes)
		}
	})
}

func TestImportErrors(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		f := newFx(t, db)
		admin := f.ctx(f.admin)
		const u1, u2, u3 = "6f1c4b0e-0000-4000-8000-0000000000a1", "6f1c4b0e-0000-4000-8000-0000000000a2", "6f1c4b0e-0000-4000-8000-0000000000a3"
		orgJSON := func(id, short, extra string) string {
			return `{"id":"` + id + `","short_name":"` + short + `","name":"N","country":"LU","timezone":"UTC","kind":"OES"` + extra + `}`
		}
		doc := func(orgs, links string) string {
			return `{"format":"nisduc-directory","version":1,"organizations":[` + orgs + `],"supervision":[` + links + `]}`
		}
		before := countOrgs(t, db)
		tests := []struct {
			name   string
			doc    string
			fields string
		}{
			{"every problem of the file at once, with its path",
				doc(orgJSON(u1, "imp-1", `,"prefixes":["192.0.2.0/24","192.0.2.1/24"],"colour":"red"`)+","+
					orgJSON(u2, "imp-2", `,"asns":[64500,"AS23456",true],"domains":["bücher.example"]`)+","+
					orgJSON(u1, "IMP-1", "")+`,{"name":"no id"}`, ""),
				"organizations[0].colour,organizations[0].prefixes[1],organizations[1].asns[1],organizations[1].asns[2],organizations[1].domains[0]," +
					"organizations[2].id,organizations[2].short_name,organizations[3].country,organizations[3].id,organizations[3].kind," +
					"organizations[3].short_name,organizations[3].timezone"},
			{"wrong format and version", `{"format":"misp","version":2,"organizations":[],"supervision":[]}`, "format,version"},
			{"missing header", `{"organizations":[]}`, "format,version"},
			{"not an object", `[]`, "document"},
			{"syntax error", `{"format": "nisduc-directory",`, "document"},
			{"trailing data", doc("", "") + ` {}`, "document"},
			{"duplicate key", `{"format":"nisduc-directory","format":"x"}`, "format"},
			{"wrong types", `{"format":"nisduc-directory","version":"1","organizations":{},"supervision":[1],"exported_at":"yesterday"}`,
				"exported_at,organizations,supervision[0],version"},
			{"short name of another organisation in the store",
				doc(orgJSON(u1, "LUX-GRID", ""), ""), "organizations[0].short_name"},
			{"link to an authority that exists nowhere",
				doc("", `{"id":"`+u3+`","country":"LU","sector":"energy","subsector":"","role":"csirt","authority":"`+u2+`","regulatory_model":""}`),
				"supervision[0].authority"},
			{"link role the authority's kind cannot play",
				doc(orgJSON(u1, "imp-1", ""), `{"id":"`+u3+`","country":"LU","sector":"energy","role":"csirt","authority":"`+u1+`"}`),
				"supervision[0].authority"},
			{"link repeating a stored one under another UUID",
				doc("", `{"id":"`+u3+`","country":"LU","sector":"energy","role":"spoc","authority":"`+f.ids["lu-nca"]+`","regulatory_model":"nis-lu"}`),
				"supervision[0]"},
			{"changing a kind that stored links rely on",
				doc(`{"id":"`+f.ids["lu-csirt"]+`","short_name":"lu-csirt","name":"LU CSIRT","country":"LU","timezone":"Europe/Luxembourg","kind":"DPA"}`, ""),
				"organizations[0].kind,organizations[0].kind"}, // two links
		}
		for _, tt := range tests {
			_, err := f.dir.Import(admin, strings.NewReader(tt.doc))
			if !errs.Is(err, errs.Invalid) {
				t.Errorf("%s: %v, want invalid", tt.name, err)
				continue
			}
			if got := joined(fieldsOf(t, err)); got != tt.fields {
				t.Errorf("%s:\n got %s\nwant %s\n(%v)", tt.name, got, tt.fields, err)
			}
		}
		if n := countOrgs(t, db); n != before {
			t.Fatalf("failed imports stored something: %d → %d organisations", before, n)
		}
		// The host-bits message suggests the masked prefix.
		_, err := f.dir.Import(admin, strings.NewReader(doc(orgJSON(u1, "imp-1", `,"prefixes":["10.0.0.0/8","192.0.2.1/24"]`), "")))
		if !strings.Contains(err.Error(), "organizations[0].prefixes[1]: 192.0.2.1/24 has host bits set; did you mean 192.0.2.0/24?") {
			t.Fatalf("message: %v", err)
		}
		// Size limit, before parsing.
		big := bytes.Repeat([]byte(" "), MaxImportBytes+1)
		if _, err := f.dir.Import(admin, bytes.NewReader(big)); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "32 MiB") {
			t.Fatalf("oversized: %v", err)
		}
		if _, err := f.dir.Import(f.ctx(f.ncaAnalyst), strings.NewReader(doc("", ""))); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("analyst importing: %v", err)
		}
		// A valid document with a new organisation and link goes in whole.
		res, err := f.dir.Import(admin, strings.NewReader(doc(
			`{"id":"`+u1+`","short_name":"imp-1","name":"Imported","country":"LU","timezone":"Europe/Luxembourg","kind":"CSIRT"}`,
			`{"id":"`+u3+`","country":"LU","sector":"energy","role":"csirt","authority":"`+u1+`"}`)))
		if err != nil || res != (ImportResult{Created: 1, LinksCreated: 1}) {
			t.Fatalf("valid import: %+v %v", res, err)
		}
	})
}

func TestParseOrgInput(t *testing.T) {
	in, err := ParseOrgInput([]byte(`{"short_name":"x1","asns":[64500,"AS64501"],"prefixes":null,"contacts":[{"role":"legal","email":"a@b.example"}]}`))
	if err != nil || joined(in.ASNs) != "64500,AS64501" || in.Contacts[0].Role != "legal" {
		t.Fatalf("ParseOrgInput = %+v, %v", in, err)
	}
	_, err = ParseOrgInput([]byte(`{"short_name":1,"sectors":[{"sector":"energy","nope":1}],"extra":true}`))
	if got := joined(fieldsOf(t, err)); got != "extra,sectors[0].nope,short_name" {
		t.Fatalf("fields = %s (%v)", got, err)
	}
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	if _, err := ParseOrgInput([]byte(deep)); !errs.Is(err, errs.Invalid) {
		t.Fatalf("deep nesting: %v", err)
	}
}

// WriteDocument output is what ParseDocument reads, byte for byte.
func TestDocumentCanonical(t *testing.T) {
	d := Document{ExportedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	var a, b bytes.Buffer
	if err := WriteDocument(&a, d); err != nil {
		t.Fatal(err)
	}
	p, err := ParseDocument(a.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteDocument(&b, p); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() || !strings.Contains(a.String(), `"organizations": []`) {
		t.Fatalf("empty document:\n%s\n%s", a.String(), b.String())
	}
}

// A badly broken document reports the first maxProblems problems and says
// there are more, rather than a million lines.
func TestParseDocumentManyProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"format":"nisduc-directory","version":1,"organizations":[`)
	for i := range 5000 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"bogus":1}`)
	}
	b.WriteString(`]}`)
	_, err := ParseDocument([]byte(b.String()))
	checkInvalid(t, err)
	fields := err.(*errs.Error).Fields
	if len(fields) != maxProblems+1 || fields[0].Field != "organizations[0].bogus" || fields[maxProblems].Field != "document" {
		t.Fatalf("%d problems, first %q, last %+v", len(fields), fields[0].Field, fields[len(fields)-1])
	}
}
