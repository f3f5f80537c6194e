package demo

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nisduc/nisduc/internal/audit"
	"github.com/nisduc/nisduc/internal/auth"
	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/directory"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
	"github.com/nisduc/nisduc/internal/storetest"
)

var key = []byte("0123456789abcdef0123456789abcdef")

// actorOf builds the actor auth would make for a demo user.
func actorOf(u directory.User) *authz.Actor {
	return &authz.Actor{UserID: u.ID, Email: u.Email, OrgID: u.OrgID, OrgKind: u.OrgKind, Roles: u.Roles, Sectors: u.Sectors, Via: "web"}
}

func TestLoad(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		log := audit.New(key)
		dir := directory.New(db, log)
		data := t.TempDir()
		if empty, err := IsEmpty(ctx, db); err != nil || !empty {
			t.Fatalf("fresh store: empty=%v %v", empty, err)
		}
		creds, err := Load(ctx, db, log, dir, data)
		if err != nil {
			t.Fatal(err)
		}
		// Loaded once: the store is no longer empty and a second load is
		// refused, leaving the first untouched.
		if empty, _ := IsEmpty(ctx, db); empty {
			t.Fatal("store still empty after Load")
		}
		if _, err := Load(ctx, db, log, dir, data); !errs.Is(err, errs.Conflict) {
			t.Fatalf("second load: %v", err)
		}

		// Credentials: returned, written 0600, read back the same.
		st, err := os.Stat(filepath.Join(data, CredentialsFile))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("credentials file: %v %v", st, err)
		}
		back, err := ReadCredentials(data)
		if err != nil || len(back.Users) != len(creds.Users) || !back.GeneratedAt.Equal(creds.GeneratedAt) {
			t.Fatalf("ReadCredentials: %d users, %v", len(back.Users), err)
		}
		seen := map[string]bool{}
		for i, c := range creds.Users {
			if b := back.Users[i]; b.Email != c.Email || b.Password != c.Password || b.Org != c.Org || !slices.Equal(b.Roles, c.Roles) {
				t.Fatalf("read back %+v, wrote %+v", back.Users[i], c)
			}
			if len(c.Password) < 16 || auth.CheckPasswordPolicy(c.Password, c.Email, c.Name) != nil || seen[c.Password] {
				t.Errorf("%s: weak or repeated password %q", c.Email, c.Password)
			}
			seen[c.Password] = true
		}
		if _, err := ReadCredentials(t.TempDir()); !errs.Is(err, errs.NotFound) {
			t.Fatalf("no file: %v", err)
		}

		admin := authz.WithActor(ctx, authz.CLI("test"))
		users, err := dir.ListAllUsers(admin, directory.UserFilter{})
		if err != nil || len(users) != len(creds.Users) {
			t.Fatalf("%d users stored, %d credentials: %v", len(users), len(creds.Users), err)
		}
		// Every stored password is the one handed out.
		c := creds.Users[len(creds.Users)-1]
		var hash string
		if err := db.QueryRow(ctx, `SELECT password_hash FROM users WHERE email = ?`, c.Email).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		if ok, _, err := auth.VerifyPassword(hash, c.Password); !ok || err != nil {
			t.Fatalf("%s: password does not verify (%v)", c.Email, err)
		}

		page, err := dir.ListOrgs(admin, directory.OrgFilter{Limit: directory.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		var operators []directory.Org
		countries := map[string]bool{}
		for _, o := range page.Items {
			if !strings.Contains(o.Name, "(demo)") {
				t.Errorf("%s does not say it is a demo", o.Name)
			}
			countries[o.Country] = true
			if !o.Kind.IsAuthority() {
				operators = append(operators, o)
			}
		}
		if len(operators) < 8 || !countries["LU"] || !countries["BE"] {
			t.Fatalf("%d operators in %v", len(operators), countries)
		}
		// Every operator is served by its NCA, CSIRT and SPOC, has users
		// for each operator role, contacts and a constituency.
		for _, o := range operators {
			tg, err := dir.Target(ctx, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range []authz.LinkRole{authz.SectoralAuthority, authz.CSIRTLink, authz.SPOCLink} {
				if !slices.ContainsFunc(tg.Links, func(l authz.Link) bool { return l.Role == r }) {
					t.Errorf("%s is not served by a %s", o.ShortName, r)
				}
			}
			us, _ := dir.ListUsers(admin, o.ID)
			for _, r := range []authz.Role{authz.OperatorAdmin, authz.RiskManager, authz.IncidentNotifier} {
				if !slices.ContainsFunc(us, func(u directory.User) bool { return slices.Contains(u.Roles, r) }) {
					t.Errorf("%s has no %s", o.ShortName, r)
				}
			}
			if len(o.Contacts) == 0 || len(o.Prefixes) == 0 || len(o.ASNs) == 0 || len(o.Domains) == 0 {
				t.Errorf("%s lacks contacts or constituency: %+v", o.ShortName, o)
			}
		}
		policyOnDemo(t, dir, users, page.Items)

		// Everything was audited, by the command line.
		var n int
		var actor string
		if err := db.QueryRow(ctx, `SELECT COUNT(*), MIN(actor_name) FROM audit_log`).Scan(&n, &actor); err != nil {
			t.Fatal(err)
		}
		if n < len(page.Items)+len(users) || actor != "cli:demo" {
			t.Fatalf("%d audit entries by %q", n, actor)
		}
	})
}

