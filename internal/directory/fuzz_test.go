package directory

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
)

// checkInvalid fails unless err is an Invalid error whose every problem
// names a field: bad input never panics, never comes back as an internal
// error, never as a message without a place.
func checkInvalid(t *testing.T, err error) {
	t.Helper()
	e, ok := err.(*errs.Error)
	if !ok || e.Code != errs.Invalid {
		t.Fatalf("bad input gave %v (%T, code %q), want an invalid *errs.Error", err, err, errs.CodeOf(err))
	}
	if len(e.Fields) == 0 {
		t.Fatalf("invalid error without fields: %v", err)
	}
	for _, f := range e.Fields {
		if f.Field == "" || f.Message == "" {
			t.Fatalf("field error without a path or message: %+v", f)
		}
	}
}

func seedDocument() []byte {
	d := Document{ExportedAt: time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)}
	o, err := ValidateOrg(OrgInput{ID: "6f1c4b0e-0000-4000-8000-000000000001", ShortName: "lux-grid", Name: "LuxGrid",
		Country: "LU", TimeZone: "Europe/Luxembourg", Kind: authz.OES, Category: Essential, SizeClass: "large",
		Sectors:  []OrgSector{sec("energy", "electricity", "tso")},
		Contacts: []Contact{{Role: "security_officer", Name: "Anne", Email: "anne@grid.example", Phone: "+352 2478 0001"}},
		Prefixes: []string{"192.0.2.0/25", "2001:db8:10::/48"}, ASNs: []string{"AS64501"}, Domains: []string{"grid.example"}})
	if err != nil {
		panic(err)
	}
	a, err := ValidateOrg(OrgInput{ID: "6f1c4b0e-0000-4000-8000-000000000002", ShortName: "lu-csirt", Name: "CSIRT",
		Country: "LU", TimeZone: "Europe/Luxembourg", Kind: authz.CSIRT})
	if err != nil {
		panic(err)
	}
	d.Organizations = []Org{o, a}
	d.Supervision = []Link{{ID: "6f1c4b0e-0000-4000-8000-000000000003", Country: "LU", Sector: "energy",
		Role: authz.CSIRTLink, AuthorityOrgID: a.ID}}
	var b bytes.Buffer
	if err := WriteDocument(&b, d); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// The importer's parser and validator: any input either parses into a
