package directory

import (
	"context"
	"database/sql"
	"net/netip"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
)

// List limits: a page is what a screen or an API call shows; the CLI pages
// through bigger directories.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// OrgFilter selects organisations. Query matches the name or short name
// (substring, case-insensitive), a domain (substring), an AS number
// ("AS64500" or "64500") and, when it is an address or prefix, the
// organisations whose prefixes cover it. Kind, Country and Sector (a sector
// or sub-sector code) narrow further.
type OrgFilter struct {
	Query   string
	Kind    string
	Country string
	Sector  string
	Limit   int // 0 = DefaultLimit; at most MaxLimit
	Offset  int
}

// OrgPage is one page of organisations and the total that match.
type OrgPage struct {
	Items []Org
	Total int
}

const orgCols = `o.id, o.short_name, o.name, o.country, o.timezone, o.kind, o.nis2_category, o.size_class, o.description, o.created_at, o.updated_at`

func scanOrg(rows interface{ Scan(...any) error }) (Org, error) {
	var o Org
	var kind string
	err := rows.Scan(&o.ID, &o.ShortName, &o.Name, &o.Country, &o.TimeZone, &kind, &o.Category, &o.SizeClass,
		&o.Description, &o.CreatedAt, &o.UpdatedAt)
	o.Kind = authz.OrgKind(kind)
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	o.Sectors, o.Contacts, o.Prefixes, o.ASNs, o.Domains = []OrgSector{}, []Contact{}, []string{}, []uint32{}, []string{}
	return o, err
}

// authorityKinds lists the kinds IsAuthority accepts, for SQL.
func authorityKinds() []any {
	var out []any
	for _, k := range authz.OrgKinds {
		if k.IsAuthority() {
			out = append(out, string(k))
		}
	}
	return out
}

// cond accumulates a WHERE clause and its arguments.
type cond struct {
	parts []string
	args  []any
}

func (c *cond) add(sql string, args ...any) {
	c.parts = append(c.parts, sql)
	c.args = append(c.args, args...)
}

func (c *cond) where() string {
	if len(c.parts) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.parts, " AND ")
}

// scopeSQL turns an authz.Scope into a condition on "o" (organizations).
// ServedBy follows the same rule as Target: a link serves an organisation
// when it is in the organisation's country, for one of its sectors, and
// for the whole sector or the organisation's sub-sector. ok is false when
// the scope includes nothing.
func scopeSQL(sc authz.Scope) (sqlText string, args []any, ok bool) {
	if sc.All {
		return "", nil, true
	}
	var or []string
	if sc.OwnOrg != "" {
		or = append(or, "o.id = ?")
		args = append(args, sc.OwnOrg)
	}
	if sc.Authorities {
		ks := authorityKinds()
		or = append(or, "o.kind IN ("+store.In(len(ks))+")")
		args = append(args, ks...)
	}
	if sc.ServedBy != "" {
		// Not correlated with the outer row: the database builds the set of
		// served organisations once instead of probing it per row.
		q := `o.id IN (SELECT os.org_id FROM org_sectors os
			JOIN organizations so ON so.id = os.org_id
			JOIN supervision_links l ON l.sector = os.sector AND (l.subsector = '' OR l.subsector = os.subsector)
				AND l.country = so.country
			WHERE l.authority_org_id = ?`
		args = append(args, sc.ServedBy)
		if sc.LinkRoles != nil {
			q += " AND l.role IN (" + store.In(len(sc.LinkRoles)) + ")"
			for _, r := range sc.LinkRoles {
				args = append(args, string(r))
			}
		}
		if len(sc.Sectors) > 0 {
			q += " AND l.sector IN (" + store.In(len(sc.Sectors)) + ")"
			args = append(args, anyArgs(sc.Sectors)...)
		}
		or = append(or, q+")")
	}
	if len(or) == 0 {
		return "", nil, false
	}
	return "(" + strings.Join(or, " OR ") + ")", args, true
}

