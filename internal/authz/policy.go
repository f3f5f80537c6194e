package authz

import (
	"slices"

	"github.com/nisduc/nisduc/internal/errs"
)

// Action is something an actor wants to do to an organisation's data.
type Action string

const (
	// Directory
	OrgView       Action = "org.view"       // see an organisation's directory entry
	OrgCreate     Action = "org.create"     // add an organisation to the directory
	OrgEdit       Action = "org.edit"       // change an organisation's entry (contacts, constituency …)
	OrgAdmin      Action = "org.admin"      // change kind, sectors, supervision; import/export the directory
	UserView      Action = "user.view"      // list an organisation's users
	UserManage    Action = "user.manage"    // add users, change roles, disable
	AuditView     Action = "audit.view"     // browse the audit trail of an organisation
	SettingsAdmin Action = "settings.admin" // platform-wide settings

	// Data that later capabilities own; the rules are fixed here now so that
	// every capability asks the same policy.
	RiskView       Action = "risk.view"       // read assessments, objectives, profiles
	RiskEdit       Action = "risk.edit"       // change an assessment or declaration
	RiskReview     Action = "risk.review"     // accept or return a submission
	IncidentView   Action = "incident.view"   // read incident notifications
	IncidentNotify Action = "incident.notify" // create and complete notifications
	IncidentHandle Action = "incident.handle" // authority side: request reports, comment
	ModelEdit      Action = "model.edit"      // edit sector models, run workshops
)

// Actions lists every action (the authorization matrix test walks them).
var Actions = []Action{OrgView, OrgCreate, OrgEdit, OrgAdmin, UserView, UserManage, AuditView, SettingsAdmin,
	RiskView, RiskEdit, RiskReview, IncidentView, IncidentNotify, IncidentHandle, ModelEdit}

// LinkRole is the part an authority plays for a sector in a country.
type LinkRole string

const (
	SectoralAuthority LinkRole = "sectoral_authority" // the NCA that supervises the sector
	CSIRTLink         LinkRole = "csirt"
	SPOCLink          LinkRole = "spoc"
	CrisisCentreLink  LinkRole = "crisis_centre"
	DPALink           LinkRole = "dpa"
)

// LinkRoles lists every supervision role.
var LinkRoles = []LinkRole{SectoralAuthority, CSIRTLink, SPOCLink, CrisisCentreLink, DPALink}

// Valid reports whether r is a known supervision role.
func (r LinkRole) Valid() bool { return slices.Contains(LinkRoles, r) }

// Link says that an authority organisation serves the target in a role for
// one sector (the directory resolves supervision links to these).
type Link struct {
	AuthorityOrgID string
	Role           LinkRole
	Sector         string
}

// Target is the organisation whose data an action touches.
type Target struct {
	OrgID   string
	OrgKind OrgKind
	// Links are the authorities that serve the target, from the directory.
	Links []Link
}

// Check decides whether a may do act on t's data. It returns nil, or an
// error coded Unauthenticated (no actor) or Forbidden.
func Check(a *Actor, act Action, t Target) error {
	if a == nil {
		return errs.E(errs.Unauthenticated, "sign in first")
	}
	if allowed(a, act, t) {
		return nil
	}
	return errs.E(errs.Forbidden, "you may not do this for that organisation")
}

// Can is Check as a boolean, for templates deciding what to show.
func Can(a *Actor, act Action, t Target) bool { return a != nil && allowed(a, act, t) }

func allowed(a *Actor, act Action, t Target) bool {
	if a.System {
		return true
	}
	own := t.OrgID != "" && t.OrgID == a.OrgID
	admin := a.Has(PlatformAdmin)
	authority := a.OrgKind.IsAuthority()
	switch act {
	case OrgView:
		// Everyone may see the authorities (an operator must know who
		// supervises it); operators see no other operator.
		return admin || own || t.OrgKind.IsAuthority() || (authority && serves(a, t, nil))
	case OrgCreate, OrgAdmin, SettingsAdmin:
		return admin
	case OrgEdit:
		return admin || (own && a.Has(OperatorAdmin, AuthorityAdmin))
	case UserView, UserManage:
		return admin || (own && a.Has(OperatorAdmin, AuthorityAdmin))
	case AuditView:
		return admin || (authority && a.Has(AuthorityAdmin, AuthorityAnalyst) && (own || serves(a, t, nil)))
	case RiskView:
		return (own && !authority && a.Has(OperatorAdmin, RiskManager, ReadOnly)) ||
			(authority && a.Has(AuthorityAdmin, AuthorityAnalyst) && serves(a, t, []LinkRole{SectoralAuthority}))
	case RiskEdit:
		return own && !authority && a.Has(RiskManager)
	case RiskReview:
		return authority && a.Has(AuthorityAnalyst) && serves(a, t, []LinkRole{SectoralAuthority})
	case IncidentView:
		return (own && !authority && a.Has(OperatorAdmin, RiskManager, IncidentNotifier, ReadOnly)) ||
			(authority && a.Has(AuthorityAdmin, AuthorityAnalyst, Observer) && serves(a, t, nil))
	case IncidentNotify:
		return own && !authority && a.Has(IncidentNotifier)
	case IncidentHandle:
		return authority && a.Has(AuthorityAnalyst) && serves(a, t, nil)
	case ModelEdit:
		return authority && own && a.Has(AuthorityAdmin, AuthorityAnalyst)
	}
	return false
}

