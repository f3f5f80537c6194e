package directory

import (
	"context"
	"strings"
	"testing"

	"github.com/nisduc/nisduc/internal/auth"
	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
)

func ptr[T any](v T) *T { return &v }

func TestCreateUserRules(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		f := newFx(t, db)
		admin := f.ctx(f.admin)
		tests := []struct {
			name   string
			ctx    context.Context
			nu     NewUser
			code   errs.Code
			fields string
		}{
			{"analyst limited to energy", admin, NewUser{OrgID: "lu-nca", Email: "Ana@Regulator.Example", Name: "Ana Lyst",
				Roles: []authz.Role{authz.AuthorityAnalyst}, Sectors: []string{"energy"}, Language: "fr"}, "", ""},
			{"e-mail unique whatever the case", admin, NewUser{OrgID: "lu-nca", Email: "ana@regulator.example", Name: "Other",
				Roles: []authz.Role{authz.Observer}}, errs.Invalid, "email"},
			{"operator role in an authority", admin, NewUser{OrgID: "lu-nca", Email: "x1@example.org", Name: "X",
				Roles: []authz.Role{authz.RiskManager}}, errs.Invalid, "roles[0]"},
			{"authority role in an operator", admin, NewUser{OrgID: "aqua", Email: "x2@example.org", Name: "X",
				Roles: []authz.Role{authz.IncidentNotifier, authz.AuthorityAnalyst}}, errs.Invalid, "roles[1]"},
			{"platform admin only in an authority", admin, NewUser{OrgID: "aqua", Email: "x3@example.org", Name: "X",
				Roles: []authz.Role{authz.PlatformAdmin}}, errs.Invalid, "roles[0]"},
			{"sector limits only for analysts and observers", admin, NewUser{OrgID: "aqua", Email: "x4@example.org", Name: "X",
				Roles: []authz.Role{authz.RiskManager}, Sectors: []string{"energy"}}, errs.Invalid, "sectors"},
			{"limits are sectors, not sub-sectors", admin, NewUser{OrgID: "lu-nca", Email: "x5@example.org", Name: "X",
				Roles: []authz.Role{authz.AuthorityAnalyst}, Sectors: []string{"energy/electricity", "energy", "energy"}}, errs.Invalid, "sectors[0],sectors[2]"},
			{"every problem at once", admin, NewUser{OrgID: "lu-nca", Email: "Bob <bob@example.org>", Language: "xx",
				TimeZone: "Europe/Atlantis"}, errs.Invalid, "email,language,name,roles,timezone"},
			{"unknown role", admin, NewUser{OrgID: "lu-nca", Email: "x6@example.org", Name: "X", Roles: []authz.Role{"boss"}}, errs.Invalid, "roles[0]"},
			{"unknown organisation", admin, NewUser{OrgID: "nowhere", Email: "x7@example.org", Name: "X",
				Roles: []authz.Role{authz.ReadOnly}}, errs.NotFound, ""},
			{"operator admin adds to own organisation", f.ctx(f.gridAdmin), NewUser{OrgID: "lux-grid", Email: "notify@grid.example",
				Name: "Notifier", Roles: []authz.Role{authz.IncidentNotifier, authz.ReadOnly}}, "", ""},
			{"operator admin cannot add elsewhere", f.ctx(f.gridAdmin), NewUser{OrgID: "aqua", Email: "x8@example.org", Name: "X",
				Roles: []authz.Role{authz.ReadOnly}}, errs.Forbidden, ""},
			{"risk manager cannot add users", f.ctx(f.waterRisk), NewUser{OrgID: "aqua", Email: "x9@example.org", Name: "X",
				Roles: []authz.Role{authz.ReadOnly}}, errs.Forbidden, ""},
			{"authority admin cannot grant platform_admin", f.ctx(f.platAuthAdmin), NewUser{OrgID: "platform", Email: "x10@example.org",
				Name: "X", Roles: []authz.Role{authz.PlatformAdmin}}, errs.Invalid, "roles"},
			{"platform admin grants platform_admin", admin, NewUser{OrgID: "platform", Email: "ops2@platform.example",
				Name: "Second Admin", Roles: []authz.Role{authz.PlatformAdmin}}, "", ""},
			{"anonymous", context.Background(), NewUser{OrgID: "aqua", Email: "x11@example.org", Name: "X",
				Roles: []authz.Role{authz.ReadOnly}}, errs.Unauthenticated, ""},
		}
		for _, tt := range tests {
			u, err := f.dir.CreateUser(tt.ctx, tt.nu)
			if errs.CodeOf(err) != tt.code {
				t.Errorf("%s: %v, want code %q", tt.name, err, tt.code)
				continue
			}
			if tt.fields != "" && joined(fieldsOf(t, err)) != tt.fields {
				t.Errorf("%s: fields %v, want %s", tt.name, fieldsOf(t, err), tt.fields)
			}
			if err == nil && u.Email != strings.ToLower(tt.nu.Email) {
				t.Errorf("%s: e-mail stored as %q", tt.name, u.Email)
			}
		}
		users, err := f.dir.ListAllUsers(admin, UserFilter{})
		if err != nil || len(users) != 3 {
			t.Fatalf("users after the table: %d, %v", len(users), err)
		}
		ana, err := f.dir.ListAllUsers(admin, UserFilter{Query: "ANA@"})
		if err != nil || len(ana) != 1 {
			t.Fatalf("query: %v %v", ana, err)
		}
		u := ana[0]
		if u.OrgShortName != "lu-nca" || joined(u.Sectors) != "energy" || len(u.Roles) != 1 || u.Language != "fr" || u.HasPassword {
			t.Fatalf("analyst = %+v", u)
		}
		es := auditFor(t, db, u.ID)
		if len(es) != 1 || es[0].Action != "user.create" || es[0].OrgID != f.ids["lu-nca"] {
			t.Fatalf("audit = %+v", es)
		}
	})
}

