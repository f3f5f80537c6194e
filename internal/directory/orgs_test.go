package directory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
)

// Who sees which organisation, in the list and one by one; and the list
// agrees with authz.Check on every organisation for every actor.
func TestOrgVisibility(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		f := newFx(t, db)
		authorities := []string{"be-nca", "lu-csirt", "lu-nca", "platform"}
		tests := []struct {
			name  string
			actor *authz.Actor
			want  []string
		}{
			{"platform admin sees all", f.admin, sorted(append(slices.Clone(authorities), "aqua", "be-dns", "lux-grid", "rail-lu")...)},
			{"operator sees itself and the authorities", f.gridAdmin, sorted(append(slices.Clone(authorities), "lux-grid")...)},
			{"another operator sees itself, not the first", f.waterRisk, sorted(append(slices.Clone(authorities), "aqua")...)},
			// The LU regulator serves energy, drinking water and air
			// transport in LU: not rail (other sub-sector), not BE.
			{"authority sees the operators it serves", f.ncaAnalyst, sorted(append(slices.Clone(authorities), "aqua", "lux-grid")...)},
			{"analyst limited to energy", f.ncaEnergy, sorted(append(slices.Clone(authorities), "lux-grid")...)},
			{"CSIRT observer", f.csirtObs, sorted(append(slices.Clone(authorities), "aqua", "lux-grid")...)},
			{"command line sees all", f.cli, sorted(append(slices.Clone(authorities), "aqua", "be-dns", "lux-grid", "rail-lu")...)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := f.ctx(tt.actor)
				page, err := f.dir.ListOrgs(ctx, OrgFilter{})
				if err != nil {
					t.Fatal(err)
				}
				if got := shorts(page.Items); !slices.Equal(got, tt.want) || page.Total != len(tt.want) {
					t.Fatalf("ListOrgs = %v (total %d), want %v", got, page.Total, tt.want)
				}
				for short, id := range f.ids {
					target, err := f.dir.Target(context.Background(), id)
					if err != nil {
						t.Fatal(err)
					}
					listed := slices.Contains(tt.want, short)
					if allowed := authz.Can(tt.actor, authz.OrgView, target); allowed != listed {
						t.Errorf("%s: Check allows=%v but listed=%v", short, allowed, listed)
					}
					_, err = f.dir.GetOrg(ctx, short)
					switch {
					case listed && err != nil:
						t.Errorf("GetOrg(%s): %v", short, err)
					case !listed && !errs.Is(err, errs.Forbidden):
						t.Errorf("GetOrg(%s) = %v, want forbidden", short, err)
					}
				}
			})
		}
		if _, err := f.dir.ListOrgs(context.Background(), OrgFilter{}); !errs.Is(err, errs.Unauthenticated) {
			t.Errorf("anonymous ListOrgs: %v", err)
		}
		if _, err := f.dir.GetOrg(context.Background(), "lux-grid"); !errs.Is(err, errs.Unauthenticated) {
			t.Errorf("anonymous GetOrg: %v", err)
		}
		// Not found is not forbidden, by short name or UUID.
		for _, ref := range []string{"nope", "6f1c4b0e-0000-4000-8000-00000000dead", "not a ref!"} {
			if _, err := f.dir.GetOrg(f.ctx(f.gridAdmin), ref); !errs.Is(err, errs.NotFound) {
				t.Errorf("GetOrg(%q) = %v, want not found", ref, err)
			}
		}
	})
}