// document that writes back canonically (and reads again the same), or
// is refused as Invalid with paths.
func FuzzParseDocument(f *testing.F) {
	good := seedDocument()
	f.Add(good)
	f.Add([]byte(`{"format":"nisduc-directory","version":1,"organizations":[],"supervision":[]}`))
	f.Add([]byte(`{"format":"nisduc-directory","version":1,"organizations":[{"id":"x","prefixes":["192.0.2.1/24"],"asns":[23456,"AS1.5"]}]}`))
	f.Add([]byte(`{"format":"nisduc-directory","version":1e400}`))
	f.Add([]byte(`{"format":"nisduc-directory","format":"nisduc-directory"}`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`))
	f.Add([]byte(`{"organizations":[{"sectors":[{"sector":"energy","subsector":"gas","entity_type":"tso"},null,3]}]}`))
	f.Add([]byte("\xff\xfe{}"))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDocument(data)
		if err != nil {
			checkInvalid(t, err)
			return
		}
		var a, b bytes.Buffer
		if err := WriteDocument(&a, d); err != nil {
			t.Fatal(err)
		}
		d2, err := ParseDocument(a.Bytes())
		if err != nil {
			t.Fatalf("a written document does not read back: %v\n%s", err, a.String())
		}
		if err := WriteDocument(&b, d2); err != nil {
			t.Fatal(err)
		}
		if a.String() != b.String() {
			t.Fatalf("not canonical:\n%s\n---\n%s", a.String(), b.String())
		}
	})
}

// The API's organisation parser, then validation: never a panic or an
// internal error, and what validates is stable under re-validation.
func FuzzParseOrgInput(f *testing.F) {
	f.Add([]byte(`{"short_name":"lux-grid","name":"LuxGrid","country":"lu","timezone":"Europe/Luxembourg","kind":"OES",
		"sectors":[{"sector":"energy","subsector":"electricity","entity_type":"tso"}],"prefixes":["192.0.2.0/24"],
		"asns":[64500,"AS64501"],"domains":["grid.example."],"contacts":[{"role":"legal","email":"a@b.example","phone":"+352 1234 5678"}]}`))
	f.Add([]byte(`{"short_name":1,"extra":null}`))
	f.Add([]byte(`{"prefixes":["::ffff:192.0.2.0/120","0.0.0.0/0"],"asns":[-1,1.5,"1.65535"]}`))
	f.Add([]byte(`{"domains":["xn--bcher-kva.example","bücher.example","*.x.y"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := ParseOrgInput(data)
		if err != nil {
			checkInvalid(t, err)
			return
		}
		o, err := ValidateOrg(in)
		if err != nil {
			checkInvalid(t, err)
			return
		}
		o2, err := ValidateOrg(o.Input())
		if err != nil {
			t.Fatalf("canonical entry does not validate: %v", err)
		}
		if o.ShortName != o2.ShortName || joined(o.Prefixes) != joined(o2.Prefixes) || joined(o.Domains) != joined(o2.Domains) ||
			len(o.ASNs) != len(o2.ASNs) || len(o.Contacts) != len(o2.Contacts) || len(o.Sectors) != len(o2.Sectors) {
			t.Fatalf("re-validation changed the entry:\n%+v\n%+v", o, o2)
		}
	})
}

// The field parsers of outside text: no panic, and each normal form is a
// fixed point (normalising it again gives it back).
func FuzzFieldParsers(f *testing.F) {
	for _, s := range []string{"192.0.2.1/24", "2001:DB8::/32", "::ffff:1.2.3.4/128", "AS64500", "1.10", "4294967295",
		"Example.ORG.", "bücher.example", "Anne <a@b.example>", "a@b.example", "+352 (0) 2478-1234", "0032 2 555 12 34", "", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if p, key, _ := ParsePrefix(s); key == "" {
			if q, k2, _ := ParsePrefix(p.String()); k2 != "" || q != p {
				t.Fatalf("prefix %q → %s → %s %q", s, p, q, k2)
			}
		}
		if n, key := ParseASN(s); key == "" {
			if m, k2 := ParseASN(strconv.FormatUint(uint64(n), 10)); k2 != "" || m != n {
				t.Fatalf("ASN %q → %d → %d %q", s, n, m, k2)
			}
		}
		if d, key := NormalizeDomain(s); key == "" {
			if d2, k2 := NormalizeDomain(d); k2 != "" || d2 != d {
				t.Fatalf("domain %q → %q → %q %q", s, d, d2, k2)
			}
		}
		if e, key := NormalizeEmail(s); key == "" {
			if e2, k2 := NormalizeEmail(e); k2 != "" || e2 != e {
				t.Fatalf("e-mail %q → %q → %q %q", s, e, e2, k2)
			}
		}
		if p, ok := NormalizePhone(s); ok {
			if p2, ok2 := NormalizePhone(p); !ok2 || p2 != p {
				t.Fatalf("phone %q → %q → %q", s, p, p2)
			}
		}
		ValidTimeZone(s)
		ValidShortName(s)
	})
}

// The strict JSON parser agrees with encoding/json: it accepts exactly
// the valid documents, except those with a repeated key or nested deeper
// than maxJSONDepth, and reads the same values.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,-2.5e3,"x\u00e9\n",true,null,{}]}`, `"\ud83d\ude00"`, `"\ud83d"`, `01`, `1.`, `-`,
		`{"a":1,"a":2}`, `[1,]`, `{"a" 1}`, "\"\xff\"", `"\/"`, ` 7 `, `{}x`, "[\"a\tb\"]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := parseJSON(data)
		valid := json.Valid(data)
		if err != nil {
			checkInvalid(t, err)
			key := err.(*errs.Error).Fields[0].Key
			if valid && key != "dir.err.json_duplicate_key" && key != "dir.err.json_depth" &&
				!(key == "dir.err.json" && !utf8.Valid(data)) {
				t.Fatalf("refused valid JSON %q: %v", data, err)
			}
			return
		}
		if !valid {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		var std any
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&std); err != nil {
			t.Fatal(err)
		}
		if !sameJSON(v, std) {
			t.Fatalf("%q: read %#v, encoding/json reads %#v", data, v, std)
		}
	})
}

func sameJSON(mine, std any) bool {
	switch m := mine.(type) {
	case *jobj:
		s, ok := std.(map[string]any)
		if !ok || len(s) != len(m.keys) {
			return false
		}
		for _, k := range m.keys {
			if !sameJSON(m.vals[k], s[k]) {
				return false
			}
		}
		return true
	case []any:
		s, ok := std.([]any)
		if !ok || len(s) != len(m) {
			return false
		}
		for i := range m {
			if !sameJSON(m[i], s[i]) {
				return false
			}
		}
		return true
	default:
		return mine == std
	}
}
