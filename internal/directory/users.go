package directory

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/i18n"
	"github.com/nisduc/nisduc/internal/store"
)

// User is an account of an organisation. It never carries the password
// hash or the second factor's secret.
type User struct {
	ID           string        `json:"id"`
	OrgID        string        `json:"org_id"`
	OrgShortName string        `json:"org_short_name"`
	OrgName      string        `json:"org_name"`
	OrgKind      authz.OrgKind `json:"org_kind"`
	Email        string        `json:"email"`
	Name         string        `json:"name"`
	Roles        []authz.Role  `json:"roles"`
	// Sectors limits an analyst or observer to these sectors (top-level
	// codes); empty means every sector the organisation serves.
	Sectors     []string   `json:"sectors"`
	Language    string     `json:"language"`
	TimeZone    string     `json:"timezone"` // "" = the organisation's
	Disabled    bool       `json:"disabled"`
	HasPassword bool       `json:"has_password"`
	TOTPEnabled bool       `json:"totp_enabled"`
	LastLoginAt *time.Time `json:"last_login_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// NewUser is a user to create.
type NewUser struct {
	OrgID    string // UUID or short name
	Email    string
	Name     string
	Roles    []authz.Role
	Sectors  []string
	Language string // "" = English
	TimeZone string // "" = the organisation's
	// Password, when set, is checked against the password policy and
	// stored hashed (auth.SetPassword) in the same transaction. Empty
	// leaves an account that cannot sign in until a password is set.
	Password string `json:"-"`
	// PasswordHash is for bulk loads that check the policy and hash
	// beforehand, concurrently (the demo): an argon2id PHC string from
	// auth.HashPassword. Ignored when Password is set.
	PasswordHash string `json:"-"`
}

// UserUpdate changes a user; nil fields stay as they are.
type UserUpdate struct {
	Name     *string
	Language *string
	TimeZone *string
	Roles    *[]authz.Role
	Sectors  *[]string
	Disabled *bool
}

// UserFilter selects users for ListAllUsers.
type UserFilter struct {
	Query  string // substring of the e-mail or name
	OrgID  string // UUID or short name
	Role   authz.Role
	Limit  int // 0 = MaxUserList
	Offset int
}

// MaxUserList bounds one ListAllUsers call.
const MaxUserList = 1000

// Role families: which kind of organisation may hold which role.
var (
	operatorRoles  = []authz.Role{authz.OperatorAdmin, authz.RiskManager, authz.IncidentNotifier}
	authorityRoles = []authz.Role{authz.AuthorityAdmin, authz.AuthorityAnalyst, authz.Observer}
	// adminRoles are those a user may not take away from themselves: it
	// would lock the organisation (or the platform) out of managing users.
	adminRoles = []authz.Role{authz.PlatformAdmin, authz.AuthorityAdmin, authz.OperatorAdmin}
)

const userCols = `u.id, u.org_id, o.short_name, o.name, o.kind, u.email, u.name, u.language, u.timezone, u.disabled,
	u.password_hash <> '', u.totp_enabled, u.last_login_at, u.created_at, u.updated_at`

func scanUser(r *sql.Rows) (User, error) {
	var u User
	var kind string
	var last sql.NullTime
	err := r.Scan(&u.ID, &u.OrgID, &u.OrgShortName, &u.OrgName, &kind, &u.Email, &u.Name, &u.Language, &u.TimeZone,
		&u.Disabled, &u.HasPassword, &u.TOTPEnabled, &last, &u.CreatedAt, &u.UpdatedAt)
	u.OrgKind = authz.OrgKind(kind)
	if last.Valid {
		t := last.Time.UTC()
		u.LastLoginAt = &t
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	u.Roles, u.Sectors = []authz.Role{}, []string{}
	return u, err
}

// listUsers runs one query for the users and one for all their roles and
// sector limits.
func (s *Service) listUsers(ctx context.Context, q querier, c cond, limit, offset int) ([]User, error) {
	out := []User{}
	args := append(slices.Clone(c.args), limit, offset)
	err := s.each(ctx, q, `SELECT `+userCols+` FROM users u JOIN organizations o ON o.id = u.org_id`+c.where()+
		` ORDER BY lower(o.short_name), u.email LIMIT ? OFFSET ?`, args, func(r *sql.Rows) error {
		u, err := scanUser(r)
		out = append(out, u)
		return err
	})
	if err != nil || len(out) == 0 {
		return out, err
	}
	pos := make(map[string]int, len(out))
	ids := make([]any, len(out))
	for i, u := range out {
		pos[u.ID], ids[i] = i, u.ID
	}
	in := store.In(len(ids))
	err = s.each(ctx, q, `SELECT user_id, 'r', role FROM user_roles WHERE user_id IN (`+in+`)
		UNION ALL SELECT user_id, 's', sector FROM user_sectors WHERE user_id IN (`+in+`)`,
		append(slices.Clone(ids), ids...), func(r *sql.Rows) error {
			var id, what, val string
			if err := r.Scan(&id, &what, &val); err != nil {
				return err
			}
			u := &out[pos[id]]
			if what == "r" {
				u.Roles = append(u.Roles, authz.Role(val))
			} else {
				u.Sectors = append(u.Sectors, val)
			}
			return nil
		})
	for i := range out {
		sortRoles(out[i].Roles)
		slices.Sort(out[i].Sectors)
	}
	return out, err
}

// sortRoles puts roles in authz.Roles order.
func sortRoles(rs []authz.Role) {
	slices.SortFunc(rs, func(a, b authz.Role) int { return slices.Index(authz.Roles, a) - slices.Index(authz.Roles, b) })
}

// ListUsers returns the users of the organisation orgID (UUID or short
// name), for those who may see them (authz.UserView).
//
// Errors: Unauthenticated, NotFound, Forbidden.
func (s *Service) ListUsers(ctx context.Context, orgID string) ([]User, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	var out []User
	err = s.db.View(ctx, func(tx *store.Tx) error {
		o, err := s.authorizedOrg(ctx, tx, a, authz.UserView, orgID)
		if err != nil {
			return err
		}
		out, err = s.listUsers(ctx, tx, cond{parts: []string{"u.org_id = ?"}, args: []any{o.ID}}, MaxUserList, 0)
		return err
	})
	return out, err
}

// ListAllUsers returns the users the actor may see (authz.UserView:
// everyone for a platform administrator and the command line, the own
// organisation's for its administrators), filtered. One query for the
// users and one for their roles.
//
// Errors: Unauthenticated, Invalid (a bad filter value), NotFound (f.OrgID).
func (s *Service) ListAllUsers(ctx context.Context, f UserFilter) ([]User, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	scope, sargs, ok := scopeSQL(authz.ScopeOf(a, authz.UserView))
	if !ok {
		return []User{}, nil
	}
	var c cond
	if scope != "" {
		c.add(scope, sargs...)
	}
	var v validator
	if q := strings.TrimSpace(f.Query); q != "" {
		like := "%" + escapeLike(strings.ToLower(q)) + "%"
		c.add(`(u.email LIKE ? ESCAPE '\' OR lower(u.name) LIKE ? ESCAPE '\')`, like, like)
	}
	if f.Role != "" {
		if !f.Role.Valid() {
			v.add("role", "dir.err.role", clip(string(f.Role)))
		}
		c.add("EXISTS (SELECT 1 FROM user_roles fr WHERE fr.user_id = u.id AND fr.role = ?)", string(f.Role))
	}
	limit := f.Limit
	if limit == 0 {
		limit = MaxUserList
	}
	if limit < 0 || limit > MaxUserList {
		v.add("limit", "dir.err.limit", MaxUserList)
	}
	if f.Offset < 0 {
		v.add("offset", "dir.err.offset")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if f.OrgID != "" {
		id, err := s.ResolveOrg(ctx, f.OrgID)
		if err != nil {
			return nil, err
		}
		c.add("u.org_id = ?", id)
	}
	return s.listUsers(ctx, s.db, c, limit, f.Offset)
}

// findUser loads one user with roles and sectors.
func (s *Service) findUser(ctx context.Context, q querier, id string) (User, error) {
	uid, ok := ParseID(id)
	if !ok {
		return User{}, errs.E(errs.NotFound, "no user %q", clip(id))
	}
	us, err := s.listUsers(ctx, q, cond{parts: []string{"u.id = ?"}, args: []any{uid}}, 1, 0)
	if err != nil {
		return User{}, err
	}
	if len(us) == 0 {
		return User{}, errs.E(errs.NotFound, "no user %s", uid)
	}
	return us[0], nil
}

// GetUser returns a user: one's own account always, others with
// authz.UserView on their organisation.
//
// Errors: Unauthenticated, NotFound, Forbidden.
func (s *Service) GetUser(ctx context.Context, id string) (User, error) {
	a, err := actor(ctx)
	if err != nil {
		return User{}, err
	}
	u, err := s.findUser(ctx, s.db, id)
	if err != nil {
		return User{}, err
	}
	if u.ID != a.UserID {
		t, err := s.Target(ctx, u.OrgID)
		if err != nil {
			return User{}, err
		}
		if err := authz.Check(a, authz.UserView, t); err != nil {
			return User{}, err
		}
	}
	return u, nil
}

// roleFitsKind reports whether a user of an organisation of kind k may
// hold role r: operator roles only in operators (OES, DSP), authority
// roles and platform_admin only in authorities, read_only anywhere.
func roleFitsKind(r authz.Role, k authz.OrgKind) bool {
	switch {
	case slices.Contains(operatorRoles, r):
		return !k.IsAuthority()
	case slices.Contains(authorityRoles, r) || r == authz.PlatformAdmin:
		return k.IsAuthority()
	}
	return true
}

// roles checks roles and sector limits against the organisation's
// kind: operator roles only in operators (OES, DSP), authority roles and
// platform_admin only in authorities, and sector limits (top-level sector
// codes) only for analysts and observers. It returns them canonical.
func (v *validator) roles(roles []authz.Role, sectors []string, kind authz.OrgKind) ([]authz.Role, []string) {
	out := []authz.Role{}
	if len(roles) == 0 {
		v.add("roles", "dir.err.roles_required")
	}
	for i, r := range roles {
		path := idx("roles", i)
		r = authz.Role(strings.TrimSpace(string(r)))
		switch {
		case !r.Valid():
			v.add(path, "dir.err.role", clip(string(r)))
		case slices.Contains(out, r):
			v.add(path, "dir.err.duplicate", string(r))
		case !roleFitsKind(r, kind) && kind.IsAuthority():
			v.add(path, "dir.err.role_operator", string(r))
		case !roleFitsKind(r, kind):
			v.add(path, "dir.err.role_authority", string(r))
		default:
			out = append(out, r)
		}
	}
	sortRoles(out)
	secs := []string{}
	if len(sectors) > 0 && !slices.Contains(roles, authz.AuthorityAnalyst) && !slices.Contains(roles, authz.Observer) {
		v.add("sectors", "dir.err.sectors_role")
		return out, secs
	}
	for i, sct := range sectors {
		sct = strings.ToLower(strings.TrimSpace(sct))
		switch {
		case !IsTopSector(sct):
			v.add(idx("sectors", i), "dir.err.user_sector", clip(sct))
		case slices.Contains(secs, sct):
			v.add(idx("sectors", i), "dir.err.duplicate", sct)
		default:
			secs = append(secs, sct)
		}
	}
	slices.Sort(secs)
	return out, secs
}

func (v *validator) language(lang string) string {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if lang == "" {
		return i18n.Languages[0]
	}
	if !slices.Contains(i18n.Languages, lang) {
		v.add("language", "dir.err.language", clip(lang), strings.Join(i18n.Languages, ", "))
	}
	return lang
}

func (v *validator) userTZ(tz string) string {
	tz = strings.TrimSpace(tz)
	if tz != "" && !ValidTimeZone(tz) {
		v.add("timezone", "dir.err.timezone", clip(tz))
	}
	return tz
}

// mayGrantPlatformAdmin: only a platform administrator or the command line
// may make (or unmake) another one.
func mayGrantPlatformAdmin(a *authz.Actor) bool { return a.System || a.Has(authz.PlatformAdmin) }

// CreateUser adds a user to an organisation (authz.UserManage on it). The
// e-mail is stored in lower case and must be unused; the roles must fit
// the organisation's kind; platform_admin is granted only by a platform
// administrator or the command line. A password, if given, is set in the
// same transaction (see NewUser.Password). Audited as user.create.
//
// Errors: Unauthenticated, NotFound (the organisation), Forbidden, Invalid
// (every bad field, an e-mail already used, a password the policy refuses).
func (s *Service) CreateUser(ctx context.Context, nu NewUser) (User, error) {
	var u User
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		var err error
		u, err = s.CreateUserTx(ctx, tx, nu)
		return err
	})
	return u, err
}