func TestGetOrgAndTarget(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		f := newFx(t, db)
		o, err := f.dir.GetOrg(f.ctx(f.gridAdmin), "LUX-GRID") // case-insensitive short name
		if err != nil {
			t.Fatal(err)
		}
		if o.ID != f.ids["lux-grid"] || o.Category != Essential || o.SizeClass != "large" || o.Country != "LU" {
			t.Fatalf("GetOrg = %+v", o)
		}
		if !slices.Equal(o.Prefixes, []string{"192.0.2.0/25", "2001:db8:10::/48"}) || !slices.Equal(o.ASNs, []uint32{64501}) ||
			!slices.Equal(o.Domains, []string{"grid.example"}) {
			t.Fatalf("constituency = %v %v %v", o.Prefixes, o.ASNs, o.Domains)
		}
		if len(o.Contacts) != 1 || o.Contacts[0].Phone != "+35224780001" || o.Contacts[0].Email != "anne@grid.example" {
			t.Fatalf("contacts = %+v", o.Contacts)
		}
		if !slices.Equal(o.Sectors, []OrgSector{{"energy", "energy/electricity", "tso"}}) {
			t.Fatalf("sectors = %+v", o.Sectors)
		}
		if byID, err := f.dir.GetOrg(f.ctx(f.gridAdmin), o.ID); err != nil || byID.ShortName != "lux-grid" {
			t.Fatalf("by UUID: %v %v", byID.ShortName, err)
		}
		if id, err := f.dir.ResolveOrg(context.Background(), "Lux-Grid"); err != nil || id != o.ID {
			t.Fatalf("ResolveOrg = %q, %v", id, err)
		}
		if _, err := f.dir.ResolveOrg(context.Background(), "nobody"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("ResolveOrg(nobody) = %v", err)
		}
		tests := []struct {
			short string
			want  []authz.Link
		}{
			{"lux-grid", []authz.Link{
				{AuthorityOrgID: f.ids["lu-csirt"], Role: authz.CSIRTLink, Sector: "energy"},
				{AuthorityOrgID: f.ids["lu-nca"], Role: authz.SectoralAuthority, Sector: "energy"},
				{AuthorityOrgID: f.ids["lu-nca"], Role: authz.SPOCLink, Sector: "energy"},
			}},
			{"rail-lu", nil}, // the LU transport link is for air only
			{"be-dns", []authz.Link{{AuthorityOrgID: f.ids["be-nca"], Role: authz.SectoralAuthority, Sector: "digital-infrastructure"}}},
			{"lu-nca", nil},
		}
		for _, tt := range tests {
			tg, err := f.dir.Target(context.Background(), f.ids[tt.short])
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Clone(tt.want)
			slices.SortFunc(want, func(a, b authz.Link) int {
				return cmpStr(a.AuthorityOrgID+string(a.Role)+a.Sector, b.AuthorityOrgID+string(b.Role)+b.Sector)
			})
			if !slices.Equal(tg.Links, want) {
				t.Errorf("Target(%s).Links = %+v, want %+v", tt.short, tg.Links, want)
			}
		}
		if _, err := f.dir.Target(context.Background(), "00000000-0000-4000-8000-000000000000"); !errs.Is(err, errs.NotFound) {
			t.Errorf("Target(missing) = %v", err)
		}
		// Target is one query: every capability calls it.
		n := countQueries(f.dir)
		if _, err := f.dir.Target(context.Background(), f.ids["lux-grid"]); err != nil || n.Load() != 1 {
			t.Errorf("Target took %d queries (%v)", n.Load(), err)
		}
	})
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestSearchAndFilters(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		f := newFx(t, db)
		ctx := f.ctx(f.admin)
		tests := []struct {
			filter OrgFilter
			want   []string
		}{
			{OrgFilter{Query: "grid"}, []string{"lux-grid"}},              // short name and name
			{OrgFilter{Query: "REGULATOR"}, []string{"be-nca", "lu-nca"}}, // case-insensitive name
			{OrgFilter{Query: "aqua.te"}, []string{"aqua"}},               // domain substring
			{OrgFilter{Query: "AS64502"}, []string{"be-dns"}},
			{OrgFilter{Query: "65551"}, []string{"be-dns"}},
			{OrgFilter{Query: "192.0.2.77"}, []string{"lux-grid"}},  // address inside 192.0.2.0/25
			{OrgFilter{Query: "192.0.2.200"}, nil},                  // outside it
			{OrgFilter{Query: "198.51.100.0/28"}, []string{"aqua"}}, // prefix inside a /24
			{OrgFilter{Query: "2001:db8:10:ff::1"}, []string{"lux-grid"}},
			{OrgFilter{Query: "%"}, nil}, // wildcards are literal
			{OrgFilter{Query: "_"}, nil},
			{OrgFilter{Kind: "NCA"}, []string{"be-nca", "lu-nca"}},
			{OrgFilter{Country: "be"}, []string{"be-dns", "be-nca"}},
			{OrgFilter{Sector: "energy"}, []string{"lux-grid"}},
			{OrgFilter{Sector: "transport/rail"}, []string{"rail-lu"}},
			{OrgFilter{Country: "LU", Kind: "OES"}, []string{"aqua", "lux-grid", "rail-lu"}},
		}
		for _, tt := range tests {
			page, err := f.dir.ListOrgs(ctx, tt.filter)
			if err != nil {
				t.Fatalf("%+v: %v", tt.filter, err)
			}
			if got := shorts(page.Items); joined(got) != joined(tt.want) || page.Total != len(tt.want) {
				t.Errorf("%+v: got %v (total %d), want %v", tt.filter, got, page.Total, tt.want)
			}
		}
		// Search stays within what the actor may see.
		page, err := f.dir.ListOrgs(f.ctx(f.gridAdmin), OrgFilter{Query: "aqua"})
		if err != nil || len(page.Items) != 0 {
			t.Errorf("operator searching another operator: %v %v", shorts(page.Items), err)
		}
		// Paging: ordered by name, total independent of the page.
		var seen []string
		for off := 0; off < 8; off += 3 {
			page, err := f.dir.ListOrgs(ctx, OrgFilter{Limit: 3, Offset: off})
			if err != nil || page.Total != 8 {
				t.Fatalf("page at %d: total %d, %v", off, page.Total, err)
			}
			for _, o := range page.Items {
				seen = append(seen, o.Name)
			}
		}
		if len(seen) != 8 || !slices.IsSortedFunc(seen, func(a, b string) int { return cmpStr(lower(a), lower(b)) }) {
			t.Errorf("paged names = %v", seen)
		}
		bad := []OrgFilter{{Kind: "bank"}, {Country: "XX"}, {Sector: "mining"}, {Limit: -1}, {Limit: MaxLimit + 1}, {Offset: -1}}
		for _, b := range bad {
			if _, err := f.dir.ListOrgs(ctx, b); !errs.Is(err, errs.Invalid) {
				t.Errorf("%+v: %v, want invalid", b, err)
			}
		}
	})
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// A page of 2 and a page of 50 cost the same number of queries: children
// are loaded per table, not per organisation.
func TestListOrgsQueryCount(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		f := newFx(t, db)
		ctx := f.ctx(f.cli)
		err := db.Update(ctx, func(tx *store.Tx) error {
			for i := range 50 {
				in := org(fmt.Sprintf("bulk-%02d", i), fmt.Sprintf("Bulk operator %02d", i), "LU", authz.OES, sec("energy", "gas", "dso"))
				in.Prefixes = []string{fmt.Sprintf("10.%d.0.0/16", i)}
				in.ASNs = []string{fmt.Sprint(64512 + i)}
				in.Domains = []string{fmt.Sprintf("bulk%d.example", i)}
				in.Contacts = []Contact{{Role: "technical", Email: fmt.Sprintf("noc@bulk%d.example", i)}}
				if _, err := f.dir.CreateOrgTx(ctx, tx, in); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		counts := map[int]int64{}
		for _, limit := range []int{2, 50} {
			n := countQueries(f.dir)
			page, err := f.dir.ListOrgs(f.ctx(f.ncaAnalyst), OrgFilter{Limit: limit})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) != limit {
				t.Fatalf("limit %d gave %d", limit, len(page.Items))
			}
			for _, o := range page.Items {
				if o.Kind == authz.OES && (len(o.Prefixes) == 0 || len(o.Sectors) == 0) {
					t.Fatalf("children not loaded for %s", o.ShortName)
				}
			}
			counts[limit] = n.Load()
		}
		if counts[2] != counts[50] || counts[2] > 7 {
			t.Fatalf("queries: page of 2 → %d, page of 50 → %d", counts[2], counts[50])
		}
	})
}

