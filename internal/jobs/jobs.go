// Package jobs runs nisduc's durable background jobs with River, on either
// database: SQLite through River's riversqlite driver on the store's single
// writer connection, PostgreSQL through riverdatabasesql on the store's pool.
//
// A job is enqueued in the same transaction as the write it follows
// (Insert(ctx, tx, …)): it exists exactly when the write commits, and
// never runs for a write that rolled back.
//
// Why riverdatabasesql on PostgreSQL: since River 0.10 it is a complete
// driver (it works jobs, not only inserts them), and it takes the *sql.Tx
// that store.Tx carries, so one client type — *river.Client[*sql.Tx] —
// serves both databases, for inserting and for working. On its own it
// polls for new jobs; with NewWithPgxListener (River 0.46) a one-connection
// pgx pool opened from the store's DSN receives LISTEN/NOTIFY, so a job
// inserted by any server process is picked up at once rather than at the
// next poll. Job fetching and completion use the store's pool.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
)

// Config says what a worker client runs.
type Config struct {
	// Workers holds the job workers, registered by the callers:
	//
	//	w := river.NewWorkers()
	//	river.AddWorker(w, notify.NewEmailWorker(svc))
	//	river.AddWorker(w, audit.NewCheckpointWorker(log, db))
	//
	// Required.
	Workers *river.Workers
	// Queues to work and how many jobs of each run at once; default: the
	// default queue with DefaultWorkers workers. A queue fetches at most
	// MaxWorkers jobs every FetchCooldown (River's default 100 ms), which
	// bounds its throughput: 10 workers ≈ 100 short jobs/s.
	Queues map[string]river.QueueConfig
	// PeriodicJobs are inserted on schedule by the elected leader (one
	// process of the installation), e.g. audit.PeriodicCheckpoint(5*time.Minute).
	PeriodicJobs []*river.PeriodicJob
	// PollInterval is how often each queue looks for jobs when no
	// notification arrives; default 1 s.
	PollInterval time.Duration
	// JobTimeout bounds one attempt of a job; default 1 minute.
	JobTimeout time.Duration
	// Logger receives River's logs (its info lines are lowered to debug);
	// default slog.Default().
	Logger *slog.Logger
}

// DefaultWorkers is the number of jobs of the default queue run at once.
const DefaultWorkers = 10

// Client works jobs. Create it with New, then Start; Stop on shutdown.
type Client struct {
	db       *store.DB
	rc       *river.Client[*sql.Tx]
	listener *pgxpool.Pool // PostgreSQL only: LISTEN connection
}

// New returns a client working cfg's jobs on db. It does not start it.
//
// Errors: Invalid when cfg has no workers or a queue or periodic job is
// malformed; Internal when the listener pool cannot be set up.
func New(db *store.DB, cfg Config) (*Client, error) {
	if cfg.Workers == nil {
		return nil, errs.Field("workers", "no workers registered")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	rcfg := &river.Config{
		Workers:           cfg.Workers,
		Queues:            cfg.Queues,
		PeriodicJobs:      cfg.PeriodicJobs,
		FetchPollInterval: cfg.PollInterval,
		JobTimeout:        cfg.JobTimeout,
		Logger:            slog.New(quieter{logger.Handler()}),
	}
	if rcfg.Queues == nil {
		rcfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: DefaultWorkers}}
	}
	if rcfg.FetchPollInterval > 0 && rcfg.FetchPollInterval < 100*time.Millisecond {
		// River wants the cooldown between fetches below the poll interval.
		rcfg.FetchCooldown = rcfg.FetchPollInterval / 2
	}
	c := &Client{db: db}
	var err error
	switch db.Dialect {
	case store.SQLite:
		// The store's writer has one connection (SetMaxOpenConns(1)), which
		// is what River's SQLite driver asks for: its operations queue on
		// that connection with the application's writes instead of failing
		// with SQLITE_BUSY. Its LISTEN stand-in polls river_notification
		// every 50 ms on the same connection.
		c.rc, err = river.NewClient(riversqlite.New(db.SQL()), rcfg)
	case store.Postgres:
		pcfg, perr := pgxpool.ParseConfig(db.DSN())
		if perr != nil {
			return nil, errs.Wrap(perr, "jobs: listener pool")
		}
		// The listener hijacks one connection for LISTEN and keeps it.
		pcfg.MaxConns, pcfg.MinConns = 1, 0
		c.listener, err = pgxpool.NewWithConfig(context.Background(), pcfg)
		if err != nil {
			return nil, errs.Wrap(err, "jobs: listener pool")
		}
		c.rc, err = river.NewClient(riverdatabasesql.NewWithPgxListener(db.SQL(), c.listener), rcfg)
	default:
		return nil, errs.E(errs.Invalid, "jobs: unsupported database %q", db.Dialect)
	}
	if err != nil {
		c.close()
		return nil, errs.E(errs.Invalid, "jobs: %v", err)
	}
	return c, nil
}

// River returns the underlying River client, for what this package does
// not wrap (listing jobs for an admin page, subscribing to events in tests).
func (c *Client) River() *river.Client[*sql.Tx] { return c.rc }

// Start starts working jobs. Jobs keep running until Stop, or until ctx is
// cancelled (which stops the client as Stop does).
func (c *Client) Start(ctx context.Context) error {
	if err := c.rc.Start(ctx); err != nil {
		return errs.Wrap(err, "jobs: start")
	}
	return nil
}

