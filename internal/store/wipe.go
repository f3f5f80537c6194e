package store

import (
	"context"
	"strings"

	"github.com/nisduc/nisduc/internal/errs"
)

// IsEmpty reports whether the store holds no organisation yet (a fresh
// installation).
func (db *DB) IsEmpty(ctx context.Context) (bool, error) {
	var n int
	if err := db.QueryRow(ctx, "SELECT count(*) FROM organizations").Scan(&n); err != nil {
		return false, errs.Wrap(err, "count organizations")
	}
	return n == 0, nil
}

// Wipe deletes every row of every application table, keeping the schema and
// the migration bookkeeping. It backs `nisduc demo --reset`.
func (db *DB) Wipe(ctx context.Context) error {
	var q string
	switch db.Dialect {
	case Postgres:
		q = `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`
	default:
		q = `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	}
	rows, err := db.write.QueryContext(ctx, q)
	if err != nil {
		return errs.Wrap(err, "list tables")
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return errs.Wrap(err, "list tables")
		}
		if t == "goose_db_version" || t == "river_migration" {
			continue
		}
		tables = append(tables, t)
	}
	rows.Close()
	if len(tables) == 0 {
		return nil
	}
	if db.Dialect == Postgres {
		_, err := db.write.ExecContext(ctx, "TRUNCATE "+strings.Join(quoteAll(tables), ", ")+" RESTART IDENTITY CASCADE")
		return errs.Wrap(err, "wipe")
	}
	return db.Update(ctx, func(tx *Tx) error {
		if _, err := tx.Tx.ExecContext(ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
			return errs.Wrap(err, "wipe")
		}
		for _, t := range tables {
			if _, err := tx.Tx.ExecContext(ctx, `DELETE FROM "`+t+`"`); err != nil {
				return errs.Wrap(err, "wipe %s", t)
			}
		}
		return nil
	})
}

func quoteAll(ts []string) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
	}
	return out
}