func TestCreateOrg(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		f := newFx(t, db)
		in := org("new-op", "New Operator", "lu", authz.OES, sec("health", "", "healthcare-provider"))
		in.ID = "6F1C4B0E-1111-4000-8000-0000000000AA" // kept (canonical form)
		if _, err := f.dir.CreateOrg(f.ctx(f.gridAdmin), in); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("operator creating: %v", err)
		}
		if _, err := f.dir.CreateOrg(context.Background(), in); !errs.Is(err, errs.Unauthenticated) {
			t.Fatalf("anonymous creating: %v", err)
		}
		o, err := f.dir.CreateOrg(f.ctx(f.admin), in)
		if err != nil {
			t.Fatal(err)
		}
		if o.ID != "6f1c4b0e-1111-4000-8000-0000000000aa" || o.Country != "LU" || !o.CreatedAt.Equal(db.Now()) {
			t.Fatalf("created %+v", o)
		}
		if got := actions(auditFor(t, db, o.ID)); joined(got) != "org.create" {
			t.Fatalf("audit = %v", got)
		}
		dup := org("NEW-OP", "Other", "LU", authz.OES)
		_, err = f.dir.CreateOrg(f.ctx(f.admin), dup)
		if !errs.Is(err, errs.Invalid) || joined(fieldsOf(t, err)) != "short_name" {
			t.Fatalf("duplicate short name: %v", err)
		}
		again := org("other-op", "Other", "LU", authz.OES)
		again.ID = o.ID
		if _, err := f.dir.CreateOrg(f.ctx(f.admin), again); !errs.Is(err, errs.Conflict) {
			t.Fatalf("existing UUID: %v", err)
		}
		bad := OrgInput{ShortName: "x", Country: "XX", TimeZone: "Mars/Olympus", Kind: "bank",
			Prefixes: []string{"192.0.2.1/24"}}
		_, err = f.dir.CreateOrg(f.ctx(f.admin), bad)
		want := []string{"country", "kind", "name", "prefixes[0]", "short_name", "timezone"}
		if !errs.Is(err, errs.Invalid) || joined(fieldsOf(t, err)) != joined(want) {
			t.Fatalf("bad entry: %v", err)
		}
	})
}

