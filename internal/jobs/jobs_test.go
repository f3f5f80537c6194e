package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/nisduc/nisduc/internal/store"
	"github.com/nisduc/nisduc/internal/storetest"
)

// testArgs is a job that records its runs in a recorder.
type testArgs struct {
	Name string `json:"name"`
	// FailUntil makes attempts before this one fail.
	FailUntil int `json:"fail_until"`
	// Sleep makes the job take this long (or until cancelled).
	Sleep time.Duration `json:"sleep"`
}

func (testArgs) Kind() string { return "test.record" }

type recorder struct {
	mu        sync.Mutex
	runs      map[string]int // name → completed runs
	tries     map[string]int
	cancelled atomic.Int32
}

type testWorker struct {
	river.WorkerDefaults[testArgs]
	rec *recorder
}

func (w *testWorker) Work(ctx context.Context, job *river.Job[testArgs]) error {
	w.rec.mu.Lock()
	w.rec.tries[job.Args.Name]++
	w.rec.mu.Unlock()
	if job.Attempt < job.Args.FailUntil {
		return fmt.Errorf("attempt %d fails on purpose", job.Attempt)
	}
	if job.Args.Sleep > 0 {
		select {
		case <-time.After(job.Args.Sleep):
		case <-ctx.Done():
			w.rec.cancelled.Add(1)
			return ctx.Err()
		}
	}
	w.rec.mu.Lock()
	w.rec.runs[job.Args.Name]++
	w.rec.mu.Unlock()
	return nil
}

// NextRetry retries at once, so the test need not wait River's back-off.
func (w *testWorker) NextRetry(*river.Job[testArgs]) time.Time { return time.Now() }

func (r *recorder) get(name string) (runs, tries int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.runs[name], r.tries[name]
}

// start migrates River's tables and starts a client working testArgs.
func start(t *testing.T, db *store.DB, extra ...func(*Config)) (*Client, *recorder) {
	t.Helper()
	ctx := context.Background()
	if err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{runs: map[string]int{}, tries: map[string]int{}}
	w := river.NewWorkers()
	river.AddWorker(w, &testWorker{rec: rec})
	cfg := Config{Workers: w, PollInterval: 50 * time.Millisecond}
	for _, f := range extra {
		f(&cfg)
	}
	c, err := New(db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c.Stop(ctx)
	})
	return c, rec
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func insert(t *testing.T, db *store.DB, args testArgs, fail error) error {
	t.Helper()
	return db.Update(context.Background(), func(tx *store.Tx) error {
		if err := Insert(context.Background(), tx, args, nil); err != nil {
			t.Fatal(err)
		}
		return fail
	})
}

func TestCommittedJobRunsRolledBackNever(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		_, rec := start(t, db)
		rollback := errors.New("the write failed")
		if err := insert(t, db, testArgs{Name: "rolled-back"}, rollback); err != rollback {
			t.Fatalf("got %v", err)
		}
		if err := insert(t, db, testArgs{Name: "committed"}, nil); err != nil {
			t.Fatal(err)
		}
		// Jobs of one queue are fetched oldest first: once "committed" ran,
		// "rolled-back" would have run too, had it existed.
		waitFor(t, 10*time.Second, "the committed job", func() bool { n, _ := rec.get("committed"); return n == 1 })
		time.Sleep(200 * time.Millisecond)
		if n, tries := rec.get("rolled-back"); n != 0 || tries != 0 {
			t.Errorf("the rolled-back job ran %d times", tries)
		}
		var n int
		db.QueryRow(context.Background(), `SELECT count(*) FROM river_job`).Scan(&n)
		if n != 1 {
			t.Errorf("%d rows in river_job, want 1", n)
		}
	})
}

