package audit

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
	"github.com/nisduc/nisduc/internal/storetest"
)

// A small directory: authorities in Luxembourg and France, operators in
// sectors and sub-sectors, and supervision links between them.
var (
	ncaLU   = "a0000000-0000-4000-8000-000000000001" // NCA, LU: energy (whole sector), health/hospitals
	csirtLU = "a0000000-0000-4000-8000-000000000002" // CSIRT, LU: energy/electricity only
	ncaFR   = "a0000000-0000-4000-8000-000000000003" // NCA, FR: energy
	elecLU  = "b0000000-0000-4000-8000-000000000001" // OES, LU, energy/electricity
	gasLU   = "b0000000-0000-4000-8000-000000000002" // OES, LU, energy/gas
	hospLU  = "b0000000-0000-4000-8000-000000000003" // OES, LU, health/hospitals
	labLU   = "b0000000-0000-4000-8000-000000000004" // OES, LU, health/labs
	elecFR  = "b0000000-0000-4000-8000-000000000005" // OES, FR, energy/electricity
	dspLU   = "b0000000-0000-4000-8000-000000000006" // DSP, LU, digital
)

func seedDirectory(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	orgs := []struct{ id, name, country, kind string }{
		{ncaLU, "ILR", "LU", "NCA"}, {csirtLU, "GOVCERT", "LU", "CSIRT"}, {ncaFR, "ANSSI", "FR", "NCA"},
		{elecLU, "Creos", "LU", "OES"}, {gasLU, "Sudgaz", "LU", "OES"}, {hospLU, "CHL", "LU", "OES"},
		{labLU, "LNS", "LU", "OES"}, {elecFR, "RTE", "FR", "OES"}, {dspLU, "Cloud", "LU", "DSP"},
	}
	sectors := []struct{ org, sector, sub string }{
		{elecLU, "energy", "electricity"}, {gasLU, "energy", "gas"}, {hospLU, "health", "hospitals"},
		{labLU, "health", "labs"}, {elecFR, "energy", "electricity"}, {dspLU, "digital", ""},
	}
	links := []struct{ country, sector, sub, role, auth string }{
		{"LU", "energy", "", "sectoral_authority", ncaLU},
		{"LU", "health", "hospitals", "sectoral_authority", ncaLU},
		{"LU", "energy", "electricity", "csirt", csirtLU},
		{"FR", "energy", "", "sectoral_authority", ncaFR},
	}
	err := db.Update(ctx, func(tx *store.Tx) error {
		for _, o := range orgs {
			if _, err := tx.Exec(ctx, `INSERT INTO organizations (id, short_name, name, country, timezone, kind, created_at, updated_at) VALUES (?, ?, ?, ?, 'Europe/Luxembourg', ?, ?, ?)`,
				o.id, o.name, o.name, o.country, o.kind, now, now); err != nil {
				return err
			}
		}
		for _, s := range sectors {
			if _, err := tx.Exec(ctx, `INSERT INTO org_sectors (org_id, sector, subsector) VALUES (?, ?, ?)`, s.org, s.sector, s.sub); err != nil {
				return err
			}
		}
		for _, l := range links {
			if _, err := tx.Exec(ctx, `INSERT INTO supervision_links (id, country, sector, subsector, role, authority_org_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				uuid.NewString(), l.country, l.sector, l.sub, l.role, l.auth, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestListScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		seedDirectory(t, db)
		l := New(testKey)
		ctx := context.Background()
		all := []string{ncaLU, csirtLU, ncaFR, elecLU, gasLU, hospLU, labLU, elecFR, dspLU, ""}
		for _, org := range all {
			if err := db.Update(ctx, func(tx *store.Tx) error {
				return l.Record(ctx, tx, Entry{OrgID: org, Action: "org.edit"})
			}); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			name  string
			scope authz.Scope
			want  []string
		}{
			{"all, with platform-wide entries", authz.Scope{All: true}, all},
			{"none", authz.Scope{}, nil},
			{"own organisation", authz.Scope{OwnOrg: elecLU}, []string{elecLU}},
			{"authorities", authz.Scope{Authorities: true}, []string{ncaLU, csirtLU, ncaFR}},
			{"NCA serves its sectors; whole-sector link covers sub-sectors; sub-sector link only its own",
				authz.Scope{OwnOrg: ncaLU, ServedBy: ncaLU}, []string{ncaLU, elecLU, gasLU, hospLU}},
			{"limited to sectors", authz.Scope{ServedBy: ncaLU, Sectors: []string{"health"}}, []string{hospLU}},
			{"limited to roles it does not hold", authz.Scope{ServedBy: ncaLU, LinkRoles: []authz.LinkRole{authz.CSIRTLink}}, nil},
			{"CSIRT with its role", authz.Scope{ServedBy: csirtLU, LinkRoles: []authz.LinkRole{authz.CSIRTLink}}, []string{elecLU}},
			{"country must match the link", authz.Scope{ServedBy: ncaFR}, []string{elecFR}},
			{"union of parts", authz.Scope{OwnOrg: dspLU, Authorities: true, ServedBy: csirtLU}, []string{ncaLU, csirtLU, ncaFR, elecLU, dspLU}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				recs, err := l.List(ctx, db, Filter{Scope: tt.scope, Limit: MaxLimit})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, r := range recs {
					got = append(got, r.OrgID)
				}
				if !sameSet(got, tt.want) {
					t.Errorf("got %v\nwant %v", got, tt.want)
				}
			})
		}
	})
}

// TestListScopeAgreesWithPolicy checks the SQL filter against the policy's
// in-memory twin, Scope.Includes, for actors of the demo roles.
func TestListScopeAgreesWithPolicy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		seedDirectory(t, db)
		l := New(testKey)
		ctx := context.Background()
		targets := map[string]authz.Target{
			ncaLU: {OrgID: ncaLU, OrgKind: authz.NCA}, csirtLU: {OrgID: csirtLU, OrgKind: authz.CSIRT},
			ncaFR: {OrgID: ncaFR, OrgKind: authz.NCA}, dspLU: {OrgID: dspLU, OrgKind: authz.DSP},
			elecLU: {OrgID: elecLU, OrgKind: authz.OES, Links: []authz.Link{{AuthorityOrgID: ncaLU, Role: authz.SectoralAuthority, Sector: "energy"}, {AuthorityOrgID: csirtLU, Role: authz.CSIRTLink, Sector: "energy"}}},
			gasLU:  {OrgID: gasLU, OrgKind: authz.OES, Links: []authz.Link{{AuthorityOrgID: ncaLU, Role: authz.SectoralAuthority, Sector: "energy"}}},
			hospLU: {OrgID: hospLU, OrgKind: authz.OES, Links: []authz.Link{{AuthorityOrgID: ncaLU, Role: authz.SectoralAuthority, Sector: "health"}}},
			labLU:  {OrgID: labLU, OrgKind: authz.OES},
			elecFR: {OrgID: elecFR, OrgKind: authz.OES, Links: []authz.Link{{AuthorityOrgID: ncaFR, Role: authz.SectoralAuthority, Sector: "energy"}}},
		}
		for org := range targets {
			if err := db.Update(ctx, func(tx *store.Tx) error { return l.Record(ctx, tx, Entry{OrgID: org, Action: "org.edit"}) }); err != nil {
				t.Fatal(err)
			}
		}
		actors := []*authz.Actor{
			{OrgID: ncaLU, OrgKind: authz.NCA, Roles: []authz.Role{authz.AuthorityAnalyst}},
			{OrgID: ncaLU, OrgKind: authz.NCA, Roles: []authz.Role{authz.AuthorityAnalyst}, Sectors: []string{"health"}},
			{OrgID: csirtLU, OrgKind: authz.CSIRT, Roles: []authz.Role{authz.AuthorityAdmin}},
			{OrgID: csirtLU, OrgKind: authz.CSIRT, Roles: []authz.Role{authz.Observer}},
			{OrgID: elecLU, OrgKind: authz.OES, Roles: []authz.Role{authz.OperatorAdmin}},
			{OrgID: ncaFR, OrgKind: authz.NCA, Roles: []authz.Role{authz.PlatformAdmin}},
		}
		for i, a := range actors {
			scope := authz.ScopeOf(a, authz.AuditView)
			recs, err := l.List(ctx, db, Filter{Scope: scope, Limit: MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			var got, want []string
			for _, r := range recs {
				got = append(got, r.OrgID)
			}
			for org, tg := range targets {
				if authz.Can(a, authz.AuditView, tg) {
					want = append(want, org)
				}
			}
			if !sameSet(got, want) {
				t.Errorf("actor %d (%s %v): List gives %v, Check allows %v", i, a.OrgKind, a.Roles, got, want)
			}
		}
	})
}

func TestListFiltersAndPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l := New(testKey)
		t0 := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
		user1, user2 := uuid.NewString(), uuid.NewString()
		org := uuid.NewString()
		// 12 entries, one a minute: even ones by user1 on org, odd ones by user2.
		for i := range 12 {
			at := t0.Add(time.Duration(i) * time.Minute)
			db.Now = func() time.Time { return at }
			u, o, act := user2, "", "user.create"
			if i%2 == 0 {
				u, o, act = user1, org, "org.edit"
			}
			ctx := authz.WithActor(context.Background(), &authz.Actor{UserID: u, Addr: "192.0.2.1"})
			if err := db.Update(ctx, func(tx *store.Tx) error { return l.Record(ctx, tx, Entry{OrgID: o, Action: act}) }); err != nil {
				t.Fatal(err)
			}
		}
		all := authz.Scope{All: true}
		seqs := func(f Filter) []int64 {
			t.Helper()
			recs, err := l.List(context.Background(), db, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []int64
			for _, r := range recs {
				out = append(out, r.Seq)
			}
			return out
		}
		tests := []struct {
			name string
			f    Filter
			want []int64
		}{
			{"newest first, limited", Filter{Scope: all, Limit: 3}, []int64{12, 11, 10}},
			{"next page", Filter{Scope: all, Limit: 3, BeforeSeq: 10}, []int64{9, 8, 7}},
			{"last page", Filter{Scope: all, Limit: 5, BeforeSeq: 3}, []int64{2, 1}},
			{"by organisation", Filter{Scope: all, OrgID: org, Limit: 2}, []int64{11, 9}},
			{"by action", Filter{Scope: all, Action: "user.create", BeforeSeq: 7}, []int64{6, 4, 2}},
			{"by actor", Filter{Scope: all, ActorUserID: user1, Limit: 100}, []int64{11, 9, 7, 5, 3, 1}},
			{"since inclusive, until exclusive", Filter{Scope: all, Since: t0.Add(3 * time.Minute), Until: t0.Add(6 * time.Minute)}, []int64{6, 5, 4}},
			{"time in another zone", Filter{Scope: all, Since: t0.Add(10 * time.Minute).In(time.FixedZone("X", -5*3600))}, []int64{12, 11}},
			{"nothing matches", Filter{Scope: all, Action: "nope"}, nil},
		}
		for _, tt := range tests {
			if got := seqs(tt.f); !slices.Equal(got, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
			}
		}
		if got := seqs(Filter{Scope: all}); len(got) != 12 {
			t.Errorf("default limit: %d entries", len(got))
		}
	})
}

func TestListRejectsBadFilters(t *testing.T) {
	db := storetest.SQLite(t)
	l := New(testKey)
	all := authz.Scope{All: true}
	tests := []struct {
		name  string
		f     Filter
		field string
	}{
		{"negative limit", Filter{Scope: all, Limit: -1}, "limit"},
		{"huge limit", Filter{Scope: all, Limit: MaxLimit + 1}, "limit"},
		{"negative cursor", Filter{Scope: all, BeforeSeq: -5}, "before_seq"},
		{"org not an id", Filter{Scope: all, OrgID: "'; DROP TABLE audit_log; --"}, "org_id"},
		{"actor not an id", Filter{Scope: all, ActorUserID: "bob"}, "actor_user_id"},
		{"until before since", Filter{Scope: all, Since: time.Now(), Until: time.Now().Add(-time.Hour)}, "until"},
		{"scope authority not an id", Filter{Scope: authz.Scope{ServedBy: "x"}}, "scope.served_by"},
	}
	for _, tt := range tests {
		_, err := l.List(context.Background(), db, tt.f)
		e := errs.As(err)
		if e.Code != errs.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != tt.field {
			t.Errorf("%s: got %v, want Invalid naming %s", tt.name, err, tt.field)
		}
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