// serves reports whether the actor's organisation serves t through a link in
// one of roles (any role when nil), within the actor's sector limit.
func serves(a *Actor, t Target, roles []LinkRole) bool {
	if a.OrgID == "" {
		return false
	}
	for _, l := range t.Links {
		if l.AuthorityOrgID != a.OrgID {
			continue
		}
		if roles != nil && !slices.Contains(roles, l.Role) {
			continue
		}
		if len(a.Sectors) > 0 && !slices.Contains(a.Sectors, l.Sector) {
			continue
		}
		return true
	}
	return false
}

// Scope says which organisations an actor may act on, so that a list can be
// filtered in SQL with the same rule Check applies to one target.
type Scope struct {
	All bool // every organisation
	// OwnOrg, when set, is included.
	OwnOrg string
	// Authorities: every organisation whose kind is an authority.
	Authorities bool
	// ServedBy, when set, includes the organisations this authority serves
	// through a link in LinkRoles (any role when nil), limited to Sectors
	// when that is not empty.
	ServedBy  string
	LinkRoles []LinkRole
	Sectors   []string
}

// None reports whether the scope includes nothing.
func (s Scope) None() bool { return !s.All && s.OwnOrg == "" && !s.Authorities && s.ServedBy == "" }

// ScopeOf returns the organisations a may do act on. It must agree with
// Check for every target; the policy tests prove it on the demo directory.
func ScopeOf(a *Actor, act Action) Scope {
	if a == nil {
		return Scope{}
	}
	if a.System {
		return Scope{All: true}
	}
	probeOwn := allowed(a, act, Target{OrgID: a.OrgID, OrgKind: a.OrgKind})
	var s Scope
	if probeOwn {
		s.OwnOrg = a.OrgID
	}
	admin := a.Has(PlatformAdmin)
	authority := a.OrgKind.IsAuthority()
	withLink := func(roles []LinkRole) {
		s.ServedBy, s.LinkRoles, s.Sectors = a.OrgID, roles, a.Sectors
	}
	switch act {
	case OrgView:
		if admin {
			return Scope{All: true}
		}
		s.Authorities = true
		if authority {
			withLink(nil)
		}
	case OrgCreate, OrgAdmin, SettingsAdmin, OrgEdit, UserView, UserManage:
		if admin {
			return Scope{All: true}
		}
	case AuditView:
		if admin {
			return Scope{All: true}
		}
		if authority && a.Has(AuthorityAdmin, AuthorityAnalyst) {
			withLink(nil)
		}
	case RiskView:
		if authority && a.Has(AuthorityAdmin, AuthorityAnalyst) {
			withLink([]LinkRole{SectoralAuthority})
		}
	case RiskReview:
		if authority && a.Has(AuthorityAnalyst) {
			withLink([]LinkRole{SectoralAuthority})
		}
	case IncidentView:
		if authority && a.Has(AuthorityAdmin, AuthorityAnalyst, Observer) {
			withLink(nil)
		}
	case IncidentHandle:
		if authority && a.Has(AuthorityAnalyst) {
			withLink(nil)
		}
	}
	return s
}

// Includes reports whether t is in the scope (the in-memory twin of the SQL
// filter, used by tests to prove ScopeOf agrees with Check).
func (s Scope) Includes(t Target) bool {
	if s.All || (s.OwnOrg != "" && t.OrgID == s.OwnOrg) || (s.Authorities && t.OrgKind.IsAuthority()) {
		return true
	}
	if s.ServedBy == "" {
		return false
	}
	for _, l := range t.Links {
		if l.AuthorityOrgID == s.ServedBy && (s.LinkRoles == nil || slices.Contains(s.LinkRoles, l.Role)) &&
			(len(s.Sectors) == 0 || slices.Contains(s.Sectors, l.Sector)) {
			return true
		}
	}
	return false
}
