// Package storetest runs a storage test on both databases: an embedded
// SQLite file in a temporary folder, and PostgreSQL in a schema of its own
// (created and dropped per test) on NISDUC_TEST_POSTGRES_URL. Without that
// URL the PostgreSQL half skips — except in CI (CI=true), where it fails:
// a PostgreSQL test never silently skips there.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/nisduc/nisduc/internal/store"
)

// EnvPostgres names the variable holding the test server's URL.
const EnvPostgres = "NISDUC_TEST_POSTGRES_URL"

// Each runs fn as two subtests, "sqlite" and "postgres", each on a fresh,
// migrated store.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite opens a migrated store in a temporary folder.
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate sqlite: %v", err)
	}
	return db
}

// Postgres opens a migrated store in a new schema, dropped at cleanup.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	dsn := PostgresDSN(t)
	db, err := store.Open(context.Background(), store.Config{DSN: dsn})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate postgres: %v", err)
	}
	return db
}

// PostgresDSN creates an empty schema for this test and returns a URL whose
// connections use it (search_path). It skips or fails as the package doc says.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: PostgreSQL tests must run in CI", EnvPostgres)
		}
		t.Skipf("%s not set: PostgreSQL half skipped (set it to run on PostgreSQL)", EnvPostgres)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("postgres at %s: %v", EnvPostgres, err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer a.Close()
		a.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", EnvPostgres, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// DataDir returns a temporary data folder (for tests that open a store the
// way the binary does).
func DataDir(t testing.TB) string {
	d := filepath.Join(t.TempDir(), "data")
	return d
}
