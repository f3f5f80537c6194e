package web

import (
	"encoding/json"
	"testing"

	"github.com/nisduc/nisduc/internal/directory"
	"github.com/nisduc/nisduc/internal/errs"
)

// A merge patch from a client, applied to an organisation and parsed back,
// never panics and never yields anything but an invalid-input error.
func FuzzOrgMergePatch(f *testing.F) {
	for _, seed := range []string{`{}`, `{"name":"x"}`, `{"prefixes":["192.0.2.1/24"]}`, `{"contacts":[{"email":3}]}`,
		`{"sectors":null}`, `{"asns":[64500,"AS64501"]}`, `{"a":{"b":{"c":null}}}`, `[]`, `"x"`} {
		f.Add(seed)
	}
	base := directory.OrgInput{ShortName: "grid-a", Name: "Grid A", Country: "LU", TimeZone: "Europe/Luxembourg", Kind: "OES",
		Category: "essential", Prefixes: []string{"192.0.2.0/24"}, ASNs: []string{"64500"}}
	f.Fuzz(func(t *testing.T, patch string) {
		var p map[string]any
		if json.Unmarshal([]byte(patch), &p) != nil {
			return
		}
		b, _ := json.Marshal(base)
		var doc map[string]any
		json.Unmarshal(b, &doc)
		mergePatch(doc, p)
		merged, err := json.Marshal(doc)
		if err != nil {
			t.Fatalf("marshal merged: %v", err)
		}
		in, err := directory.ParseOrgInput(merged)
		if err == nil {
			_, err = directory.ValidateOrg(in)
		}
		if err != nil && errs.CodeOf(err) != errs.Invalid {
			t.Fatalf("patch %s: %v (code %s), want invalid or nil", patch, err, errs.CodeOf(err))
		}
	})
}
