// Package store opens nisduc's database — embedded SQLite or PostgreSQL — and
// gives the capabilities one way to run SQL on either: portable SQL with "?"
// placeholders (rebound to $n for PostgreSQL), transactions that fix "now",
// and per-dialect migrations embedded in the binary.
//
// Convention: each capability owns its SQL (in its own package) and calls
// store for the connection; store imports no capability. Schema for every
// capability lives in migrations/<dialect>/ as numbered goose files.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nisduc/nisduc/internal/errs"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"
)

// Dialect names the database engine.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open store. For SQLite it keeps one writer connection and a pool
// of read-only readers (as PocketBase does) so that concurrent requests never
// meet "database is locked"; for PostgreSQL both are the same pool.
type DB struct {
	Dialect Dialect
	write   *sql.DB
	read    *sql.DB
	// Now gives the time a transaction fixes; tests replace it.
	Now func() time.Time
	// Path is the SQLite file (empty for PostgreSQL).
	Path string
	dsn  string
}

// Config says where the data lives: a PostgreSQL URL in DSN, otherwise a
// SQLite file in DataDir.
type Config struct {
	DSN     string // postgres://… or postgresql://…; or sqlite:PATH / file:PATH
	DataDir string // folder for nisduc.db when DSN is empty
}

// DSNOf returns what Open will open, for display (password removed).
func (c Config) String() string {
	if c.DSN != "" {
		if u, err := url.Parse(c.DSN); err == nil && u.User != nil {
			u.User = url.User(u.User.Username())
			return u.String()
		}
		return c.DSN
	}
	return filepath.Join(c.DataDir, "nisduc.db")
}

// Open connects and checks the connection. It does not migrate.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	dsn := cfg.DSN
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn)
	case dsn == "":
		if cfg.DataDir == "" {
			return nil, errs.E(errs.Invalid, "no database: give --data DIR or --db URL")
		}
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, errs.E(errs.Invalid, "data folder %s: %v", cfg.DataDir, err)
		}
		return openSQLite(ctx, filepath.Join(cfg.DataDir, "nisduc.db"))
	case strings.HasPrefix(dsn, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//"))
	case strings.HasPrefix(dsn, "file:"):
		return openSQLite(ctx, strings.TrimPrefix(dsn, "file:"))
	default:
		return nil, errs.E(errs.Invalid, "--db: unsupported database URL %q (want postgres://… or sqlite:PATH)", dsn)
	}
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, errs.E(errs.Invalid, "--db: %v", err)
	}
	pool.SetMaxOpenConns(20)
	pool.SetMaxIdleConns(10)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	db := &DB{Dialect: Postgres, write: pool, read: pool, Now: now, dsn: dsn}
	if err := db.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errs.E(errs.Invalid, "--db: empty SQLite path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, errs.E(errs.Invalid, "data folder %s: %v", dir, err)
		}
	}
	common := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_time_format=sqlite"
	w, err := sql.Open("sqlite", "file:"+path+"?"+common+"&_txlock=immediate")
	if err != nil {
		return nil, errs.Wrap(err, "open sqlite")
	}
	// One writer: SQLite serialises writers anyway, and a single connection
	// turns lock contention into queueing in database/sql instead of errors.
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	// The writer must create the file (and switch it to WAL) before readers
	// open it read-only.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, errs.Wrap(err, "open sqlite %s", path)
	}
	if _, err := w.ExecContext(ctx, "PRAGMA journal_mode=WAL"); err != nil {
		w.Close()
		return nil, errs.Wrap(err, "sqlite WAL")
	}
	r, err := sql.Open("sqlite", "file:"+path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, errs.Wrap(err, "open sqlite reader")
	}
	r.SetMaxOpenConns(8)
	db := &DB{Dialect: SQLite, write: w, read: r, Now: now, Path: path, dsn: "sqlite:" + path}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func now() time.Time { return time.Now().UTC() }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return errs.Wrap(err, "database unreachable")
	}
	return nil
}

