package directory

import (
	"slices"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/nisduc/nisduc/internal/i18n"
)

// iso3166 is the ISO 3166-1 alpha-2 list of officially assigned codes (249,
// as in the ISO 3166 Maintenance Agency's list and tzdata's iso3166.tab).
// User-assigned codes such as XK are not accepted: an organisation's
// country must be exchangeable with MISP and national registries as is.
const iso3166 = "" +
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ " +
	"BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ " +
	"DE DJ DK DM DO DZ " +
	"EC EE EG EH ER ES ET " +
	"FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY " +
	"HK HM HN HR HT HU " +
	"ID IE IL IM IN IO IQ IR IS IT " +
	"JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ " +
	"LA LB LC LI LK LR LS LT LU LV LY " +
	"MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
	"NA NC NE NF NG NI NL NO NP NR NU NZ " +
	"OM " +
	"PA PE PF PG PH PK PL PM PN PR PS PT PW PY " +
	"QA " +
	"RE RO RS RU RW " +
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ " +
	"TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
	"UA UG UM US UY UZ " +
	"VA VC VE VG VI VN VU " +
	"WF WS " +
	"YE YT " +
	"ZA ZM ZW"

var countrySet = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range strings.Fields(iso3166) {
		m[c] = true
	}
	return m
}()

// Countries returns the ISO 3166-1 alpha-2 codes, sorted.
func Countries() []string {
	out := strings.Fields(iso3166)
	slices.Sort(out)
	return out
}

// ValidCountry reports whether code is an assigned ISO 3166-1 alpha-2 code
// (upper case).
func ValidCountry(code string) bool { return countrySet[code] }

// CountryLabel is the country's name in lang (the code when unknown). The
// names come from the Unicode CLDR through golang.org/x/text, so the
// project keeps no translated country list of its own.
func CountryLabel(lang, code string) string {
	r, err := language.ParseRegion(code)
	if err != nil {
		return code
	}
	namer, ok := regionNamers[i18n.Supported(lang)]
	if !ok {
		return code
	}
	if n := namer.Name(r); n != "" {
		return n
	}
	return code
}

var regionNamers = func() map[string]display.Namer {
	m := map[string]display.Namer{}
	for _, l := range i18n.Languages {
		m[l] = display.Regions(language.MustParse(l))
	}
	return m
}()
