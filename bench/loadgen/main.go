// Command loadgen measures nisduc's platform foundation at national scale:
// it seeds a fresh store (bench/seed: 10,000 organisations, 50,000 users
// by default) through the real services, starts the real web server
// in-process on 127.0.0.1 wired as `nisduc serve` wires it, and drives
// fixed-duration loops of HTTP requests with N concurrent workers,
// reporting requests/s, latency percentiles and errors per scenario.
//
//	go run ./bench/loadgen                                   # SQLite in a temporary folder
//	go run ./bench/loadgen --db postgres://…/test            # PostgreSQL, in a scratch schema dropped at exit
//	go run ./bench/loadgen --orgs 1000 --users 5000 --duration 5s --only list,me
//
// It talks to loopback only and stops by itself. See bench/README.md.
package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river"

	"github.com/nisduc/nisduc/bench/seed"
	"github.com/nisduc/nisduc/internal/audit"
	"github.com/nisduc/nisduc/internal/auth"
	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/directory"
	"github.com/nisduc/nisduc/internal/jobs"
	"github.com/nisduc/nisduc/internal/notify"
	"github.com/nisduc/nisduc/internal/store"
	"github.com/nisduc/nisduc/internal/web"
)

type options struct {
	db, data         string
	orgs, users      int
	auditExtra       int
	duration, warmup time.Duration
	concurrency      int
	only             string
	keep, inPlace    bool
	noJobs           bool
	logLevel         string
	markdown         bool
	batch            int
	requestTimeout   time.Duration
	cpuProfile       string
	reuse            bool
	auditKey         string
	noAnalyze        bool
}

