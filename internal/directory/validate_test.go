package directory

import (
	"strings"
	"testing"

	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/i18n"
)

func TestParsePrefix(t *testing.T) {
	tests := []struct {
		in, want, key, msg string
	}{
		{"192.0.2.0/24", "192.0.2.0/24", "", ""},
		{" 198.51.100.128/25 ", "198.51.100.128/25", "", ""},
		{"2001:DB8:0:0::/48", "2001:db8::/48", "", ""}, // canonical IPv6
		{"2001:db8:0:1:1:1:1:0/128", "2001:db8:0:1:1:1:1:0/128", "", ""},
		{"192.0.2.1/24", "", "dir.err.prefix_host_bits", "192.0.2.1/24 has host bits set; did you mean 192.0.2.0/24?"},
		{"2001:db8::1/32", "", "dir.err.prefix_host_bits", "2001:db8::1/32 has host bits set; did you mean 2001:db8::/32?"},
		{"192.0.2.7", "", "dir.err.prefix_no_length", "192.0.2.7 has no prefix length; did you mean 192.0.2.7/32?"},
		{"2001:db8::7", "", "dir.err.prefix_no_length", "2001:db8::7 has no prefix length; did you mean 2001:db8::7/128?"},
		{"::ffff:192.0.2.0/120", "", "dir.err.prefix_mapped", "::ffff:192.0.2.0/120 is an IPv4-mapped IPv6 prefix; give it as IPv4: 192.0.2.0/24."},
		{"0.0.0.0/0", "", "dir.err.prefix_everything", ""},
		{"192.0.2.0/33", "", "dir.err.prefix", ""},
		{"192.0.2/24", "", "dir.err.prefix", ""},
		{"fe80::1%eth0/64", "", "dir.err.prefix", ""},
		{"example.org", "", "dir.err.prefix", ""},
		{"", "", "dir.err.prefix", ""},
	}
	for _, tt := range tests {
		p, key, args := ParsePrefix(tt.in)
		if key != tt.key {
			t.Errorf("ParsePrefix(%q) key = %q, want %q", tt.in, key, tt.key)
			continue
		}
		if key == "" && p.String() != tt.want {
			t.Errorf("ParsePrefix(%q) = %s, want %s", tt.in, p, tt.want)
		}
		if tt.msg != "" {
			if got := i18n.T("en", key, args...); got != tt.msg {
				t.Errorf("ParsePrefix(%q) message = %q, want %q", tt.in, got, tt.msg)
			}
		}
	}
}

func TestParseASN(t *testing.T) {
	tests := []struct {
		in   string
		want uint32
		key  string
	}{
		{"AS64500", 64500, ""},
		{"as64500", 64500, ""},
		{"64500", 64500, ""},
		{" 65551 ", 65551, ""},
		{"1", 1, ""},
		{"4294967294", 4294967294, ""},
		{"4200000000", 4200000000, ""}, // private use is accepted
		{"1.10", 65546, ""},            // asdot
		{"AS0", 0, "dir.err.asn_range"},
		{"4294967295", 0, "dir.err.asn_range"},
		{"99999999999", 0, "dir.err.asn_range"},
		{"AS23456", 0, "dir.err.asn_trans"},
		{"65535", 0, "dir.err.asn_reserved"},
		{"65552", 0, "dir.err.asn_reserved"},
		{"131071", 0, "dir.err.asn_reserved"},
		{"131072", 131072, ""},
		{"AS", 0, "dir.err.asn"},
		{"AS-1", 0, "dir.err.asn"},
		{"+64500", 0, "dir.err.asn"},
		{"64 500", 0, "dir.err.asn"},
		{"1.70000", 0, "dir.err.asn"},
		{"ASN64500", 0, "dir.err.asn"},
		{"", 0, "dir.err.asn"},
	}
	for _, tt := range tests {
		n, key := ParseASN(tt.in)
		if key != tt.key || (key == "" && n != tt.want) {
			t.Errorf("ParseASN(%q) = %d, %q; want %d, %q", tt.in, n, key, tt.want, tt.key)
		}
	}
}

