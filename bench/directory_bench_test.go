package bench

// Benchmarks of the directory at national scale, below the HTTP layer:
//
//	go test ./bench -run '^$' -bench . -benchtime 3s
//	NISDUC_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' go test ./bench -run '^$' -bench .
//
// Setup seeds NISDUC_BENCH_ORGS organisations (default 10000) and
// NISDUC_BENCH_USERS users (default 2000: users do not change these
// queries) once per database, which takes a few seconds to a minute. The
// benchmarks run only with -bench, so `go test ./...` never pays it; they
// also skip under -short.

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/nisduc/nisduc/bench/seed"
	"github.com/nisduc/nisduc/internal/audit"
	"github.com/nisduc/nisduc/internal/auth"
	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/directory"
	"github.com/nisduc/nisduc/internal/store"
	"github.com/nisduc/nisduc/internal/storetest"
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

type fixture struct {
	db   *store.DB
	dir  *directory.Service
	log  *audit.Log
	res  seed.Result
	as   map[string]context.Context // actor name → context
	deep int
}

func setup(b *testing.B, db *store.DB) *fixture {
	b.Helper()
	ctx := context.Background()
	log := audit.New([]byte("bench-audit-key-0123456789abcdef0123456789"))
	dir := directory.New(db, log)
	res, err := seed.Run(ctx, db, dir, log, seed.Config{Orgs: envInt("NISDUC_BENCH_ORGS", 10000),
		Users: envInt("NISDUC_BENCH_USERS", 2000)})
	if err != nil {
		b.Fatalf("seed: %v", err)
	}
	a := auth.New(db, log, auth.Config{})
	f := &fixture{db: db, dir: dir, log: log, res: res, as: map[string]context.Context{}, deep: ((res.Orgs - 1) / 50) * 50}
	for name, u := range map[string]seed.User{"admin": res.Admin, "analyst": res.Analyst, "operator": res.OperatorAdmin} {
		actor, err := a.ActorFor(ctx, u.ID)
		if err != nil {
			b.Fatalf("actor %s: %v", name, err)
		}
		f.as[name] = authz.WithActor(ctx, actor)
	}
	return f
}

func databases(b *testing.B) map[string]func(testing.TB) *store.DB {
	if testing.Short() {
		b.Skip("national-scale setup skipped in -short mode")
	}
	dbs := map[string]func(testing.TB) *store.DB{"sqlite": storetest.SQLite}
	if os.Getenv(storetest.EnvPostgres) != "" {
		dbs["postgres"] = storetest.Postgres
	}
	return dbs
}

// BenchmarkDirectory measures the directory calls behind the API's list,
// search and read endpoints, per database. ns/op is the latency of one
// call on an otherwise idle store.
func BenchmarkDirectory(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		open, ok := databases(b)[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			f := setup(b, open(b))
			list := func(actor string, flt directory.OrgFilter) func(b *testing.B) {
				return func(b *testing.B) {
					for b.Loop() {
						if _, err := f.dir.ListOrgs(f.as[actor], flt); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
			b.Run("ListOrgs/admin/limit=10", list("admin", directory.OrgFilter{Limit: 10}))
			b.Run("ListOrgs/admin/limit=50", list("admin", directory.OrgFilter{Limit: 50}))
			b.Run("ListOrgs/admin/limit=500", list("admin", directory.OrgFilter{Limit: 500}))
			b.Run("ListOrgs/admin/limit=50/deep", list("admin", directory.OrgFilter{Limit: 50, Offset: f.deep}))
			b.Run("ListOrgs/analyst/limit=50", list("analyst", directory.OrgFilter{Limit: 50}))
			b.Run("ListOrgs/operator/limit=50", list("operator", directory.OrgFilter{Limit: 50}))
			b.Run("Search/admin/name", list("admin", directory.OrgFilter{Query: f.res.SearchName}))
			b.Run("Search/admin/ip", list("admin", directory.OrgFilter{Query: f.res.SearchIP}))
			b.Run("Search/admin/asn", list("admin", directory.OrgFilter{Query: f.res.SearchASN}))
			b.Run("Search/analyst/name", list("analyst", directory.OrgFilter{Query: f.res.SearchName}))
			b.Run("GetOrg/admin", func(b *testing.B) {
				i := 0
				for b.Loop() {
					if _, err := f.dir.GetOrg(f.as["admin"], f.res.OperatorIDs[i%len(f.res.OperatorIDs)]); err != nil {
						b.Fatal(err)
					}
					i += 7919
				}
			})
			b.Run("AuditList/admin", func(b *testing.B) {
				for b.Loop() {
					if _, err := f.log.List(f.as["admin"], f.db, audit.Filter{Scope: authz.Scope{All: true}}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("AuditList/analyst", func(b *testing.B) {
				sc := authz.ScopeOf(authz.ActorFrom(f.as["analyst"]), authz.AuditView)
				for b.Loop() {
					if _, err := f.log.List(f.as["analyst"], f.db, audit.Filter{Scope: sc}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