// policyOnDemo: for every demo user and every organisation, the list the
// directory gives agrees with authz.Check; and the expected views hold.
func policyOnDemo(t *testing.T, dir *directory.Service, users []directory.User, orgs []directory.Org) {
	t.Helper()
	byEmail := map[string]directory.User{}
	for _, u := range users {
		byEmail[u.Email] = u
	}
	var authorities []string
	for _, o := range orgs {
		if o.Kind.IsAuthority() {
			authorities = append(authorities, o.ShortName)
		}
	}
	withAuth := func(xs ...string) []string {
		out := append(slices.Clone(authorities), xs...)
		sort.Strings(out)
		return out
	}
	var all []string
	for _, o := range orgs {
		all = append(all, o.ShortName)
	}
	sort.Strings(all)
	want := map[string][]string{
		"admin@nisduc-ops.example":         all,
		"anne.schroeder@luxgrid.example":   withAuth("luxgrid"),
		"marc.schmit@lu-nca.example":       withAuth("luxgrid", "gaznet", "rail-infra", "airport-nord", "hopital-sud", "aquasud"),
		"sophie.muller@lu-nca.example":     withAuth("luxgrid", "gaznet"),
		"tom.reuter@lu-csirt.example":      withAuth("luxgrid", "gaznet", "rail-infra", "airport-nord", "hopital-sud", "aquasud"),
		"lotte.peeters@be-digital.example": withAuth("resolve-be", "dottest"),
		"emma.dubois@resolve-be.example":   withAuth("resolve-be"),
	}
	for email, w := range want {
		u, ok := byEmail[email]
		if !ok {
			t.Errorf("no demo user %s", email)
			continue
		}
		page, err := dir.ListOrgs(authz.WithActor(context.Background(), actorOf(u)), directory.OrgFilter{Limit: directory.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range page.Items {
			got = append(got, o.ShortName)
		}
		sort.Strings(got)
		if !slices.Equal(got, w) {
			t.Errorf("%s sees %v, want %v", email, got, w)
		}
	}
	for _, u := range users {
		a := actorOf(u)
		page, err := dir.ListOrgs(authz.WithActor(context.Background(), a), directory.OrgFilter{Limit: directory.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range orgs {
			tg, err := dir.Target(context.Background(), o.ID)
			if err != nil {
				t.Fatal(err)
			}
			listed := slices.ContainsFunc(page.Items, func(x directory.Org) bool { return x.ID == o.ID })
			if authz.Can(a, authz.OrgView, tg) != listed {
				t.Errorf("%s / %s: Check and ListOrgs disagree (listed %v)", u.Email, o.ShortName, listed)
			}
		}
	}
}

// Loading (without argon2's deliberate cost) takes well under a second on
// SQLite.
func TestLoadSpeed(t *testing.T) {
	orig := hashPassword
	hashPassword = func(string) (string, error) { return "$argon2id$v=19$m=65536,t=2,p=1$c3R1Yg$c3R1Yg", nil }
	defer func() { hashPassword = orig }()
	db := storetest.SQLite(t)
	log := audit.New(key)
	start := time.Now()
	creds, err := Load(context.Background(), db, log, directory.New(db, log), "")
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("demo load without hashing: %d users in %v", len(creds.Users), took)
	// The target is under 1 s; the bound leaves room for a loaded CI host.
	if took > 3*time.Second {
		t.Fatalf("demo load took %v", took)
	}
}