func TestFailingJobRetries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c, rec := start(t, db)
		events, cancel := c.River().Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
		defer cancel()
		if err := insert(t, db, testArgs{Name: "flaky", FailUntil: 3}, nil); err != nil {
			t.Fatal(err)
		}
		var failed int
		timeout := time.After(15 * time.Second)
		for {
			select {
			case ev := <-events:
				switch ev.Kind {
				case river.EventKindJobFailed:
					failed++
					if ev.Job.State != rivertype.JobStateAvailable && ev.Job.State != rivertype.JobStateRetryable {
						t.Fatalf("failed attempt left the job %s, want it to be retried", ev.Job.State)
					}
					continue
				case river.EventKindJobCompleted:
				}
				if ev.Job.Attempt != 3 || failed != 2 || len(ev.Job.Errors) != 2 {
					t.Fatalf("completed at attempt %d after %d failures (%d errors recorded), want 3 and 2", ev.Job.Attempt, failed, len(ev.Job.Errors))
				}
				if runs, tries := rec.get("flaky"); runs != 1 || tries != 3 {
					t.Fatalf("runs %d tries %d", runs, tries)
				}
				return
			case <-timeout:
				t.Fatalf("no completion after %d failures", failed)
			}
		}
	})
}

func TestInsertIsVisibleInTheTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c, _ := start(t, db)
		list := func(tx *sql.Tx) []*rivertype.JobRow {
			t.Helper()
			res, err := c.River().JobListTx(ctx, tx, river.NewJobListParams().Kinds(testArgs{}.Kind()).
				States(rivertype.JobStateAvailable, rivertype.JobStateRunning, rivertype.JobStateCompleted))
			if err != nil {
				t.Fatal(err)
			}
			return res.Jobs
		}
		err := db.Update(ctx, func(tx *store.Tx) error {
			if err := Insert(ctx, tx, testArgs{Name: "seen"}, &river.InsertOpts{Queue: "unworked", MaxAttempts: 7}); err != nil {
				return err
			}
			jobs := list(tx.Tx)
			if len(jobs) != 1 || jobs[0].Queue != "unworked" || jobs[0].MaxAttempts != 7 || !strings.Contains(string(jobs[0].EncodedArgs), `"seen"`) {
				t.Errorf("inside the transaction: %d jobs %+v", len(jobs), jobs)
			}
			return errors.New("roll back")
		})
		if err == nil {
			t.Fatal("expected the rollback")
		}
		tx, err := db.SQL().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if jobs := list(tx); len(jobs) != 0 {
			t.Errorf("after rollback: %d jobs", len(jobs))
		}
	})
}

func TestMigrateIsIdempotentAndConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make([]error, 3)
		for i := range errs {
			wg.Go(func() { errs[i] = Migrate(ctx, db) })
		}
		if db.Dialect == store.SQLite {
			// Another process on the same file: a second store, its own writer.
			other, err := store.Open(ctx, store.Config{DSN: "sqlite:" + db.Path})
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			errs = append(errs, nil, nil)
			for i := range 2 {
				wg.Go(func() { errs[3+i] = Migrate(ctx, other) })
			}
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM river_job`).Scan(&n); err != nil {
			t.Fatalf("river_job missing: %v", err)
		}
	})
}

func TestPeriodicJobRuns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		_, rec := start(t, db, func(c *Config) {
			c.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
				func() (river.JobArgs, *river.InsertOpts) { return testArgs{Name: "tick"}, nil },
				&river.PeriodicJobOpts{ID: "tick", RunOnStart: true})}
		})
		// The leader must be elected before periodic jobs are scheduled.
		waitFor(t, 15*time.Second, "the periodic job", func() bool { n, _ := rec.get("tick"); return n >= 1 })
	})
}

func TestStopWaitsThenCancels(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c, rec := start(t, db)
		insert(t, db, testArgs{Name: "short", Sleep: 300 * time.Millisecond}, nil)
		waitFor(t, 10*time.Second, "the short job to start", func() bool { _, tries := rec.get("short"); return tries == 1 })
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if runs, _ := rec.get("short"); runs != 1 {
			t.Fatal("Stop returned before the running job finished")
		}

		c2, rec2 := start(t, db)
		insert(t, db, testArgs{Name: "long", Sleep: time.Minute}, nil)
		waitFor(t, 10*time.Second, "the long job to start", func() bool { _, tries := rec2.get("long"); return tries == 1 })
		ctx2, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel2()
		began := time.Now()
		if err := c2.Stop(ctx2); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(began); took > 5*time.Second || rec2.cancelled.Load() != 1 {
			t.Fatalf("Stop took %v, cancelled %d jobs: want the long job cancelled after the grace period", took, rec2.cancelled.Load())
		}
	})
}

func TestNewNeedsWorkers(t *testing.T) {
	db := storetest.SQLite(t)
	if _, err := New(db, Config{}); err == nil {
		t.Fatal("a client without workers was accepted")
	}
	w := river.NewWorkers()
	river.AddWorker(w, &testWorker{})
	if _, err := New(db, Config{Workers: w, Queues: map[string]river.QueueConfig{"q": {MaxWorkers: 0}}}); err == nil {
		t.Fatal("a queue with no workers was accepted")
	}
}

// TestLoad inserts jobs from many concurrent application transactions while
// the workers run (each job itself writes), and reports throughput. It
// fails on any error ("database is locked" included) and on a stall.
// NISDUC_JOBS_LOAD="writers,each,workers" runs a bigger load by hand.
func TestLoad(t *testing.T) {
	writers, each, workers := 8, 25, DefaultWorkers
	if v := os.Getenv("NISDUC_JOBS_LOAD"); v != "" {
		if _, err := fmt.Sscanf(v, "%d,%d,%d", &writers, &each, &workers); err != nil {
			t.Fatalf("NISDUC_JOBS_LOAD=%q: %v", v, err)
		}
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, `CREATE TABLE load_app (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `CREATE TABLE load_done (name TEXT PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
		if err := Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		w := river.NewWorkers()
		river.AddWorker(w, river.WorkFunc(func(ctx context.Context, job *river.Job[loadArgs]) error {
			return db.Update(ctx, func(tx *store.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO load_done (name) VALUES (?)`, job.Args.Name)
				return err
			})
		}))
		c, err := New(db, Config{Workers: w, Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: workers}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer func() {
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			c.Stop(sctx)
		}()
		began := time.Now()
		var wg sync.WaitGroup
		var failures atomic.Int32
		var slowest atomic.Int64
		for g := range writers {
			wg.Go(func() {
				for i := range each {
					t0 := time.Now()
					err := db.Update(ctx, func(tx *store.Tx) error {
						id := g*each + i
						if _, err := tx.Exec(ctx, `INSERT INTO load_app (id, v) VALUES (?, ?)`, id, "x"); err != nil {
							return err
						}
						return Insert(ctx, tx, loadArgs{Name: fmt.Sprint(id)}, nil)
					})
					if d := time.Since(t0).Nanoseconds(); d > slowest.Load() {
						slowest.Store(d)
					}
					if err != nil {
						failures.Add(1)
						t.Errorf("write %d/%d: %v", g, i, err)
					}
				}
			})
		}
		wg.Wait()
		inserted := time.Since(began)
		total := writers * each
		var done int
		waitFor(t, 60*time.Second, "every job", func() bool {
			db.QueryRow(ctx, `SELECT count(*) FROM load_done`).Scan(&done)
			return done == total
		})
		worked := time.Since(began)
		t.Logf("%s, %d workers: %d transactions (write + job insert) from %d goroutines in %v (%.0f/s, slowest %v) while working; all %d jobs done after %v (%.0f jobs/s); %d errors",
			db.Dialect, workers, total, writers, inserted.Round(time.Millisecond), float64(total)/inserted.Seconds(),
			time.Duration(slowest.Load()).Round(time.Millisecond), total, worked.Round(time.Millisecond), float64(total)/worked.Seconds(), failures.Load())
	})
}

type loadArgs struct {
	Name string `json:"name"`
}

func (loadArgs) Kind() string { return "test.load" }
