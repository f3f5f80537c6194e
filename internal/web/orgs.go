package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/directory"
	"github.com/nisduc/nisduc/internal/errs"
)

// option is a value and its label for a select.
type option struct{ Value, Label string }

// vocab is the shared vocabulary for directory forms and filters.
type vocab struct {
	Kinds, Categories, Sizes, ContactRoles, Countries, Models, LinkRoles []option
	SectorOptions, EntityTypes                                           []option
}

func (s *Server) vocab(lang string) vocab {
	var v vocab
	for _, k := range authz.OrgKinds {
		v.Kinds = append(v.Kinds, option{string(k), s.t(lang, "dir.kind."+string(k))})
	}
	for _, c := range directory.Categories {
		v.Categories = append(v.Categories, option{c, s.t(lang, "dir.category."+c)})
	}
	for _, c := range directory.SizeClasses {
		v.Sizes = append(v.Sizes, option{c, s.t(lang, "dir.size."+c)})
	}
	for _, c := range directory.ContactRoles {
		v.ContactRoles = append(v.ContactRoles, option{c, s.t(lang, "dir.contact_role."+c)})
	}
	for _, c := range directory.Countries() {
		v.Countries = append(v.Countries, option{c, c + " — " + directory.CountryLabel(lang, c)})
	}
	for _, m := range directory.Models {
		v.Models = append(v.Models, option{m, directory.ModelLabel(lang, m)})
	}
	for _, r := range authz.LinkRoles {
		v.LinkRoles = append(v.LinkRoles, option{string(r), s.t(lang, "dir.link_role."+string(r))})
	}
	for _, sec := range directory.AllSectors() {
		label := sec.Label(lang)
		if sec.Parent != "" {
			label = directory.SectorLabel(lang, sec.Parent) + " › " + label
		}
		v.SectorOptions = append(v.SectorOptions, option{sec.Code, label})
	}
	for _, c := range directory.EntityTypeCodes() {
		v.EntityTypes = append(v.EntityTypes, option{c, directory.EntityTypeLabel(lang, c)})
	}
	return v
}

type orgListData struct {
	Page       directory.OrgPage
	Filter     directory.OrgFilter
	Vocab      vocab
	PrevOffset int
	NextOffset int
	CanCreate  bool
}

const orgPageSize = 50

func (s *Server) orgList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := directory.OrgFilter{Query: q.Get("q"), Kind: q.Get("kind"), Country: q.Get("country"), Sector: q.Get("sector"), Limit: orgPageSize}
	if off, err := strconv.Atoi(q.Get("offset")); err == nil && off > 0 {
		f.Offset = off
	}
	pg, err := s.deps.Directory.ListOrgs(r.Context(), f)
	if err != nil {
		return err
	}
	d := orgListData{Page: pg, Filter: f, Vocab: s.vocab(langOf(r)), PrevOffset: -1, NextOffset: -1,
		CanCreate: authz.Can(authz.ActorFrom(r.Context()), authz.OrgCreate, authz.Target{})}
	if f.Offset > 0 {
		d.PrevOffset = max(0, f.Offset-orgPageSize)
	}
	if f.Offset+len(pg.Items) < pg.Total {
		d.NextOffset = f.Offset + orgPageSize
	}
	s.render(w, r, "orgs", s.newPage(r, "web.orgs.title", d))
	return nil
}

type orgViewData struct {
	Org      directory.Org
	Links    []directory.Link
	Vocab    vocab
	CanEdit  bool
	CanUsers bool
	CanAudit bool
}