// Stop stops fetching new jobs and waits for running ones to finish, until
// ctx is done; then it cancels the jobs still running (they will be retried,
// as River marks them) and waits a little more for them to return. Call it
// on SIGTERM with the grace period as ctx's deadline. A stopped client is
// not started again: make a new one.
func (c *Client) Stop(ctx context.Context) error {
	defer c.close()
	err := c.rc.Stop(ctx)
	if err == nil {
		return nil
	}
	if ctx.Err() == nil {
		return errs.Wrap(err, "jobs: stop")
	}
	slog.WarnContext(ctx, "jobs: grace period over; cancelling running jobs")
	hard, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := c.rc.StopAndCancel(hard); err != nil {
		return errs.Wrap(err, "jobs: stop")
	}
	return nil
}

func (c *Client) close() {
	if c.listener != nil {
		c.listener.Close()
		c.listener = nil
	}
}

// Periodic returns a job inserted every interval by the elected leader;
// id names the schedule (unique among periodic jobs).
func Periodic(id string, every time.Duration, args river.JobArgs) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) { return args, nil },
		&river.PeriodicJobOpts{ID: id})
}

// Inserters: River clients with no queue work nothing; they only insert.
// They need no pool, since InsertTx runs on the caller's transaction, so
// one per dialect serves every store.
var (
	insertersOnce sync.Once
	inserters     map[store.Dialect]*river.Client[*sql.Tx]
	insertersErr  error
)

func inserter(d store.Dialect) (*river.Client[*sql.Tx], error) {
	insertersOnce.Do(func() {
		quiet := slog.New(quieter{slog.Default().Handler()})
		lite, err1 := river.NewClient(riversqlite.New(nil), &river.Config{Logger: quiet})
		pg, err2 := river.NewClient(riverdatabasesql.New(nil), &river.Config{Logger: quiet})
		inserters = map[store.Dialect]*river.Client[*sql.Tx]{store.SQLite: lite, store.Postgres: pg}
		insertersErr = errors.Join(err1, err2)
	})
	if insertersErr != nil {
		return nil, insertersErr
	}
	c, ok := inserters[d]
	if !ok {
		return nil, errs.E(errs.Invalid, "jobs: unsupported database %q", d)
	}
	return c, nil
}

// Insert enqueues a job in tx: it becomes visible to workers when tx
// commits and disappears if tx rolls back. opts may be nil (the args'
// InsertOpts, then River's defaults: queue "default", 25 attempts).
//
// Errors: Internal when args cannot be encoded or the insert fails (the
// caller's transaction should then roll back, as for any failed write).
func Insert(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	c, err := inserter(tx.Dialect)
	if err != nil {
		return errs.Wrap(err, "jobs: insert")
	}
	if _, err := c.InsertTx(ctx, tx.Tx, args, opts); err != nil {
		return errs.Wrap(err, "jobs: insert %s", args.Kind())
	}
	return nil
}

// Migrate creates or updates River's tables (river_job, river_leader, …)
// in db. It is idempotent and safe when several processes start together:
// rivermigrate takes no lock itself, so Migrate takes an advisory lock on
// PostgreSQL and SQLite's write lock on SQLite.
func Migrate(ctx context.Context, db *store.DB) error {
	logger := slog.New(quieter{slog.Default().Handler()})
	var (
		res *rivermigrate.MigrateResult
		err error
	)
	switch db.Dialect {
	case store.SQLite:
		// rivermigrate reads the applied versions, then applies the rest,
		// each in its own transaction: two processes starting together
		// would both apply version 1. One outer transaction — BEGIN
		// IMMEDIATE on the store's writer — takes SQLite's write lock
		// first and serialises them. (MigrateTx is deprecated because some
		// PostgreSQL migrations cannot share a transaction; every SQLite
		// one runs in a transaction anyway.)
		m, merr := rivermigrate.New(riversqlite.New(db.SQL()), &rivermigrate.Config{Logger: logger})
		if merr != nil {
			return errs.Wrap(merr, "jobs: migrate")
		}
		tx, terr := db.SQL().BeginTx(ctx, nil)
		if terr != nil {
			return errs.Wrap(terr, "jobs: migrate")
		}
		res, err = m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, nil) //nolint:staticcheck // see above
		if err == nil {
			err = tx.Commit()
		} else {
			tx.Rollback()
		}
	case store.Postgres:
		conn, cerr := db.SQL().Conn(ctx)
		if cerr != nil {
			return errs.Wrap(cerr, "jobs: migrate")
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7312026)`); err != nil {
			return errs.Wrap(err, "jobs: migrate lock")
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(7312026)`)
		m, merr := rivermigrate.New(riverdatabasesql.New(db.SQL()), &rivermigrate.Config{Logger: logger})
		if merr != nil {
			return errs.Wrap(merr, "jobs: migrate")
		}
		res, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	default:
		return errs.E(errs.Invalid, "jobs: unsupported database %q", db.Dialect)
	}
	if err != nil {
		return errs.Wrap(err, "jobs: migrate")
	}
	for _, v := range res.Versions {
		slog.InfoContext(ctx, "river migration applied", "version", v.Version, "name", v.Name, "took", v.Duration)
	}
	return nil
}

// quieter lowers River's info lines (client started, queue counts, each
// maintenance pass) to debug: they are about River, not about nisduc.
type quieter struct{ h slog.Handler }

func (q quieter) Enabled(ctx context.Context, l slog.Level) bool {
	if l == slog.LevelInfo {
		l = slog.LevelDebug
	}
	return q.h.Enabled(ctx, l)
}

func (q quieter) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelInfo {
		r.Level = slog.LevelDebug
	}
	return q.h.Handle(ctx, r)
}

func (q quieter) WithAttrs(as []slog.Attr) slog.Handler { return quieter{q.h.WithAttrs(as)} }
func (q quieter) WithGroup(name string) slog.Handler    { return quieter{q.h.WithGroup(name)} }