// Close closes both pools.
func (db *DB) Close() error {
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// DSN is the connection string the store was opened with (it may hold a
// password: never log it).
func (db *DB) DSN() string { return db.dsn }

// SQL returns the writer pool, for libraries that need a *sql.DB of their
// own (River, goose). Capabilities use Tx, Query and QueryRow instead.
func (db *DB) SQL() *sql.DB { return db.write }

// Rebind turns "?" placeholders into the dialect's form. Portable SQL in
// nisduc writes "?" and never puts a literal "?" inside a string.
func (db *DB) Rebind(q string) string { return Rebind(db.Dialect, q) }

// Rebind is the function behind DB.Rebind.
func Rebind(d Dialect, q string) string {
	if d != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(fmt.Sprint(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// Query runs a read on the reader pool (outside any transaction).
func (db *DB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	count(ctx)
	rows, err := db.read.QueryContext(ctx, db.Rebind(q), args...)
	if err != nil {
		return nil, errs.Wrap(err, "query")
	}
	return rows, nil
}

// QueryRow runs a single-row read on the reader pool.
func (db *DB) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	count(ctx)
	return db.read.QueryRowContext(ctx, db.Rebind(q), args...)
}

// Exec runs one statement on the writer outside an explicit transaction.
func (db *DB) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	count(ctx)
	res, err := db.write.ExecContext(ctx, db.Rebind(q), args...)
	if err != nil {
		return nil, mapErr(err)
	}
	return res, nil
}

// Tx is a write transaction with its fixed time.
type Tx struct {
	*sql.Tx
	Dialect Dialect
	// Now is the single instant of this transaction: every row it writes
	// carries the same time, and tests control it through DB.Now.
	Now time.Time
	// after runs once the transaction has committed.
	after []func()
}

// Exec runs a statement with "?" placeholders.
func (tx *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	count(ctx)
	res, err := tx.Tx.ExecContext(ctx, Rebind(tx.Dialect, q), args...)
	if err != nil {
		return nil, mapErr(err)
	}
	return res, nil
}

// Query runs a query with "?" placeholders inside the transaction.
func (tx *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	count(ctx)
	rows, err := tx.Tx.QueryContext(ctx, Rebind(tx.Dialect, q), args...)
	if err != nil {
		return nil, mapErr(err)
	}
	return rows, nil
}

// QueryRow runs a single-row query inside the transaction.
func (tx *Tx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	count(ctx)
	return tx.Tx.QueryRowContext(ctx, Rebind(tx.Dialect, q), args...)
}

// AfterCommit registers f to run after a successful commit (e.g. to wake a
// worker); it never runs if the transaction rolls back.
func (tx *Tx) AfterCommit(f func()) { tx.after = append(tx.after, f) }

// Update runs fn in a write transaction, committing if it returns nil.
func (db *DB) Update(ctx context.Context, fn func(tx *Tx) error) error {
	stx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return errs.Wrap(err, "begin")
	}
	tx := &Tx{Tx: stx, Dialect: db.Dialect, Now: db.Now().UTC().Truncate(time.Microsecond)}
	if err := fn(tx); err != nil {
		_ = stx.Rollback()
		return err
	}
	if err := stx.Commit(); err != nil {
		return mapErr(err)
	}
	for _, f := range tx.after {
		f()
	}
	return nil
}

// View runs fn in a read-only transaction on the reader pool, so that its
// queries see one snapshot.
func (db *DB) View(ctx context.Context, fn func(tx *Tx) error) error {
	opts := &sql.TxOptions{}
	if db.Dialect == Postgres {
		// REPEATABLE READ: every query of fn sees the same snapshot (READ
		// COMMITTED would take a new one per statement).
		opts = &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}
	}
	stx, err := db.read.BeginTx(ctx, opts)
	if err != nil {
		return errs.Wrap(err, "begin read")
	}
	defer stx.Rollback()
	return fn(&Tx{Tx: stx, Dialect: db.Dialect, Now: db.Now().UTC().Truncate(time.Microsecond)})
}

// mapErr gives constraint violations a code a user can act on.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return errs.E(errs.NotFound, "not found")
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "UNIQUE constraint failed"), strings.Contains(msg, "SQLSTATE 23505"):
		return &errs.Error{Code: errs.Conflict, Message: "already exists", Err: err}
	case strings.Contains(msg, "FOREIGN KEY constraint failed"), strings.Contains(msg, "SQLSTATE 23503"):
		return &errs.Error{Code: errs.Conflict, Message: "still referenced or refers to something missing", Err: err}
	case strings.Contains(msg, "CHECK constraint failed"), strings.Contains(msg, "SQLSTATE 23514"):
		return &errs.Error{Code: errs.Invalid, Message: "value out of range", Err: err}
	}
	return errs.Wrap(err, "database")
}

// NotFound turns sql.ErrNoRows into a not-found error naming what was
// sought; other errors pass through mapped.
func NotFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return errs.E(errs.NotFound, format, args...)
	}
	return mapErr(err)
}

// In returns "?, ?, ?" for n placeholders.
func In(n int) string {
	if n <= 0 {
		return "NULL"
	}
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
