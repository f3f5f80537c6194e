// Package audit keeps nisduc's append-only audit trail: every change, who
// made it, when, from where. Entries are hash-chained and the chain head is
// checkpointed with an HMAC whose key lives outside the database, so that
// `nisduc audit verify` finds an altered, removed or truncated entry.
//
// The design, and what it does not protect against:
//
//   - Each entry stores prev_hash and hash = SHA-256(prev_hash ‖ every
//     stored field, length-prefixed). Changing any field of any entry, or
//     removing one, breaks the chain at that entry.
//   - The chain head (seq, hash) lives in a one-row table audit_head with
//     HMAC-SHA256(key, seq ‖ hash). It is updated in the same transaction as
//     each append, and that row is locked (FOR UPDATE on PostgreSQL; SQLite
//     has one writer) so appends from several server processes serialise and
//     seq has no gaps. Cutting entries off the tail leaves a head that points
//     past the end of the chain; forging a shorter head needs the key.
//   - Periodic checkpoints (audit_checkpoints: seq, hash, at, MAC) pin the
//     chain's past states, and each is also written to the server log, a
//     copy outside the database.
//   - Remaining limit: someone with write access to the database who kept an
//     old copy of the head row can cut the tail back to that head, put the
//     old row back and delete the checkpoints written since; the chain then
//     verifies. Only a copy kept outside the database (the checkpoint lines
//     in the server log, or a backup) reveals it. Likewise, deleting every
//     table's rows leaves an empty, valid trail. The MAC key is never in
//     the database, so no one can forge a new head or checkpoint without it.
package audit

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
)

// Entry is one change to record. The actor (user, organisation, address)
// is taken from the context.
type Entry struct {
	// OrgID is the organisation whose data changed ("" for platform-wide).
	OrgID string
	// Action names the change, "area.verb": "org.create", "user.roles", "auth.login".
	Action string
	// ObjectType and ObjectID identify what changed ("organization", UUID).
	ObjectType string
	ObjectID   string
	// Details holds what changed (field → new value, or before/after);
	// never a password, secret or token (values under such keys are
	// replaced by "[redacted]" as a last guard).
	Details map[string]any
}

// Log appends to and verifies the trail. It holds the checkpoint key, which
// is kept outside the database (a file in the data folder, or a secret
// given by flag or environment).
type Log struct {
	key []byte
}

// MinKeyLen is the shortest accepted MAC key, in bytes.
const MinKeyLen = 32

// New returns a Log that authenticates checkpoints with key (32 bytes or
// more: see LoadOrCreateKey and KeyFromSecret).
func New(key []byte) *Log { return &Log{key: append([]byte(nil), key...)} }

// Limits on what one entry may hold: the trail is kept forever.
const (
	maxActionLen = 100
	maxFieldLen  = 500
)

// head is the authenticated tip of the chain.
type head struct {
	seq  int64
	hash string
	mac  string
}