func (s *Server) orgView(w http.ResponseWriter, r *http.Request) error {
	o, err := s.deps.Directory.GetOrg(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	links, err := s.deps.Directory.LinksFor(r.Context(), o.ID)
	if err != nil {
		return err
	}
	a := authz.ActorFrom(r.Context())
	tg, err := s.deps.Directory.Target(r.Context(), o.ID)
	if err != nil {
		return err
	}
	d := orgViewData{Org: o, Links: links, Vocab: s.vocab(langOf(r)),
		CanEdit: authz.Can(a, authz.OrgEdit, tg), CanUsers: authz.Can(a, authz.UserView, tg), CanAudit: authz.Can(a, authz.AuditView, tg)}
	p := s.newPage(r, "web.org.title", d)
	s.render(w, r, "org", p)
	return nil
}

type orgFormData struct {
	Org      directory.OrgInput
	New      bool
	Vocab    vocab
	CanAdmin bool
	// Rows for repeated groups: existing entries plus blank ones.
	SectorRows  []directory.OrgSector
	ContactRows []directory.Contact
}

func (s *Server) orgFormPage(w http.ResponseWriter, r *http.Request, in directory.OrgInput, isNew bool, err error) error {
	a := authz.ActorFrom(r.Context())
	d := orgFormData{Org: in, New: isNew, Vocab: s.vocab(langOf(r)),
		CanAdmin: authz.Can(a, authz.OrgAdmin, authz.Target{OrgID: in.ID})}
	d.SectorRows = append(append([]directory.OrgSector(nil), in.Sectors...), directory.OrgSector{}, directory.OrgSector{})
	d.ContactRows = append(append([]directory.Contact(nil), in.Contacts...), directory.Contact{}, directory.Contact{})
	title := "web.org.edit_title"
	if isNew {
		title = "web.org.new_title"
	}
	p := s.newPage(r, title, d)
	status := http.StatusOK
	if err != nil {
		p.Err, status = errs.As(err), http.StatusUnprocessableEntity
	}
	s.render(w, r, "org_form", p, status)
	return nil
}

func (s *Server) orgNewForm(w http.ResponseWriter, r *http.Request) error {
	if err := authz.Check(authz.ActorFrom(r.Context()), authz.OrgCreate, authz.Target{}); err != nil {
		return err
	}
	return s.orgFormPage(w, r, directory.OrgInput{Kind: authz.OES, Country: "LU", TimeZone: "Europe/Luxembourg"}, true, nil)
}

func (s *Server) orgEditForm(w http.ResponseWriter, r *http.Request) error {
	o, err := s.deps.Directory.GetOrg(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	tg, err := s.deps.Directory.Target(r.Context(), o.ID)
	if err != nil {
		return err
	}
	if err := authz.Check(authz.ActorFrom(r.Context()), authz.OrgEdit, tg); err != nil {
		return err
	}
	return s.orgFormPage(w, r, o.Input(), false, nil)
}

// orgFromForm reads the organisation form. Repeated groups are numbered
// fields (sector_0, contact_role_0, …); blank rows are dropped; the lists
// of prefixes, ASNs and domains are one per line.
func orgFromForm(r *http.Request) directory.OrgInput {
	f := r.PostForm
	in := directory.OrgInput{
		ShortName: f.Get("short_name"), Name: f.Get("name"), Country: f.Get("country"), TimeZone: f.Get("timezone"),
		Kind: authz.OrgKind(f.Get("kind")), Category: f.Get("nis2_category"), SizeClass: f.Get("size_class"),
		Description: f.Get("description"),
		Prefixes:    lines(f.Get("prefixes")), ASNs: lines(f.Get("asns")), Domains: lines(f.Get("domains")),
	}
	for i := 0; i < 200; i++ {
		code, et := f.Get("sector_"+strconv.Itoa(i)), f.Get("entity_type_"+strconv.Itoa(i))
		if !f.Has("sector_" + strconv.Itoa(i)) {
			break
		}
		if code == "" && et == "" {
			continue
		}
		sec := directory.OrgSector{Sector: code, EntityType: et}
		if parent, _, ok := strings.Cut(code, "/"); ok {
			sec.Sector, sec.Subsector = parent, code
		}
		in.Sectors = append(in.Sectors, sec)
	}
	for i := 0; i < 200; i++ {
		k := strconv.Itoa(i)
		if !f.Has("contact_role_" + k) {
			break
		}
		c := directory.Contact{Role: f.Get("contact_role_" + k), Name: f.Get("contact_name_" + k), Email: f.Get("contact_email_" + k), Phone: f.Get("contact_phone_" + k)}
		if c.Name == "" && c.Email == "" && c.Phone == "" {
			continue
		}
		in.Contacts = append(in.Contacts, c)
	}
	return in
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (s *Server) orgCreate(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return errs.Field("body", "unreadable form")
	}
	in := orgFromForm(r)
	o, err := s.deps.Directory.CreateOrg(r.Context(), in)
	if err != nil {
		if errs.Is(err, errs.Invalid) || errs.Is(err, errs.Conflict) {
			return s.orgFormPage(w, r, in, true, err)
		}
		return err
	}
	s.setFlash(w, "web.org.created", true)
	http.Redirect(w, r, "/orgs/"+o.ID, http.StatusSeeOther)
	return nil
}

func (s *Server) orgUpdate(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return errs.Field("body", "unreadable form")
	}
	cur, err := s.deps.Directory.GetOrg(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	in := orgFromForm(r)
	in.ID = cur.ID
	// Fields an organisation's own administrator may not change are not in
	// its form: keep them as they are.
	if !authz.Can(authz.ActorFrom(r.Context()), authz.OrgAdmin, authz.Target{OrgID: cur.ID, OrgKind: cur.Kind}) {
		in.Kind, in.Country, in.Category, in.Sectors, in.ShortName, in.SizeClass = cur.Kind, cur.Country, cur.Category, cur.Sectors, cur.ShortName, cur.SizeClass
	}
	if _, err := s.deps.Directory.UpdateOrg(r.Context(), cur.ID, in); err != nil {
		if errs.Is(err, errs.Invalid) || errs.Is(err, errs.Conflict) {
			return s.orgFormPage(w, r, in, false, err)
		}
		return err
	}
	s.setFlash(w, "web.org.saved", true)
	http.Redirect(w, r, "/orgs/"+cur.ID, http.StatusSeeOther)
	return nil
}

// directoryExport downloads the directory document (administrators).
func (s *Server) directoryExport(w http.ResponseWriter, r *http.Request) error {
	if err := authz.Check(authz.ActorFrom(r.Context()), authz.OrgAdmin, authz.Target{}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="nisduc-directory.json"`)
	return s.deps.Directory.Export(r.Context(), w)
}

// directoryImport loads a directory document uploaded from the browser
// (administrators). Every problem is listed with its JSON path; nothing is
// stored unless the whole document is valid.
func (s *Server) directoryImport(w http.ResponseWriter, r *http.Request) error {
	if err := authz.Check(authz.ActorFrom(r.Context()), authz.OrgAdmin, authz.Target{}); err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, 33<<20)
	file, _, err := r.FormFile("file")
	if err != nil {
		return s.importPage(w, r, nil, errs.FieldKey("file", "web.import.no_file"))
	}
	defer file.Close()
	res, err := s.deps.Directory.Import(r.Context(), file)
	if err != nil {
		if errs.Is(err, errs.Invalid) || errs.Is(err, errs.Conflict) {
			return s.importPage(w, r, nil, err)
		}
		return err
	}
	return s.importPage(w, r, &res, nil)
}

func (s *Server) importForm(w http.ResponseWriter, r *http.Request) error {
	if err := authz.Check(authz.ActorFrom(r.Context()), authz.OrgAdmin, authz.Target{}); err != nil {
		return err
	}
	return s.importPage(w, r, nil, nil)
}

func (s *Server) importPage(w http.ResponseWriter, r *http.Request, res *directory.ImportResult, formErr error) error {
	p := s.newPage(r, "web.import.title", res)
	status := http.StatusOK
	if formErr != nil {
		p.Err, status = errs.As(formErr), http.StatusUnprocessableEntity
	}
	s.render(w, r, "import", p, status)
	return nil
}
