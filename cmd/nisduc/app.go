package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/nisduc/nisduc/internal/audit"
	"github.com/nisduc/nisduc/internal/auth"
	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/directory"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/model"
	"github.com/nisduc/nisduc/internal/store"
)

// storeFlags are the flags every command shares.
type storeFlags struct {
	data      string
	db        string
	auditKey  string
	noMigrate bool
	logLevel  string
	logFormat string
}

func (f *storeFlags) register(fs *flag.FlagSet, e *env) {
	fs.StringVar(&f.data, "data", envOr(e, "NISDUC_DATA", "data"), "data folder: SQLite database, audit key, demo credentials (env NISDUC_DATA)")
	fs.StringVar(&f.db, "db", e.getenv("NISDUC_DATABASE_URL"), "PostgreSQL URL postgres://… (env NISDUC_DATABASE_URL); empty = SQLite in --data")
	fs.StringVar(&f.auditKey, "audit-key", e.getenv("NISDUC_AUDIT_KEY"), "audit checkpoint key, hex or base64, ≥32 bytes (env NISDUC_AUDIT_KEY); empty = DATA/audit.key")
	fs.BoolVar(&f.noMigrate, "no-migrate", false, "do not apply pending migrations at start")
	fs.StringVar(&f.logLevel, "log-level", envOr(e, "NISDUC_LOG_LEVEL", "info"), "debug, info, warn or error (env NISDUC_LOG_LEVEL)")
	fs.StringVar(&f.logFormat, "log-format", envOr(e, "NISDUC_LOG_FORMAT", "text"), "text or json (env NISDUC_LOG_FORMAT)")
}

func envOr(e *env, key, def string) string {
	if v := e.getenv(key); v != "" {
		return v
	}
	return def
}

// newFlagSet makes a FlagSet that reports errors as usage errors.
func newFlagSet(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("nisduc "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: nisduc %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses flags wherever they stand among the positional
// arguments ("org show grid-a --data d" works as well as "org show --data d
// grid-a") and returns the positional ones.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parse(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return usagef("%v", err)
	}
	return nil
}

func setupLogging(e *env, f *storeFlags) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(f.logLevel)); err != nil {
		lvl = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler = slog.NewTextHandler(e.stderr, opts)
	if strings.EqualFold(f.logFormat, "json") {
		h = slog.NewJSONHandler(e.stderr, opts)
	}
	slog.SetDefault(slog.New(h))
}

// app is an opened store with the services built on it.
type app struct {
	db    *store.DB
	audit *audit.Log
	dir   *directory.Service
	auth  *auth.Service
	model *model.Service
	flags *storeFlags
}

// open opens the store, applies migrations (unless --no-migrate) and builds
// the services. The caller closes app.db.
func open(ctx context.Context, e *env, f *storeFlags, authCfg auth.Config) (*app, error) {
	setupLogging(e, f)
	db, err := store.Open(ctx, store.Config{DSN: f.db, DataDir: f.data})
	if err != nil {
		return nil, err
	}
	if !f.noMigrate {
		if err := migrateAll(ctx, db); err != nil {
			db.Close()
			return nil, err
		}
	}
	key, err := loadAuditKey(f)
	if err != nil {
		db.Close()
		return nil, err
	}
	log := audit.New(key)
	return &app{
		db:    db,
		audit: log,
		dir:   directory.New(db, log),
		auth:  auth.New(db, log, authCfg),
		model: model.New(db, log),
		flags: f,
	}, nil
}

func loadAuditKey(f *storeFlags) ([]byte, error) {
	if f.auditKey != "" {
		k, err := audit.KeyFromSecret(f.auditKey)
		if err != nil {
			return nil, errs.Field("--audit-key", "%v", err)
		}
		return k, nil
	}
	return audit.LoadOrCreateKey(f.data)
}

// cliContext marks ctx as the command line acting (audited as "cli:USER").
func cliContext(ctx context.Context) context.Context {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return authz.WithActor(ctx, authz.CLI(name))
}

func absData(dir string) string {
	if a, err := filepath.Abs(dir); err == nil {
		return a
	}
	return dir
}

var _ = os.Getenv
