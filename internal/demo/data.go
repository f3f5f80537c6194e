package demo

import (
	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/directory"
)

// The demo directory: plausible and clearly fictitious organisations in
// Luxembourg and Belgium (every name says "demo"; domains are .example and
// .test, RFC 2606; prefixes are the documentation blocks of RFC 5737 and
// RFC 3849; AS numbers the documentation range of RFC 5398). No phone
// numbers: there is no fictitious range in either country, and a demo must
// not ring a real person.

type demoUser struct {
	name    string
	email   string
	roles   []authz.Role
	sectors []string
}

type demoOrg struct {
	in    directory.OrgInput
	users []demoUser
}

// nisSectors are the NIS Directive Annex II sectors: the LU authority
// supervises all of them under its variant of NIS.
var nisSectors = []string{"energy", "transport", "banking", "financial-market-infrastructures", "health",
	"drinking-water", "digital-infrastructure"}

func lu(short, name string, kind authz.OrgKind) directory.OrgInput {
	return directory.OrgInput{ShortName: short, Name: name, Country: "LU", TimeZone: "Europe/Luxembourg", Kind: kind}
}

func be(short, name string, kind authz.OrgKind) directory.OrgInput {
	return directory.OrgInput{ShortName: short, Name: name, Country: "BE", TimeZone: "Europe/Brussels", Kind: kind}
}

func contacts(domain string) []directory.Contact {
	return []directory.Contact{
		{Role: "security_officer", Name: "Security officer", Email: "ciso@" + domain},
		{Role: "incident_contact", Name: "Security operations centre", Email: "soc@" + domain},
	}
}

// operator fills an operator's entry: one sector, NIS2 category, size,
// contacts and constituency.
func operator(in directory.OrgInput, s directory.OrgSector, size string, prefixes []string, asn string, domains ...string) directory.OrgInput {
	in.Sectors = []directory.OrgSector{s}
	in.Category, in.SizeClass = directory.Essential, size
	in.Contacts = contacts(domains[0])
	in.Prefixes, in.ASNs, in.Domains = prefixes, []string{asn}, domains
	return in
}

func authority(in directory.OrgInput, domain, description string) directory.OrgInput {
	in.Contacts = contacts(domain)
	in.Description = description
	return in
}

func u(name, email string, roles ...authz.Role) demoUser {
	return demoUser{name: name, email: email, roles: roles}
}

// operatorUsers: an operator administrator who also manages risk, and an
// incident notifier.
func operatorUsers(domain, admin, notifier string) []demoUser {
	return []demoUser{
		u(admin, mailbox(admin, domain), authz.OperatorAdmin, authz.RiskManager),
		u(notifier, mailbox(notifier, domain), authz.IncidentNotifier),
	}
}

// mailbox makes first.last@domain from a plain ASCII name.
func mailbox(name, domain string) string {
	b := []byte{}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == ' ':
			b = append(b, '.')
		case c >= 'A' && c <= 'Z':
			b = append(b, c+32)
		default:
			b = append(b, c)
		}
	}
	return string(b) + "@" + domain
}

func sector(s, sub, et string) directory.OrgSector {
	return directory.OrgSector{Sector: s, Subsector: sub, EntityType: et}
}

