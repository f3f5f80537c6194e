package auth

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/nisduc/nisduc/internal/audit"
	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/i18n"
	"github.com/nisduc/nisduc/internal/store"
)

// testParams keep storage tests fast; BenchmarkHashPassword measures the
// real ones.
var testParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestMain(m *testing.M) {
	current = testParams
	os.Exit(m.Run())
}

const goodPassword = "violet kettle drums at noon"

var testNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// fixture is a service on a store whose clock the test moves.
type fixture struct {
	t   *testing.T
	db  *store.DB
	svc *Service
	now time.Time
}

func newFixture(t *testing.T, db *store.DB, cfg Config) *fixture {
	t.Helper()
	f := &fixture{t: t, db: db, now: testNow}
	db.Now = func() time.Time { return f.now }
	f.svc = New(db, audit.New(make([]byte, 32)), cfg)
	return f
}

func (f *fixture) advance(d time.Duration) { f.now = f.now.Add(d) }

// org adds an organisation of kind (time zone Europe/Luxembourg).
func (f *fixture) org(kind authz.OrgKind) string {
	f.t.Helper()
	id := uuid.NewString()
	err := f.db.Update(context.Background(), func(tx *store.Tx) error {
		_, err := tx.Exec(context.Background(), `INSERT INTO organizations (id, short_name, name, country, timezone, kind, created_at, updated_at)
			VALUES (?, ?, ?, 'LU', 'Europe/Luxembourg', ?, ?, ?)`, id, "o-"+id[:8], "Org "+id[:8], string(kind), tx.Now, tx.Now)
		return err
	})
	if err != nil {
		f.t.Fatalf("add org: %v", err)
	}
	return id
}

type userSpec struct {
	org, email, name, password, tz string
	roles                          []authz.Role
	sectors                        []string
	disabled                       bool
}

// user adds a user (password set through SetPassword when given).
func (f *fixture) user(u userSpec) string {
	f.t.Helper()
	ctx := context.Background()
	if u.org == "" {
		u.org = f.org(authz.OES)
	}
	if u.name == "" {
		u.name = "Test User"
	}
	id := uuid.NewString()
	err := f.db.Update(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO users (id, org_id, email, name, language, timezone, disabled, created_at, updated_at)
			VALUES (?, ?, ?, ?, 'fr', ?, ?, ?, ?)`, id, u.org, u.email, u.name, u.tz, u.disabled, tx.Now, tx.Now); err != nil {
			return err
		}
		for _, r := range u.roles {
			if _, err := tx.Exec(ctx, `INSERT INTO user_roles (user_id, role) VALUES (?, ?)`, id, string(r)); err != nil {
				return err
			}
		}
		for _, s := range u.sectors {
			if _, err := tx.Exec(ctx, `INSERT INTO user_sectors (user_id, sector) VALUES (?, ?)`, id, s); err != nil {
				return err
			}
		}
		if u.password != "" {
			return SetPassword(ctx, tx, id, u.password)
		}
		return nil
	})
	if err != nil {
		f.t.Fatalf("add user %s: %v", u.email, err)
	}
	return id
}

func (f *fixture) exec(q string, args ...any) {
	f.t.Helper()
	if err := f.db.Update(context.Background(), func(tx *store.Tx) error {
		_, err := tx.Exec(context.Background(), q, args...)
		return err
	}); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
}

// audited counts audit entries with action about object.
func (f *fixture) audited(action, objectID string) int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = ? AND object_id = ?`, action, objectID).Scan(&n); err != nil {
		f.t.Fatalf("count audit: %v", err)
	}
	return n
}

// wantCode fails unless err carries code (and key, when given).
func wantCode(t *testing.T, err error, code errs.Code, key string) {
	t.Helper()
	if !errs.Is(err, code) {
		t.Fatalf("got %v (code %q), want code %q", err, errs.CodeOf(err), code)
	}
	if key != "" {
		if !i18n.Has(key) {
			t.Fatalf("key %s missing from the catalogue", key)
		}
		e := errs.As(err)
		keys := []string{e.Key}
		for _, fe := range e.Fields {
			keys = append(keys, fe.Key)
		}
		for _, k := range keys {
			if k == key {
				return
			}
		}
		t.Fatalf("got %v with keys %v, want key %q", err, keys, key)
	}
}

// wantField fails unless err is Invalid naming field with key.
func wantField(t *testing.T, err error, field, key string) {
	t.Helper()
	if !errs.Is(err, errs.Invalid) {
		t.Fatalf("got %v (code %q), want invalid", err, errs.CodeOf(err))
	}
	if key != "" && !i18n.Has(key) {
		t.Fatalf("key %s missing from the catalogue", key)
	}
	for _, fe := range errs.As(err).Fields {
		if fe.Field == field && (key == "" || fe.Key == key) {
			return
		}
	}
	t.Fatalf("got fields %+v, want %s (%s)", errs.As(err).Fields, field, key)
}