func TestNormalizeDomain(t *testing.T) {
	tests := []struct{ in, want, key string }{
		{"Example.ORG", "example.org", ""},
		{"grid.example.", "grid.example", ""},
		{"xn--bcher-kva.example", "xn--bcher-kva.example", ""},
		{"a-b.c-d.test", "a-b.c-d.test", ""},
		{"bücher.example", "", "dir.err.domain_idn"},
		{"localhost", "", "dir.err.domain_labels"},
		{"*.example.org", "", "dir.err.domain_wildcard"},
		{"192.0.2.1", "", "dir.err.domain_ip"},
		{"[2001:db8::1]", "", "dir.err.domain_ip"},
		{"-bad.example", "", "dir.err.domain_label"},
		{"bad-.example", "", "dir.err.domain_label"},
		{"a..example", "", "dir.err.domain_label"},
		{"_dmarc.example.org", "", "dir.err.domain_label"},
		{"example.123", "", "dir.err.domain_tld"},
		{strings.Repeat("a", 64) + ".example", "", "dir.err.domain_label"},
		{strings.Repeat("a", 63) + ".example", strings.Repeat("a", 63) + ".example", ""},
		{strings.Repeat("abcdefghi.", 26) + "example", "", "dir.err.domain_length"},
		{"", "", "dir.err.required"},
	}
	for _, tt := range tests {
		got, key := NormalizeDomain(tt.in)
		if got != tt.want || key != tt.key {
			t.Errorf("NormalizeDomain(%q) = %q, %q; want %q, %q", tt.in, got, key, tt.want, tt.key)
		}
	}
}

