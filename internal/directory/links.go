package directory

import (
	"context"
	"database/sql"
	"strings"

	"github.com/google/uuid"

	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
)

// LinkFilter selects supervision links; empty fields match everything.
type LinkFilter struct {
	Country        string
	Sector         string // a sector; matches its sub-sector links too
	Role           authz.LinkRole
	AuthorityOrgID string
}

const linkCols = `l.id, l.country, l.sector, l.subsector, l.role, l.authority_org_id, l.regulatory_model, l.created_at,
	a.short_name, a.name, a.kind`

func scanLink(r *sql.Rows) (Link, error) {
	var l Link
	var role, kind string
	err := r.Scan(&l.ID, &l.Country, &l.Sector, &l.Subsector, &role, &l.AuthorityOrgID, &l.Model, &l.CreatedAt,
		&l.AuthorityShortName, &l.AuthorityName, &kind)
	l.Role, l.AuthorityKind, l.CreatedAt = authz.LinkRole(role), authz.OrgKind(kind), l.CreatedAt.UTC()
	return l, err
}

// ListLinks returns the supervision links matching f, with the
// authorities' names. Links only name authorities, whom every signed-in
// actor may see (authz.OrgView), so any actor may list them.
//
// Errors: Unauthenticated, Invalid (a bad filter value).
func (s *Service) ListLinks(ctx context.Context, f LinkFilter) ([]Link, error) {
	if _, err := actor(ctx); err != nil {
		return nil, err
	}
	var v validator
	var c cond
	if cc := strings.ToUpper(strings.TrimSpace(f.Country)); cc != "" {
		if !ValidCountry(cc) {
			v.add("country", "dir.err.country", clip(f.Country))
		}
		c.add("l.country = ?", cc)
	}
	if sec := strings.ToLower(strings.TrimSpace(f.Sector)); sec != "" {
		if !IsTopSector(sec) {
			v.add("sector", "dir.err.sector", clip(f.Sector))
		}
		c.add("l.sector = ?", sec)
	}
	if f.Role != "" {
		if !f.Role.Valid() {
			v.add("role", "dir.err.link_role", clip(string(f.Role)), joinAny(authz.LinkRoles))
		}
		c.add("l.role = ?", string(f.Role))
	}
	if f.AuthorityOrgID != "" {
		id, ok := ParseID(f.AuthorityOrgID)
		if !ok {
			v.add("authority", "dir.err.uuid", clip(f.AuthorityOrgID))
		}
		c.add("l.authority_org_id = ?", id)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	return s.listLinks(ctx, s.db, c)
}

func (s *Service) listLinks(ctx context.Context, q querier, c cond) ([]Link, error) {
	out := []Link{}
	err := s.each(ctx, q, `SELECT `+linkCols+` FROM supervision_links l JOIN organizations a ON a.id = l.authority_org_id`+
		c.where()+` ORDER BY l.country, l.sector, l.subsector, l.role, a.short_name, l.id`, c.args, func(r *sql.Rows) error {
		l, err := scanLink(r)
		out = append(out, l)
		return err
	})
	return out, err
}

// AddLink adds a supervision link (authz.OrgAdmin). The authority must be
// an organisation of a kind that can play the role (KindsForLinkRole:
// csirt needs a CSIRT, sectoral_authority an NCA …). l.ID may carry an
// existing UUID; empty gives a random one.
//
// Errors: Unauthenticated, Forbidden, Invalid, Conflict (the same
// authority already has this role for this sector in this country).
func (s *Service) AddLink(ctx context.Context, l Link) (Link, error) {
	var out Link
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		var err error
		out, err = s.AddLinkTx(ctx, tx, l)
		return err
	})
	return out, err
}

