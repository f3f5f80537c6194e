package directory

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/i18n"
)

// codesIn returns the top-level sectors an annex lists.
func codesIn(l Listing) []string {
	var out []string
	for _, s := range Sectors() {
		if slices.Contains(s.Listings, l) {
			out = append(out, s.Code)
		}
	}
	return out
}

// The annexes' sector lists, as the directives publish them.
func TestAnnexes(t *testing.T) {
	tests := []struct {
		l    Listing
		want []string
	}{
		{NISAnnexII, []string{"energy", "transport", "banking", "financial-market-infrastructures", "health",
			"drinking-water", "digital-infrastructure"}},
		{NISAnnexIII, []string{"digital-services"}},
		{NIS2AnnexI, []string{"energy", "transport", "banking", "financial-market-infrastructures", "health",
			"drinking-water", "waste-water", "digital-infrastructure", "ict-service-management", "public-administration", "space"}},
		{NIS2AnnexII, []string{"postal", "waste-management", "chemicals", "food", "manufacturing", "digital-providers", "research"}},
	}
	for _, tt := range tests {
		if got := codesIn(tt.l); !slices.Equal(got, tt.want) {
			t.Errorf("%s lists %v, want %v", tt.l, got, tt.want)
		}
	}
	subs := func(code string) []string { s, _ := SectorByCode(code); return s.Subsectors }
	if got := subs("energy"); joined(got) != "energy/electricity,energy/district-heating,energy/oil,energy/gas,energy/hydrogen" {
		t.Errorf("energy sub-sectors = %v", got)
	}
	if got := subs("transport"); joined(got) != "transport/air,transport/rail,transport/water,transport/road" {
		t.Errorf("transport sub-sectors = %v", got)
	}
	if got := subs("manufacturing"); len(got) != 6 {
		t.Errorf("manufacturing sub-sectors = %v (NIS2 Annex II 5(a)–(f))", got)
	}
	// NIS listed three energy sub-sectors; hydrogen and district heating
	// came with NIS2.
	for code, nisToo := range map[string]bool{"energy/electricity": true, "energy/oil": true, "energy/gas": true,
		"energy/hydrogen": false, "energy/district-heating": false} {
		s, _ := SectorByCode(code)
		if slices.Contains(s.Listings, NISAnnexII) != nisToo {
			t.Errorf("%s: NIS listing = %v, want %v", code, !nisToo, nisToo)
		}
	}
	// Entity types the task and Regulation 2024/2690 name.
	for code, types := range map[string][]string{
		"energy/electricity":     {"electricity-undertaking", "dso", "tso", "producer", "nemo", "market-participant", "recharging-point-operator"},
		"transport/air":          {"air-carrier", "airport-managing-body", "atc-operator"},
		"transport/rail":         {"infrastructure-manager", "railway-undertaking"},
		"digital-infrastructure": {"ixp-provider", "dns-service-provider", "tld-name-registry", "cloud-provider", "data-centre-provider", "cdn-provider", "trust-service-provider", "public-network-provider", "public-ecs-provider"},
		"ict-service-management": {"managed-service-provider", "managed-security-service-provider"},
		"digital-providers":      {"online-marketplace-provider", "online-search-engine-provider", "social-network-provider"},
	} {
		s, _ := SectorByCode(code)
		for _, et := range types {
			if !s.HasEntityType(et) {
				t.Errorf("%s lacks entity type %s", code, et)
			}
		}
	}
	if s, _ := SectorByCode("energy/electricity"); slices.Contains(s.EntityTypes[3].Listings, NISAnnexII) {
		t.Errorf("producers were not in NIS Annex II")
	}
	if d := (Sector{Listings: []Listing{NISAnnexII, NIS2AnnexI}}).Directives(); joined(d) != "nis,nis2" {
		t.Errorf("Directives = %v", d)
	}
}