// escapeLike escapes LIKE wildcards; the queries say ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// coveringPrefixes returns every prefix that contains p (p itself and its
// supernets), so that "which organisation's prefixes cover this address"
// is an indexed IN query on both databases instead of a PostgreSQL-only
// inet operator. At most 129 of them.
func coveringPrefixes(p netip.Prefix) []any {
	var out []any
	for bits := p.Bits(); bits >= 1; bits-- {
		q, _ := p.Addr().Prefix(bits)
		out = append(out, q.String())
	}
	return out
}

// searchSQL is the condition for a search query.
func searchSQL(q string) (string, []any) {
	like := "%" + escapeLike(strings.ToLower(q)) + "%"
	// Child-table matches are uncorrelated IN sets: built once (through
	// the asn and prefix indexes) rather than probed for every row.
	or := []string{
		`lower(o.name) LIKE ? ESCAPE '\'`,
		`lower(o.short_name) LIKE ? ESCAPE '\'`,
		`o.id IN (SELECT d.org_id FROM org_domains d WHERE d.domain LIKE ? ESCAPE '\')`,
	}
	args := []any{like, like, like}
	if n, key := ParseASN(q); key == "" {
		or = append(or, `o.id IN (SELECT a.org_id FROM org_asns a WHERE a.asn = ?)`)
		args = append(args, int64(n))
	}
	var p netip.Prefix
	if a, err := netip.ParseAddr(q); err == nil && a.Zone() == "" {
		a = a.Unmap()
		p = netip.PrefixFrom(a, a.BitLen())
	} else if pp, err := netip.ParsePrefix(q); err == nil && !pp.Addr().Is4In6() {
		p = pp.Masked()
	}
	if p.IsValid() && p.Bits() > 0 {
		c := coveringPrefixes(p)
		or = append(or, `o.id IN (SELECT p.org_id FROM org_prefixes p WHERE p.prefix IN (`+store.In(len(c))+`))`)
		args = append(args, c...)
	}
	return "(" + strings.Join(or, " OR ") + ")", args
}

// ListOrgs returns the organisations the actor may see (authz.OrgView),
// filtered, ordered by name, with their sectors, contacts and
// constituency. It costs a fixed number of queries whatever the page size:
// a count, the page, and one per kind of child row.
//
// Errors: Unauthenticated; Invalid for a bad filter value.
func (s *Service) ListOrgs(ctx context.Context, f OrgFilter) (OrgPage, error) {
	a, err := actor(ctx)
	if err != nil {
		return OrgPage{}, err
	}
	var v validator
	var c cond
	sc := authz.ScopeOf(a, authz.OrgView)
	scope, sargs, ok := scopeSQL(sc)
	if !ok {
		return OrgPage{Items: []Org{}}, nil
	}
	if scope != "" {
		c.add(scope, sargs...)
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		if utf8Len(q) > 200 {
			v.add("query", "dir.err.too_long", 200)
		} else {
			sq, qargs := searchSQL(q)
			c.add(sq, qargs...)
		}
	}
	if k := strings.TrimSpace(f.Kind); k != "" {
		if !authz.OrgKind(k).Valid() {
			v.add("kind", "dir.err.kind", clip(k), joinAny(authz.OrgKinds))
		}
		c.add("o.kind = ?", k)
	}
	if cc := strings.ToUpper(strings.TrimSpace(f.Country)); cc != "" {
		if !ValidCountry(cc) {
			v.add("country", "dir.err.country", clip(f.Country))
		}
		c.add("o.country = ?", cc)
	}
	if sec := strings.ToLower(strings.TrimSpace(f.Sector)); sec != "" {
		if _, ok := SectorByCode(sec); !ok {
			v.add("sector", "dir.err.sector", clip(f.Sector))
		}
		c.add("o.id IN (SELECT fs.org_id FROM org_sectors fs WHERE fs.sector = ? OR fs.subsector = ?)", sec, sec)
	}
	limit := f.Limit
	switch {
	case limit == 0:
		limit = DefaultLimit
	case limit < 0 || limit > MaxLimit:
		v.add("limit", "dir.err.limit", MaxLimit)
	}
	if f.Offset < 0 {
		v.add("offset", "dir.err.offset")
	}
	if err := v.err(); err != nil {
		return OrgPage{}, err
	}
	page := OrgPage{Items: []Org{}}
	err = s.db.View(ctx, func(tx *store.Tx) error {
		rows, err := s.query(ctx, tx, "SELECT COUNT(*) FROM organizations o"+c.where(), c.args...)
		if err != nil {
			return err
		}
		if rows.Next() {
			err = rows.Scan(&page.Total)
		}
		rows.Close()
		if err != nil {
			return errs.Wrap(err, "count organizations")
		}
		if page.Total <= f.Offset {
			return nil
		}
		args := append(slices.Clone(c.args), limit, f.Offset)
		err = s.each(ctx, tx, "SELECT "+orgCols+" FROM organizations o"+c.where()+
			" ORDER BY lower(o.name), o.id LIMIT ? OFFSET ?", args, func(r *sql.Rows) error {
			o, err := scanOrg(r)
			page.Items = append(page.Items, o)
			return err
		})
		if err != nil {
			return err
		}
		return s.loadChildren(ctx, tx, page.Items)
	})
	return page, err
}