func main() {
	var o options
	fs := flag.NewFlagSet("loadgen", flag.ExitOnError)
	fs.StringVar(&o.db, "db", os.Getenv("NISDUC_DATABASE_URL"), "PostgreSQL URL (env NISDUC_DATABASE_URL); empty = SQLite in --data")
	fs.StringVar(&o.data, "data", "", "SQLite data folder (must hold no organisation); empty = a temporary folder removed at exit")
	fs.IntVar(&o.orgs, "orgs", 10000, "organisations to seed (authorities included)")
	fs.IntVar(&o.users, "users", 50000, "users to seed")
	fs.IntVar(&o.auditExtra, "audit", 0, "extra audit entries to append after seeding, or to the reused store with --reuse (e.g. 1000000 for a long trail)")
	fs.IntVar(&o.batch, "batch", 1000, "organisations per seeding transaction (users: twice, audit filler: 20 times as many)")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "measured time per scenario")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured time before each scenario")
	fs.IntVar(&o.concurrency, "concurrency", 16, "concurrent client workers")
	fs.StringVar(&o.only, "only", "", "comma-separated scenario name prefixes to run (default: all)")
	fs.BoolVar(&o.keep, "keep", false, "keep the seeded store (temporary folder or scratch schema) and print where it is")
	fs.BoolVar(&o.inPlace, "in-place", false, "PostgreSQL: use the URL's database/schema as is (must be empty) instead of a scratch schema")
	fs.BoolVar(&o.noJobs, "no-jobs", false, "do not start the River job workers that `nisduc serve` runs")
	fs.StringVar(&o.logLevel, "log-level", "warn", "server log level printed on stderr (info logs every request; they are always formatted, to io.Discard when not shown)")
	fs.BoolVar(&o.markdown, "markdown", true, "also print the results as a Markdown table")
	fs.DurationVar(&o.requestTimeout, "timeout", 30*time.Second, "client timeout per request (a timeout counts as an error)")
	fs.BoolVar(&o.reuse, "reuse", false, "do not seed: run the scenarios on a store a previous --keep run left (SQLite --data DIR, or PostgreSQL --in-place with its search_path URL and --audit-key)")
	fs.StringVar(&o.auditKey, "audit-key", os.Getenv("NISDUC_AUDIT_KEY"), "audit key, hex (env NISDUC_AUDIT_KEY); empty: DATA/audit.key on SQLite, a random key on PostgreSQL (printed with --keep)")
	fs.BoolVar(&o.noAnalyze, "no-analyze", false, "PostgreSQL: do not ANALYZE after seeding (autovacuum does it in production within a minute or so; test servers often run with autovacuum=off)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the scenarios (server and client: one process) to this file")
	fs.Parse(os.Args[1:])
	if o.concurrency < 1 || o.duration <= 0 || o.orgs < 1 || o.users < 3 {
		fmt.Fprintln(os.Stderr, "loadgen: --concurrency ≥ 1, --duration > 0, --orgs ≥ 1, --users ≥ 3")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// splitHandler formats every record at its level (so that request logging
// costs what it costs in production) but prints only those at or above
// show on stderr.
type splitHandler struct {
	show    slog.Level
	discard slog.Handler
	stderr  slog.Handler
}

func (h splitHandler) Enabled(ctx context.Context, l slog.Level) bool { return l >= slog.LevelInfo }
func (h splitHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= h.show {
		return h.stderr.Handle(ctx, r)
	}
	return h.discard.Handle(ctx, r)
}
func (h splitHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return splitHandler{h.show, h.discard.WithAttrs(as), h.stderr.WithAttrs(as)}
}
func (h splitHandler) WithGroup(n string) slog.Handler {
	return splitHandler{h.show, h.discard.WithGroup(n), h.stderr.WithGroup(n)}
}

func say(format string, args ...any) {
	fmt.Printf("%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// scratchSchema creates an empty schema on the server of base and returns
// a URL whose connections use it, and a function that drops it.
func scratchSchema(ctx context.Context, base string) (string, string, func(), error) {
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", "", nil, err
	}
	defer admin.Close()
	var b [4]byte
	rand.Read(b[:])
	schema := "nisduc_bench_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", "", nil, fmt.Errorf("create scratch schema: %w", err)
	}
	drop := func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer a.Close()
		dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := a.ExecContext(dctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			fmt.Fprintf(os.Stderr, "loadgen: drop schema %s: %v\n", schema, err)
		}
	}
	u, err := url.Parse(base)
	if err != nil {
		drop()
		return "", "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), schema, drop, nil
}

func run(ctx context.Context, o options) error {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(o.logLevel)); err != nil {
		lvl = slog.LevelWarn
	}
	slog.SetDefault(slog.New(splitHandler{show: lvl,
		discard: slog.NewTextHandler(io.Discard, nil),
		stderr:  slog.NewTextHandler(os.Stderr, nil)}))

	cfg := store.Config{}
	where := ""
	switch {
	case o.db != "":
		cfg.DSN = o.db
		where = "PostgreSQL " + store.Config{DSN: o.db}.String()
		if !o.inPlace {
			dsn, schema, drop, err := scratchSchema(ctx, o.db)
			if err != nil {
				return err
			}
			cfg.DSN = dsn
			where += " (scratch schema " + schema + ")"
			if o.keep {
				defer fmt.Printf("kept: schema %s (drop it with: DROP SCHEMA %s CASCADE)\n", schema, schema)
			} else {
				defer drop()
			}
		}
	default:
		dir := o.data
		if dir == "" {
			d, err := os.MkdirTemp("", "nisduc-bench-")
			if err != nil {
				return err
			}
			dir = d
			if o.keep {
				defer fmt.Printf("kept: SQLite data folder %s\n", dir)
			} else {
				defer os.RemoveAll(dir)
			}
		}
		cfg.DataDir = dir
		where = "SQLite " + cfg.String()
	}

	db, err := store.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	if err := jobs.Migrate(ctx, db); err != nil {
		return err
	}
	var key []byte
	switch {
	case o.auditKey != "":
		key, err = audit.KeyFromSecret(o.auditKey)
	case cfg.DataDir != "":
		key, err = audit.LoadOrCreateKey(cfg.DataDir)
	default:
		key = make([]byte, 32)
		rand.Read(key)
		if o.keep {
			defer fmt.Printf("audit key of the kept schema: %s (give it to --reuse as --audit-key)\n", hex.EncodeToString(key))
		}
	}
	if err != nil {
		return err
	}
	alog := audit.New(key)
	if err := alog.CheckKey(ctx, db); err != nil {
		return err
	}
	dir := directory.New(db, alog)
	authSvc := auth.New(db, alog, auth.Config{})

	fmt.Printf("nisduc loadgen — %s\n", where)
	fmt.Printf("host: %d CPU (GOMAXPROCS %d), %s %s/%s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Printf("load average at start: %s\n", loadavg())
	if !o.reuse {
		fmt.Printf("seeding: %d organisations, %d users, +%d audit entries\n", o.orgs, o.users, o.auditExtra)
	}
	fmt.Printf("load: %d workers, %s per scenario (+%s warm-up)\n\n", o.concurrency, o.duration, o.warmup)

	// (a) Seed.
	cli := authz.WithActor(ctx, authz.CLI("loadgen"))
	t0 := time.Now()
	var res seed.Result
	if o.reuse {
		if o.auditExtra > 0 {
			err = seed.AppendAudit(cli, db, alog, seed.Config{AuditExtra: o.auditExtra, Batch: o.batch,
				Progress: func(f string, a ...any) { say(f, a...) }})
			if err != nil {
				return err
			}
			fmt.Printf("appended %d audit entries in %s\n", o.auditExtra, time.Since(t0).Round(time.Millisecond))
		}
		t0 = time.Now()
		res, err = seed.Fixtures(ctx, db)
	} else {
		res, err = seed.Run(cli, db, dir, alog, seed.Config{Orgs: o.orgs, Users: o.users, AuditExtra: o.auditExtra, Batch: o.batch,
			Progress: func(f string, a ...any) { say(f, a...) }})
	}
	if err != nil {
		return err
	}
	seedTime := time.Since(t0)
	if o.reuse {
		fmt.Printf("Reusing the seeded store (fixtures found in %s)\n", seedTime.Round(time.Millisecond))
	} else {
		fmt.Printf("\nSeeding: %s in total\n", seedTime.Round(time.Millisecond))
	}
	for _, p := range res.Phases {
		rate := ""
		if p.N > 1 && p.Dur > 0 {
			rate = fmt.Sprintf("  (%.0f/s)", float64(p.N)/p.Dur.Seconds())
		}
		fmt.Printf("  %-22s %8d  %10s%s\n", p.Name, p.N, p.Dur.Round(time.Millisecond), rate)
	}
	fmt.Printf("  => %d organisations (%d authorities, %d operators), %d supervision links, %d users, %d audit entries\n\n",
		res.Orgs, res.Authorities, res.Operators, res.Links, res.Users, res.AuditEntries)
	if db.Dialect == store.Postgres && !o.noAnalyze {
		var av string
		db.QueryRow(ctx, "SHOW autovacuum").Scan(&av)
		t := time.Now()
		if err := analyze(ctx, db); err != nil {
			return err
		}
		fmt.Printf("ANALYZE in %s (planner statistics, as autovacuum keeps them in production; this server: autovacuum=%s)\n\n",
			time.Since(t).Round(time.Millisecond), av)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}

	// (b) The server, wired as serve wires it.
	mailer, err := notify.NewMailer(notify.SMTPConfig{})
	if err != nil {
		return err
	}
	notifier := notify.New(db, notify.Config{Mailer: mailer})
	if !o.noJobs {
		workers := river.NewWorkers()
		river.AddWorker(workers, notify.NewEmailWorker(notifier))
		river.AddWorker(workers, audit.NewCheckpointWorker(alog, db))
		river.AddWorker(workers, &purgeSessionsWorker{auth: authSvc})
		jc, err := jobs.New(db, jobs.Config{Workers: workers, PeriodicJobs: []*river.PeriodicJob{
			audit.PeriodicCheckpoint(10 * time.Minute),
			jobs.Periodic("auth.purge_sessions", time.Hour, purgeSessionsArgs{}),
		}})
		if err != nil {
			return err
		}
		if err := jc.Start(ctx); err != nil {
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			jc.Stop(sctx)
		}()
	}
	srv, err := web.New(web.Config{Version: "loadgen"},
		web.Deps{DB: db, Directory: dir, Auth: authSvc, Audit: alog, Notify: notifier})
	if err != nil {
		return err
	}
	srvCtx, stopSrv := context.WithCancel(context.WithoutCancel(ctx))
	addrc := make(chan net.Addr, 1)
	srvDone := make(chan error, 1)
	go func() { srvDone <- web.ListenAndServe(srvCtx, "127.0.0.1:0", srv, func(a net.Addr) { addrc <- a }) }()
	var base string
	select {
	case a := <-addrc:
		base = "http://" + a.String()
	case err := <-srvDone:
		stopSrv()
		return err
	}
	defer func() {
		stopSrv()
		<-srvDone
	}()

	tokens := map[string]string{}
	for name, u := range map[string]seed.User{"admin": res.Admin, "analyst": res.Analyst, "operator": res.OperatorAdmin} {
		secret, _, err := authSvc.CreateToken(cli, u.ID, "loadgen "+name, time.Hour)
		if err != nil {
			return fmt.Errorf("token for %s: %w", name, err)
		}
		tokens[name] = secret
	}
	session, _, err := authSvc.CreateSession(ctx, res.Analyst.ID, "127.0.0.1", "nisduc-loadgen", true)
	if err != nil {
		return fmt.Errorf("session: %w", err)
	}

	client := &http.Client{
		Timeout: o.requestTimeout,
		Transport: &http.Transport{MaxIdleConns: o.concurrency * 2, MaxIdleConnsPerHost: o.concurrency * 2,
			IdleConnTimeout: time.Minute, DisableCompression: true},
	}
	// The deep page: the admin's last page of 50.
	deep := ((res.Orgs - 1) / 50) * 50
	scs := scenarios(base, tokens, session, res, deep)
	if o.only != "" {
		var keep []scenario
		for _, s := range scs {
			for _, p := range strings.Split(o.only, ",") {
				if p = strings.TrimSpace(p); p != "" && strings.HasPrefix(s.name, p) {
					keep = append(keep, s)
					break
				}
			}
		}
		scs = keep
	}
	if len(scs) == 0 {
		return errors.New("--only matches no scenario")
	}

	// (c) Drive the scenarios one after the other.
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var results []result
	for _, sc := range scs {
		if ctx.Err() != nil {
			break
		}
		if err := probe(ctx, client, sc); err != nil {
			return fmt.Errorf("scenario %s: %w", sc.name, err)
		}
		if o.warmup > 0 {
			drive(ctx, client, sc, o.concurrency, o.warmup, db.Dialect == store.Postgres)
		}
		r := drive(ctx, client, sc, o.concurrency, o.duration, db.Dialect == store.Postgres)
		results = append(results, r)
		fmt.Printf("%-15s %7.1f req/s  p50 %6s  p95 %6s  p99 %6s  max %6s  err %d  %6.1f kB  cores %.2f+%.2f/%.2f  %s ms CPU/req  load %s\n",
			r.name, r.rps, ms(r.p50), ms(r.p95), ms(r.p99), ms(r.max), r.errors, r.bytes/1024, r.procCores, r.dbCores, r.hostCores, ms(r.cpuPerReq), loadavg())
		if r.firstErr != "" {
			fmt.Printf("    first error: %s\n", r.firstErr)
		}
	}
	if o.markdown {
		fmt.Printf("\n| scenario | actor | req/s | p50 ms | p95 ms | p99 ms | max ms | errors | kB/resp | CPU ms/req | cores loadgen+db / host |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, r := range results {
			fmt.Printf("| %s | %s | %.0f | %s | %s | %s | %s | %d | %.1f | %s | %.2f+%.2f / %.2f |\n", r.desc, r.actor, r.rps, ms(r.p50), ms(r.p95), ms(r.p99), ms(r.max), r.errors, r.bytes/1024, ms(r.cpuPerReq), r.procCores, r.dbCores, r.hostCores)
		}
		fmt.Printf("\nSeeding (%s): ", where)
		for i, p := range res.Phases {
			if i > 0 {
				fmt.Print("; ")
			}
			fmt.Printf("%s %d in %s", p.Name, p.N, p.Dur.Round(100*time.Millisecond))
		}
		fmt.Printf("; total %s.\n", seedTime.Round(100*time.Millisecond))
	}
	return ctx.Err()
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64)
}