func TestNormalizeEmailAndPhone(t *testing.T) {
	emails := []struct{ in, want, key string }{
		{"Anne.Demo@Grid.Example", "anne.demo@grid.example", ""},
		{" soc@aqua.test ", "soc@aqua.test", ""},
		{"Anne <anne@grid.example>", "", "dir.err.email_plain"},
		{"<anne@grid.example>", "", "dir.err.email_plain"},
		{"anne@grid.example (Anne)", "", "dir.err.email_plain"},
		{"anne@localhost", "", "dir.err.email"},
		{"anne@[192.0.2.1]", "", "dir.err.email"},
		{"anne", "", "dir.err.email"},
		{"anne@@grid.example", "", "dir.err.email"},
		{"", "", "dir.err.email"},
	}
	for _, tt := range emails {
		got, key := NormalizeEmail(tt.in)
		if got != tt.want || key != tt.key {
			t.Errorf("NormalizeEmail(%q) = %q, %q; want %q, %q", tt.in, got, key, tt.want, tt.key)
		}
	}
	phones := []struct {
		in, want string
		ok       bool
	}{
		{"+352 2478 1234", "+35224781234", true},
		{"00352 (0) 2478-1234", "+352024781234", true},
		{"+32 2 555.12.34", "+3225551234", true},
		{"+1/202/555/0100", "+12025550100", true},
		{"2478 1234", "", false},         // no country code
		{"+0352 1234567", "", false},     // country codes do not start with 0
		{"+352 12", "", false},           // too short
		{"+1234567890123456", "", false}, // more than 15 digits
		{"+352 2478 1234 ext 5", "", false},
		{"+", "", false},
	}
	for _, tt := range phones {
		got, ok := NormalizePhone(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestShortNameCountryTimeZone(t *testing.T) {
	for in, want := range map[string]bool{
		"lux-grid": true, "A1": true, "be_dns": true, "x": false, "-grid": false, "_x": false,
		"grid.lu": false, "grid lu": false, "élec": false, strings.Repeat("a", 32): true, strings.Repeat("a", 33): false,
	} {
		if got := ValidShortName(in); got != want {
			t.Errorf("ValidShortName(%q) = %v", in, got)
		}
	}
	for in, want := range map[string]bool{"LU": true, "BE": true, "GB": true, "lu": false, "UK": false, "XK": false, "EU": false, "": false} {
		if got := ValidCountry(in); got != want {
			t.Errorf("ValidCountry(%q) = %v", in, got)
		}
	}
	if n := len(Countries()); n != 249 {
		t.Errorf("%d countries, ISO 3166-1 assigns 249", n)
	}
	for in, want := range map[string]bool{
		"Europe/Luxembourg": true, "UTC": true, "America/Argentina/Buenos_Aires": true,
		"Local": false, "": false, "Europe/Atlantis": false, "../etc/passwd": false, "europe/luxembourg": false,
	} {
		if got := ValidTimeZone(in); got != want {
			t.Errorf("ValidTimeZone(%q) = %v", in, got)
		}
	}
}

func TestCheckSector(t *testing.T) {
	tests := []struct {
		in         OrgSector
		want       OrgSector
		field, key string
	}{
		{sec("energy", "energy/electricity", "tso"), sec("energy", "energy/electricity", "tso"), "", ""},
		{sec("Energy", "gas", "DSO"), sec("energy", "energy/gas", "dso"), "", ""}, // short sub-sector, case
		{sec("energy", "", ""), sec("energy", "", ""), "", ""},
		{sec("health", "", "healthcare-provider"), sec("health", "", "healthcare-provider"), "", ""},
		{sec("energy", "", "tso"), OrgSector{}, "entity_type", "dir.err.entity_needs_subsector"},
		{sec("energy", "energy/oil", "tso"), OrgSector{}, "entity_type", "dir.err.entity_type"},
		{sec("energy", "transport/rail", ""), OrgSector{}, "subsector", "dir.err.subsector"},
		{sec("energy/electricity", "", ""), OrgSector{}, "sector", "dir.err.sector"}, // a sub-sector is not a sector
		{sec("mining", "", ""), OrgSector{}, "sector", "dir.err.sector"},
		{sec("", "", ""), OrgSector{}, "sector", "dir.err.required"},
		{sec("digital-infrastructure", "", "cloud-provider"), sec("digital-infrastructure", "", "cloud-provider"), "", ""},
		{sec("digital-services", "", "cloud-provider"), sec("digital-services", "", "cloud-provider"), "", ""},
		{sec("digital-providers", "", "cloud-provider"), OrgSector{}, "entity_type", "dir.err.entity_type"},
	}
	for _, tt := range tests {
		got, field, key, _ := CheckSector(tt.in)
		if field != tt.field || key != tt.key || (key == "" && got != tt.want) {
			t.Errorf("CheckSector(%+v) = %+v, %q, %q; want %+v, %q, %q", tt.in, got, field, key, tt.want, tt.field, tt.key)
		}
	}
}

// ValidateOrg reports every problem at once, under JSON paths, and returns
// the entry in canonical form.
func TestValidateOrg(t *testing.T) {
	good := OrgInput{
		ID: " 6F1C4B0E-0000-4000-8000-000000000001 ", ShortName: " lux-grid ", Name: "  LuxGrid  ", Country: "lu",
		TimeZone: "Europe/Luxembourg", Kind: authz.OES, Category: "Essential", SizeClass: "LARGE",
		Sectors:  []OrgSector{sec("energy", "gas", "dso"), sec("energy", "electricity", "tso")},
		Contacts: []Contact{{Role: "security_officer", Name: "Anne", Email: "Anne@Grid.Example", Phone: "+352 2478 0001"}},
		Prefixes: []string{"2001:db8:10::/48", "198.51.100.0/24", "192.0.2.0/25"},
		ASNs:     []string{"AS64501", "64500"},
		Domains:  []string{"Grid.Example.", "aqua.test"},
	}
	o, err := ValidateOrg(good)
	if err != nil {
		t.Fatal(err)
	}
	want := Org{ID: "6f1c4b0e-0000-4000-8000-000000000001", ShortName: "lux-grid", Name: "LuxGrid", Country: "LU",
		TimeZone: "Europe/Luxembourg", Kind: authz.OES, Category: Essential, SizeClass: "large"}
	if o.ID != want.ID || o.ShortName != want.ShortName || o.Name != want.Name || o.Country != want.Country ||
		o.Category != want.Category || o.SizeClass != want.SizeClass {
		t.Fatalf("ValidateOrg = %+v", o)
	}
	if joined(o.Prefixes) != "192.0.2.0/25,198.51.100.0/24,2001:db8:10::/48" || joined(o.Domains) != "aqua.test,grid.example" ||
		o.ASNs[0] != 64500 || o.Sectors[0].Subsector != "energy/electricity" || o.Contacts[0].Email != "anne@grid.example" {
		t.Fatalf("canonical sets: %+v", o)
	}
	// Validating the canonical form again changes nothing.
	o2, err := ValidateOrg(o.Input())
	if err != nil || joined(o2.Prefixes) != joined(o.Prefixes) || o2.ASNs[1] != o.ASNs[1] {
		t.Fatalf("not idempotent: %+v %v", o2, err)
	}

	tests := []struct {
		name   string
		change func(*OrgInput)
		fields string
	}{
		{"nothing given", func(in *OrgInput) { *in = OrgInput{} }, "country,kind,name,short_name,timezone"},
		{"bad id", func(in *OrgInput) { in.ID = "42" }, "id"},
		{"nil uuid", func(in *OrgInput) { in.ID = "00000000-0000-0000-0000-000000000000" }, "id"},
		{"category for an authority", func(in *OrgInput) { in.Kind = authz.NCA }, "nis2_category"},
		{"unknown category and size", func(in *OrgInput) { in.Category, in.SizeClass = "vital", "huge" }, "nis2_category,size_class"},
		{"control characters", func(in *OrgInput) { in.Name = "Lux\x00Grid" }, "name"},
		{"newlines only in the description", func(in *OrgInput) { in.Description = "line 1\nline 2" }, ""},
		{"name too long", func(in *OrgInput) { in.Name = strings.Repeat("é", MaxNameLen+1) }, "name"},
		{"invalid UTF-8", func(in *OrgInput) { in.Description = "\xff" }, "description"},
		{"constituency problems, each with its index", func(in *OrgInput) {
			in.Prefixes = []string{"192.0.2.0/24", "192.0.2.1/24", "192.0.2.0/24", "nope"}
			in.ASNs = []string{"64500", "AS23456", "as64500"}
			in.Domains = []string{"ok.example", "bücher.example"}
		}, "asns[1],asns[2],domains[1],prefixes[1],prefixes[2],prefixes[3]"},
		{"contact problems", func(in *OrgInput) {
			in.Contacts = []Contact{{Role: "ceo", Email: "x@y.example"}, {Role: "legal"}, {Role: "technical", Email: "bad", Phone: "12"}}
		}, "contacts[0].role,contacts[1],contacts[2].email,contacts[2].phone"},
		{"sector problems", func(in *OrgInput) {
			in.Sectors = []OrgSector{sec("energy", "gas", "dso"), sec("energy", "energy/gas", "dso"), sec("space", "", "tso")}
		}, "sectors[1],sectors[2].entity_type"},
		{"too many domains", func(in *OrgInput) { in.Domains = make([]string, MaxDomains+1) }, "domains"},
	}
	for _, tt := range tests {
		in := good
		tt.change(&in)
		_, err := ValidateOrg(in)
		if tt.fields == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		if !errs.Is(err, errs.Invalid) {
			t.Errorf("%s: %v, want invalid", tt.name, err)
			continue
		}
		if got := joined(fieldsOf(t, err)); got != tt.fields {
			t.Errorf("%s: fields %s, want %s", tt.name, got, tt.fields)
		}
	}
	// Messages carry catalogue keys, so the web shows them translated.
	_, err = ValidateOrg(OrgInput{Prefixes: []string{"192.0.2.1/24"}})
	for _, fe := range err.(*errs.Error).Fields {
		if fe.Key == "" || fe.Localized("fr") == fe.Message {
			t.Errorf("%s: message %q has no French translation", fe.Field, fe.Message)
		}
	}
}

func TestValidateLink(t *testing.T) {
	l, err := ValidateLink(Link{Country: "lu", Sector: "Transport", Subsector: "rail", Role: authz.SectoralAuthority,
		AuthorityOrgID: "6F1C4B0E-0000-4000-8000-000000000001", Model: "NIS-LU"})
	if err != nil || l.Country != "LU" || l.Subsector != "transport/rail" || l.Model != ModelNISLU ||
		l.AuthorityOrgID != "6f1c4b0e-0000-4000-8000-000000000001" {
		t.Fatalf("ValidateLink = %+v, %v", l, err)
	}
	_, err = ValidateLink(Link{ID: "x", Country: "ZZ", Sector: "energy", Subsector: "rail", Role: "boss", Model: "gdpr"})
	if got := joined(fieldsOf(t, err)); got != "authority,country,id,regulatory_model,role,subsector" {
		t.Fatalf("fields = %s", got)
	}
	for _, role := range authz.LinkRoles {
		if len(KindsForLinkRole[role]) == 0 {
			t.Errorf("no kind may play %s", role)
		}
		for _, k := range authz.OrgKinds {
			if linkKindOK(role, k) && !k.IsAuthority() {
				t.Errorf("%s may be played by an operator kind %s", role, k)
			}
		}
	}
	if !linkKindOK(authz.CSIRTLink, authz.CSIRT) || linkKindOK(authz.CSIRTLink, authz.NCA) || !linkKindOK(authz.SPOCLink, authz.NCA) {
		t.Error("role/kind table")
	}
}