func TestUpdateOrg(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		f := newFx(t, db)
		id := f.ids["lux-grid"]
		cur, err := f.dir.GetOrg(f.ctx(f.gridAdmin), id)
		if err != nil {
			t.Fatal(err)
		}
		// The operator's administrator maintains contacts and constituency.
		in := cur.Input()
		in.Prefixes = append(in.Prefixes, "203.0.113.0/24")
		in.Domains = []string{"grid.example", "grid-backup.example"}
		in.Contacts = append(in.Contacts, Contact{Role: "incident_contact", Email: "soc@grid.example"})
		in.Description = "Transmission grid"
		got, err := f.dir.UpdateOrg(f.ctx(f.gridAdmin), "lux-grid", in)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Prefixes) != 3 || len(got.Contacts) != 2 || got.Description != "Transmission grid" {
			t.Fatalf("updated %+v", got)
		}
		reread, _ := f.dir.GetOrg(f.ctx(f.admin), id)
		if joined(reread.Prefixes) != "192.0.2.0/25,203.0.113.0/24,2001:db8:10::/48" || reread.Contacts[1].Email != "soc@grid.example" {
			t.Fatalf("stored %+v", reread)
		}
		es := auditFor(t, db, id)
		last := es[len(es)-1]
		if last.Action != "org.update" {
			t.Fatalf("audit = %v", actions(es))
		}
		for _, field := range []string{"prefixes", "domains", "contacts", "description"} {
			if _, ok := last.Details[field]; !ok {
				t.Errorf("audit details lack %s: %v", field, last.Details)
			}
		}
		if _, ok := last.Details["name"]; ok {
			t.Errorf("audit details name an unchanged field: %v", last.Details)
		}
		// Saving the same entry again changes and records nothing.
		if _, err := f.dir.UpdateOrg(f.ctx(f.gridAdmin), id, reread.Input()); err != nil {
			t.Fatal(err)
		}
		if n := len(auditFor(t, db, id)); n != len(es) {
			t.Fatalf("no-op update audited (%d → %d entries)", len(es), n)
		}
		// Kind, country, sectors, category need the directory administrator:
		// refused naming each field, and nothing changes.
		in = reread.Input()
		in.Country, in.Category = "BE", Important
		in.Sectors = append(in.Sectors, sec("energy", "gas", "dso"))
		_, err = f.dir.UpdateOrg(f.ctx(f.gridAdmin), id, in)
		if !errs.Is(err, errs.Forbidden) || joined(fieldsOf(t, err)) != "country,nis2_category,sectors" {
			t.Fatalf("operator changing admin fields: %v", err)
		}
		// Another operator, or a risk manager, may not edit at all.
		if _, err := f.dir.UpdateOrg(f.ctx(f.waterRisk), id, reread.Input()); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("foreign operator: %v", err)
		}
		if _, err := f.dir.UpdateOrg(f.ctx(f.waterRisk), "aqua", OrgInput{}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("risk manager editing own org: %v", err)
		}
		// The administrator may; the change moves supervision.
		got, err = f.dir.UpdateOrg(f.ctx(f.admin), id, in)
		if err != nil {
			t.Fatal(err)
		}
		tg, _ := f.dir.Target(context.Background(), id)
		if got.Country != "BE" || len(tg.Links) != 0 {
			t.Fatalf("after moving to BE: %+v, links %+v", got.Country, tg.Links)
		}
		// Invalid input is reported with paths, not stored.
		in.Prefixes = []string{"192.0.2.1/24"}
		in.ASNs = []string{"AS23456"}
		_, err = f.dir.UpdateOrg(f.ctx(f.admin), id, in)
		if !errs.Is(err, errs.Invalid) || joined(fieldsOf(t, err)) != "asns[0],prefixes[0]" {
			t.Fatalf("invalid update: %v", err)
		}
		// Renaming to another's short name is refused on the field.
		in = got.Input()
		in.ShortName = "Aqua"
		if _, err := f.dir.UpdateOrg(f.ctx(f.admin), id, in); !errs.Is(err, errs.Invalid) || joined(fieldsOf(t, err)) != "short_name" {
			t.Fatalf("rename onto another: %v", err)
		}
		// An authority cannot change into a kind its links do not allow.
		csirt, _ := f.dir.GetOrg(f.ctx(f.admin), "lu-csirt")
		cin := csirt.Input()
		cin.Kind = authz.DPA
		if _, err := f.dir.UpdateOrg(f.ctx(f.admin), "lu-csirt", cin); !errs.Is(err, errs.Invalid) || joined(fieldsOf(t, err)) != "kind,kind" {
			t.Fatalf("CSIRT turned DPA while serving as CSIRT: %v", err)
		}
		// Nor can an operator become an authority while its users hold
		// operator roles.
		if _, err := f.dir.CreateUser(f.ctx(f.admin), NewUser{OrgID: "aqua", Email: "ops@aqua.test", Name: "Ops",
			Roles: []authz.Role{authz.OperatorAdmin, authz.ReadOnly}}); err != nil {
			t.Fatal(err)
		}
		aqua, _ := f.dir.GetOrg(f.ctx(f.admin), "aqua")
		ain := aqua.Input()
		ain.Kind, ain.Category = authz.NCA, ""
		_, err = f.dir.UpdateOrg(f.ctx(f.admin), "aqua", ain)
		if !errs.Is(err, errs.Invalid) || joined(fieldsOf(t, err)) != "kind" || !strings.Contains(err.Error(), "ops@aqua.test") {
			t.Fatalf("operator with operator users turned NCA: %v", err)
		}
		if _, err := f.dir.UpdateOrg(f.ctx(f.admin), "missing-org", in); !errs.Is(err, errs.NotFound) {
			t.Fatalf("missing: %v", err)
		}
	})
}