// The password is set through auth.SetPassword in the creating
// transaction: a password the policy refuses leaves no user behind.
func TestCreateUserPassword(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		f := newFx(t, db)
		f.dir.setPassword = auth.SetPassword
		admin := f.ctx(f.admin)
		_, err := f.dir.CreateUser(admin, NewUser{OrgID: "aqua", Email: "weak@aqua.test", Name: "Weak",
			Roles: []authz.Role{authz.RiskManager}, Password: "password123"})
		if !errs.Is(err, errs.Invalid) || strings.Trim(joined(fieldsOf(t, err)), "password,") != "" {
			t.Fatalf("weak password: %v", err)
		}
		if users, _ := f.dir.ListAllUsers(admin, UserFilter{Query: "weak@"}); len(users) != 0 {
			t.Fatalf("a refused password left a user: %+v", users)
		}
		u, err := f.dir.CreateUser(admin, NewUser{OrgID: "aqua", Email: "strong@aqua.test", Name: "Strong",
			Roles: []authz.Role{authz.RiskManager}, Password: "vq3t-z8pl-m2xr-k7wd"})
		if err != nil {
			t.Fatal(err)
		}
		var hash string
		if err := db.QueryRow(context.Background(), `SELECT password_hash FROM users WHERE id = ?`, u.ID).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		if !u.HasPassword || !strings.HasPrefix(hash, "$argon2id$") {
			t.Fatalf("HasPassword=%v hash=%q", u.HasPassword, hash)
		}
		if ok, _, err := auth.VerifyPassword(hash, "vq3t-z8pl-m2xr-k7wd"); !ok || err != nil {
			t.Fatalf("stored hash does not verify: %v", err)
		}
		// A pre-hashed password (the demo's bulk load) is stored as given.
		h, _ := auth.HashPassword("pre-hashed-demo-pw-1")
		u2, err := f.dir.CreateUser(admin, NewUser{OrgID: "aqua", Email: "bulk@aqua.test", Name: "Bulk",
			Roles: []authz.Role{authz.ReadOnly}, PasswordHash: h})
		if err != nil || !u2.HasPassword {
			t.Fatalf("pre-hashed: %+v %v", u2, err)
		}
		if _, err := f.dir.CreateUser(admin, NewUser{OrgID: "aqua", Email: "bulk2@aqua.test", Name: "Bulk",
			Roles: []authz.Role{authz.ReadOnly}, PasswordHash: "plaintext"}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("a hash that is not argon2id: %v", err)
		}
	})
}

