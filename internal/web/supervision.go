package web

import (
	"net/http"

	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/directory"
	"github.com/nisduc/nisduc/internal/errs"
)

type supervisionData struct {
	Links       []directory.Link
	Authorities []directory.Org
	Vocab       vocab
	Filter      directory.LinkFilter
	New         directory.Link
}

func (s *Server) supervisionView(w http.ResponseWriter, r *http.Request, nl directory.Link, formErr error) error {
	a := authz.ActorFrom(r.Context())
	if err := authz.Check(a, authz.OrgAdmin, authz.Target{}); err != nil {
		return err
	}
	q := r.URL.Query()
	f := directory.LinkFilter{Country: q.Get("country"), Sector: q.Get("sector"), Role: authz.LinkRole(q.Get("role"))}
	links, err := s.deps.Directory.ListLinks(r.Context(), f)
	if err != nil {
		return err
	}
	// Authorities to choose from: every organisation of an authority kind.
	var auths []directory.Org
	for off := 0; ; off += directory.MaxLimit {
		pg, err := s.deps.Directory.ListOrgs(r.Context(), directory.OrgFilter{Kind: "", Limit: directory.MaxLimit, Offset: off})
		if err != nil {
			return err
		}
		for _, o := range pg.Items {
			if o.Kind.IsAuthority() {
				auths = append(auths, o)
			}
		}
		if off+len(pg.Items) >= pg.Total {
			break
		}
	}
	p := s.newPage(r, "web.supervision.title", supervisionData{Links: links, Authorities: auths, Vocab: s.vocab(langOf(r)), Filter: f, New: nl})
	status := http.StatusOK
	if formErr != nil {
		p.Err, status = errs.As(formErr), http.StatusUnprocessableEntity
	}
	s.render(w, r, "supervision", p, status)
	return nil
}

func (s *Server) supervisionPage(w http.ResponseWriter, r *http.Request) error {
	return s.supervisionView(w, r, directory.Link{}, nil)
}

func (s *Server) supervisionAdd(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return errs.Field("body", "unreadable form")
	}
	l := directory.Link{Country: r.PostFormValue("country"), Sector: r.PostFormValue("sector"),
		Role: authz.LinkRole(r.PostFormValue("role")), AuthorityOrgID: r.PostFormValue("authority"), Model: r.PostFormValue("regulatory_model")}
	if parent, sub, ok := cutSector(l.Sector); ok {
		l.Sector, l.Subsector = parent, sub
	}
	if _, err := s.deps.Directory.AddLink(r.Context(), l); err != nil {
		if errs.Is(err, errs.Invalid) || errs.Is(err, errs.Conflict) {
			return s.supervisionView(w, r, l, err)
		}
		return err
	}
	s.setFlash(w, "web.supervision.added", true)
	http.Redirect(w, r, "/supervision", http.StatusSeeOther)
	return nil
}

func (s *Server) supervisionRemove(w http.ResponseWriter, r *http.Request) error {
	if err := s.deps.Directory.RemoveLink(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	s.setFlash(w, "web.supervision.removed", true)
	http.Redirect(w, r, "/supervision", http.StatusSeeOther)
	return nil
}

// cutSector splits a sub-sector code ("energy/electricity") into its
// sector and itself.
func cutSector(code string) (string, string, bool) {
	for i := 0; i < len(code); i++ {
		if code[i] == '/' {
			return code[:i], code, true
		}
	}
	return code, "", false
}
