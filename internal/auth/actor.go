package auth

import (
	"context"
	"slices"

	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
)

// actorQuery reads a user, its organisation, roles and sector limits in one
// round trip: ActorFor runs on every request. Each row is tagged: 'u' the
// user (one row), 'r' a role, 's' a sector.
const actorQuery = `
SELECT 'u', u.email, u.name, CAST(u.org_id AS TEXT), o.kind, u.language,
       CASE WHEN u.timezone <> '' THEN u.timezone ELSE o.timezone END,
       CASE WHEN u.disabled THEN 1 ELSE 0 END
  FROM users u JOIN organizations o ON o.id = u.org_id WHERE u.id = ?
UNION ALL
SELECT 'r', role, '', '', '', '', '', 0 FROM user_roles WHERE user_id = ?
UNION ALL
SELECT 's', sector, '', '', '', '', '', 0 FROM user_sectors WHERE user_id = ?`

// ActorFor builds the actor of a request made by userID: e-mail, name,
// organisation and its kind, roles (in authz.Roles order), sector limits,
// language, and time zone (the user's, else the organisation's). The web
// layer adds Addr, Via and SessionID or TokenID.
//
// Errors: Unauthenticated when the user is unknown or disabled.
func (s *Service) ActorFor(ctx context.Context, userID string) (*authz.Actor, error) {
	gone := func() error {
		return &errs.Error{Code: errs.Unauthenticated, Key: "auth.session.ended", Message: "Your session has ended. Please sign in again."}
	}
	if !validID(userID) {
		return nil, gone()
	}
	rows, err := s.db.Query(ctx, actorQuery, userID, userID, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	a := &authz.Actor{UserID: userID}
	found, disabled := false, false
	for rows.Next() {
		var tag, v1, v2, org, kind, lang, tz string
		var off int
		if err := rows.Scan(&tag, &v1, &v2, &org, &kind, &lang, &tz, &off); err != nil {
			return nil, errs.Wrap(err, "actor")
		}
		switch tag {
		case "u":
			found, disabled = true, off != 0
			a.Email, a.Name, a.OrgID, a.OrgKind, a.Lang, a.TZ = v1, v2, org, authz.OrgKind(kind), lang, tz
		case "r":
			a.Roles = append(a.Roles, authz.Role(v1))
		case "s":
			a.Sectors = append(a.Sectors, v1)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "actor")
	}
	if !found || disabled {
		return nil, gone()
	}
	slices.SortFunc(a.Roles, func(x, y authz.Role) int { return roleRank(x) - roleRank(y) })
	slices.Sort(a.Sectors)
	return a, nil
}

// roleRank orders roles as authz.Roles lists them; unknown ones last.
func roleRank(r authz.Role) int {
	if i := slices.Index(authz.Roles, r); i >= 0 {
		return i
	}
	return len(authz.Roles)
}