// AddLinkTx is AddLink inside the caller's transaction.
func (s *Service) AddLinkTx(ctx context.Context, tx *store.Tx, l Link) (Link, error) {
	a, err := actor(ctx)
	if err != nil {
		return Link{}, err
	}
	if err := authz.Check(a, authz.OrgAdmin, authz.Target{}); err != nil {
		return Link{}, err
	}
	nl, err := ValidateLink(l)
	if err != nil {
		return Link{}, err
	}
	kind, err := s.orgKind(ctx, tx, nl.AuthorityOrgID)
	if errs.Is(err, errs.NotFound) {
		return Link{}, errs.FieldKey("authority", "dir.err.org_missing", nl.AuthorityOrgID)
	} else if err != nil {
		return Link{}, err
	}
	if !linkKindOK(nl.Role, kind) {
		return Link{}, errs.FieldKey("authority", "dir.err.link_kind", string(kind), string(nl.Role), joinAny(KindsForLinkRole[nl.Role]))
	}
	if nl.ID == "" {
		nl.ID = uuid.NewString()
	}
	if err := s.insertLink(ctx, tx, &nl); err != nil {
		return Link{}, err
	}
	ls, err := s.listLinks(ctx, tx, cond{parts: []string{"l.id = ?"}, args: []any{nl.ID}})
	if err != nil || len(ls) != 1 {
		return Link{}, errs.Wrap(err, "read back link %s", nl.ID)
	}
	return ls[0], s.record(ctx, tx, nl.AuthorityOrgID, "link.add", "supervision_link", nl.ID, linkDetails(nl))
}

func linkDetails(l Link) map[string]any {
	return map[string]any{"country": l.Country, "sector": l.Sector, "subsector": l.Subsector, "role": l.Role,
		"authority": l.AuthorityOrgID, "regulatory_model": l.Model}
}

func (s *Service) insertLink(ctx context.Context, tx *store.Tx, l *Link) error {
	l.CreatedAt = tx.Now
	_, err := tx.Exec(ctx, `INSERT INTO supervision_links (id, country, sector, subsector, role, authority_org_id,
		regulatory_model, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		l.ID, l.Country, l.Sector, l.Subsector, string(l.Role), l.AuthorityOrgID, l.Model, tx.Now)
	if errs.Is(err, errs.Conflict) {
		return &errs.Error{Code: errs.Conflict, Key: "dir.err.link_exists", Err: err,
			Message: "this authority already has this role for this sector in this country (or the link id exists)"}
	}
	return err
}

// RemoveLink deletes a supervision link (authz.OrgAdmin), audited as
// link.remove with what the link said.
//
// Errors: Unauthenticated, Forbidden, NotFound.
func (s *Service) RemoveLink(ctx context.Context, id string) error {
	a, err := actor(ctx)
	if err != nil {
		return err
	}
	if err := authz.Check(a, authz.OrgAdmin, authz.Target{}); err != nil {
		return err
	}
	lid, ok := ParseID(id)
	if !ok {
		return errs.E(errs.NotFound, "no supervision link %q", clip(id))
	}
	return s.db.Update(ctx, func(tx *store.Tx) error {
		ls, err := s.listLinks(ctx, tx, cond{parts: []string{"l.id = ?"}, args: []any{lid}})
		if err != nil {
			return err
		}
		if len(ls) == 0 {
			return errs.E(errs.NotFound, "no supervision link %s", lid)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM supervision_links WHERE id = ?`, lid); err != nil {
			return err
		}
		return s.record(ctx, tx, ls[0].AuthorityOrgID, "link.remove", "supervision_link", lid, linkDetails(ls[0]))
	})
}

// LinksFor returns the links that serve the organisation orgID (UUID or
// short name) — who supervises it, which CSIRT, SPOC, crisis centre and
// DPA serve it, under which model — with the authorities' names, for the
// organisation's page. It needs authz.OrgView on the organisation and
// answers NotFound/Forbidden as GetOrg does.
//
// Errors: Unauthenticated, NotFound, Forbidden.
func (s *Service) LinksFor(ctx context.Context, orgID string) ([]Link, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	var out []Link
	err = s.db.View(ctx, func(tx *store.Tx) error {
		o, err := s.authorizedOrg(ctx, tx, a, authz.OrgView, orgID)
		if err != nil {
			return err
		}
		out = []Link{}
		return s.each(ctx, tx, `SELECT DISTINCT `+linkCols+`
			FROM organizations o
			JOIN org_sectors os ON os.org_id = o.id
			JOIN supervision_links l ON l.country = o.country AND l.sector = os.sector
				AND (l.subsector = '' OR l.subsector = os.subsector)
			JOIN organizations a ON a.id = l.authority_org_id
			WHERE o.id = ?
			ORDER BY l.role, l.sector, l.subsector, a.short_name, l.id`, []any{o.ID}, func(r *sql.Rows) error {
			l, err := scanLink(r)
			out = append(out, l)
			return err
		})
	})
	return out, err
}