// Record appends e to the trail inside tx, so the entry exists exactly
// when the change does.
//
// Record locks the chain head until tx ends: call it after the
// transaction's other writes, so that two transactions never wait for each
// other's rows while one holds the head (PostgreSQL would abort one of them
// as a deadlock). Appends serialise on that lock.
//
// Errors: Invalid (field "action", "object_type", "object_id", "org_id" or
// "details") for a malformed entry; Internal when the stored head does not
// authenticate with this Log's key (a wrong key, or a tampered head):
// nothing is appended on top of a head that cannot be trusted.
func (l *Log) Record(ctx context.Context, tx *store.Tx, e Entry) error {
	var f errs.Fields
	switch {
	case e.Action == "":
		f.AddKey("action", "audit.err.required")
	case len(e.Action) > maxActionLen:
		f.AddKey("action", "audit.err.too_long", maxActionLen)
	}
	for _, c := range []struct{ name, v string }{{"org_id", e.OrgID}, {"object_type", e.ObjectType}, {"object_id", e.ObjectID}} {
		if len(c.v) > maxFieldLen {
			f.AddKey(c.name, "audit.err.too_long", maxFieldLen)
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	details, err := canonicalDetails(e.Details)
	if err != nil {
		return err
	}
	r := Record{
		ID:         uuid.NewString(),
		At:         tx.Now.UTC().Truncate(time.Microsecond),
		OrgID:      e.OrgID,
		Action:     e.Action,
		ObjectType: e.ObjectType,
		ObjectID:   e.ObjectID,
		Details:    details,
	}
	if a := authz.ActorFrom(ctx); a != nil {
		r.ActorUserID, r.ActorOrgID, r.ActorName, r.Addr = a.UserID, a.OrgID, a.Email, a.Addr
		if r.ActorName == "" {
			r.ActorName = a.Name
		}
	}
	h, err := l.lockHead(ctx, tx)
	if err != nil {
		return err
	}
	r.Seq = h.seq + 1
	r.PrevHash = h.hash
	r.Hash = newHasher().entryHash(&r)
	if _, err := tx.Exec(ctx, `INSERT INTO audit_log (seq, id, at, actor_user_id, actor_org_id, actor_name, addr, org_id, action, object_type, object_id, details, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Seq, r.ID, r.At, r.ActorUserID, r.ActorOrgID, r.ActorName, r.Addr, r.OrgID, r.Action, r.ObjectType, r.ObjectID, r.Details, r.PrevHash, r.Hash); err != nil {
		return errs.Wrap(err, "audit append")
	}
	if _, err := tx.Exec(ctx, `UPDATE audit_head SET seq = ?, hash = ?, mac = ? WHERE id = 1`,
		r.Seq, r.Hash, headMAC(l.key, r.Seq, r.Hash)); err != nil {
		return errs.Wrap(err, "audit head")
	}
	return nil
}

// lockHead reads the head row for update and checks its MAC. A missing row
// is created for an empty trail (a new installation, or after a demo
// reset); it is an error when entries exist, since recreating it would
// authenticate whatever the tail has become.
func (l *Log) lockHead(ctx context.Context, tx *store.Tx) (head, error) {
	q := `SELECT seq, hash, mac FROM audit_head WHERE id = 1`
	if tx.Dialect == store.Postgres {
		q += ` FOR UPDATE`
	}
	var h head
	err := tx.QueryRow(ctx, q).Scan(&h.seq, &h.hash, &h.mac)
	if errors.Is(err, sql.ErrNoRows) {
		// Two first appends may race here on PostgreSQL: DO NOTHING makes
		// the loser wait for the winner's row, which the second SELECT then
		// locks. Only the transaction that did create the row checks that
		// no entry exists without a head.
		res, ierr := tx.Exec(ctx, `INSERT INTO audit_head (id, seq, hash, mac) VALUES (1, 0, ?, ?) ON CONFLICT (id) DO NOTHING`,
			genesisHash, headMAC(l.key, 0, genesisHash))
		if ierr != nil {
			return head{}, errs.Wrap(ierr, "audit head")
		}
		if n, _ := res.RowsAffected(); n == 1 {
			var orphans int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM audit_log LIMIT 1) AS x`).Scan(&orphans); err != nil {
				return head{}, errs.Wrap(err, "audit head")
			}
			if orphans > 0 {
				slog.ErrorContext(ctx, "audit: the chain head row is missing while entries exist; refusing to append (run `nisduc audit verify`)")
				return head{}, errs.Wrap(errors.New("audit_head row missing"), "audit trail head is missing")
			}
		}
		err = tx.QueryRow(ctx, q).Scan(&h.seq, &h.hash, &h.mac)
	}
	if err != nil {
		return head{}, errs.Wrap(err, "audit head")
	}
	if !macEqual(h.mac, headMAC(l.key, h.seq, h.hash)) {
		slog.ErrorContext(ctx, "audit: the chain head does not authenticate with this key; refusing to append (wrong --audit-key, or a tampered head: run `nisduc audit verify`)", "seq", h.seq)
		return head{}, errs.Wrap(errors.New("audit head MAC mismatch"), "audit trail head does not match the audit key")
	}
	return h, nil
}

// CheckKey reports whether the stored chain head authenticates with this
// Log's key, so that `serve` can refuse to start with a wrong key instead of
// failing at the first change. An empty trail passes.
func (l *Log) CheckKey(ctx context.Context, db *store.DB) error {
	var h head
	err := db.QueryRow(ctx, `SELECT seq, hash, mac FROM audit_head WHERE id = 1`).Scan(&h.seq, &h.hash, &h.mac)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return errs.Wrap(err, "audit head")
	}
	if !macEqual(h.mac, headMAC(l.key, h.seq, h.hash)) {
		return errs.E(errs.Invalid, "the audit key does not match this database's audit trail (give the key it was created with: --audit-key, NISDUC_AUDIT_KEY or audit.key in the data folder)")
	}
	return nil
}
