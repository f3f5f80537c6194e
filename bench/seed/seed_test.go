package seed

import (
	"context"
	"slices"
	"testing"

	"github.com/nisduc/nisduc/internal/audit"
	"github.com/nisduc/nisduc/internal/auth"
	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/directory"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
	"github.com/nisduc/nisduc/internal/storetest"
)

// TestSeedSmall seeds a small directory (the load tests' generator at a
// scale that keeps `go test ./...` fast) and checks what the scenarios
// rely on: counts, the designated users, the search fixtures, a valid
// audit chain, and that Fixtures finds the same things again.
func TestSeedSmall(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		log := audit.New([]byte("seed-test-audit-key-0123456789abcdef0123"))
		dir := directory.New(db, log)
		res, err := Run(ctx, db, dir, log, Config{Orgs: 100, Users: 300, AuditExtra: 20, Batch: 7})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		wantLinks := len(Countries) * 107 // 19 sectors: 4 roles each + 31 sectoral links
		if res.Orgs != 100 || res.Users != 300 || res.Links != wantLinks || res.Operators != 100-res.Authorities {
			t.Errorf("counts: %d orgs, %d users, %d links, %d operators", res.Orgs, res.Users, res.Links, res.Operators)
		}
		if want := res.Orgs + res.Links + res.Users + 20; res.AuditEntries != want {
			t.Errorf("audit entries = %d, want %d (one per change, and the filler)", res.AuditEntries, want)
		}
		rep, err := log.Verify(ctx, db)
		if err != nil || !rep.OK {
			t.Errorf("audit verify: %+v, %v", rep, err)
		}

		a := auth.New(db, log, auth.Config{})
		as := func(u User) context.Context {
			actor, err := a.ActorFor(ctx, u.ID)
			if err != nil {
				t.Fatalf("actor %s: %v", u.Email, err)
			}
			return authz.WithActor(ctx, actor)
		}
		admin, analyst, operator := as(res.Admin), as(res.Analyst), as(res.OperatorAdmin)
		if act := authz.ActorFrom(analyst); act.OrgKind != authz.NCA || !act.Has(authz.AuthorityAnalyst) {
			t.Errorf("analyst: %+v", act)
		}
		if act := authz.ActorFrom(operator); act.OrgID != res.OperatorIDs[0] || !act.Has(authz.OperatorAdmin) {
			t.Errorf("operator admin: %+v", act)
		}
		page, err := dir.ListOrgs(admin, directory.OrgFilter{})
		if err != nil || page.Total != 100 {
			t.Errorf("admin list: total %d, %v", page.Total, err)
		}
		// The operator sees the authorities and itself.
		page, err = dir.ListOrgs(operator, directory.OrgFilter{})
		if err != nil || page.Total != res.Authorities+1 {
			t.Errorf("operator list: total %d, want %d, %v", page.Total, res.Authorities+1, err)
		}
		k := min(res.Operators-1, 1234)
		for _, q := range []string{res.SearchIP, res.SearchASN} {
			page, err := dir.ListOrgs(admin, directory.OrgFilter{Query: q})
			if err != nil || page.Total != 1 || page.Items[0].ID != res.OperatorIDs[k] {
				t.Errorf("search %q: %+v, %v", q, page, err)
			}
		}
		page, err = dir.ListOrgs(admin, directory.OrgFilter{Query: res.SearchName})
		if err != nil || !slices.ContainsFunc(page.Items, func(o directory.Org) bool { return o.ID == res.OperatorIDs[0] }) {
			t.Errorf("search %q: %+v, %v", res.SearchName, page, err)
		}

		again, err := Fixtures(ctx, db)
		if err != nil {
			t.Fatalf("Fixtures: %v", err)
		}
		if again.Admin != res.Admin || again.Analyst != res.Analyst || again.OperatorAdmin != res.OperatorAdmin ||
			!slices.Equal(again.OperatorIDs, res.OperatorIDs) || again.SearchIP != res.SearchIP ||
			again.Orgs != res.Orgs || again.Users != res.Users || again.Links != res.Links {
			t.Errorf("Fixtures differ from Run:\n%+v\n%+v", again, res)
		}

		if _, err := Run(ctx, db, dir, log, Config{Orgs: 100, Users: 300}); !errs.Is(err, errs.Conflict) {
			t.Errorf("second Run on a seeded store: %v, want Conflict", err)
		}
	})
}