// scenario is one kind of request, built afresh for each call.
type scenario struct {
	name, desc, actor string
	want              int
	build             func(rng *mrand.Rand, n int) *http.Request
}

func scenarios(base string, tokens map[string]string, session string, res seed.Result, deep int) []scenario {
	bearer := func(actor string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tokens[actor]) }
	}
	get := func(name, desc, actor, path string) scenario {
		set := bearer(actor)
		return scenario{name: name, desc: desc, actor: actor, want: http.StatusOK, build: func(*mrand.Rand, int) *http.Request {
			r, _ := http.NewRequest("GET", base+path, nil)
			set(r)
			return r
		}}
	}
	randomOrg := func(rng *mrand.Rand) string { return res.OperatorIDs[rng.IntN(len(res.OperatorIDs))] }
	q := url.QueryEscape
	return []scenario{
		get("list", "`GET /api/v1/organizations?limit=50` (page 1)", "admin", "/api/v1/organizations?limit=50"),
		get("list-deep", fmt.Sprintf("same, deep page (`offset=%d`)", deep), "admin", fmt.Sprintf("/api/v1/organizations?limit=50&offset=%d", deep)),
		get("list-analyst", "`GET /api/v1/organizations?limit=50` (scoped)", "analyst", "/api/v1/organizations?limit=50"),
		get("list-operator", "`GET /api/v1/organizations?limit=50` (scoped)", "operator", "/api/v1/organizations?limit=50"),
		get("list-size-10", "list page size 10", "admin", "/api/v1/organizations?limit=10"),
		get("list-size-500", "list page size 500", "admin", "/api/v1/organizations?limit=500"),
		get("search-name", fmt.Sprintf("search name `?q=%s`", res.SearchName), "admin", "/api/v1/organizations?limit=50&q="+q(res.SearchName)),
		get("search-ip", fmt.Sprintf("search address `?q=%s`", res.SearchIP), "admin", "/api/v1/organizations?limit=50&q="+q(res.SearchIP)),
		get("search-asn", fmt.Sprintf("search ASN `?q=%s`", res.SearchASN), "admin", "/api/v1/organizations?limit=50&q="+q(res.SearchASN)),
		get("search-analyst", fmt.Sprintf("search name `?q=%s` (scoped)", res.SearchName), "analyst", "/api/v1/organizations?limit=50&q="+q(res.SearchName)),
		{name: "get-org", desc: "`GET /api/v1/organizations/{id}` (random operator)", actor: "admin", want: http.StatusOK,
			build: func(rng *mrand.Rand, _ int) *http.Request {
				r, _ := http.NewRequest("GET", base+"/api/v1/organizations/"+randomOrg(rng), nil)
				bearer("admin")(r)
				return r
			}},
		get("me", "`GET /api/v1/me`", "operator", "/api/v1/me"),
		{name: "html-orgs", desc: "HTML `GET /orgs` (session cookie)", actor: "analyst", want: http.StatusOK,
			build: func(*mrand.Rand, int) *http.Request {
				r, _ := http.NewRequest("GET", base+"/orgs", nil)
				r.AddCookie(&http.Cookie{Name: "nisduc_session", Value: session})
				return r
			}},
		get("audit", "`GET /api/v1/audit?limit=50`", "admin", "/api/v1/audit?limit=50"),
		get("audit-analyst", "`GET /api/v1/audit?limit=50` (scoped)", "analyst", "/api/v1/audit?limit=50"),
		{name: "patch-org", desc: "`PATCH /api/v1/organizations/{id}` description (audited write)", actor: "admin", want: http.StatusOK,
			build: func(rng *mrand.Rand, n int) *http.Request {
				body, _ := json.Marshal(map[string]string{"description": fmt.Sprintf("Edited by loadgen, change %d-%d.", rng.Uint32(), n)})
				r, _ := http.NewRequest("PATCH", base+"/api/v1/organizations/"+randomOrg(rng), bytes.NewReader(body))
				r.Header.Set("Content-Type", "application/json")
				bearer("admin")(r)
				return r
			}},
	}
}

