package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/riverqueue/river"

	"github.com/nisduc/nisduc/internal/audit"
	"github.com/nisduc/nisduc/internal/auth"
	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/directory"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/jobs"
	"github.com/nisduc/nisduc/internal/notify"
	"github.com/nisduc/nisduc/internal/store"
	"github.com/nisduc/nisduc/internal/web"
)

// migrateAll applies nisduc's migrations and River's.
func migrateAll(ctx context.Context, db *store.DB) error {
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	return jobs.Migrate(ctx, db)
}

// serveOptions are the flags of `nisduc serve`.
type serveOptions struct {
	store         storeFlags
	addr          string
	demo          bool
	baseURL       string
	secureCookies bool
	trustProxy    bool
	idle, maxAge  time.Duration
	smtp          notify.SMTPConfig
	smtpHost      string
	smtpPort      int
	smtpUser      string
	smtpFrom      string
	smtpTLS       string
	// ready, when set, is told the listening address (tests).
	ready func(net.Addr)
}

func cmdServe(ctx context.Context, e *env, args []string) error {
	var o serveOptions
	fs := newFlagSet(e, "serve", "serve [--demo] [--addr HOST:PORT] [--data DIR | --db URL]")
	o.store.register(fs, e)
	smtpEnv, smtpErr := notify.ConfigFrom(e.getenv)
	fs.StringVar(&o.addr, "addr", envOr(e, "NISDUC_ADDR", "127.0.0.1:8080"), "listen address (env NISDUC_ADDR)")
	fs.BoolVar(&o.demo, "demo", false, "load demo organisations and users into an empty store, print the logins, and relax the second factor")
	fs.StringVar(&o.baseURL, "base-url", e.getenv("NISDUC_BASE_URL"), "public address of the web interface, for links in e-mails (env NISDUC_BASE_URL)")
	fs.BoolVar(&o.secureCookies, "secure-cookies", e.getenv("NISDUC_SECURE_COOKIES") == "true", "mark cookies Secure and send HSTS: set behind TLS (env NISDUC_SECURE_COOKIES=true)")
	fs.BoolVar(&o.trustProxy, "trust-proxy", e.getenv("NISDUC_TRUST_PROXY") == "true", "take the client address from X-Forwarded-For (env NISDUC_TRUST_PROXY=true)")
	fs.DurationVar(&o.idle, "session-idle", 30*time.Minute, "sign out after this much inactivity")
	fs.DurationVar(&o.maxAge, "session-max", 12*time.Hour, "sign out after this long whatever the activity")
	fs.StringVar(&o.smtpHost, "smtp-host", smtpEnv.Host, "SMTP relay host for e-mail (env NISDUC_SMTP_HOST); empty: e-mails are logged")
	fs.IntVar(&o.smtpPort, "smtp-port", smtpEnv.Port, "SMTP relay port (env NISDUC_SMTP_PORT)")
	fs.StringVar(&o.smtpUser, "smtp-user", smtpEnv.Username, "SMTP user (env NISDUC_SMTP_USER; the password only from NISDUC_SMTP_PASSWORD)")
	fs.StringVar(&o.smtpFrom, "smtp-from", smtpEnv.From, "sender address of e-mails (env NISDUC_SMTP_FROM)")
	fs.StringVar(&o.smtpTLS, "smtp-tls", string(smtpEnv.StartTLS), "always, auto, never or tls (implicit TLS) (env NISDUC_SMTP_STARTTLS)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if smtpErr != nil {
		return smtpErr
	}
	o.smtp = smtpEnv
	o.smtp.Host, o.smtp.Port, o.smtp.Username, o.smtp.From, o.smtp.StartTLS = o.smtpHost, o.smtpPort, o.smtpUser, o.smtpFrom, notify.TLSMode(o.smtpTLS)
	return serve(ctx, e, o)
}

