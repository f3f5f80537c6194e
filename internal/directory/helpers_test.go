package directory

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nisduc/nisduc/internal/audit"
	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
	"github.com/nisduc/nisduc/internal/storetest"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// fx is a small directory on a fresh store: two countries, authorities,
// four operators, supervision links, and actors of every kind.
type fx struct {
	t   *testing.T
	db  *store.DB
	dir *Service
	ids map[string]string // short name → UUID
	// actors
	cli, admin, ncaAnalyst, ncaEnergy, csirtObs, gridAdmin, waterRisk, platAuthAdmin *authz.Actor
}

func (f *fx) ctx(a *authz.Actor) context.Context {
	return authz.WithActor(context.Background(), a)
}

// newService returns the directory on db with password setting stubbed:
// argon2 at production cost would dominate the tests' time; the one test
// that needs the real auth.SetPassword restores it.
func newService(db *store.DB) *Service {
	s := New(db, audit.New(testKey))
	s.setPassword = func(ctx context.Context, tx *store.Tx, id, pw string) error {
		_, err := tx.Exec(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, "$argon2id$v=19$stub", id)
		return err
	}
	return s
}

func org(short, name, country string, kind authz.OrgKind, sectors ...OrgSector) OrgInput {
	tz := "Europe/Luxembourg"
	if country == "BE" {
		tz = "Europe/Brussels"
	}
	return OrgInput{ShortName: short, Name: name, Country: country, TimeZone: tz, Kind: kind, Sectors: sectors}
}

func sec(s, sub, et string) OrgSector { return OrgSector{Sector: s, Subsector: sub, EntityType: et} }

func newFx(t *testing.T, db *store.DB) *fx {
	t.Helper()
	db.Now = func() time.Time { return time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC) }
	f := &fx{t: t, db: db, dir: newService(db), ids: map[string]string{}}
	f.cli = authz.CLI("test")
	ctx := f.ctx(f.cli)
	grid := org("lux-grid", "LuxGrid Transmission", "LU", authz.OES, sec("energy", "energy/electricity", "tso"))
	grid.Category, grid.SizeClass = Essential, "large"
	grid.Prefixes = []string{"192.0.2.0/25", "2001:db8:10::/48"}
	grid.ASNs = []string{"AS64501"}
	grid.Domains = []string{"grid.example"}
	grid.Contacts = []Contact{{Role: "security_officer", Name: "Anne Demo", Email: "anne@grid.example", Phone: "+352 2478 0001"}}
	water := org("aqua", "AquaSud Syndicate", "LU", authz.OES, sec("drinking-water", "", "drinking-water-supplier"))
	water.Prefixes = []string{"198.51.100.0/24"}
	water.Domains = []string{"aqua.test"}
	rail := org("rail-lu", "Rail Infra Demo", "LU", authz.OES, sec("transport", "rail", "infrastructure-manager"))
	dns := org("be-dns", "ResolveBE", "BE", authz.OES, sec("digital-infrastructure", "", "dns-service-provider"))
	dns.ASNs = []string{"64502", "65551"}
	for _, in := range []OrgInput{
		org("platform", "Platform Operations", "LU", authz.OtherAuthority),
		org("lu-nca", "LU Regulator", "LU", authz.NCA),
		org("lu-csirt", "LU CSIRT", "LU", authz.CSIRT),
		org("be-nca", "BE Regulator", "BE", authz.NCA),
		grid, water, rail, dns,
	} {
		o, err := f.dir.CreateOrg(ctx, in)
		if err != nil {
			t.Fatalf("create %s: %v", in.ShortName, err)
		}
		f.ids[o.ShortName] = o.ID
	}
	for _, l := range []Link{
		{Country: "LU", Sector: "energy", Role: authz.SectoralAuthority, AuthorityOrgID: f.ids["lu-nca"], Model: ModelNISLU},
		{Country: "LU", Sector: "energy", Role: authz.SPOCLink, AuthorityOrgID: f.ids["lu-nca"], Model: ModelNISLU},
		{Country: "LU", Sector: "drinking-water", Role: authz.SectoralAuthority, AuthorityOrgID: f.ids["lu-nca"], Model: ModelNISLU},
		// Only air transport: the rail operator is not served by it.
		{Country: "LU", Sector: "transport", Subsector: "transport/air", Role: authz.SectoralAuthority, AuthorityOrgID: f.ids["lu-nca"], Model: ModelNISLU},
		{Country: "LU", Sector: "energy", Role: authz.CSIRTLink, AuthorityOrgID: f.ids["lu-csirt"]},
		{Country: "LU", Sector: "drinking-water", Role: authz.CSIRTLink, AuthorityOrgID: f.ids["lu-csirt"]},
		{Country: "BE", Sector: "digital-infrastructure", Role: authz.SectoralAuthority, AuthorityOrgID: f.ids["be-nca"], Model: ModelNIS},
	} {
		if _, err := f.dir.AddLink(ctx, l); err != nil {
			t.Fatalf("link %+v: %v", l, err)
		}
	}
	actor := func(short string, kind authz.OrgKind, user string, roles ...authz.Role) *authz.Actor {
		return &authz.Actor{UserID: user, Email: user + "@example.org", OrgID: f.ids[short], OrgKind: kind, Roles: roles, Via: "web"}
	}
	f.admin = actor("platform", authz.OtherAuthority, "10000000-0000-4000-8000-000000000001", authz.PlatformAdmin)
	f.platAuthAdmin = actor("platform", authz.OtherAuthority, "10000000-0000-4000-8000-000000000002", authz.AuthorityAdmin)
	f.ncaAnalyst = actor("lu-nca", authz.NCA, "10000000-0000-4000-8000-000000000003", authz.AuthorityAnalyst)
	f.ncaEnergy = actor("lu-nca", authz.NCA, "10000000-0000-4000-8000-000000000004", authz.AuthorityAnalyst)
	f.ncaEnergy.Sectors = []string{"energy"}
	f.csirtObs = actor("lu-csirt", authz.CSIRT, "10000000-0000-4000-8000-000000000005", authz.Observer)
	f.gridAdmin = actor("lux-grid", authz.OES, "10000000-0000-4000-8000-000000000006", authz.OperatorAdmin)
	f.waterRisk = actor("aqua", authz.OES, "10000000-0000-4000-8000-000000000007", authz.RiskManager)
	return f
}