// The vocabulary is well formed: stable lowercase codes, sub-sectors
// prefixed by their sector, entity types listed only by annexes that list
// their sector, and every code labelled in every language.
func TestVocabularyWellFormed(t *testing.T) {
	code := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*(/[a-z0-9]+(-[a-z0-9]+)*)?$`)
	seen := map[string]bool{}
	for _, s := range AllSectors() {
		if !code.MatchString(s.Code) || seen[s.Code] {
			t.Errorf("bad or repeated code %q", s.Code)
		}
		seen[s.Code] = true
		if len(s.Listings) == 0 {
			t.Errorf("%s: no annex lists it", s.Code)
		}
		if s.Parent != "" {
			p, ok := SectorByCode(s.Parent)
			if !ok || !strings.HasPrefix(s.Code, s.Parent+"/") || !slices.Contains(p.Subsectors, s.Code) {
				t.Errorf("%s: parent %q inconsistent", s.Code, s.Parent)
			}
			for _, l := range s.Listings {
				if !slices.Contains(p.Listings, l) {
					t.Errorf("%s listed in %s but its sector is not", s.Code, l)
				}
			}
		} else if strings.Contains(s.Code, "/") {
			t.Errorf("%s: a sector code has no slash", s.Code)
		}
		if len(s.Subsectors) > 0 && len(s.EntityTypes) > 0 {
			t.Errorf("%s: entity types belong to its sub-sectors", s.Code)
		}
		for _, e := range s.EntityTypes {
			if !code.MatchString(e.Code) || strings.Contains(e.Code, "/") {
				t.Errorf("%s: bad entity type code %q", s.Code, e.Code)
			}
			for _, l := range e.Listings {
				if !slices.Contains(s.Listings, l) {
					t.Errorf("%s/%s listed in %s but %s is not", s.Code, e.Code, l, s.Code)
				}
			}
		}
		assertLabel(t, "dir.sector."+strings.ReplaceAll(s.Code, "/", "."))
	}
	for _, e := range EntityTypeCodes() {
		assertLabel(t, "dir.entity."+e)
	}
	for _, m := range Models {
		assertLabel(t, "dir.model."+m)
	}
	for _, k := range authz.OrgKinds {
		assertLabel(t, "dir.kind."+string(k))
	}
	for _, r := range authz.Roles {
		assertLabel(t, "dir.role."+string(r))
	}
	for _, r := range authz.LinkRoles {
		assertLabel(t, "dir.link_role."+string(r))
	}
	for _, r := range ContactRoles {
		assertLabel(t, "dir.contact_role."+r)
	}
	for _, c := range append(Categories, "") {
		if c != "" {
			assertLabel(t, "dir.category."+c)
		}
	}
	for _, c := range SizeClasses {
		assertLabel(t, "dir.size."+c)
	}
	// Country names come from CLDR (golang.org/x/text): every code has a
	// name other than itself in every language.
	for _, lang := range i18n.Languages {
		for _, c := range Countries() {
			if got := CountryLabel(lang, c); got == "" || got == c {
				t.Errorf("CountryLabel(%s, %s) = %q", lang, c, got)
			}
		}
	}
	if got := SectorLabel("fr", "energy/electricity"); got != "Électricité" {
		t.Errorf("SectorLabel(fr, energy/electricity) = %q", got)
	}
	if got := CountryLabel("de", "LU"); got != "Luxemburg" {
		t.Errorf("CountryLabel(de, LU) = %q", got)
	}
	if got := EntityTypeLabel("nl", "unknown-type"); got != "unknown-type" {
		t.Errorf("unknown label falls back to the code, got %q", got)
	}
}

func assertLabel(t *testing.T, key string) {
	t.Helper()
	if !i18n.Has(key) {
		t.Errorf("catalogue lacks %s", key)
	}
}

// Every message key the package uses exists in the catalogue (a missing
// one would show users the raw key).
func TestMessageKeysExist(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`"(dir\.err\.[a-z0-9_]+)"`)
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			n++
			assertLabel(t, m[1])
		}
	}
	if n < 50 {
		t.Fatalf("found only %d message keys: is the scan broken?", n)
	}
}
