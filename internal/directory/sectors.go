package directory

import (
	"slices"
	"strings"

	"github.com/nisduc/nisduc/internal/i18n"
)

// Listing names the annex of a directive that lists a sector, sub-sector or
// entity type. The vocabulary keeps the NIS Directive (EU) 2016/1148 and
// NIS2 (EU) 2022/2555 side by side because supervision links still apply
// the NIS model in some countries (and its Luxembourg variant) while others
// have moved to NIS2.
type Listing string

const (
	NISAnnexII  Listing = "nis:II"  // NIS Annex II: operators of essential services
	NISAnnexIII Listing = "nis:III" // NIS Annex III: digital service providers
	NIS2AnnexI  Listing = "nis2:I"  // NIS2 Annex I: sectors of high criticality
	NIS2AnnexII Listing = "nis2:II" // NIS2 Annex II: other critical sectors
)

// Directive is "nis" or "nis2".
func (l Listing) Directive() string { d, _, _ := strings.Cut(string(l), ":"); return d }

// EntityType is a type of entity that an annex names within a sector or
// sub-sector (e.g. "tso" in energy/electricity).
type EntityType struct {
	Code     string
	Listings []Listing
}

// Sector is a sector ("energy") or a sub-sector ("energy/electricity", whose
// Parent is "energy"). A sub-sector's code always starts with its parent's
// code and a slash, so a code alone says where it belongs.
type Sector struct {
	Code     string
	Parent   string
	Listings []Listing
	// Subsectors are the codes of the sub-sectors (top-level sectors only).
	Subsectors []string
	// EntityTypes are listed where the annexes list them: on the sub-sector
	// when the sector has sub-sectors, on the sector otherwise.
	EntityTypes []EntityType
}

