package web

import (
	"net/http"

	"github.com/nisduc/nisduc/internal/audit"
	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/directory"
	"github.com/nisduc/nisduc/internal/notify"
)

type kindCount struct {
	Kind  authz.OrgKind
	Count int
}

// dashboardData holds what each role's dashboard shows; sections that do
// not apply to the viewer stay empty and are not rendered.
type dashboardData struct {
	Org         directory.Org
	Links       []directory.Link // operators: who serves us
	Served      directory.OrgPage
	KindCounts  []kindCount // administrators: the directory at a glance
	Recent      []audit.Record
	Inbox       []notify.Notification
	IsOperator  bool
	IsAuthority bool
	IsAdmin     bool
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	a := authz.ActorFrom(ctx)
	d := dashboardData{IsAdmin: a.Has(authz.PlatformAdmin), IsAuthority: a.OrgKind.IsAuthority(), IsOperator: !a.OrgKind.IsAuthority()}
	org, err := s.deps.Directory.GetOrg(ctx, a.OrgID)
	if err != nil {
		return err
	}
	d.Org = org
	if d.IsOperator {
		if d.Links, err = s.deps.Directory.LinksFor(ctx, a.OrgID); err != nil {
			return err
		}
	}
	if d.IsAuthority && !d.IsAdmin {
		// The operators this authority serves: the directory, filtered by
		// the policy's scope, one query per operator kind.
		for _, k := range []authz.OrgKind{authz.OES, authz.DSP} {
			pg, err := s.deps.Directory.ListOrgs(ctx, directory.OrgFilter{Kind: string(k), Limit: 10})
			if err != nil {
				return err
			}
			d.Served.Total += pg.Total
			d.Served.Items = append(d.Served.Items, pg.Items...)
		}
	}
	if d.IsAdmin {
		counts, err := s.deps.Directory.CountByKind(ctx)
		if err != nil {
			return err
		}
		for _, k := range authz.OrgKinds {
			d.KindCounts = append(d.KindCounts, kindCount{k, counts[k]})
		}
	}
	if sc := authz.ScopeOf(a, authz.AuditView); !sc.None() {
		if d.Recent, err = s.deps.Audit.List(ctx, s.deps.DB, audit.Filter{Scope: sc, Limit: 8}); err != nil {
			return err
		}
	}
	if d.Inbox, err = s.deps.Notify.Inbox(ctx, a.UserID, 5); err != nil {
		return err
	}
	s.render(w, r, "dashboard", s.newPage(r, "web.dashboard.title", d))
	return nil
}