type result struct {
	name, desc, actor string
	n, errors         int
	rps               float64
	p50, p95, p99     time.Duration
	max               time.Duration
	bytes             float64
	firstErr          string
	// procCores is the CPU this process (server and client) used, in
	// cores; hostCores what the whole machine used (PostgreSQL, other
	// processes included). Zero when unknown.
	procCores, hostCores float64
	// dbCores is what the PostgreSQL server processes used (0 on SQLite,
	// whose work is in procCores); cpuPerReq is (procCores+dbCores) per
	// request, the figure that does not depend on what else runs on the
	// machine: capacity on n dedicated cores ≈ n / cpuPerReq.
	dbCores   float64
	cpuPerReq time.Duration
}

// probe sends one request and fails on an unexpected answer, so that a
// broken scenario is not reported as fast errors.
func probe(ctx context.Context, c *http.Client, sc scenario) error {
	req := sc.build(mrand.New(mrand.NewPCG(9, 9)), 0).WithContext(ctx)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != sc.want {
		return fmt.Errorf("%s %s: status %d: %.300s", req.Method, req.URL.Path, resp.StatusCode, b)
	}
	return nil
}

// drive runs sc with workers concurrent loops for d and measures it.
func drive(ctx context.Context, c *http.Client, sc scenario, workers int, d time.Duration, pg bool) result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	type acc struct {
		lat      []time.Duration
		errors   int
		bytes    int64
		firstErr string
	}
	accs := make([]acc, workers)
	var wg sync.WaitGroup
	var meter *postgresMeter
	if pg {
		meter = startPostgresMeter()
	}
	cpu0, host0 := procCPU(), hostCPU()
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			a := &accs[w]
			rng := mrand.New(mrand.NewPCG(uint64(w), uint64(start.UnixNano())))
			for n := 0; ctx.Err() == nil; n++ {
				req := sc.build(rng, n)
				t := time.Now()
				resp, err := c.Do(req)
				var nb int64
				status := 0
				if err == nil {
					nb, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = resp.StatusCode
				}
				lat := time.Since(t)
				if ctx.Err() != nil && err != nil {
					break // cut off by the end of the run
				}
				a.lat = append(a.lat, lat)
				a.bytes += nb
				if err != nil || status != sc.want {
					a.errors++
					if a.firstErr == "" {
						a.firstErr = fmt.Sprintf("status %d, %v", status, err)
					}
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var dbTime time.Duration
	if meter != nil {
		dbTime = meter.Stop()
	}
	r := result{name: sc.name, desc: sc.desc, actor: sc.actor}
	if cpu1, host1 := procCPU(), hostCPU(); cpu0 > 0 && cpu1 > 0 {
		r.procCores = (cpu1 - cpu0).Seconds() / elapsed.Seconds()
		if host0 > 0 && host1 > 0 {
			r.hostCores = (host1 - host0).Seconds() / elapsed.Seconds()
		}
		r.dbCores = dbTime.Seconds() / elapsed.Seconds()
	}
	var all []time.Duration
	var bytes int64
	for _, a := range accs {
		all = append(all, a.lat...)
		r.errors += a.errors
		bytes += a.bytes
		if r.firstErr == "" {
			r.firstErr = a.firstErr
		}
	}
	slices.SortFunc(all, cmp.Compare)
	r.n = len(all)
	if r.n == 0 {
		return r
	}
	pct := func(p float64) time.Duration { return all[min(len(all)-1, int(float64(len(all))*p))] }
	r.rps = float64(r.n) / elapsed.Seconds()
	r.p50, r.p95, r.p99, r.max = pct(0.50), pct(0.95), pct(0.99), all[len(all)-1]
	r.bytes = float64(bytes) / float64(r.n)
	if r.procCores > 0 {
		r.cpuPerReq = time.Duration((r.procCores + r.dbCores) / r.rps * float64(time.Second))
	}
	return r
}

// analyze gathers planner statistics for the tables of the store's schema
// only (a bare ANALYZE would visit every schema of the database).
func analyze(ctx context.Context, db *store.DB) error {
	rows, err := db.Query(ctx, `SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema()`)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(tables) == 0 {
		return nil
	}
	_, err = db.Exec(ctx, "ANALYZE "+strings.Join(tables, ", "))
	return err
}

// procCPU is the CPU time this process used so far (user and system).
func procCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// hostCPU is the busy CPU time of the whole machine so far, from
// /proc/stat (Linux; 0 elsewhere).
func hostCPU() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i >= 8 { // guest times are already in user
			break
		}
		busy += n
	}
	return time.Duration(busy) * time.Second / 100 // USER_HZ
}