// Directives returns the directives that list s ("nis", "nis2").
func (s Sector) Directives() []string {
	var out []string
	for _, l := range s.Listings {
		if d := l.Directive(); !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// HasEntityType reports whether code is an entity type of s.
func (s Sector) HasEntityType(code string) bool {
	return slices.ContainsFunc(s.EntityTypes, func(e EntityType) bool { return e.Code == code })
}

// Label is the sector's name in lang.
func (s Sector) Label(lang string) string { return SectorLabel(lang, s.Code) }

// SectorLabel is the name of a sector or sub-sector code in lang (the code
// itself when unknown).
func SectorLabel(lang, code string) string {
	key := "dir.sector." + strings.ReplaceAll(code, "/", ".")
	if !i18n.Has(key) {
		return code
	}
	return i18n.T(lang, key)
}

// EntityTypeLabel is the name of an entity type code in lang.
func EntityTypeLabel(lang, code string) string {
	key := "dir.entity." + code
	if !i18n.Has(key) {
		return code
	}
	return i18n.T(lang, key)
}

// Regulatory models a supervision link can apply: the method an assessment
// uses and the rules notifications follow in that country and sector.
const (
	ModelNIS      = "nis"      // NIS Directive as transposed (the seed's model)
	ModelNISLU    = "nis-lu"   // the Luxembourg NIS variant (ILR's risk-based method)
	ModelNIS2     = "nis2"     // NIS2 Directive
	ModelEECC     = "eecc"     // European Electronic Communications Code, Art. 40–41
	ModelISO27001 = "iso27001" // ISO/IEC 27001 based supervision
)

// Models lists the regulatory model codes in display order.
var Models = []string{ModelNIS, ModelNISLU, ModelNIS2, ModelEECC, ModelISO27001}

// ModelLabel is the name of a regulatory model in lang.
func ModelLabel(lang, code string) string { return labelOr(lang, "dir.model."+code, code) }

func labelOr(lang, key, fallback string) string {
	if !i18n.Has(key) {
		return fallback
	}
	return i18n.T(lang, key)
}

var (
	nis2I  = []Listing{NIS2AnnexI}
	nis2II = []Listing{NIS2AnnexII}
	bothI  = []Listing{NISAnnexII, NIS2AnnexI}
	nisIII = []Listing{NISAnnexIII}
)

func et(code string, l []Listing) EntityType { return EntityType{Code: code, Listings: l} }

// sectorTable is the vocabulary, in the annexes' order: NIS Annex II and
// NIS2 Annex I share their first sectors, then come the sectors only NIS2
// Annex I lists, NIS Annex III's digital services, and NIS2 Annex II.
// Entity types follow the annexes' wording; where both directives name the
// same type, one code serves both. A code never changes once released
// (organisations, links and exports store it).
var sectorTable = []Sector{
	{Code: "energy", Listings: bothI},
	{Code: "energy/electricity", Parent: "energy", Listings: bothI, EntityTypes: []EntityType{
		et("electricity-undertaking", bothI), // carrying out the function of supply
		et("dso", bothI),
		et("tso", bothI),
		et("producer", nis2I),
		et("nemo", nis2I),               // nominated electricity market operator
		et("market-participant", nis2I), // aggregation, demand response, energy storage
		et("recharging-point-operator", nis2I),
	}},
	{Code: "energy/district-heating", Parent: "energy", Listings: nis2I, EntityTypes: []EntityType{
		et("district-heating-operator", nis2I),
	}},
	{Code: "energy/oil", Parent: "energy", Listings: bothI, EntityTypes: []EntityType{
		et("oil-pipeline-operator", bothI),
		et("oil-facility-operator", bothI), // production, refining, treatment, storage, transmission
		et("central-stockholding-entity", nis2I),
	}},
	{Code: "energy/gas", Parent: "energy", Listings: bothI, EntityTypes: []EntityType{
		et("gas-supply-undertaking", bothI),
		et("dso", bothI),
		et("tso", bothI),
		et("storage-system-operator", bothI),
		et("lng-system-operator", bothI),
		et("natural-gas-undertaking", bothI),
		et("gas-refining-operator", bothI), // natural gas refining and treatment facilities
	}},
	{Code: "energy/hydrogen", Parent: "energy", Listings: nis2I, EntityTypes: []EntityType{
		et("hydrogen-operator", nis2I), // production, storage, transmission
	}},

	{Code: "transport", Listings: bothI},
	{Code: "transport/air", Parent: "transport", Listings: bothI, EntityTypes: []EntityType{
		et("air-carrier", bothI),
		et("airport-managing-body", bothI), // incl. entities operating ancillary installations
		et("atc-operator", bothI),          // traffic management control operators providing ATC
	}},
	{Code: "transport/rail", Parent: "transport", Listings: bothI, EntityTypes: []EntityType{
		et("infrastructure-manager", bothI),
		et("railway-undertaking", bothI), // incl. operators of service facilities
	}},
	{Code: "transport/water", Parent: "transport", Listings: bothI, EntityTypes: []EntityType{
		et("water-transport-company", bothI), // inland, sea and coastal passenger and freight
		et("port-managing-body", bothI),
		et("vts-operator", bothI), // vessel traffic services
	}},
	{Code: "transport/road", Parent: "transport", Listings: bothI, EntityTypes: []EntityType{
		et("road-authority", bothI), // responsible for traffic management control
		et("its-operator", bothI),   // intelligent transport systems
	}},

	{Code: "banking", Listings: bothI, EntityTypes: []EntityType{et("credit-institution", bothI)}},
	{Code: "financial-market-infrastructures", Listings: bothI, EntityTypes: []EntityType{
		et("trading-venue-operator", bothI),
		et("central-counterparty", bothI),
	}},
	{Code: "health", Listings: bothI, EntityTypes: []EntityType{
		et("healthcare-provider", bothI),
		et("eu-reference-laboratory", nis2I),
		et("medicinal-research", nis2I),           // R&D of medicinal products
		et("pharmaceutical-manufacturer", nis2I),  // NACE C 21
		et("critical-device-manufacturer", nis2I), // devices critical in a public health emergency
	}},
	{Code: "drinking-water", Listings: bothI, EntityTypes: []EntityType{et("drinking-water-supplier", bothI)}},
	{Code: "waste-water", Listings: nis2I, EntityTypes: []EntityType{et("waste-water-undertaking", nis2I)}},
	{Code: "digital-infrastructure", Listings: bothI, EntityTypes: []EntityType{
		et("ixp-provider", bothI),
		et("dns-service-provider", bothI), // excluding root name server operators
		et("tld-name-registry", bothI),
		et("cloud-provider", nis2I),
		et("data-centre-provider", nis2I),
		et("cdn-provider", nis2I),
		et("trust-service-provider", nis2I),
		et("public-network-provider", nis2I), // public electronic communications networks
		et("public-ecs-provider", nis2I),     // publicly available electronic communications services
	}},
	{Code: "ict-service-management", Listings: nis2I, EntityTypes: []EntityType{
		et("managed-service-provider", nis2I),
		et("managed-security-service-provider", nis2I),
	}},
	{Code: "public-administration", Listings: nis2I, EntityTypes: []EntityType{
		et("central-government", nis2I),
		et("regional-government", nis2I),
	}},
	{Code: "space", Listings: nis2I, EntityTypes: []EntityType{
		et("space-ground-operator", nis2I), // ground-based infrastructure supporting space-based services
	}},

	// NIS Annex III lists types of digital services rather than sectors;
	// NIS2 moved cloud to digital infrastructure and the other two to
	// "digital providers".
	{Code: "digital-services", Listings: nisIII, EntityTypes: []EntityType{
		et("online-marketplace-provider", nisIII),
		et("online-search-engine-provider", nisIII),
		et("cloud-provider", nisIII),
	}},

	{Code: "postal", Listings: nis2II, EntityTypes: []EntityType{et("postal-service-provider", nis2II)}}, // incl. courier services
	{Code: "waste-management", Listings: nis2II, EntityTypes: []EntityType{et("waste-management-undertaking", nis2II)}},
	{Code: "chemicals", Listings: nis2II, EntityTypes: []EntityType{et("chemicals-undertaking", nis2II)}}, // manufacture, production, distribution
	{Code: "food", Listings: nis2II, EntityTypes: []EntityType{et("food-business", nis2II)}},              // wholesale, industrial production and processing
	{Code: "manufacturing", Listings: nis2II},
	{Code: "manufacturing/medical-devices", Parent: "manufacturing", Listings: nis2II, EntityTypes: []EntityType{et("manufacturer", nis2II)}}, // incl. in vitro diagnostic
	{Code: "manufacturing/electronics", Parent: "manufacturing", Listings: nis2II, EntityTypes: []EntityType{et("manufacturer", nis2II)}},     // NACE C 26
	{Code: "manufacturing/electrical-equipment", Parent: "manufacturing", Listings: nis2II, EntityTypes: []EntityType{et("manufacturer", nis2II)}},
	{Code: "manufacturing/machinery", Parent: "manufacturing", Listings: nis2II, EntityTypes: []EntityType{et("manufacturer", nis2II)}},
	{Code: "manufacturing/motor-vehicles", Parent: "manufacturing", Listings: nis2II, EntityTypes: []EntityType{et("manufacturer", nis2II)}},
	{Code: "manufacturing/other-transport", Parent: "manufacturing", Listings: nis2II, EntityTypes: []EntityType{et("manufacturer", nis2II)}},
	{Code: "digital-providers", Listings: nis2II, EntityTypes: []EntityType{
		et("online-marketplace-provider", nis2II),
		et("online-search-engine-provider", nis2II),
		et("social-network-provider", nis2II),
	}},
	{Code: "research", Listings: nis2II, EntityTypes: []EntityType{et("research-organisation", nis2II)}},
}

var (
	sectorIndex   map[string]int // code → position in sectorTable
	topSectors    []string
	entityTypeSet map[string]bool
)

func init() {
	sectorIndex = make(map[string]int, len(sectorTable))
	entityTypeSet = map[string]bool{}
	for i, s := range sectorTable {
		sectorIndex[s.Code] = i
		if s.Parent == "" {
			topSectors = append(topSectors, s.Code)
			continue
		}
		p := &sectorTable[sectorIndex[s.Parent]]
		p.Subsectors = append(p.Subsectors, s.Code)
	}
	for _, s := range sectorTable {
		for _, e := range s.EntityTypes {
			entityTypeSet[e.Code] = true
		}
	}
}

// Sectors returns the top-level sectors in display order (sub-sectors are
// reached through Subsectors and SectorByCode).
func Sectors() []Sector {
	out := make([]Sector, 0, len(topSectors))
	for _, c := range topSectors {
		out = append(out, sectorTable[sectorIndex[c]])
	}
	return out
}

// AllSectors returns every sector and sub-sector, each sector followed by
// its sub-sectors.
func AllSectors() []Sector { return slices.Clone(sectorTable) }

// SectorByCode returns the sector or sub-sector with this code.
func SectorByCode(code string) (Sector, bool) {
	i, ok := sectorIndex[code]
	if !ok {
		return Sector{}, false
	}
	return sectorTable[i], true
}

// IsTopSector reports whether code is a sector (not a sub-sector).
func IsTopSector(code string) bool {
	s, ok := SectorByCode(code)
	return ok && s.Parent == ""
}

// EntityTypeCodes returns every entity type code once, sorted.
func EntityTypeCodes() []string {
	out := make([]string, 0, len(entityTypeSet))
	for c := range entityTypeSet {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}
