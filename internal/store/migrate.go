package store

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"

	"github.com/nisduc/nisduc/internal/errs"
)

//go:embed migrations
var migrations embed.FS

func (db *DB) provider() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(db.Dialect))
	if err != nil {
		return nil, errs.Wrap(err, "migrations")
	}
	d := goose.DialectSQLite3
	if db.Dialect == Postgres {
		d = goose.DialectPostgres
	}
	p, err := goose.NewProvider(d, db.write, sub)
	if err != nil {
		return nil, errs.Wrap(err, "migrations")
	}
	return p, nil
}

// Migrate applies every pending migration of the dialect, in order. It is
// forward-only: there are no down migrations. Safe to call from several
// processes at once on PostgreSQL (goose takes an advisory lock... see
// below), and at every start.
func (db *DB) Migrate(ctx context.Context) error {
	if db.Dialect == Postgres {
		// Several `nisduc serve` processes may start together: serialise
		// their migrations with a session-level advisory lock.
		conn, err := db.write.Conn(ctx)
		if err != nil {
			return errs.Wrap(err, "migrate")
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(7312025)"); err != nil {
			return errs.Wrap(err, "migrate lock")
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(7312025)")
	}
	p, err := db.provider()
	if err != nil {
		return err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return errs.Wrap(err, "migrate")
	}
	for _, r := range res {
		slog.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration)
	}
	return nil
}

// Pending reports whether migrations remain to apply (for /readyz).
func (db *DB) Pending(ctx context.Context) (bool, error) {
	p, err := db.provider()
	if err != nil {
		return false, err
	}
	ok, err := p.HasPending(ctx)
	if err != nil {
		return false, errs.Wrap(err, "migration status")
	}
	return ok, nil
}

// Version is the highest applied migration version.
func (db *DB) Version(ctx context.Context) (int64, error) {
	p, err := db.provider()
	if err != nil {
		return 0, err
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, errs.Wrap(err, "migration version")
	}
	return v, nil
}
