// Package authz is nisduc's one authorization policy. Every decision — may
// this actor do this action on something that belongs to that organisation —
// is taken here, by Check, from the actor and the target organisation. The
// web layer, the API and the services all ask Check; nothing decides ad hoc.
package authz

import (
	"context"
	"slices"
)

// Role is what a user may do within their organisation.
type Role string

const (
	PlatformAdmin    Role = "platform_admin"    // manages the directory and users; reads no risk data
	AuthorityAdmin   Role = "authority_admin"   // manages an authority's users
	AuthorityAnalyst Role = "authority_analyst" // reads supervised operators' data (may be limited to sectors)
	Observer         Role = "observer"          // read-only follower for a CSIRT or SPOC
	OperatorAdmin    Role = "operator_admin"    // manages an operator's users
	RiskManager      Role = "risk_manager"      // runs the operator's risk assessments
	IncidentNotifier Role = "incident_notifier" // notifies incidents for the operator
	ReadOnly         Role = "read_only"         // reads its own organisation's data
)

// Roles lists every role in display order.
var Roles = []Role{PlatformAdmin, AuthorityAdmin, AuthorityAnalyst, Observer, OperatorAdmin, RiskManager, IncidentNotifier, ReadOnly}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// OrgKind is the kind of an organisation in the directory.
type OrgKind string

const (
	OES            OrgKind = "OES"
	DSP            OrgKind = "DSP"
	NCA            OrgKind = "NCA"
	SPOC           OrgKind = "SPOC"
	CSIRT          OrgKind = "CSIRT"
	DPA            OrgKind = "DPA"
	CrisisCentre   OrgKind = "crisis_centre"
	OtherAuthority OrgKind = "other_authority"
)

// OrgKinds lists every kind.
var OrgKinds = []OrgKind{OES, DSP, NCA, SPOC, CSIRT, DPA, CrisisCentre, OtherAuthority}

// Valid reports whether k is a known kind.
func (k OrgKind) Valid() bool { return slices.Contains(OrgKinds, k) }

// IsAuthority reports whether organisations of this kind supervise or serve
// others (anything that is not an operator).
func (k OrgKind) IsAuthority() bool { return k != OES && k != DSP && k != "" }

// Actor is who is acting: a signed-in user, an API token's user, or the
// command line (which acts as the installation's administrator).
type Actor struct {
	UserID  string
	Email   string
	Name    string
	OrgID   string
	OrgKind OrgKind
	Roles   []Role
	// Sectors limits an authority analyst or observer to these sectors;
	// empty means every sector the organisation supervises.
	Sectors []string
	// Addr is the client address the action came from ("cli" for the CLI).
	Addr string
	// Via is "web", "api" or "cli".
	Via string
	// System marks the command line: trusted like a platform administrator
	// and also able to read operator data (it has the database anyway).
	System bool
	// Lang and TZ are the user's language and time zone.
	Lang string
	TZ   string
	// SessionID or TokenID that authenticated the actor.
	SessionID string
	TokenID   string
}

// Has reports whether the actor holds any of roles.
func (a *Actor) Has(roles ...Role) bool {
	if a == nil {
		return false
	}
	for _, r := range roles {
		if slices.Contains(a.Roles, r) {
			return true
		}
	}
	return false
}

// CLI returns the actor of a command-line invocation by the OS user name.
func CLI(osUser string) *Actor {
	return &Actor{Name: "cli:" + osUser, Addr: "cli", Via: "cli", System: true, Roles: []Role{PlatformAdmin}}
}

type ctxKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a *Actor) context.Context {
	return context.WithValue(ctx, ctxKey{}, a)
}

// ActorFrom returns the actor in ctx, or nil when anonymous.
func ActorFrom(ctx context.Context) *Actor {
	a, _ := ctx.Value(ctxKey{}).(*Actor)
	return a
}
