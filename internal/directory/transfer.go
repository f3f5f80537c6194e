package directory

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
)

// The directory document: what Export writes and Import reads.
//
//	{"format": "nisduc-directory", "version": 1, "exported_at": "…",
//	 "organizations": [{"id": UUID, "short_name", "name", "country",
//	   "timezone", "kind", "nis2_category", "size_class", "description",
//	   "sectors": [{"sector", "subsector", "entity_type"}],
//	   "contacts": [{"role", "name", "email", "phone"}],
//	   "prefixes": ["192.0.2.0/24"], "asns": [64500], "domains": ["example.org"]}],
//	 "supervision": [{"id": UUID, "country", "sector", "subsector", "role",
//	   "authority": UUID, "regulatory_model"}]}
//
// UUIDs are kept, so a directory moves between installations (and stays
// aligned with MISP) without losing identities. Users are not part of it:
// accounts and their secrets stay where they were created.
const (
	DocFormat  = "nisduc-directory"
	DocVersion = 1
	// MaxImportBytes bounds an import: a directory of ten thousand
	// organisations with full constituencies is a few megabytes.
	MaxImportBytes = 32 << 20
)

type docOrg struct {
	ID          string      `json:"id"`
	ShortName   string      `json:"short_name"`
	Name        string      `json:"name"`
	Country     string      `json:"country"`
	TimeZone    string      `json:"timezone"`
	Kind        string      `json:"kind"`
	Category    string      `json:"nis2_category"`
	SizeClass   string      `json:"size_class"`
	Description string      `json:"description"`
	Sectors     []OrgSector `json:"sectors"`
	Contacts    []Contact   `json:"contacts"`
	Prefixes    []string    `json:"prefixes"`
	ASNs        []uint32    `json:"asns"`
	Domains     []string    `json:"domains"`
}

type docLink struct {
	ID        string `json:"id"`
	Country   string `json:"country"`
	Sector    string `json:"sector"`
	Subsector string `json:"subsector"`
	Role      string `json:"role"`
	Authority string `json:"authority"`
	Model     string `json:"regulatory_model"`
}

type docV1 struct {
	Format        string    `json:"format"`
	Version       int       `json:"version"`
	ExportedAt    time.Time `json:"exported_at"`
	Organizations []docOrg  `json:"organizations"`
	Supervision   []docLink `json:"supervision"`
}

// Document is a directory document, parsed and validated: organisations
// and links in canonical form and order.
type Document struct {
	ExportedAt    time.Time
	Organizations []Org
	Supervision   []Link
	// where each entry was in the file (by UUID), so that problems found
	// against the store name the same JSON paths as ParseDocument's.
	orgAt, linkAt map[string]int
}

