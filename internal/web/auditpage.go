package web

import (
	"net/http"
	"strconv"

	"github.com/nisduc/nisduc/internal/audit"
	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
)

type auditData struct {
	Records []audit.Record
	Filter  audit.Filter
	Next    int64
	OrgName string
}

// auditFilter reads the audit filter from a query string, scoped to what
// the actor may see: one organisation's trail needs AuditView on it.
func (s *Server) auditFilter(r *http.Request) (audit.Filter, string, error) {
	a := authz.ActorFrom(r.Context())
	q := r.URL.Query()
	f := audit.Filter{Scope: authz.ScopeOf(a, authz.AuditView), Action: q.Get("action"), ActorUserID: q.Get("actor")}
	if f.Scope.None() {
		return f, "", errs.E(errs.Forbidden, "you may not browse the audit trail")
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return f, "", errs.Field("before", "must be a whole number")
		}
		f.BeforeSeq = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return f, "", errs.Field("limit", "must be a whole number")
		}
		f.Limit = n
	}
	var orgName string
	if ref := q.Get("org"); ref != "" {
		o, err := s.deps.Directory.GetOrg(r.Context(), ref)
		if err != nil {
			return f, "", err
		}
		tg, err := s.deps.Directory.Target(r.Context(), o.ID)
		if err != nil {
			return f, "", err
		}
		if err := authz.Check(a, authz.AuditView, tg); err != nil {
			return f, "", err
		}
		f.OrgID, orgName = o.ID, o.Name
	}
	return f, orgName, nil
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) error {
	f, orgName, err := s.auditFilter(r)
	if err != nil {
		return err
	}
	recs, err := s.deps.Audit.List(r.Context(), s.deps.DB, f)
	if err != nil {
		return err
	}
	d := auditData{Records: recs, Filter: f, OrgName: orgName}
	limit := f.Limit
	if limit == 0 {
		limit = audit.DefaultLimit
	}
	if len(recs) == limit {
		d.Next = recs[len(recs)-1].Seq
	}
	s.render(w, r, "audit", s.newPage(r, "web.audit.title", d))
	return nil
}
