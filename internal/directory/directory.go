// Package directory is nisduc's organisation directory: operators,
// authorities, CSIRTs and the other bodies of the NIS/NIS2 ecosystem, the
// sectors they operate in, their contacts and CSIRT constituency (prefixes,
// AS numbers, domains), the supervision links that say which authority
// serves which sector in which country, and the users of each organisation
// with their roles.
//
// Every exported method takes the actor from the context and asks the one
// policy (internal/authz) before acting; lists are filtered in SQL with the
// same rule (authz.ScopeOf). Every change is audited in its transaction.
package directory

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/nisduc/nisduc/internal/audit"
	"github.com/nisduc/nisduc/internal/auth"
	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
)

// OrgSector is a sector an organisation operates in, with the sub-sector
// ("" when the sector has none or it was not given) and the organisation's
// entity type there ("" when not given).
type OrgSector struct {
	Sector     string `json:"sector"`
	Subsector  string `json:"subsector"`
	EntityType string `json:"entity_type"`
}

// Contact is one way to reach an organisation.
type Contact struct {
	Role  string `json:"role"` // one of ContactRoles
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone"` // E.164
}

// OrgInput is an organisation as a form, the API or an import gives it:
// free text that ValidateOrg checks and turns into an Org.
type OrgInput struct {
	// ID is empty to let the directory choose a random UUID; set it to keep
	// an identity the organisation already has (MISP, an export).
	ID          string        `json:"id"`
	ShortName   string        `json:"short_name"`
	Name        string        `json:"name"`
	Country     string        `json:"country"`
	TimeZone    string        `json:"timezone"`
	Kind        authz.OrgKind `json:"kind"`
	Category    string        `json:"nis2_category"`
	SizeClass   string        `json:"size_class"`
	Description string        `json:"description"`
	Sectors     []OrgSector   `json:"sectors"`
	Contacts    []Contact     `json:"contacts"`
	Prefixes    []string      `json:"prefixes"`
	// ASNs as typed: "AS64500", "64500" or asdot "1.10".
	ASNs    []string `json:"asns"`
	Domains []string `json:"domains"`
}

// Org is an organisation of the directory, in canonical form: sets
// (sectors, prefixes, AS numbers, domains) sorted, contacts in their order.
type Org struct {
	ID          string        `json:"id"`
	ShortName   string        `json:"short_name"`
	Name        string        `json:"name"`
	Country     string        `json:"country"`
	TimeZone    string        `json:"timezone"`
	Kind        authz.OrgKind `json:"kind"`
	Category    string        `json:"nis2_category"`
	SizeClass   string        `json:"size_class"`
	Description string        `json:"description"`
	Sectors     []OrgSector   `json:"sectors"`
	Contacts    []Contact     `json:"contacts"`
	Prefixes    []string      `json:"prefixes"`
	ASNs        []uint32      `json:"asns"`
	Domains     []string      `json:"domains"`
	CreatedAt   time.Time     `json:"created_at,omitzero"`
	UpdatedAt   time.Time     `json:"updated_at,omitzero"`
}

// Input returns o as an input, to edit and give back to UpdateOrg.
func (o Org) Input() OrgInput {
	in := OrgInput{ID: o.ID, ShortName: o.ShortName, Name: o.Name, Country: o.Country, TimeZone: o.TimeZone,
		Kind: o.Kind, Category: o.Category, SizeClass: o.SizeClass, Description: o.Description,
		Sectors:  append([]OrgSector(nil), o.Sectors...),
		Contacts: append([]Contact(nil), o.Contacts...),
		Prefixes: append([]string(nil), o.Prefixes...),
		Domains:  append([]string(nil), o.Domains...),
	}
	for _, a := range o.ASNs {
		in.ASNs = append(in.ASNs, strconv.FormatUint(uint64(a), 10))
	}
	return in
}

// Link is a supervision link: the authority organisation plays Role for
// Sector (and Subsector, "" = the whole sector) in Country, applying the
// regulatory Model there.
type Link struct {
	ID             string         `json:"id"`
	Country        string         `json:"country"`
	Sector         string         `json:"sector"`
	Subsector      string         `json:"subsector"`
	Role           authz.LinkRole `json:"role"`
	AuthorityOrgID string         `json:"authority"`
	Model          string         `json:"regulatory_model"`
	// Read only: the authority's names, filled by the directory.
	AuthorityShortName string        `json:"authority_short_name,omitempty"`
	AuthorityName      string        `json:"authority_name,omitempty"`
	AuthorityKind      authz.OrgKind `json:"authority_kind,omitempty"`
	CreatedAt          time.Time     `json:"created_at,omitzero"`
}

// Service is the directory. It is safe for concurrent use.
type Service struct {
	db  *store.DB
	log *audit.Log
	// setPassword checks the policy and stores the hash of a new user's
	// password inside the creating transaction.
	setPassword func(ctx context.Context, tx *store.Tx, userID, pw string) error
	// onQuery, when set (tests), sees every SQL read the service makes, so
	// a test can prove that a list costs a fixed number of queries.
	onQuery func(q string)
}

// New returns the directory on db, auditing changes in log.
func New(db *store.DB, log *audit.Log) *Service {
	return &Service{db: db, log: log, setPassword: auth.SetPassword}
}

// querier is what reads need: the store's reader pool, or a transaction.
type querier interface {
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func (s *Service) query(ctx context.Context, q querier, sqlText string, args ...any) (*sql.Rows, error) {
	if s.onQuery != nil {
		s.onQuery(sqlText)
	}
	rows, err := q.Query(ctx, sqlText, args...)
	if err != nil {
		return nil, errs.Wrap(err, "directory query")
	}
	return rows, nil
}

// each runs a query and calls scan for every row.
func (s *Service) each(ctx context.Context, q querier, sqlText string, args []any, scan func(*sql.Rows) error) error {
	rows, err := s.query(ctx, q, sqlText, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return errs.Wrap(err, "directory scan")
		}
	}
	return errs.Wrap(rows.Err(), "directory rows")
}

// actor returns the actor in ctx, or an Unauthenticated error.
func actor(ctx context.Context) (*authz.Actor, error) {
	a := authz.ActorFrom(ctx)
	if a == nil {
		return nil, errs.E(errs.Unauthenticated, "sign in first")
	}
	return a, nil
}

func (s *Service) record(ctx context.Context, tx *store.Tx, orgID, action, objType, objID string, details map[string]any) error {
	return s.log.Record(ctx, tx, audit.Entry{OrgID: orgID, Action: action, ObjectType: objType, ObjectID: objID, Details: details})
}

func anyArgs[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}