func organisations() []demoOrg {
	analystEnergy := u("Sophie Muller", "sophie.muller@lu-nca.example", authz.AuthorityAnalyst)
	analystEnergy.sectors = []string{"energy"}
	return []demoOrg{
		{authority(lu("nisduc-ops", "Nisduc Platform Operations (demo)", authz.OtherAuthority), "nisduc-ops.example",
			"Runs this nisduc installation: manages the directory and the accounts."),
			[]demoUser{u("Platform Admin", "admin@nisduc-ops.example", authz.PlatformAdmin)}},
		{authority(lu("lu-nca", "Luxembourg Network Security Authority (demo)", authz.NCA), "lu-nca.example",
			"Sectoral authority and single point of contact for every NIS sector in Luxembourg."),
			[]demoUser{
				u("Claire Weber", "claire.weber@lu-nca.example", authz.AuthorityAdmin),
				u("Marc Schmit", "marc.schmit@lu-nca.example", authz.AuthorityAnalyst),
				analystEnergy,
			}},
		{authority(lu("lu-csirt", "Luxembourg National CSIRT (demo)", authz.CSIRT), "lu-csirt.example",
			"National CSIRT for the operators of essential services in Luxembourg."),
			[]demoUser{u("Tom Reuter", "tom.reuter@lu-csirt.example", authz.Observer)}},
		{authority(lu("lu-dpa", "Luxembourg Data Protection Commission (demo)", authz.DPA), "lu-dpa.example",
			"Data protection authority, informed of incidents involving personal data."), nil},
		{authority(lu("lu-crisis", "Luxembourg Crisis Management Centre (demo)", authz.CrisisCentre), "lu-crisis.example",
			"Coordinates the national response to large-scale incidents."), nil},
		{authority(be("be-digital", "Belgian Digital Infrastructure Regulator (demo)", authz.NCA), "be-digital.example",
			"Sectoral authority for digital infrastructure in Belgium."),
			[]demoUser{u("Lotte Peeters", "lotte.peeters@be-digital.example", authz.AuthorityAdmin, authz.AuthorityAnalyst)}},
		{authority(be("be-csirt", "Belgian National CSIRT and SPOC (demo)", authz.CSIRT), "be-csirt.example",
			"National CSIRT and single point of contact in Belgium."),
			[]demoUser{u("Jonas Maes", "jonas.maes@be-csirt.example", authz.Observer)}},

		{operator(lu("luxgrid", "LuxGrid Transmission (demo)", authz.OES), sector("energy", "energy/electricity", "tso"), "large",
			[]string{"192.0.2.0/26", "2001:db8:100::/48"}, "AS64496", "luxgrid.example"),
			operatorUsers("luxgrid.example", "Anne Schroeder", "Paul Hoffmann")},
		{operator(lu("gaznet", "GazNet Distribution (demo)", authz.OES), sector("energy", "energy/gas", "dso"), "large",
			[]string{"192.0.2.64/26", "2001:db8:101::/48"}, "AS64497", "gaznet.example"),
			operatorUsers("gaznet.example", "Julie Wagner", "Luc Thill")},
		{operator(lu("rail-infra", "Rail Infrastructure Luxembourg (demo)", authz.OES), sector("transport", "transport/rail", "infrastructure-manager"), "large",
			[]string{"192.0.2.128/26", "2001:db8:102::/48"}, "AS64498", "rail-infra.example"),
			operatorUsers("rail-infra.example", "Nora Kieffer", "Yves Becker")},
		{operator(lu("airport-nord", "Airport Luxembourg-Nord (demo)", authz.OES), sector("transport", "transport/air", "airport-managing-body"), "medium",
			[]string{"192.0.2.192/26"}, "AS64499", "airport-nord.example"),
			operatorUsers("airport-nord.example", "Eric Molitor", "Lea Hansen")},
		{operator(lu("hopital-sud", "Hôpital du Sud (demo)", authz.OES), sector("health", "", "healthcare-provider"), "large",
			[]string{"198.51.100.0/25"}, "AS64500", "hopital-sud.example"),
			operatorUsers("hopital-sud.example", "Sarah Meyer", "Kevin Welter")},
		{operator(lu("aquasud", "AquaSud Water Syndicate (demo)", authz.OES), sector("drinking-water", "", "drinking-water-supplier"), "medium",
			[]string{"198.51.100.128/25"}, "AS64501", "aquasud.example"),
			operatorUsers("aquasud.example", "Michel Reding", "Carla Faber")},
		{operator(be("resolve-be", "ResolveBE Public DNS (demo)", authz.OES), sector("digital-infrastructure", "", "dns-service-provider"), "medium",
			[]string{"203.0.113.0/25", "2001:db8:200::/48"}, "AS64502", "resolve-be.example"),
			operatorUsers("resolve-be.example", "Pieter Janssens", "Emma Dubois")},
		{operator(be("dottest", "DotTest Registry (demo)", authz.OES), sector("digital-infrastructure", "", "tld-name-registry"), "small",
			[]string{"203.0.113.128/25", "2001:db8:201::/48"}, "AS64503", "dottest.example", "nic.test"),
			operatorUsers("dottest.example", "An Claes", "Louis Lambert")},
	}
}

// link is a supervision link by the authority's short name.
type link struct {
	authority string
	country   string
	sector    string
	role      authz.LinkRole
	model     string
}

func links() []link {
	var out []link
	for _, s := range nisSectors {
		out = append(out,
			link{"lu-nca", "LU", s, authz.SectoralAuthority, directory.ModelNISLU},
			link{"lu-nca", "LU", s, authz.SPOCLink, directory.ModelNISLU},
			link{"lu-csirt", "LU", s, authz.CSIRTLink, directory.ModelNISLU},
			link{"lu-crisis", "LU", s, authz.CrisisCentreLink, directory.ModelNISLU},
			link{"lu-dpa", "LU", s, authz.DPALink, directory.ModelNISLU},
		)
	}
	out = append(out,
		link{"be-digital", "BE", "digital-infrastructure", authz.SectoralAuthority, directory.ModelNIS},
		link{"be-csirt", "BE", "digital-infrastructure", authz.CSIRTLink, directory.ModelNIS},
		link{"be-csirt", "BE", "digital-infrastructure", authz.SPOCLink, directory.ModelNIS},
	)
	return out
}
