package model

import (
	"strings"
	"testing"
)

// A sector model's sector and entity types are the directory's codes.
func TestSectorVocabulary(t *testing.T) {
	tests := []struct {
		sector, entityTypes string
		want                []string // substrings of the problems, in order; none = valid
	}{
		{"energy/electricity", "", nil},
		{"digital-infrastructure", "[dns-service-provider]", nil},
		{"energy", "[tso]", nil}, // a sub-sector's entity type, on the whole sector
		{"energy/nuclear", "", []string{`sector: unknown sector "energy/nuclear"`}},
		{"digital-infrastructure", "[tso]", []string{`entity_types[0]: entity type "tso" is not listed in sector "digital-infrastructure"`}},
	}
	for _, tt := range tests {
		set := validSet(t)
		var sector *Document
		for _, d := range set.Docs() {
			if d.Kind == KindSector {
				sector = d.Clone()
			}
		}
		sector.Sector = tt.sector
		sector.EntityTypes = nil
		if tt.entityTypes != "" {
			sector.EntityTypes = strings.Split(strings.Trim(tt.entityTypes, "[]"), ",")
		}
		set.Put(sector)
		var got []string
		for _, p := range Validate(set) {
			if strings.HasPrefix(p.Path, "sector") || strings.HasPrefix(p.Path, "entity_types") {
				got = append(got, p.String())
			}
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s %s: problems %q, want %q", tt.sector, tt.entityTypes, got, tt.want)
			continue
		}
		for i := range got {
			if !strings.Contains(got[i], tt.want[i]) {
				t.Errorf("%s %s: problem %q, want it to contain %q", tt.sector, tt.entityTypes, got[i], tt.want[i])
			}
		}
	}
}