// postgresTicks returns the CPU time (user+system, in clock ticks) of
// each process named "postgres" on this machine (Linux; nil elsewhere).
func postgresTicks() map[int]int64 {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	out := map[int]int64{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		st := string(b)
		open, closing := strings.IndexByte(st, '('), strings.LastIndexByte(st, ')')
		if open < 0 || closing < open || st[open+1:closing] != "postgres" {
			continue
		}
		f := strings.Fields(st[closing+1:])
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64) // utime: field 14 of stat
		s, _ := strconv.ParseInt(f[12], 10, 64) // stime: field 15
		out[pid] = u + s
	}
	return out
}

// postgresMeter measures the CPU the local PostgreSQL server's processes
// use between start and stop, sampling every 200 ms so that backends that
// exit meanwhile (pool churn) keep their share. Other clients of the same
// server count too: run on a quiet server.
type postgresMeter struct {
	first, last map[int]int64
	stop        chan struct{}
	done        chan struct{}
}

func startPostgresMeter() *postgresMeter {
	m := &postgresMeter{first: postgresTicks(), last: map[int]int64{}, stop: make(chan struct{}), done: make(chan struct{})}
	if m.first == nil {
		close(m.done)
		return m
	}
	go func() {
		defer close(m.done)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			for pid, v := range postgresTicks() {
				if _, ok := m.first[pid]; !ok {
					m.first[pid] = 0 // started during the measure
				}
				m.last[pid] = v
			}
			select {
			case <-m.stop:
				return
			case <-t.C:
			}
		}
	}()
	return m
}

// Stop ends the measure and returns the CPU time used.
func (m *postgresMeter) Stop() time.Duration {
	if m.first == nil {
		return 0
	}
	close(m.stop)
	<-m.done
	var ticks int64
	for pid, v := range m.last {
		ticks += max(0, v-m.first[pid])
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}

// loadavg returns /proc/loadavg's first three fields.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// purgeSessionsArgs and its worker mirror cmd/nisduc's hourly clean-up.
type purgeSessionsArgs struct{}

func (purgeSessionsArgs) Kind() string { return "auth.purge_sessions" }

type purgeSessionsWorker struct {
	river.WorkerDefaults[purgeSessionsArgs]
	auth *auth.Service
}

func (w *purgeSessionsWorker) Work(ctx context.Context, _ *river.Job[purgeSessionsArgs]) error {
	_, err := w.auth.PurgeExpired(ctx)
	return err
}
