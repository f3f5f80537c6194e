package auth

import (
	"context"
	"slices"
	"testing"

	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
	"github.com/nisduc/nisduc/internal/storetest"
)

func TestActorFor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, Config{})
		nca := f.org(authz.NCA)
		analyst := f.user(userSpec{org: nca, email: "an@ilr.lu", name: "Ana Lyst", tz: "Europe/Paris",
			roles:   []authz.Role{authz.AuthorityAnalyst, authz.AuthorityAdmin},
			sectors: []string{"health", "energy"}})
		plain := f.user(userSpec{org: nca, email: "pl@ilr.lu"})
		off := f.user(userSpec{org: nca, email: "off@ilr.lu", disabled: true, roles: []authz.Role{authz.Observer}})

		a, err := f.svc.ActorFor(ctx, analyst)
		if err != nil {
			t.Fatal(err)
		}
		want := &authz.Actor{UserID: analyst, Email: "an@ilr.lu", Name: "Ana Lyst", OrgID: nca, OrgKind: authz.NCA,
			Roles:   []authz.Role{authz.AuthorityAdmin, authz.AuthorityAnalyst},
			Sectors: []string{"energy", "health"}, Lang: "fr", TZ: "Europe/Paris"}
		if a.UserID != want.UserID || a.Email != want.Email || a.Name != want.Name || a.OrgID != want.OrgID ||
			a.OrgKind != want.OrgKind || !slices.Equal(a.Roles, want.Roles) || !slices.Equal(a.Sectors, want.Sectors) ||
			a.Lang != want.Lang || a.TZ != want.TZ {
			t.Fatalf("actor = %+v\nwant    %+v", a, want)
		}

		p, err := f.svc.ActorFor(ctx, plain)
		if err != nil || p.TZ != "Europe/Luxembourg" || len(p.Roles) != 0 || len(p.Sectors) != 0 {
			t.Fatalf("user without roles: %+v, %v (time zone should be the organisation's)", p, err)
		}

		for name, id := range map[string]string{"disabled": off, "unknown": "6f1c4b0e-0000-4000-8000-00000000dead", "not a uuid": "x"} {
			_, err := f.svc.ActorFor(ctx, id)
			if !errs.Is(err, errs.Unauthenticated) {
				t.Errorf("%s: %v, want unauthenticated", name, err)
			}
		}
	})
}
