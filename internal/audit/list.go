package audit

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
)

// Record is one stored entry, with every stored field.
type Record struct {
	Seq         int64     `json:"seq"`
	ID          string    `json:"id"`
	At          time.Time `json:"at"` // UTC
	ActorUserID string    `json:"actor_user_id"`
	ActorOrgID  string    `json:"actor_org_id"`
	ActorName   string    `json:"actor_name"`
	Addr        string    `json:"addr"`
	OrgID       string    `json:"org_id"`
	Action      string    `json:"action"`
	ObjectType  string    `json:"object_type"`
	ObjectID    string    `json:"object_id"`
	// Details is canonical JSON (an object with sorted keys), as hashed.
	Details  string `json:"details"`
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

// recordCols lists Record's columns in scan order.
const recordCols = `seq, id, at, actor_user_id, actor_org_id, actor_name, addr, org_id, action, object_type, object_id, details, prev_hash, hash`

func scanRecord(rows *sql.Rows, r *Record) error {
	if err := rows.Scan(&r.Seq, &r.ID, &r.At, &r.ActorUserID, &r.ActorOrgID, &r.ActorName, &r.Addr, &r.OrgID,
		&r.Action, &r.ObjectType, &r.ObjectID, &r.Details, &r.PrevHash, &r.Hash); err != nil {
		return err
	}
	r.At = r.At.UTC()
	return nil
}

// Filter selects entries to browse.
type Filter struct {
	// Scope limits the entries to those of organisations the viewer may see
	// (authz.ScopeOf(actor, authz.AuditView)); entries with no organisation
	// (platform-wide changes) are only in an All scope.
	Scope authz.Scope
	// OrgID, Action and ActorUserID, when set, must match exactly.
	OrgID       string
	Action      string
	ActorUserID string
	// Since (inclusive) and Until (exclusive) bound the time, when set.
	Since, Until time.Time
	// Limit is the page size: 50 when 0, at most MaxLimit.
	Limit int
	// BeforeSeq, when > 0, returns entries older than that one: pass the
	// last Seq of the previous page (keyset pagination, newest first).
	BeforeSeq int64
}

// Page sizes of List.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

func (f *Filter) validate() error {
	var fs errs.Fields
	if f.Limit < 0 || f.Limit > MaxLimit {
		fs.AddKey("limit", "audit.err.limit", MaxLimit)
	}
	if f.BeforeSeq < 0 {
		fs.AddKey("before_seq", "audit.err.negative")
	}
	for _, c := range []struct{ name, v string }{{"org_id", f.OrgID}, {"actor_user_id", f.ActorUserID}} {
		if c.v != "" && uuid.Validate(c.v) != nil {
			fs.AddKey(c.name, "audit.err.id")
		}
	}
	if len(f.Action) > maxActionLen {
		fs.AddKey("action", "audit.err.too_long", maxActionLen)
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		fs.AddKey("until", "audit.err.until")
	}
	if f.Scope.ServedBy != "" && uuid.Validate(f.Scope.ServedBy) != nil {
		fs.AddKey("scope.served_by", "audit.err.id")
	}
	return fs.Err()
}

// List returns the entries matching f, newest first, in one query.
//
// Errors: Invalid naming the filter field (limit, before_seq, org_id,
// actor_user_id, action, until) for a malformed filter.
func (l *Log) List(ctx context.Context, db *store.DB, f Filter) ([]Record, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	if f.Scope.None() {
		return nil, nil
	}
	if f.Limit == 0 {
		f.Limit = DefaultLimit
	}
	var (
		where []string
		args  []any
	)
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if f.BeforeSeq > 0 {
		add("seq < ?", f.BeforeSeq)
	}
	if f.OrgID != "" {
		add("org_id = ?", f.OrgID)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.ActorUserID != "" {
		add("actor_user_id = ?", f.ActorUserID)
	}
	if !f.Since.IsZero() {
		add("at >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		add("at < ?", f.Until.UTC())
	}
	if cond, a := scopeSQL(f.Scope); cond != "" {
		add(cond, a...)
	}
	q := `SELECT ` + recordCols + ` FROM audit_log`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY seq DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]Record, 0, min(f.Limit, 64))
	for rows.Next() {
		var r Record
		if err := scanRecord(rows, &r); err != nil {
			return nil, errs.Wrap(err, "audit list")
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "audit list")
	}
	return out, nil
}

// scopeSQL turns a scope into a condition on audit_log.org_id ("" for All),
// the SQL twin of authz.Scope.Includes. Organisation ids are compared as
// text: audit_log keeps them as TEXT (” for platform-wide entries) while
// the directory has UUID columns on PostgreSQL.
//
// ServedBy follows the directory's supervision model: an organisation is
// served when one of its (sector, subsector) pairs in org_sectors, in its
// country, matches a supervision_links row of the authority with one of the
// roles; a link whose subsector is ” covers the whole sector.
func scopeSQL(s authz.Scope) (string, []any) {
	if s.All {
		return "", nil
	}
	var (
		or   []string
		args []any
	)
	if s.OwnOrg != "" {
		or = append(or, "org_id = ?")
		args = append(args, s.OwnOrg)
	}
	if s.Authorities {
		kinds := []any{string(authz.OES), string(authz.DSP)}
		or = append(or, `org_id IN (SELECT CAST(o.id AS TEXT) FROM organizations o WHERE o.kind NOT IN (`+store.In(len(kinds))+`) AND o.kind <> '')`)
		args = append(args, kinds...)
	}
	if s.ServedBy != "" {
		q := `org_id IN (SELECT CAST(o.id AS TEXT) FROM organizations o
			JOIN org_sectors os ON os.org_id = o.id
			JOIN supervision_links k ON k.country = o.country AND k.sector = os.sector
				AND (k.subsector = '' OR k.subsector = os.subsector)
			WHERE k.authority_org_id = ?`
		args = append(args, s.ServedBy)
		if s.LinkRoles != nil {
			q += ` AND k.role IN (` + store.In(len(s.LinkRoles)) + `)`
			for _, r := range s.LinkRoles {
				args = append(args, string(r))
			}
		}
		if len(s.Sectors) > 0 {
			q += ` AND k.sector IN (` + store.In(len(s.Sectors)) + `)`
			for _, sec := range s.Sectors {
				args = append(args, sec)
			}
		}
		or = append(or, q+`)`)
	}
	if len(or) == 0 {
		return "1 = 0", nil
	}
	return "(" + strings.Join(or, " OR ") + ")", args
}
