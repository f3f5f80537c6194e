// Package audit keeps nisduc's append-only audit trail: every change, who
// made it, when, from where. Entries are hash-chained and the chain head is
// checkpointed with an HMAC whose key lives outside the database, so that
// `nisduc audit verify` finds an altered, removed or truncated entry.
package audit

import (
	"context"
	"encoding/json"

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
	// never a password, secret or token.
	Details map[string]any
}

// Log appends to and verifies the trail. It holds the checkpoint key, which
// is kept outside the database (a file in the data folder, or a secret
// given by flag or environment).
type Log struct {
	key []byte
}

// New returns a Log that authenticates checkpoints with key (32 bytes or
// more).
func New(key []byte) *Log { return &Log{key: key} }

// Record appends e to the trail inside tx, so the entry exists exactly
// when the change does.
//
// NOTE: placeholder until the chained implementation lands; the signature
// is final.
func (l *Log) Record(ctx context.Context, tx *store.Tx, e Entry) error {
	a := authz.ActorFrom(ctx)
	var userID, orgID, actorName, addr string
	if a != nil {
		userID, orgID, actorName, addr = a.UserID, a.OrgID, a.Email, a.Addr
		if actorName == "" {
			actorName = a.Name
		}
	}
	details, err := json.Marshal(e.Details)
	if err != nil {
		return errs.Wrap(err, "audit details")
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (id, at, actor_user_id, actor_org_id, actor_name, addr, org_id, action, object_type, object_id, details)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		uuid.NewString(), tx.Now, userID, orgID, actorName, addr, e.OrgID, e.Action, e.ObjectType, e.ObjectID, string(details))
	return err
}