// sortDocument puts organisations in short-name order and links in
// (country, sector, sub-sector, role, authority) order: the same directory
// always writes the same bytes.
func sortDocument(d *Document) {
	slices.SortFunc(d.Organizations, func(a, b Org) int {
		if c := strings.Compare(strings.ToLower(a.ShortName), strings.ToLower(b.ShortName)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	slices.SortFunc(d.Supervision, func(a, b Link) int {
		ka := strings.Join([]string{a.Country, a.Sector, a.Subsector, string(a.Role), a.AuthorityOrgID, a.ID}, "\x00")
		kb := strings.Join([]string{b.Country, b.Sector, b.Subsector, string(b.Role), b.AuthorityOrgID, b.ID}, "\x00")
		return strings.Compare(ka, kb)
	})
}

// WriteDocument writes d in the document format, indented, in canonical
// order.
func WriteDocument(w io.Writer, d Document) error {
	sortDocument(&d)
	doc := docV1{Format: DocFormat, Version: DocVersion, ExportedAt: d.ExportedAt.UTC(),
		Organizations: make([]docOrg, 0, len(d.Organizations)), Supervision: make([]docLink, 0, len(d.Supervision))}
	for _, o := range d.Organizations {
		doc.Organizations = append(doc.Organizations, docOrg{ID: o.ID, ShortName: o.ShortName, Name: o.Name,
			Country: o.Country, TimeZone: o.TimeZone, Kind: string(o.Kind), Category: o.Category, SizeClass: o.SizeClass,
			Description: o.Description, Sectors: nonNil(o.Sectors), Contacts: nonNil(o.Contacts),
			Prefixes: nonNil(o.Prefixes), ASNs: nonNil(o.ASNs), Domains: nonNil(o.Domains)})
	}
	for _, l := range d.Supervision {
		doc.Supervision = append(doc.Supervision, docLink{ID: l.ID, Country: l.Country, Sector: l.Sector,
			Subsector: l.Subsector, Role: string(l.Role), Authority: l.AuthorityOrgID, Model: l.Model})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return errs.Wrap(err, "write directory document")
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// since returns the paths of the problems add recorded after the first n.
func (v *validator) since(n int) []string { return v.paths[n:] }

// mergeUnder adds the field errors of err under prefix, except those at
// or below a path that already has a problem (a value that was not even
// of the right type need not also be reported as an invalid value).
func (v *validator) mergeUnder(prefix string, err error, skip map[string]bool) {
	e, ok := err.(*errs.Error)
	if !ok || e.Code != errs.Invalid {
		v.f.Merge(prefix, err)
		return
	}
	keep := &errs.Error{Code: errs.Invalid, Message: e.Message}
	for _, fe := range e.Fields {
		full := prefix
		if fe.Field != "" {
			full = joinFieldPath(prefix, fe.Field)
		}
		if covered(full, skip) {
			continue
		}
		keep.Fields = append(keep.Fields, fe)
	}
	if room := maxProblems - v.f.Len(); len(keep.Fields) > room {
		keep.Fields, v.truncated = keep.Fields[:max(room, 0)], true
	}
	if len(keep.Fields) > 0 {
		v.f.Merge(prefix, keep)
	}
}

func joinFieldPath(prefix, field string) string {
	if prefix == "" {
		return field
	}
	if strings.HasPrefix(field, "[") {
		return prefix + field
	}
	return prefix + "." + field
}

func covered(path string, skip map[string]bool) bool {
	for p := range skip {
		if path == p || strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[") {
			return true
		}
	}
	return false
}

// ParseDocument reads and validates a directory document: strict JSON
// (unknown or repeated fields and wrong types are errors), the format and
// version, every organisation and link as the forms check them, and the
// document's own consistency (each UUID and short name once, links whose
// authority is in the document of a kind fit for the role). Every problem
// is reported at once under its JSON path. It needs no database: whether
// the document fits the store is Import's part.
//
// Errors: Invalid.
func ParseDocument(data []byte) (Document, error) {
	if len(data) > MaxImportBytes {
		return Document{}, errs.FieldKey("document", "dir.err.too_large", MaxImportBytes>>20)
	}
	x, err := parseJSON(data)
	if err != nil {
		return Document{}, err
	}
	var v validator
	r, ok := v.object("", x)
	if !ok {
		return Document{}, v.err()
	}
	d := Document{orgAt: map[string]int{}, linkAt: map[string]int{}}
	switch f := r.str("format"); {
	case !r.has("format"):
		v.add("format", "dir.err.required")
	case f != DocFormat && v.f.Len() == 0:
		v.add("format", "dir.err.format", DocFormat)
	}
	if ver, ok := r.int("version"); !r.has("version") {
		v.add("version", "dir.err.required")
	} else if ok && ver != DocVersion {
		v.add("version", "dir.err.version", ver, DocVersion)
	}
	if s := r.str("exported_at"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			v.add("exported_at", "dir.err.time")
		}
		d.ExportedAt = t.UTC()
	}
	orgs, _ := r.list("organizations")
	links, _ := r.list("supervision")
	r.done()

	ids := map[string]string{}    // id → path of its first use
	shorts := map[string]string{} // lower(short name) → path
	kinds := map[string]authz.OrgKind{}
	for i, x := range orgs {
		p := idx("organizations", i)
		n := len(v.paths)
		in, ok := v.readOrgInput(p, x)
		skip := map[string]bool{}
		for _, path := range v.since(n) {
			skip[path] = true
		}
		if !ok {
			continue
		}
		o, err := ValidateOrg(in)
		if err != nil {
			v.mergeUnder(p, err, skip)
		}
		if strings.TrimSpace(in.ID) == "" && !skip[p+".id"] {
			v.add(p+".id", "dir.err.required")
		}
		// Duplicates are checked on what parsed, even if something else in
		// the entry is wrong, so that one pass shows every problem.
		if id, ok := ParseID(in.ID); ok {
			if first, dup := ids[id]; dup {
				v.add(p+".id", "dir.err.duplicate_of", id, first)
			} else {
				ids[id] = p
			}
		}
		if sn := strings.ToLower(strings.TrimSpace(in.ShortName)); sn != "" {
			if first, dup := shorts[sn]; dup {
				v.add(p+".short_name", "dir.err.duplicate_of", strings.TrimSpace(in.ShortName), first)
			} else {
				shorts[sn] = p
			}
		}
		if err == nil && o.ID != "" {
			kinds[o.ID] = o.Kind
			d.orgAt[o.ID] = i
			d.Organizations = append(d.Organizations, o)
		}
	}

	linkIDs := map[string]string{}
	tuples := map[string]string{}
	for i, x := range links {
		p := idx("supervision", i)
		n := len(v.paths)
		lr, ok := v.object(p, x)
		if !ok {
			continue
		}
		l := Link{ID: lr.str("id"), Country: lr.str("country"), Sector: lr.str("sector"), Subsector: lr.str("subsector"),
			Role: authz.LinkRole(lr.str("role")), AuthorityOrgID: lr.str("authority"), Model: lr.str("regulatory_model")}
		lr.done()
		skip := map[string]bool{}
		for _, path := range v.since(n) {
			skip[path] = true
		}
		nl, err := ValidateLink(l)
		if err != nil {
			v.mergeUnder(p, err, skip)
			continue
		}
		if nl.ID == "" {
			v.add(p+".id", "dir.err.required")
			continue
		}
		if first, dup := linkIDs[nl.ID]; dup {
			v.add(p+".id", "dir.err.duplicate_of", nl.ID, first)
			continue
		}
		linkIDs[nl.ID] = p
		key := linkKey(nl)
		if first, dup := tuples[key]; dup {
			v.add(p, "dir.err.link_duplicate", first)
			continue
		}
		tuples[key] = p
		if k, ok := kinds[nl.AuthorityOrgID]; ok && !linkKindOK(nl.Role, k) {
			v.add(p+".authority", "dir.err.link_kind", string(k), string(nl.Role), joinAny(KindsForLinkRole[nl.Role]))
			continue
		}
		d.linkAt[nl.ID] = i
		d.Supervision = append(d.Supervision, nl)
	}
	if err := v.err(); err != nil {
		return Document{}, err
	}
	sortDocument(&d)
	return d, nil
}

// linkKey is what the unique index on supervision_links covers.
func linkKey(l Link) string {
	return strings.Join([]string{l.Country, l.Sector, l.Subsector, string(l.Role), l.AuthorityOrgID}, "\x00")
}

// Export writes the whole directory (authz.OrgAdmin) as a document that
// Import reads back: importing it into an empty store and exporting again
// gives the same bytes (but for exported_at). The export is audited as
// directory.export, since it carries every contact.
//
// Errors: Unauthenticated, Forbidden.
func (s *Service) Export(ctx context.Context, w io.Writer) error {
	a, err := actor(ctx)
	if err != nil {
		return err
	}
	if err := authz.Check(a, authz.OrgAdmin, authz.Target{}); err != nil {
		return err
	}
	var d Document
	err = s.db.View(ctx, func(tx *store.Tx) error {
		d.Organizations = []Org{}
		err := s.each(ctx, tx, "SELECT "+orgCols+" FROM organizations o", nil, func(r *sql.Rows) error {
			o, err := scanOrg(r)
			d.Organizations = append(d.Organizations, o)
			return err
		})
		if err != nil {
			return err
		}
		if err := s.loadChildren(ctx, tx, d.Organizations, true); err != nil {
			return err
		}
		d.Supervision, err = s.listLinks(ctx, tx, cond{})
		return err
	})
	if err != nil {
		return err
	}
	d.ExportedAt = s.db.Now().UTC().Truncate(time.Second)
	if err := WriteDocument(w, d); err != nil {
		return err
	}
	return s.db.Update(ctx, func(tx *store.Tx) error {
		return s.record(ctx, tx, "", "directory.export", "directory", "", map[string]any{
			"organizations": len(d.Organizations), "supervision": len(d.Supervision)})
	})
}

// ImportResult counts what an import did.
type ImportResult struct {
	Created      int `json:"created"`       // organisations added
	Updated      int `json:"updated"`       // organisations changed
	Unchanged    int `json:"unchanged"`     // organisations already as in the document
	LinksCreated int `json:"links_created"` // supervision links added
	LinksUpdated int `json:"links_updated"` // supervision links changed
}

// Import reads a directory document (authz.OrgAdmin) and applies it in
// one transaction: organisations and links are created or updated by
// UUID (upsert); nothing in the store is deleted. The document is checked
// whole first (see ParseDocument) and against the store (short names
// used by other organisations, link authorities that exist nowhere or are
// of the wrong kind, links that repeat an existing one under another
// UUID); if anything is wrong nothing is stored and every problem is
// reported with its JSON path. Every change is audited as for a form
// (org.create, org.update, link.add, link.update, with "via": "import"),
// then the import itself as directory.import.
//
// Errors: Unauthenticated, Forbidden, Invalid.
func (s *Service) Import(ctx context.Context, r io.Reader) (ImportResult, error) {
	a, err := actor(ctx)
	if err != nil {
		return ImportResult{}, err
	}
	if err := authz.Check(a, authz.OrgAdmin, authz.Target{}); err != nil {
		return ImportResult{}, err
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return ImportResult{}, errs.FieldKey("document", "dir.err.read", clip(err.Error()))
	}
	d, err := ParseDocument(data)
	if err != nil {
		return ImportResult{}, err
	}
	var res ImportResult
	err = s.db.Update(ctx, func(tx *store.Tx) error {
		res, err = s.apply(ctx, tx, d)
		return err
	})
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

type orgHead struct {
	short string
	kind  authz.OrgKind
}

// apply checks d against the store and writes it, inside tx.
func (s *Service) apply(ctx context.Context, tx *store.Tx, d Document) (ImportResult, error) {
	var res ImportResult
	// The heads of every stored organisation: one query, and the directory
	// is small enough (thousands) to hold them.
	heads := map[string]orgHead{}
	err := s.each(ctx, tx, `SELECT id, short_name, kind FROM organizations`, nil, func(r *sql.Rows) error {
		var id, short, kind string
		if err := r.Scan(&id, &short, &kind); err != nil {
			return err
		}
		heads[id] = orgHead{short, authz.OrgKind(kind)}
		return nil
	})
	if err != nil {
		return res, err
	}
	var v validator
	inDoc := map[string]Org{}
	for _, o := range d.Organizations {
		inDoc[o.ID] = o
	}
	final := map[string]string{} // lower(short name) → id, after the import
	for id, h := range heads {
		if _, ok := inDoc[id]; !ok {
			final[strings.ToLower(h.short)] = id
		}
	}
	for _, o := range d.Organizations {
		if other, ok := final[strings.ToLower(o.ShortName)]; ok && other != o.ID {
			v.add(d.path("organizations", o.ID, "short_name"), "dir.err.short_name_used_by", o.ShortName, other)
		}
	}
	kindOf := func(id string) (authz.OrgKind, bool) {
		if o, ok := inDoc[id]; ok {
			return o.Kind, true
		}
		h, ok := heads[id]
		return h.kind, ok
	}
	existing, err := s.listLinks(ctx, tx, cond{})
	if err != nil {
		return res, err
	}
	curLinks := map[string]Link{}
	tuples := map[string]string{}
	for _, l := range existing {
		curLinks[l.ID] = l
		tuples[linkKey(l)] = l.ID
	}
	for _, l := range d.Supervision {
		p := d.path("supervision", l.ID, "")
		k, ok := kindOf(l.AuthorityOrgID)
		switch {
		case !ok:
			v.add(p+".authority", "dir.err.org_missing", l.AuthorityOrgID)
		case !linkKindOK(l.Role, k):
			v.add(p+".authority", "dir.err.link_kind", string(k), string(l.Role), joinAny(KindsForLinkRole[l.Role]))
		}
		if other, ok := tuples[linkKey(l)]; ok && other != l.ID {
			if _, moved := d.linkAt[other]; !moved {
				v.add(p, "dir.err.link_exists_as", other)
			}
		}
	}
	// Existing links and users that the document's new kind for their
	// organisation would no longer allow (a CSIRT turned DPA still serving
	// as CSIRT, an operator turned authority keeping operator roles).
	for _, o := range d.Organizations {
		h, ok := heads[o.ID]
		if !ok || h.kind == o.Kind {
			continue
		}
		if err := s.checkKindChange(ctx, tx, o.ID, o.Kind, d.path("organizations", o.ID, "kind")); err != nil {
			if !errs.Is(err, errs.Invalid) {
				return res, err
			}
			v.mergeUnder("", err, nil)
		}
	}
	if err := v.err(); err != nil {
		return res, err
	}

	// Current entries of the organisations the document updates.
	var ids []string
	for _, o := range d.Organizations {
		if _, ok := heads[o.ID]; ok {
			ids = append(ids, o.ID)
		}
	}
	cur, err := s.loadOrgs(ctx, tx, ids)
	if err != nil {
		return res, err
	}
	// Short names may be swapped between organisations of the document:
	// move the changing ones aside first so the unique index never sees
	// two at once.
	for _, o := range d.Organizations {
		if c, ok := cur[o.ID]; ok && c.ShortName != o.ShortName {
			if _, err := tx.Exec(ctx, `UPDATE organizations SET short_name = ? WHERE id = ?`, "~"+o.ID, o.ID); err != nil {
				return res, err
			}
		}
	}
	via := map[string]any{"via": "import"}
	// Audit entries are recorded after every other write of the import: the
	// trail's head stays locked from the first entry until commit, and
	// taking it before the organisation rows could deadlock with an
	// ordinary edit (which locks a row, then the head) on PostgreSQL.
	type entry struct {
		org, action, objType, objID string
		details                     map[string]any
	}
	var entries []entry
	note := func(org, action, objType, objID string, details map[string]any) {
		entries = append(entries, entry{org, action, objType, objID, details})
	}
	for _, o := range d.Organizations {
		c, ok := cur[o.ID]
		if !ok {
			o := o
			if err := s.insertOrg(ctx, tx, &o); err != nil {
				return res, err
			}
			res.Created++
			note(o.ID, "org.create", "organization", o.ID, with(orgDetails(o), via))
			continue
		}
		ch := orgChanges(c, o)
		if len(ch) == 0 {
			res.Unchanged++
			continue
		}
		next := o
		if err := s.updateOrgRow(ctx, tx, &next, c, childBits(ch)); err != nil {
			return res, err
		}
		res.Updated++
		note(o.ID, "org.update", "organization", o.ID, with(ch, via))
	}
	for _, l := range d.Supervision {
		c, ok := curLinks[l.ID]
		if !ok {
			l := l
			if err := s.insertLink(ctx, tx, &l); err != nil {
				return res, err
			}
			res.LinksCreated++
			note(l.AuthorityOrgID, "link.add", "supervision_link", l.ID, with(linkDetails(l), via))
			continue
		}
		if linkKey(c) == linkKey(l) && c.Model == l.Model {
			continue
		}
		_, err := tx.Exec(ctx, `UPDATE supervision_links SET country = ?, sector = ?, subsector = ?, role = ?,
			authority_org_id = ?, regulatory_model = ? WHERE id = ?`,
			l.Country, l.Sector, l.Subsector, string(l.Role), l.AuthorityOrgID, l.Model, l.ID)
		if err != nil {
			return res, err
		}
		res.LinksUpdated++
		note(l.AuthorityOrgID, "link.update", "supervision_link", l.ID, with(map[string]any{"from": linkDetails(c), "to": linkDetails(l)}, via))
	}
	for _, e := range entries {
		if err := s.record(ctx, tx, e.org, e.action, e.objType, e.objID, e.details); err != nil {
			return res, err
		}
	}
	return res, s.record(ctx, tx, "", "directory.import", "directory", "", map[string]any{
		"created": res.Created, "updated": res.Updated, "unchanged": res.Unchanged,
		"links_created": res.LinksCreated, "links_updated": res.LinksUpdated})
}

// path is the JSON path of the entry id of list ("organizations" or
// "supervision") in the file the document was parsed from.
func (d Document) path(list, id, field string) string {
	at := d.orgAt
	if list == "supervision" {
		at = d.linkAt
	}
	p := list + "[id=" + id + "]"
	if i, ok := at[id]; ok {
		p = idx(list, i)
	}
	if field != "" {
		p += "." + field
	}
	return p
}

func with(m, extra map[string]any) map[string]any {
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// loadOrgs loads the organisations ids with their children, in chunks
// that stay under the databases' parameter limits.
func (s *Service) loadOrgs(ctx context.Context, q querier, ids []string) (map[string]Org, error) {
	out := map[string]Org{}
	for len(ids) > 0 {
		n := min(len(ids), 500)
		chunk := anyArgs(ids[:n])
		ids = ids[n:]
		var orgs []Org
		err := s.each(ctx, q, "SELECT "+orgCols+" FROM organizations o WHERE o.id IN ("+store.In(len(chunk))+")", chunk,
			func(r *sql.Rows) error {
				o, err := scanOrg(r)
				orgs = append(orgs, o)
				return err
			})
		if err != nil {
			return nil, err
		}
		if err := s.loadChildren(ctx, q, orgs); err != nil {
			return nil, err
		}
		for _, o := range orgs {
			out[o.ID] = o
		}
	}
	return out, nil
}