// shorts returns the short names of orgs, sorted.
func shorts(orgs []Org) []string {
	out := make([]string, len(orgs))
	for i, o := range orgs {
		out[i] = o.ShortName
	}
	sort.Strings(out)
	return out
}

func sorted(xs ...string) []string { sort.Strings(xs); return xs }

// fieldsOf returns the sorted field paths of an invalid error.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	e, ok := err.(*errs.Error)
	if !ok {
		t.Fatalf("error %v (%T) is not *errs.Error", err, err)
	}
	var out []string
	for _, fe := range e.Fields {
		out = append(out, fe.Field)
	}
	sort.Strings(out)
	return out
}

func wantCode(t *testing.T, err error, code errs.Code) {
	t.Helper()
	if errs.CodeOf(err) != code {
		t.Fatalf("got %v (code %q), want code %q", err, errs.CodeOf(err), code)
	}
}

// auditEntry is one row of the audit trail, as the tests read it.
type auditEntry struct {
	Action, OrgID, ObjectID string
	Details                 map[string]any
}

// auditFor returns the audit entries about objectID, oldest first.
func auditFor(t *testing.T, db *store.DB, objectID string) []auditEntry {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT action, org_id, object_id, CAST(details AS TEXT) FROM audit_log WHERE object_id = ? ORDER BY seq`, objectID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []auditEntry
	for rows.Next() {
		var e auditEntry
		var details string
		if err := rows.Scan(&e.Action, &e.OrgID, &e.ObjectID, &details); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(details), &e.Details); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func actions(es []auditEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Action)
	}
	return out
}

// queryCounter counts the service's reads.
func countQueries(s *Service) *atomic.Int64 {
	var n atomic.Int64
	s.onQuery = func(string) { n.Add(1) }
	return &n
}

func each(t *testing.T, fn func(t *testing.T, db *store.DB)) { storetest.Each(t, fn) }

func has(xs []string, x string) bool { return slices.Contains(xs, x) }

func joined(xs []string) string { return strings.Join(xs, ",") }
