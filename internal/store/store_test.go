package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
	"github.com/nisduc/nisduc/internal/storetest"
)

func TestRebind(t *testing.T) {
	tests := []struct {
		d    store.Dialect
		in   string
		want string
	}{
		{store.SQLite, "SELECT ? , ?", "SELECT ? , ?"},
		{store.Postgres, "SELECT ? , ?", "SELECT $1 , $2"},
		{store.Postgres, "SELECT 1", "SELECT 1"},
		{store.Postgres, "UPDATE t SET a = ? WHERE b IN (?, ?)", "UPDATE t SET a = $1 WHERE b IN ($2, $3)"},
	}
	for _, tt := range tests {
		if got := store.Rebind(tt.d, tt.in); got != tt.want {
			t.Errorf("Rebind(%s, %q) = %q, want %q", tt.d, tt.in, got, tt.want)
		}
	}
}

func TestMigrateFromEmptyAndAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		pending, err := db.Pending(ctx)
		if err != nil || pending {
			t.Fatalf("after migrate: pending=%v err=%v", pending, err)
		}
		v, err := db.Version(ctx)
		if err != nil || v < 1 {
			t.Fatalf("version = %d, %v", v, err)
		}
		// Forward-only and idempotent: a second run applies nothing.
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		v2, _ := db.Version(ctx)
		if v2 != v {
			t.Fatalf("version moved from %d to %d on a no-op migrate", v, v2)
		}
	})
}

func TestTransactionsAndErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		db.Now = func() time.Time { return fixed }
		insert := func(tx *store.Tx, id, short string) error {
			_, err := tx.Exec(ctx, `INSERT INTO organizations (id, short_name, name, country, timezone, kind, created_at, updated_at)
				VALUES (?, ?, ?, 'LU', 'Europe/Luxembourg', 'OES', ?, ?)`, id, short, short, tx.Now, tx.Now)
			return err
		}
		id1 := "6f1c4b0e-0000-4000-8000-000000000001"
		if err := db.Update(ctx, func(tx *store.Tx) error { return insert(tx, id1, "alpha") }); err != nil {
			t.Fatal(err)
		}
		// A duplicate short name (case-insensitive) is a conflict, and the
		// failed transaction leaves nothing behind.
		err := db.Update(ctx, func(tx *store.Tx) error {
			if err := insert(tx, "6f1c4b0e-0000-4000-8000-000000000002", "other"); err != nil {
				return err
			}
			return insert(tx, "6f1c4b0e-0000-4000-8000-000000000003", "ALPHA")
		})
		if !errs.Is(err, errs.Conflict) {
			t.Fatalf("duplicate: got %v (code %s), want conflict", err, errs.CodeOf(err))
		}
		var n int
		if err := db.QueryRow(ctx, "SELECT count(*) FROM organizations").Scan(&n); err != nil || n != 1 {
			t.Fatalf("rows after rollback = %d, %v; want 1", n, err)
		}
		var created time.Time
		if err := db.QueryRow(ctx, "SELECT created_at FROM organizations WHERE id = ?", id1).Scan(&created); err != nil {
			t.Fatal(err)
		}
		if !created.Equal(fixed) {
			t.Fatalf("created_at = %v, want the transaction's now %v", created, fixed)
		}
		err = store.NotFound(db.QueryRow(ctx, "SELECT id FROM organizations WHERE id = ?", "6f1c4b0e-0000-4000-8000-00000000000f").Scan(new(string)), "organization %s", "x")
		if !errs.Is(err, errs.NotFound) {
			t.Fatalf("missing row: %v", err)
		}
	})
}

// Concurrent writers and readers must queue, not fail with "database is
// locked" (SQLite) or lose writes (either).
func TestConcurrentWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var wg sync.WaitGroup
		errc := make(chan error, 64)
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < 10; i++ {
					id := fmt.Sprintf("6f1c4b0e-0000-4000-8000-%012d", w*100+i)
					err := db.Update(ctx, func(tx *store.Tx) error {
						_, err := tx.Exec(ctx, `INSERT INTO organizations (id, short_name, name, country, timezone, kind, created_at, updated_at)
							VALUES (?, ?, 'n', 'BE', 'Europe/Brussels', 'OES', ?, ?)`, id, fmt.Sprintf("o%d-%d", w, i), tx.Now, tx.Now)
						return err
					})
					if err != nil {
						errc <- err
						return
					}
					var n int
					if err := db.QueryRow(ctx, "SELECT count(*) FROM organizations").Scan(&n); err != nil {
						errc <- err
						return
					}
				}
			}(w)
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		var n int
		db.QueryRow(ctx, "SELECT count(*) FROM organizations").Scan(&n)
		if n != 80 {
			t.Fatalf("rows = %d, want 80", n)
		}
	})
}