func serve(ctx context.Context, e *env, o serveOptions) error {
	a, err := open(ctx, e, &o.store, auth.Config{DemoMode: o.demo, IdleTimeout: o.idle, SessionLifetime: o.maxAge})
	if err != nil {
		return err
	}
	defer a.db.Close()
	// A wrong audit key would only show at the first change: fail now.
	if err := a.audit.CheckKey(ctx, a.db); err != nil {
		return err
	}
	// The built-in regulatory and sector models this binary ships become
	// published versions in the store (nothing happens when they are there).
	if err := a.model.SyncBuiltins(cliContext(ctx)); err != nil {
		return err
	}
	if err := firstRun(ctx, e, a, o.demo); err != nil {
		return err
	}

	mailer, err := notify.NewMailer(o.smtp)
	if err != nil {
		return err
	}
	notifier := notify.New(a.db, notify.Config{Mailer: mailer, BaseURL: o.baseURL})

	workers := river.NewWorkers()
	river.AddWorker(workers, notify.NewEmailWorker(notifier))
	river.AddWorker(workers, audit.NewCheckpointWorker(a.audit, a.db))
	river.AddWorker(workers, &purgeSessionsWorker{auth: a.auth})
	jc, err := jobs.New(a.db, jobs.Config{
		Workers: workers,
		PeriodicJobs: []*river.PeriodicJob{
			audit.PeriodicCheckpoint(10 * time.Minute),
			jobs.Periodic("auth.purge_sessions", time.Hour, purgeSessionsArgs{}),
		},
	})
	if err != nil {
		return err
	}
	if err := jc.Start(ctx); err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := jc.Stop(stopCtx); err != nil {
			slog.Warn("job workers did not stop cleanly", "err", err)
		}
	}()

	srv, err := web.New(web.Config{Demo: o.demo, SecureCookies: o.secureCookies, TrustProxy: o.trustProxy, Version: version},
		web.Deps{DB: a.db, Directory: a.dir, Auth: a.auth, Audit: a.audit, Notify: notifier, Models: a.model})
	if err != nil {
		return errs.Wrap(err, "web server")
	}
	slog.Info("nisduc starting", "version", version, "database", string(a.db.Dialect), "demo", o.demo)
	return web.ListenAndServe(ctx, o.addr, srv, func(addr net.Addr) {
		fmt.Fprintf(e.stdout, "nisduc is listening on http://%s\n", addr)
		if o.ready != nil {
			o.ready(addr)
		}
	})
}

// firstRun explains what to do on a store with no administrator, and loads
// or shows the demo data with --demo. Nothing is ever invented without
// --demo: there is no default password.
func firstRun(ctx context.Context, e *env, a *app, demoMode bool) error {
	if demoMode {
		return ensureDemo(ctx, e, a, false)
	}
	admins, err := a.dir.ListAllUsers(cliContext(ctx), directory.UserFilter{Role: authz.PlatformAdmin, Limit: 1})
	if err != nil {
		return err
	}
	if len(admins) == 0 {
		fmt.Fprintln(e.stdout, "This nisduc has no administrator yet. Create the organisation that runs the platform, then its administrator:")
		fmt.Fprintln(e.stdout, "  nisduc org add --short-name ops --name \"Platform operations\" --kind other_authority --country LU --timezone Europe/Luxembourg")
		fmt.Fprintln(e.stdout, "  nisduc user add --admin --org ops --email you@example.org --name \"Your Name\"")
		fmt.Fprintln(e.stdout, "(the password is read from the terminal, or from standard input when piped; add the same --data or --db as here).")
		fmt.Fprintln(e.stdout, "A whole directory can be loaded with: nisduc org import FILE. To try everything first: nisduc serve --demo")
	}
	return nil
}

// purgeSessionsArgs is the hourly clean-up of expired sessions.
type purgeSessionsArgs struct{}

func (purgeSessionsArgs) Kind() string { return "auth.purge_sessions" }

type purgeSessionsWorker struct {
	river.WorkerDefaults[purgeSessionsArgs]
	auth *auth.Service
}

func (w *purgeSessionsWorker) Work(ctx context.Context, _ *river.Job[purgeSessionsArgs]) error {
	n, err := w.auth.PurgeExpired(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		slog.Info("expired sessions purged", "count", n)
	}
	return nil
}