func TestLinks(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		f := newFx(t, db)
		admin := f.ctx(f.admin)
		ls, err := f.dir.LinksFor(f.ctx(f.gridAdmin), "lux-grid")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range ls {
			got = append(got, string(l.Role)+":"+l.AuthorityShortName+":"+l.Model)
		}
		if joined(got) != "csirt:lu-csirt:,sectoral_authority:lu-nca:nis-lu,spoc:lu-nca:nis-lu" {
			t.Fatalf("LinksFor(lux-grid) = %v", got)
		}
		if ls[1].AuthorityName != "LU Regulator" || ls[1].AuthorityKind != authz.NCA {
			t.Fatalf("authority names: %+v", ls[1])
		}
		if _, err := f.dir.LinksFor(f.ctx(f.gridAdmin), "aqua"); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("LinksFor a foreign operator: %v", err)
		}
		all, err := f.dir.ListLinks(f.ctx(f.gridAdmin), LinkFilter{Country: "LU", Sector: "energy"})
		if err != nil || len(all) != 3 {
			t.Fatalf("ListLinks LU energy = %d, %v", len(all), err)
		}
		if _, err := f.dir.ListLinks(f.ctx(f.gridAdmin), LinkFilter{Role: "boss"}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("bad role filter: %v", err)
		}
		add := Link{Country: "LU", Sector: "transport", Subsector: "rail", Role: authz.SectoralAuthority,
			AuthorityOrgID: f.ids["lu-nca"], Model: ModelNISLU}
		if _, err := f.dir.AddLink(f.ctx(f.ncaAnalyst), add); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("analyst adding a link: %v", err)
		}
		tests := []struct {
			name  string
			link  Link
			code  errs.Code
			field string
		}{
			{"csirt role needs a CSIRT", Link{Country: "LU", Sector: "energy", Role: authz.CSIRTLink, AuthorityOrgID: f.ids["lu-nca"]}, errs.Invalid, "authority"},
			{"operators cannot supervise", Link{Country: "LU", Sector: "energy", Role: authz.SectoralAuthority, AuthorityOrgID: f.ids["aqua"]}, errs.Invalid, "authority"},
			{"unknown authority", Link{Country: "LU", Sector: "energy", Role: authz.SPOCLink, AuthorityOrgID: "6f1c4b0e-0000-4000-8000-00000000beef"}, errs.Invalid, "authority"},
			{"sub-sector of another sector", Link{Country: "LU", Sector: "energy", Subsector: "transport/rail", Role: authz.SectoralAuthority, AuthorityOrgID: f.ids["lu-nca"]}, errs.Invalid, "subsector"},
			{"bad model", Link{Country: "LU", Sector: "energy", Role: authz.DPALink, AuthorityOrgID: f.ids["lu-nca"], Model: "gdpr"}, errs.Invalid, "regulatory_model"},
			{"duplicate", Link{Country: "LU", Sector: "energy", Role: authz.SPOCLink, AuthorityOrgID: f.ids["lu-nca"], Model: ModelNISLU}, errs.Conflict, ""},
			{"SPOC may be the CSIRT", Link{Country: "LU", Sector: "energy", Role: authz.SPOCLink, AuthorityOrgID: f.ids["lu-csirt"]}, "", ""},
		}
		for _, tt := range tests {
			_, err := f.dir.AddLink(admin, tt.link)
			if errs.CodeOf(err) != tt.code {
				t.Errorf("%s: %v, want %q", tt.name, err, tt.code)
				continue
			}
			if tt.field != "" && joined(fieldsOf(t, err)) != tt.field {
				t.Errorf("%s: fields %v, want %s", tt.name, fieldsOf(t, err), tt.field)
			}
		}
		l, err := f.dir.AddLink(admin, add)
		if err != nil {
			t.Fatal(err)
		}
		if l.Subsector != "transport/rail" || l.AuthorityShortName != "lu-nca" {
			t.Fatalf("added %+v", l)
		}
		// Now the regulator serves the rail operator.
		page, _ := f.dir.ListOrgs(f.ctx(f.ncaAnalyst), OrgFilter{Query: "rail"})
		if joined(shorts(page.Items)) != "rail-lu" {
			t.Fatalf("after adding the rail link: %v", shorts(page.Items))
		}
		if err := f.dir.RemoveLink(f.ctx(f.gridAdmin), l.ID); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("operator removing: %v", err)
		}
		if err := f.dir.RemoveLink(admin, l.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.dir.RemoveLink(admin, l.ID); !errs.Is(err, errs.NotFound) {
			t.Fatalf("removing twice: %v", err)
		}
		if got := actions(auditFor(t, db, l.ID)); joined(got) != "link.add,link.remove" {
			t.Fatalf("audit = %v", got)
		}
		page, _ = f.dir.ListOrgs(f.ctx(f.ncaAnalyst), OrgFilter{Query: "rail"})
		if len(page.Items) != 0 {
			t.Fatalf("after removing the rail link: %v", shorts(page.Items))
		}
	})
}