func utf8Len(s string) int { return len([]rune(s)) }

// loadChildren fills the sectors, contacts and constituency of orgs in one
// query per table (never per organisation). With all set it reads the
// whole tables instead of naming the organisations (an export holds them
// all, and an IN list of every id could exceed the databases' limits on
// bound parameters).
func (s *Service) loadChildren(ctx context.Context, q querier, orgs []Org, all ...bool) error {
	if len(orgs) == 0 {
		return nil
	}
	pos := make(map[string]int, len(orgs))
	ids := make([]any, len(orgs))
	for i, o := range orgs {
		pos[o.ID] = i
		ids[i] = o.ID
	}
	where := " WHERE org_id IN (" + store.In(len(ids)) + ")"
	if len(all) > 0 && all[0] {
		where, ids = "", nil
	}
	at := func(id string) *Org {
		if i, ok := pos[id]; ok {
			return &orgs[i]
		}
		return nil
	}
	var id string
	err := s.each(ctx, q, `SELECT org_id, sector, subsector, entity_type FROM org_sectors`+where, ids, func(r *sql.Rows) error {
		var x OrgSector
		if err := r.Scan(&id, &x.Sector, &x.Subsector, &x.EntityType); err != nil {
			return err
		}
		if o := at(id); o != nil {
			o.Sectors = append(o.Sectors, x)
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = s.each(ctx, q, `SELECT org_id, role, name, email, phone FROM org_contacts`+where+` ORDER BY org_id, position`, ids,
		func(r *sql.Rows) error {
			var x Contact
			if err := r.Scan(&id, &x.Role, &x.Name, &x.Email, &x.Phone); err != nil {
				return err
			}
			if o := at(id); o != nil {
				o.Contacts = append(o.Contacts, x)
			}
			return nil
		})
	if err != nil {
		return err
	}
	prefixes := make([][]netip.Prefix, len(orgs))
	// CAST: PostgreSQL keeps prefixes as CIDR; as text they read the same
	// on both databases (and are parsed back to canonical form anyway).
	err = s.each(ctx, q, `SELECT org_id, CAST(prefix AS TEXT) FROM org_prefixes`+where, ids, func(r *sql.Rows) error {
		var txt string
		if err := r.Scan(&id, &txt); err != nil {
			return err
		}
		p, err := netip.ParsePrefix(txt)
		if err != nil {
			return err
		}
		if i, ok := pos[id]; ok {
			prefixes[i] = append(prefixes[i], p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = s.each(ctx, q, `SELECT org_id, asn FROM org_asns`+where, ids, func(r *sql.Rows) error {
		var n int64
		if err := r.Scan(&id, &n); err != nil {
			return err
		}
		if o := at(id); o != nil {
			o.ASNs = append(o.ASNs, uint32(n))
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = s.each(ctx, q, `SELECT org_id, domain FROM org_domains`+where, ids, func(r *sql.Rows) error {
		var d string
		if err := r.Scan(&id, &d); err != nil {
			return err
		}
		if o := at(id); o != nil {
			o.Domains = append(o.Domains, d)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Sets are sorted here rather than in SQL: the databases' collations
	// differ, and an export must read the same from both.
	for i := range orgs {
		o := &orgs[i]
		o.Prefixes = canonicalPrefixes(prefixes[i])
		sortSectors(o.Sectors)
		slices.Sort(o.ASNs)
		slices.Sort(o.Domains)
	}
	return nil
}

// authorizedOrg loads the organisation ref (UUID or short name) and checks
// that a may do act on it: the start of every method that touches one
// organisation's data.
func (s *Service) authorizedOrg(ctx context.Context, q querier, a *authz.Actor, act authz.Action, ref string) (Org, error) {
	o, err := s.findOrg(ctx, q, ref)
	if err != nil {
		return Org{}, err
	}
	t, err := s.targetTx(ctx, q, o.ID)
	if err != nil {
		return Org{}, err
	}
	if err := authz.Check(a, act, t); err != nil {
		return Org{}, err
	}
	return o, nil
}

// findOrg loads the organisation row whose UUID or short name is ref.
func (s *Service) findOrg(ctx context.Context, q querier, ref string) (Org, error) {
	ref = strings.TrimSpace(ref)
	var where string
	var arg any
	if id, ok := ParseID(ref); ok {
		where, arg = "o.id = ?", id
	} else if ValidShortName(ref) {
		where, arg = "lower(o.short_name) = ?", strings.ToLower(ref)
	} else {
		return Org{}, errs.E(errs.NotFound, "no organisation %q", clip(ref))
	}
	var o Org
	found := false
	err := s.each(ctx, q, "SELECT "+orgCols+" FROM organizations o WHERE "+where, []any{arg}, func(r *sql.Rows) error {
		var err error
		o, err = scanOrg(r)
		found = true
		return err
	})
	if err != nil {
		return Org{}, err
	}
	if !found {
		return Org{}, errs.E(errs.NotFound, "no organisation %q", clip(ref))
	}
	return o, nil
}

// ResolveOrg returns the UUID of the organisation whose UUID or short name
// (case-insensitive) is ref. It checks no policy: it is for the command
// line's --org flag, which acts as the installation's administrator.
//
// Errors: NotFound.
func (s *Service) ResolveOrg(ctx context.Context, ref string) (string, error) {
	o, err := s.findOrg(ctx, s.db, ref)
	if err != nil {
		return "", err
	}
	return o.ID, nil
}

// GetOrg returns the organisation whose UUID or short name is ref.
//
// An organisation that exists but that the actor may not see gives
// Forbidden, not NotFound: the directory is not secret among signed-in
// users (authorities are listed to everyone, and operators of essential
// services are designated by decision), and "you may not see this" is the
// honest answer that the browser test expects when an operator opens
// another operator's page. An anonymous caller learns nothing: it gets
// Unauthenticated before any lookup.
//
// Errors: Unauthenticated, NotFound, Forbidden.
func (s *Service) GetOrg(ctx context.Context, ref string) (Org, error) {
	a, err := actor(ctx)
	if err != nil {
		return Org{}, err
	}
	var o Org
	err = s.db.View(ctx, func(tx *store.Tx) error {
		var err error
		if o, err = s.authorizedOrg(ctx, tx, a, authz.OrgView, ref); err != nil {
			return err
		}
		orgs := []Org{o}
		if err := s.loadChildren(ctx, tx, orgs); err != nil {
			return err
		}
		o = orgs[0]
		return nil
	})
	return o, err
}

// Target returns what the policy needs to decide on orgID's data: its kind
// and the supervision links that serve it, resolved (a link serves the
// organisation when it is for the organisation's country and one of its
// sectors, for the whole sector or its sub-sector). Every capability asks
// it before authz.Check, so it is one query. It checks no policy itself.
//
// Errors: NotFound.
func (s *Service) Target(ctx context.Context, orgID string) (authz.Target, error) {
	return s.targetTx(ctx, s.db, orgID)
}

// TargetTx is Target inside the caller's transaction.
func (s *Service) TargetTx(ctx context.Context, tx *store.Tx, orgID string) (authz.Target, error) {
	return s.targetTx(ctx, tx, orgID)
}

func (s *Service) targetTx(ctx context.Context, q querier, orgID string) (authz.Target, error) {
	id, ok := ParseID(orgID)
	if !ok {
		return authz.Target{}, errs.E(errs.NotFound, "no organisation %q", clip(orgID))
	}
	t := authz.Target{OrgID: id}
	found := false
	err := s.each(ctx, q, `SELECT DISTINCT o.kind, l.authority_org_id, l.role, l.sector
		FROM organizations o
		LEFT JOIN org_sectors os ON os.org_id = o.id
		LEFT JOIN supervision_links l ON l.country = o.country AND l.sector = os.sector
			AND (l.subsector = '' OR l.subsector = os.subsector)
		WHERE o.id = ?`, []any{id}, func(r *sql.Rows) error {
		var kind string
		var auth, role, sector sql.NullString
		if err := r.Scan(&kind, &auth, &role, &sector); err != nil {
			return err
		}
		found = true
		t.OrgKind = authz.OrgKind(kind)
		if auth.Valid {
			t.Links = append(t.Links, authz.Link{AuthorityOrgID: auth.String, Role: authz.LinkRole(role.String), Sector: sector.String})
		}
		return nil
	})
	if err != nil {
		return authz.Target{}, err
	}
	if !found {
		return authz.Target{}, errs.E(errs.NotFound, "no organisation %s", id)
	}
	slices.SortFunc(t.Links, func(a, b authz.Link) int {
		return strings.Compare(a.AuthorityOrgID+string(a.Role)+a.Sector, b.AuthorityOrgID+string(b.Role)+b.Sector)
	})
	return t, nil
}

// CreateOrg adds an organisation (authz.OrgCreate: platform administrators
// and the command line). in.ID may carry an existing UUID (MISP's); empty
// gives a random one.
//
// Errors: Unauthenticated, Forbidden, Invalid (every bad field, and a
// short name already used), Conflict (the UUID exists).
func (s *Service) CreateOrg(ctx context.Context, in OrgInput) (Org, error) {
	var o Org
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		var err error
		o, err = s.CreateOrgTx(ctx, tx, in)
		return err
	})
	if err != nil {
		return Org{}, err
	}
	return o, nil
}

// CreateOrgTx is CreateOrg inside the caller's transaction (the demo loads
// everything in one).
func (s *Service) CreateOrgTx(ctx context.Context, tx *store.Tx, in OrgInput) (Org, error) {
	a, err := actor(ctx)
	if err != nil {
		return Org{}, err
	}
	if err := authz.Check(a, authz.OrgCreate, authz.Target{OrgKind: in.Kind}); err != nil {
		return Org{}, err
	}
	o, err := ValidateOrg(in)
	if err != nil {
		return Org{}, err
	}
	if o.ID == "" {
		o.ID = uuid.NewString()
	} else if _, err := s.findOrg(ctx, tx, o.ID); err == nil {
		return Org{}, errs.E(errs.Conflict, "organisation %s already exists", o.ID)
	} else if !errs.Is(err, errs.NotFound) {
		return Org{}, err
	}
	if err := s.checkShortName(ctx, tx, o.ShortName, o.ID); err != nil {
		return Org{}, err
	}
	if err := s.insertOrg(ctx, tx, &o); err != nil {
		return Org{}, err
	}
	return o, s.record(ctx, tx, o.ID, "org.create", "organization", o.ID, orgDetails(o))
}

// orgDetails is what the audit trail keeps of a new organisation.
func orgDetails(o Org) map[string]any {
	return map[string]any{"short_name": o.ShortName, "name": o.Name, "country": o.Country, "kind": o.Kind,
		"timezone": o.TimeZone, "nis2_category": o.Category, "size_class": o.SizeClass, "sectors": o.Sectors,
		"contacts": len(o.Contacts), "prefixes": o.Prefixes, "asns": o.ASNs, "domains": o.Domains}
}

// checkShortName refuses a short name another organisation (not self)
// already has, case-insensitively, as a field error the form can show.
func (s *Service) checkShortName(ctx context.Context, q querier, short, self string) error {
	var other string
	err := s.each(ctx, q, `SELECT id FROM organizations WHERE lower(short_name) = ?`, []any{strings.ToLower(short)},
		func(r *sql.Rows) error { return r.Scan(&other) })
	if err != nil {
		return err
	}
	if other != "" && other != self {
		return errs.FieldKey("short_name", "dir.err.short_name_taken", short)
	}
	return nil
}

func (s *Service) insertOrg(ctx context.Context, tx *store.Tx, o *Org) error {
	o.CreatedAt, o.UpdatedAt = tx.Now, tx.Now
	_, err := tx.Exec(ctx, `INSERT INTO organizations (id, short_name, name, country, timezone, kind, nis2_category,
		size_class, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.ID, o.ShortName, o.Name, o.Country, o.TimeZone, string(o.Kind), o.Category, o.SizeClass, o.Description,
		tx.Now, tx.Now)
	if err != nil {
		return shortNameConflict(err, o.ShortName)
	}
	return s.writeChildren(ctx, tx, o.ID, *o, allChildren, false)
}

// shortNameConflict turns the unique index's refusal (a concurrent
// creation between our check and the insert) into the same field error.
func shortNameConflict(err error, short string) error {
	if errs.Is(err, errs.Conflict) {
		return errs.FieldKey("short_name", "dir.err.short_name_taken", short)
	}
	return err
}

// child tables of an organisation, as bits so an update rewrites only
// those that changed.
const (
	childSectors = 1 << iota
	childContacts
	childPrefixes
	childASNs
	childDomains
	allChildren = childSectors | childContacts | childPrefixes | childASNs | childDomains
)

// writeChildren replaces the child rows named by which, in multi-row
// inserts.
func (s *Service) writeChildren(ctx context.Context, tx *store.Tx, id string, o Org, which int, replace bool) error {
	type table struct {
		bit   int
		name  string
		cols  string
		ncols int
		rows  func() [][]any
	}
	tables := []table{
		{childSectors, "org_sectors", "org_id, sector, subsector, entity_type", 4, func() (r [][]any) {
			for _, x := range o.Sectors {
				r = append(r, []any{id, x.Sector, x.Subsector, x.EntityType})
			}
			return r
		}},
		{childContacts, "org_contacts", "org_id, position, role, name, email, phone", 6, func() (r [][]any) {
			for i, x := range o.Contacts {
				r = append(r, []any{id, i, x.Role, x.Name, x.Email, x.Phone})
			}
			return r
		}},
		{childPrefixes, "org_prefixes", "org_id, prefix, family", 3, func() (r [][]any) {
			for _, x := range o.Prefixes {
				fam := 6
				if p, err := netip.ParsePrefix(x); err == nil && p.Addr().Is4() {
					fam = 4
				}
				r = append(r, []any{id, x, fam})
			}
			return r
		}},
		{childASNs, "org_asns", "org_id, asn", 2, func() (r [][]any) {
			for _, x := range o.ASNs {
				r = append(r, []any{id, int64(x)})
			}
			return r
		}},
		{childDomains, "org_domains", "org_id, domain", 2, func() (r [][]any) {
			for _, x := range o.Domains {
				r = append(r, []any{id, x})
			}
			return r
		}},
	}
	for _, t := range tables {
		if which&t.bit == 0 {
			continue
		}
		if replace {
			if _, err := tx.Exec(ctx, "DELETE FROM "+t.name+" WHERE org_id = ?", id); err != nil {
				return errs.Wrap(err, "replace %s", t.name)
			}
		}
		if err := insertRows(ctx, tx, t.name, t.cols, t.ncols, t.rows()); err != nil {
			return err
		}
	}
	return nil
}

// insertRows inserts rows in batches of multi-row VALUES, well under both
// databases' limits on bound parameters.
func insertRows(ctx context.Context, tx *store.Tx, table, cols string, ncols int, rows [][]any) error {
	const batch = 400
	one := "(" + store.In(ncols) + ")"
	for len(rows) > 0 {
		n := min(batch, len(rows))
		args := make([]any, 0, n*ncols)
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		q := "INSERT INTO " + table + " (" + cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(one+", ", n), ", ")
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return errs.Wrap(err, "insert %s", table)
		}
		rows = rows[n:]
	}
	return nil
}

// Fields only a directory administrator (authz.OrgAdmin) may change: they
// decide who supervises the organisation and under which rules. The
// others are the organisation's own to maintain (authz.OrgEdit).
var adminFields = []string{"short_name", "kind", "country", "sectors", "nis2_category", "size_class"}

// orgChanges compares two canonical entries and returns, per changed JSON
// field, what the audit trail keeps: from/to for values, added/removed for
// sets.
func orgChanges(a, b Org) map[string]any {
	ch := map[string]any{}
	scalar := func(name, x, y string) {
		if x != y {
			ch[name] = map[string]any{"from": x, "to": y}
		}
	}
	scalar("short_name", a.ShortName, b.ShortName)
	scalar("name", a.Name, b.Name)
	scalar("country", a.Country, b.Country)
	scalar("timezone", a.TimeZone, b.TimeZone)
	scalar("kind", string(a.Kind), string(b.Kind))
	scalar("nis2_category", a.Category, b.Category)
	scalar("size_class", a.SizeClass, b.SizeClass)
	scalar("description", a.Description, b.Description)
	if d := diffSet(a.Sectors, b.Sectors); d != nil {
		ch["sectors"] = d
	}
	if !slices.Equal(a.Contacts, b.Contacts) {
		ch["contacts"] = map[string]any{"from": a.Contacts, "to": b.Contacts}
	}
	if d := diffSet(a.Prefixes, b.Prefixes); d != nil {
		ch["prefixes"] = d
	}
	if d := diffSet(a.ASNs, b.ASNs); d != nil {
		ch["asns"] = d
	}
	if d := diffSet(a.Domains, b.Domains); d != nil {
		ch["domains"] = d
	}
	return ch
}

func diffSet[T comparable](from, to []T) map[string]any {
	added, removed := []T{}, []T{}
	for _, x := range to {
		if !slices.Contains(from, x) {
			added = append(added, x)
		}
	}
	for _, x := range from {
		if !slices.Contains(to, x) {
			removed = append(removed, x)
		}
	}
	if len(added) == 0 && len(removed) == 0 {
		return nil
	}
	return map[string]any{"added": added, "removed": removed}
}

// childBits says which child tables differ between a and b.
func childBits(ch map[string]any) int {
	bits := 0
	for name, bit := range map[string]int{"sectors": childSectors, "contacts": childContacts,
		"prefixes": childPrefixes, "asns": childASNs, "domains": childDomains} {
		if _, ok := ch[name]; ok {
			bits |= bit
		}
	}
	return bits
}

// UpdateOrg replaces the entry of the organisation ref (UUID or short
// name) with in (the whole entry: start from Org.Input). The
// organisation's own administrators (authz.OrgEdit) may change its name,
// description, time zone, contacts and constituency; the short name, kind,
// country, sectors, NIS2 category and size class need authz.OrgAdmin. The
// change is audited as org.update with the changed fields; an unchanged
// entry records nothing.
//
// Errors: Unauthenticated, NotFound, Forbidden (naming the fields the
// actor may not change), Invalid.
func (s *Service) UpdateOrg(ctx context.Context, ref string, in OrgInput) (Org, error) {
	a, err := actor(ctx)
	if err != nil {
		return Org{}, err
	}
	var out Org
	err = s.db.Update(ctx, func(tx *store.Tx) error {
		cur, err := s.findOrg(ctx, tx, ref)
		if err != nil {
			return err
		}
		t, err := s.targetTx(ctx, tx, cur.ID)
		if err != nil {
			return err
		}
		if err := authz.Check(a, authz.OrgEdit, t); err != nil {
			return err
		}
		curs := []Org{cur}
		if err := s.loadChildren(ctx, tx, curs); err != nil {
			return err
		}
		cur = curs[0]
		in.ID = cur.ID
		next, err := ValidateOrg(in)
		if err != nil {
			return err
		}
		ch := orgChanges(cur, next)
		if len(ch) == 0 {
			out = cur
			return nil
		}
		var denied []errs.FieldError
		for _, f := range adminFields {
			if _, ok := ch[f]; ok && !authz.Can(a, authz.OrgAdmin, t) {
				denied = append(denied, errs.FieldError{Field: f, Message: "only a directory administrator may change this",
					Key: "dir.err.admin_field"})
			}
		}
		if denied != nil {
			return &errs.Error{Code: errs.Forbidden, Message: "you may not change these fields", Fields: denied}
		}
		if next.ShortName != cur.ShortName {
			if err := s.checkShortName(ctx, tx, next.ShortName, cur.ID); err != nil {
				return err
			}
		}
		if next.Kind != cur.Kind {
			if err := s.checkKindChange(ctx, tx, cur.ID, next.Kind, "kind"); err != nil {
				return err
			}
		}
		if err := s.updateOrgRow(ctx, tx, &next, cur, childBits(ch)); err != nil {
			return err
		}
		out = next
		return s.record(ctx, tx, cur.ID, "org.update", "organization", cur.ID, ch)
	})
	if err != nil {
		return Org{}, err
	}
	return out, nil
}

func (s *Service) updateOrgRow(ctx context.Context, tx *store.Tx, next *Org, cur Org, bits int) error {
	next.CreatedAt, next.UpdatedAt = cur.CreatedAt, tx.Now
	_, err := tx.Exec(ctx, `UPDATE organizations SET short_name = ?, name = ?, country = ?, timezone = ?, kind = ?,
		nis2_category = ?, size_class = ?, description = ?, updated_at = ? WHERE id = ?`,
		next.ShortName, next.Name, next.Country, next.TimeZone, string(next.Kind), next.Category, next.SizeClass,
		next.Description, tx.Now, cur.ID)
	if err != nil {
		return shortNameConflict(err, next.ShortName)
	}
	return s.writeChildren(ctx, tx, cur.ID, *next, bits, true)
}

// checkKindChange refuses a kind under which the organisation could no
// longer play the roles of its supervision links (a CSIRT turned DPA would
// keep serving as CSIRT, against KindsForLinkRole), or whose users hold
// roles that kind does not allow (an operator turned authority would keep
// its operator administrators). field names the problem's place.
func (s *Service) checkKindChange(ctx context.Context, q querier, id string, kind authz.OrgKind, field string) error {
	ls, err := s.listLinks(ctx, q, cond{parts: []string{"l.authority_org_id = ?"}, args: []any{id}})
	if err != nil {
		return err
	}
	var v validator
	for _, l := range ls {
		if !linkKindOK(l.Role, kind) {
			v.add(field, "dir.err.kind_breaks_link", string(kind), l.ID, string(l.Role))
		}
	}
	err = s.each(ctx, q, `SELECT u.email, r.role FROM user_roles r JOIN users u ON u.id = r.user_id
		WHERE u.org_id = ? ORDER BY u.email, r.role`, []any{id}, func(r *sql.Rows) error {
		var email, role string
		if err := r.Scan(&email, &role); err != nil {
			return err
		}
		if !roleFitsKind(authz.Role(role), kind) {
			v.add(field, "dir.err.kind_breaks_user", string(kind), email, role)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return v.err()
}

// orgKind returns the kind of organisation id, inside q.
func (s *Service) orgKind(ctx context.Context, q querier, id string) (authz.OrgKind, error) {
	var kind string
	err := s.each(ctx, q, `SELECT kind FROM organizations WHERE id = ?`, []any{id},
		func(r *sql.Rows) error { return r.Scan(&kind) })
	if err != nil {
		return "", err
	}
	if kind == "" {
		return "", errs.E(errs.NotFound, "no organisation %s", id)
	}
	return authz.OrgKind(kind), nil
}

// CountByKind returns how many organisations of each kind the actor may see
// (authz.OrgView), in one query: the administrator's dashboard.
//
// Errors: Unauthenticated.
func (s *Service) CountByKind(ctx context.Context) (map[authz.OrgKind]int, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	out := map[authz.OrgKind]int{}
	scope, args, ok := scopeSQL(authz.ScopeOf(a, authz.OrgView))
	if !ok {
		return out, nil
	}
	q := `SELECT o.kind, count(*) FROM organizations o`
	if scope != "" {
		q += " WHERE " + scope
	}
	q += " GROUP BY o.kind"
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, errs.Wrap(err, "count organizations")
		}
		out[authz.OrgKind(k)] = n
	}
	return out, errs.Wrap(rows.Err(), "count organizations")
}