// CreateUserTx is CreateUser inside the caller's transaction.
func (s *Service) CreateUserTx(ctx context.Context, tx *store.Tx, nu NewUser) (User, error) {
	a, err := actor(ctx)
	if err != nil {
		return User{}, err
	}
	o, err := s.authorizedOrg(ctx, tx, a, authz.UserManage, nu.OrgID)
	if err != nil {
		return User{}, err
	}
	var v validator
	email, key := NormalizeEmail(nu.Email)
	if key != "" {
		v.add("email", key, clip(nu.Email))
	}
	name := v.text("name", nu.Name, MaxNameLen, true, false)
	roles, sectors := v.roles(nu.Roles, nu.Sectors, o.Kind)
	if slices.Contains(roles, authz.PlatformAdmin) && !mayGrantPlatformAdmin(a) {
		v.add("roles", "dir.err.role_platform_admin")
	}
	lang := v.language(nu.Language)
	tz := v.userTZ(nu.TimeZone)
	if nu.Password == "" && nu.PasswordHash != "" &&
		(!strings.HasPrefix(nu.PasswordHash, "$argon2id$") || len(nu.PasswordHash) > 512) {
		v.add("password", "dir.err.password_hash")
	}
	if email != "" {
		var other string
		err := s.each(ctx, tx, `SELECT id FROM users WHERE email = ?`, []any{email}, func(r *sql.Rows) error { return r.Scan(&other) })
		if err != nil {
			return User{}, err
		}
		if other != "" {
			v.add("email", "dir.err.email_taken", email)
		}
	}
	if err := v.err(); err != nil {
		return User{}, err
	}
	id := uuid.NewString()
	_, err = tx.Exec(ctx, `INSERT INTO users (id, org_id, email, name, language, timezone, disabled, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, o.ID, email, name, lang, tz, false, tx.Now, tx.Now)
	if errs.Is(err, errs.Conflict) {
		return User{}, errs.FieldKey("email", "dir.err.email_taken", email)
	} else if err != nil {
		return User{}, err
	}
	if err := s.writeUserSets(ctx, tx, id, roles, sectors, false); err != nil {
		return User{}, err
	}
	switch {
	case nu.Password != "":
		if err := s.setPassword(ctx, tx, id, nu.Password); err != nil {
			return User{}, err
		}
	case nu.PasswordHash != "":
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, nu.PasswordHash, id); err != nil {
			return User{}, err
		}
	}
	u, err := s.findUser(ctx, tx, id)
	if err != nil {
		return User{}, err
	}
	return u, s.record(ctx, tx, o.ID, "user.create", "user", id, map[string]any{"email": email, "name": name,
		"roles": roles, "sectors": sectors, "language": lang, "timezone": tz, "password_set": u.HasPassword})
}

func (s *Service) writeUserSets(ctx context.Context, tx *store.Tx, id string, roles []authz.Role, sectors []string, replace bool) error {
	if roles != nil {
		if replace {
			if _, err := tx.Exec(ctx, `DELETE FROM user_roles WHERE user_id = ?`, id); err != nil {
				return err
			}
		}
		rows := make([][]any, len(roles))
		for i, r := range roles {
			rows[i] = []any{id, string(r)}
		}
		if err := insertRows(ctx, tx, "user_roles", "user_id, role", 2, rows); err != nil {
			return err
		}
	}
	if sectors != nil {
		if replace {
			if _, err := tx.Exec(ctx, `DELETE FROM user_sectors WHERE user_id = ?`, id); err != nil {
				return err
			}
		}
		rows := make([][]any, len(sectors))
		for i, sct := range sectors {
			rows[i] = []any{id, sct}
		}
		if err := insertRows(ctx, tx, "user_sectors", "user_id, sector", 2, rows); err != nil {
			return err
		}
	}
	return nil
}

// UpdateUser changes a user. Anyone may change their own name, language
// and time zone; everything else, and other users, need authz.UserManage
// on the user's organisation. Users cannot take an administrator role
// away from themselves or disable themselves; only a platform
// administrator (or the command line) grants or removes platform_admin.
// Audited as user.update with the changed fields (nothing when nothing
// changed).
//
// Errors: Unauthenticated, NotFound, Forbidden, Invalid.
func (s *Service) UpdateUser(ctx context.Context, id string, up UserUpdate) (User, error) {
	a, err := actor(ctx)
	if err != nil {
		return User{}, err
	}
	var out User
	err = s.db.Update(ctx, func(tx *store.Tx) error {
		cur, err := s.findUser(ctx, tx, id)
		if err != nil {
			return err
		}
		self := cur.ID == a.UserID
		manage := up.Roles != nil || up.Sectors != nil || up.Disabled != nil || !self
		if manage {
			t, err := s.targetTx(ctx, tx, cur.OrgID)
			if err != nil {
				return err
			}
			if err := authz.Check(a, authz.UserManage, t); err != nil {
				return err
			}
		}
		var v validator
		next := cur
		if up.Name != nil {
			next.Name = v.text("name", *up.Name, MaxNameLen, true, false)
		}
		if up.Language != nil {
			next.Language = v.language(*up.Language)
		}
		if up.TimeZone != nil {
			next.TimeZone = v.userTZ(*up.TimeZone)
		}
		if up.Disabled != nil {
			next.Disabled = *up.Disabled
			if self && next.Disabled {
				v.add("disabled", "dir.err.self_disable")
			}
		}
		roles, sectors := cur.Roles, cur.Sectors
		if up.Roles != nil {
			roles = *up.Roles
		}
		if up.Sectors != nil {
			sectors = *up.Sectors
		}
		if up.Roles != nil || up.Sectors != nil {
			next.Roles, next.Sectors = v.roles(roles, sectors, cur.OrgKind)
			if slices.Contains(cur.Roles, authz.PlatformAdmin) != slices.Contains(next.Roles, authz.PlatformAdmin) &&
				!mayGrantPlatformAdmin(a) {
				v.add("roles", "dir.err.role_platform_admin")
			}
			if self {
				for _, r := range adminRoles {
					if slices.Contains(cur.Roles, r) && !slices.Contains(next.Roles, r) {
						v.add("roles", "dir.err.self_admin", string(r))
					}
				}
			}
		}
		if err := v.err(); err != nil {
			return err
		}
		ch := map[string]any{}
		str := func(name, x, y string) {
			if x != y {
				ch[name] = map[string]any{"from": x, "to": y}
			}
		}
		str("name", cur.Name, next.Name)
		str("language", cur.Language, next.Language)
		str("timezone", cur.TimeZone, next.TimeZone)
		if cur.Disabled != next.Disabled {
			ch["disabled"] = map[string]any{"from": cur.Disabled, "to": next.Disabled}
		}
		var newRoles []authz.Role
		var newSectors []string
		if !slices.Equal(cur.Roles, next.Roles) {
			ch["roles"] = map[string]any{"from": cur.Roles, "to": next.Roles}
			newRoles = next.Roles
		}
		if !slices.Equal(cur.Sectors, next.Sectors) {
			ch["sectors"] = map[string]any{"from": cur.Sectors, "to": next.Sectors}
			newSectors = next.Sectors
		}
		if len(ch) == 0 {
			out = cur
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE users SET name = ?, language = ?, timezone = ?, disabled = ?, updated_at = ? WHERE id = ?`,
			next.Name, next.Language, next.TimeZone, next.Disabled, tx.Now, cur.ID)
		if err != nil {
			return err
		}
		if err := s.writeUserSets(ctx, tx, cur.ID, newRoles, newSectors, true); err != nil {
			return err
		}
		if out, err = s.findUser(ctx, tx, cur.ID); err != nil {
			return err
		}
		return s.record(ctx, tx, cur.OrgID, "user.update", "user", cur.ID, ch)
	})
	if err != nil {
		return User{}, err
	}
	return out, nil
}