func TestUsersVisibilityAndUpdates(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		f := newFx(t, db)
		admin := f.ctx(f.admin)
		mk := func(org, email string, roles ...authz.Role) User {
			u, err := f.dir.CreateUser(admin, NewUser{OrgID: org, Email: email, Name: strings.Split(email, "@")[0], Roles: roles})
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		gridAdmin := mk("lux-grid", "admin@grid.example", authz.OperatorAdmin, authz.RiskManager)
		gridNotifier := mk("lux-grid", "notify@grid.example", authz.IncidentNotifier)
		aquaRisk := mk("aqua", "risk@aqua.test", authz.RiskManager)
		platAdmin := mk("platform", "admin@platform.example", authz.PlatformAdmin)
		platOps := mk("platform", "ops@platform.example", authz.AuthorityAdmin)
		// Actors as auth would build them from these users.
		asUser := func(u User) context.Context {
			return f.ctx(&authz.Actor{UserID: u.ID, OrgID: u.OrgID, OrgKind: u.OrgKind, Roles: u.Roles, Email: u.Email})
		}
		gridCtx, aquaCtx := asUser(gridAdmin), asUser(aquaRisk)

		list, err := f.dir.ListUsers(gridCtx, "lux-grid")
		if err != nil || len(list) != 2 {
			t.Fatalf("own users: %d %v", len(list), err)
		}
		if _, err := f.dir.ListUsers(gridCtx, "aqua"); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("foreign users: %v", err)
		}
		if _, err := f.dir.ListUsers(aquaCtx, "aqua"); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("risk manager listing users: %v", err)
		}
		// ListAllUsers is scoped, and costs two queries.
		n := countQueries(f.dir)
		mine, err := f.dir.ListAllUsers(gridCtx, UserFilter{})
		if err != nil || len(mine) != 2 || n.Load() != 2 {
			t.Fatalf("operator admin's ListAllUsers: %d users, %d queries, %v", len(mine), n.Load(), err)
		}
		f.dir.onQuery = nil
		if all, _ := f.dir.ListAllUsers(admin, UserFilter{Role: authz.RiskManager}); len(all) != 2 {
			t.Fatalf("risk managers: %d", len(all))
		}
		if none, _ := f.dir.ListAllUsers(aquaCtx, UserFilter{}); len(none) != 0 {
			t.Fatalf("risk manager sees %d users", len(none))
		}
		// One's own account is always readable; others need UserView.
		if u, err := f.dir.GetUser(aquaCtx, aquaRisk.ID); err != nil || u.Email != "risk@aqua.test" {
			t.Fatalf("own account: %v", err)
		}
		if _, err := f.dir.GetUser(aquaCtx, gridAdmin.ID); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("other account: %v", err)
		}
		if _, err := f.dir.GetUser(gridCtx, "not-a-uuid"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("bad id: %v", err)
		}

		tests := []struct {
			name   string
			ctx    context.Context
			id     string
			up     UserUpdate
			code   errs.Code
			fields string
		}{
			{"own profile without UserManage", aquaCtx, aquaRisk.ID, UserUpdate{Name: ptr("Risk Owner"), Language: ptr("de"), TimeZone: ptr("Europe/Berlin")}, "", ""},
			{"own roles need UserManage", aquaCtx, aquaRisk.ID, UserUpdate{Roles: &[]authz.Role{authz.RiskManager, authz.IncidentNotifier}}, errs.Forbidden, ""},
			{"bad profile values", aquaCtx, aquaRisk.ID, UserUpdate{Name: ptr(" "), Language: ptr("xx"), TimeZone: ptr("Local")}, errs.Invalid, "language,name,timezone"},
			{"cannot drop own admin role", gridCtx, gridAdmin.ID, UserUpdate{Roles: &[]authz.Role{authz.RiskManager}}, errs.Invalid, "roles"},
			{"cannot disable oneself", gridCtx, gridAdmin.ID, UserUpdate{Disabled: ptr(true)}, errs.Invalid, "disabled"},
			{"admin disables a colleague", gridCtx, gridNotifier.ID, UserUpdate{Disabled: ptr(true)}, "", ""},
			{"roles must fit the kind", gridCtx, gridNotifier.ID, UserUpdate{Roles: &[]authz.Role{authz.Observer}}, errs.Invalid, "roles[0]"},
			{"other organisation's user", gridCtx, aquaRisk.ID, UserUpdate{Name: ptr("X")}, errs.Forbidden, ""},
			{"authority admin cannot grant platform_admin", asUser(platOps), platOps.ID, UserUpdate{Roles: &[]authz.Role{authz.AuthorityAdmin, authz.PlatformAdmin}}, errs.Invalid, "roles"},
			{"platform admin cannot drop own role", asUser(platAdmin), platAdmin.ID, UserUpdate{Roles: &[]authz.Role{authz.AuthorityAdmin}}, errs.Invalid, "roles"},
			{"platform admin grants it", asUser(platAdmin), platOps.ID, UserUpdate{Roles: &[]authz.Role{authz.AuthorityAdmin, authz.PlatformAdmin}}, "", ""},
			{"missing user", admin, "6f1c4b0e-0000-4000-8000-00000000f00d", UserUpdate{Name: ptr("X")}, errs.NotFound, ""},
		}
		for _, tt := range tests {
			_, err := f.dir.UpdateUser(tt.ctx, tt.id, tt.up)
			if errs.CodeOf(err) != tt.code {
				t.Errorf("%s: %v, want code %q", tt.name, err, tt.code)
				continue
			}
			if tt.fields != "" && joined(fieldsOf(t, err)) != tt.fields {
				t.Errorf("%s: fields %v, want %s", tt.name, fieldsOf(t, err), tt.fields)
			}
		}
		u, _ := f.dir.GetUser(admin, aquaRisk.ID)
		if u.Name != "Risk Owner" || u.Language != "de" || u.TimeZone != "Europe/Berlin" {
			t.Fatalf("profile not saved: %+v", u)
		}
		if u, _ := f.dir.GetUser(admin, gridNotifier.ID); !u.Disabled {
			t.Fatal("colleague not disabled")
		}
		if u, _ := f.dir.GetUser(admin, platOps.ID); joined(roleStrings(u.Roles)) != "platform_admin,authority_admin" {
			t.Fatalf("roles = %v", u.Roles)
		}
		es := auditFor(t, db, aquaRisk.ID)
		last := es[len(es)-1]
		if last.Action != "user.update" || len(last.Details) != 3 {
			t.Fatalf("audit of the profile change: %+v", last)
		}
		// An analyst keeps a sector limit only while an analyst.
		ana := mk("lu-nca", "ana@lu-nca.example", authz.AuthorityAnalyst)
		if _, err := f.dir.UpdateUser(admin, ana.ID, UserUpdate{Sectors: &[]string{"energy", "health"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.dir.UpdateUser(admin, ana.ID, UserUpdate{Roles: &[]authz.Role{authz.AuthorityAdmin}}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("dropping analyst with sectors kept: %v", err)
		}
		got, err := f.dir.UpdateUser(admin, ana.ID, UserUpdate{Roles: &[]authz.Role{authz.AuthorityAdmin}, Sectors: &[]string{}})
		if err != nil || len(got.Sectors) != 0 {
			t.Fatalf("dropping analyst and sectors: %+v %v", got, err)
		}
	})
}

func roleStrings(rs []authz.Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}
