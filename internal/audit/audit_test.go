package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/jobs"
	"github.com/nisduc/nisduc/internal/store"
	"github.com/nisduc/nisduc/internal/storetest"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

func actorCtx() context.Context {
	return authz.WithActor(context.Background(), &authz.Actor{
		UserID: "7d2a1b54-8a0e-4a59-9c55-3b8f2b0d6a11", OrgID: "0b6f8a57-43a8-4b8e-8d4f-2c6a7f1e9b22",
		Email: "analyst@nca.example", Name: "Ana Lyst", Addr: "198.51.100.7",
	})
}

// appendN records n entries, one transaction each.
func appendN(t testing.TB, db *store.DB, l *Log, n int) {
	t.Helper()
	ctx := actorCtx()
	for i := range n {
		err := db.Update(ctx, func(tx *store.Tx) error {
			return l.Record(ctx, tx, Entry{OrgID: "0b6f8a57-43a8-4b8e-8d4f-2c6a7f1e9b22", Action: "org.edit",
				ObjectType: "organization", ObjectID: fmt.Sprint(i), Details: map[string]any{"n": i, "name": "Énergie"}})
		})
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
}

// unprotect drops the append-only triggers, as someone with full access to
// the database would before tampering.
func unprotect(t testing.TB, db *store.DB) {
	t.Helper()
	stmts := []string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_checkpoints_no_update`}
	if db.Dialect == store.Postgres {
		stmts = []string{`DROP TRIGGER audit_log_append_only ON audit_log`, `DROP TRIGGER audit_checkpoints_append_only ON audit_checkpoints`}
	}
	for _, s := range stmts {
		if _, err := db.Exec(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
}

func exec(t testing.TB, db *store.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func verify(t testing.TB, db *store.DB, l *Log) Report {
	t.Helper()
	rep, err := l.Verify(context.Background(), db)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

func TestRecordStoresEveryField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l := New(testKey)
		ctx := actorCtx()
		fixed := time.Date(2025, 6, 1, 10, 11, 12, 345678912, time.UTC)
		db.Now = func() time.Time { return fixed }
		err := db.Update(ctx, func(tx *store.Tx) error {
			return l.Record(ctx, tx, Entry{OrgID: "0b6f8a57-43a8-4b8e-8d4f-2c6a7f1e9b22", Action: "user.roles",
				ObjectType: "user", ObjectID: "u1", Details: map[string]any{"roles": []string{"risk_manager"}, "password": "s3cret"}})
		})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := l.List(ctx, db, Filter{Scope: authz.Scope{All: true}})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 {
			t.Fatalf("got %d records", len(recs))
		}
		r := recs[0]
		want := Record{Seq: 1, ID: r.ID, At: fixed.Truncate(time.Microsecond),
			ActorUserID: "7d2a1b54-8a0e-4a59-9c55-3b8f2b0d6a11", ActorOrgID: "0b6f8a57-43a8-4b8e-8d4f-2c6a7f1e9b22",
			ActorName: "analyst@nca.example", Addr: "198.51.100.7", OrgID: "0b6f8a57-43a8-4b8e-8d4f-2c6a7f1e9b22",
			Action: "user.roles", ObjectType: "user", ObjectID: "u1",
			Details: `{"password":"[redacted]","roles":["risk_manager"]}`, PrevHash: genesisHash, Hash: r.Hash}
		if uuid.Validate(r.ID) != nil {
			t.Errorf("id %q is not a UUID", r.ID)
		}
		if !r.At.Equal(want.At) || r.At.Location() != time.UTC {
			t.Errorf("at = %v, want %v UTC", r.At, want.At)
		}
		r.At = want.At
		if r != want {
			t.Errorf("got  %+v\nwant %+v", r, want)
		}
		if r.Hash != newHasher().entryHash(&r) {
			t.Error("stored hash is not the hash of the stored fields")
		}
	})
}

func TestRecordRejectsBadEntries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l := New(testKey)
		ctx := context.Background()
		tests := []struct {
			name  string
			e     Entry
			field string
		}{
			{"no action", Entry{}, "action"},
			{"long action", Entry{Action: strings.Repeat("a", 101)}, "action"},
			{"long object id", Entry{Action: "x.y", ObjectID: strings.Repeat("a", 501)}, "object_id"},
			{"unencodable details", Entry{Action: "x.y", Details: map[string]any{"f": func() {}}}, "details"},
		}
		for _, tt := range tests {
			err := db.Update(ctx, func(tx *store.Tx) error { return l.Record(ctx, tx, tt.e) })
			e := errs.As(err)
			if e.Code != errs.Invalid || len(e.Fields) == 0 || e.Fields[0].Field != tt.field {
				t.Errorf("%s: got %v, want Invalid naming %s", tt.name, err, tt.field)
			}
		}
		if rep := verify(t, db, l); !rep.OK || rep.Entries != 0 {
			t.Errorf("rejected entries were recorded: %+v", rep)
		}
	})
}

func TestRecordRollsBackWithTheChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l := New(testKey)
		ctx := context.Background()
		appendN(t, db, l, 2)
		boom := fmt.Errorf("the change failed")
		err := db.Update(ctx, func(tx *store.Tx) error {
			if err := l.Record(ctx, tx, Entry{Action: "org.create"}); err != nil {
				return err
			}
			return boom
		})
		if err != boom {
			t.Fatalf("got %v", err)
		}
		appendN(t, db, l, 1)
		rep := verify(t, db, l)
		if !rep.OK || rep.Entries != 3 {
			t.Fatalf("after a rolled-back append: %+v %+v", rep, rep.Problem)
		}
	})
}

type tamperCase struct {
	name string
	// The chain has 10 entries and a checkpoint after the 6th.
	tamper   func(t *testing.T, db *store.DB, l *Log)
	verifier []byte // key to verify with (testKey when nil)
	kind     string // "" = OK
	seq      int64
	limit    bool // the documented limit: passes with 8 entries
}

func TestVerifyFindsTampering(t *testing.T) {
	tests := []tamperCase{
		{name: "intact"},
		{name: "details altered", kind: Altered, seq: 4, tamper: func(t *testing.T, db *store.DB, l *Log) {
			exec(t, db, `UPDATE audit_log SET details = '{"n":99}' WHERE seq = 4`)
		}},
		{name: "address altered", kind: Altered, seq: 9, tamper: func(t *testing.T, db *store.DB, l *Log) {
			exec(t, db, `UPDATE audit_log SET addr = '203.0.113.9' WHERE seq = 9`)
		}},
		{name: "altered with its hash recomputed", kind: Altered, seq: 5, tamper: func(t *testing.T, db *store.DB, l *Log) {
			rewrite(t, db, 4, func(r *Record) { r.ActorName = "someone else" })
		}},
		{name: "last entry rewritten with its hash recomputed", kind: Altered, seq: 10, tamper: func(t *testing.T, db *store.DB, l *Log) {
			rewrite(t, db, 10, func(r *Record) { r.ActorName = "someone else" })
		}},
		{name: "checkpointed entry rewritten with its hash recomputed", kind: Altered, seq: 6, tamper: func(t *testing.T, db *store.DB, l *Log) {
			// Rewriting 6 and relinking every later entry leaves a chain
			// consistent in itself; the checkpoint still holds the old hash.
			rewrite(t, db, 6, func(r *Record) { r.Action = "org.view" })
			for s := int64(7); s <= 10; s++ {
				rewrite(t, db, s, func(r *Record) {})
			}
		}},
		{name: "middle entry removed", kind: Removed, seq: 5, tamper: func(t *testing.T, db *store.DB, l *Log) {
			exec(t, db, `DELETE FROM audit_log WHERE seq = 5`)
		}},
		{name: "checkpointed entry removed", kind: Removed, seq: 6, tamper: func(t *testing.T, db *store.DB, l *Log) {
			exec(t, db, `DELETE FROM audit_log WHERE seq = 6`)
		}},
		{name: "tail after the last checkpoint cut", kind: Truncated, seq: 9, tamper: func(t *testing.T, db *store.DB, l *Log) {
			exec(t, db, `DELETE FROM audit_log WHERE seq >= 9`)
		}},
		{name: "tail including the checkpoint cut", kind: Truncated, seq: 5, tamper: func(t *testing.T, db *store.DB, l *Log) {
			exec(t, db, `DELETE FROM audit_log WHERE seq >= 5`)
		}},
		{name: "every entry deleted", kind: Truncated, seq: 1, tamper: func(t *testing.T, db *store.DB, l *Log) {
			exec(t, db, `DELETE FROM audit_log`)
		}},
		{name: "tail cut and an old head replayed: a later checkpoint shows it", kind: Truncated, seq: 9, tamper: func(t *testing.T, db *store.DB, l *Log) {
			replayOldHead(t, db, l, false)
		}},
		{name: "known limit: old head replayed and later checkpoints deleted", limit: true, tamper: func(t *testing.T, db *store.DB, l *Log) {
			replayOldHead(t, db, l, true)
		}},
		{name: "entries at the end of a page removed", kind: Removed, seq: 3, tamper: func(t *testing.T, db *store.DB, l *Log) {
			exec(t, db, `DELETE FROM audit_log WHERE seq IN (3, 4)`)
		}},
		{name: "entry numbered far ahead", kind: Removed, seq: 11, tamper: func(t *testing.T, db *store.DB, l *Log) {
			exec(t, db, `INSERT INTO audit_log (`+recordCols+`) SELECT 1000000000000, ?, at, actor_user_id, actor_org_id, actor_name, addr, org_id, action, object_type, object_id, details, prev_hash, hash FROM audit_log WHERE seq = 10`, uuid.NewString())
		}},
		{name: "forged checkpoint", kind: BadCheckpoint, seq: 8, tamper: func(t *testing.T, db *store.DB, l *Log) {
			exec(t, db, `INSERT INTO audit_checkpoints (seq, hash, at, mac) SELECT seq, hash, at, ? FROM audit_log WHERE seq = 8`, strings.Repeat("0", 64))
		}},
		{name: "checkpoint moved back in time", kind: BadCheckpoint, seq: 6, tamper: func(t *testing.T, db *store.DB, l *Log) {
			exec(t, db, `UPDATE audit_checkpoints SET at = ? WHERE seq = 6`, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
		}},
		{name: "forged checkpoint past the end", kind: BadCheckpoint, seq: 50, tamper: func(t *testing.T, db *store.DB, l *Log) {
			exec(t, db, `INSERT INTO audit_checkpoints (seq, hash, at, mac) VALUES (50, ?, ?, ?)`, genesisHash, time.Now(), genesisHash)
		}},
		{name: "head forged", kind: BadHead, seq: 10, tamper: func(t *testing.T, db *store.DB, l *Log) {
			exec(t, db, `UPDATE audit_head SET mac = ?`, strings.Repeat("f", 64))
		}},
		{name: "head deleted", kind: BadHead, seq: 10, tamper: func(t *testing.T, db *store.DB, l *Log) {
			exec(t, db, `DELETE FROM audit_head`)
		}},
		{name: "entry appended outside nisduc", kind: BadHead, seq: 11, tamper: func(t *testing.T, db *store.DB, l *Log) {
			var r Record
			rows, _ := db.Query(context.Background(), `SELECT `+recordCols+` FROM audit_log WHERE seq = 10`)
			rows.Next()
			scanRecord(rows, &r)
			rows.Close()
			r.Seq, r.ID, r.PrevHash = 11, uuid.NewString(), r.Hash
			r.Hash = newHasher().entryHash(&r)
			exec(t, db, `INSERT INTO audit_log (`+recordCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				r.Seq, r.ID, r.At, r.ActorUserID, r.ActorOrgID, r.ActorName, r.Addr, r.OrgID, r.Action, r.ObjectType, r.ObjectID, r.Details, r.PrevHash, r.Hash)
		}},
		{name: "wrong key", verifier: []byte(strings.Repeat("w", 32)), kind: BadCheckpoint, seq: 6},
	}
	for _, page := range []int64{10000, 4} { // one page, and pages that split the chain
		t.Run(fmt.Sprintf("page=%d", page), func(t *testing.T) { testTampering(t, page, tests) })
	}
}

func testTampering(t *testing.T, page int64, tests []tamperCase) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		defer func(p int64) { verifyPage = p }(verifyPage)
		verifyPage = page
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				exec(t, db, `DELETE FROM audit_head`)
				if db.Dialect == store.Postgres {
					exec(t, db, `TRUNCATE audit_log, audit_checkpoints`)
				} else {
					exec(t, db, `DELETE FROM audit_log`)
					exec(t, db, `DELETE FROM audit_checkpoints`)
				}
				l := New(testKey)
				appendN(t, db, l, 6)
				if cp, err := l.Checkpoint(context.Background(), db); err != nil || cp == nil || cp.Seq != 6 {
					t.Fatalf("checkpoint: %+v %v", cp, err)
				}
				appendN(t, db, l, 4)
				if tt.tamper != nil {
					unprotect(t, db)
					defer reprotect(t, db)
					tt.tamper(t, db, l)
				}
				v := l
				if tt.verifier != nil {
					v = New(tt.verifier)
				}
				rep := verify(t, db, v)
				if tt.limit {
					if !rep.OK || rep.Entries != 8 {
						t.Fatalf("the documented limit changed (update the package comment): %+v %+v", rep, rep.Problem)
					}
					return
				}
				if tt.kind == "" {
					if !rep.OK || rep.Entries != 10 || rep.Checkpoints != 1 || rep.Problem != nil {
						t.Fatalf("intact chain: %+v %+v", rep, rep.Problem)
					}
					return
				}
				if rep.OK || rep.Problem == nil {
					t.Fatalf("not detected: %+v", rep)
				}
				if rep.Problem.Kind != tt.kind || rep.Problem.Seq != tt.seq {
					t.Fatalf("got %s at %d (%s), want %s at %d", rep.Problem.Kind, rep.Problem.Seq, rep.Problem.Detail, tt.kind, tt.seq)
				}
				if rep.Problem.Detail == "" || !strings.Contains(rep.Problem.Message("fr"), fmt.Sprint(tt.seq)) {
					t.Errorf("problem not explained: %+v / %q", rep.Problem, rep.Problem.Message("fr"))
				}
			})
		}
	})
}

// replayOldHead simulates someone who copied the head row when the chain
// ended at entry 8, then (after a checkpoint sealed entry 10) cuts the
// entries after 8 and puts the copied row back; dropCheckpoints also deletes
// the checkpoints past 8.
func replayOldHead(t *testing.T, db *store.DB, l *Log, dropCheckpoints bool) {
	t.Helper()
	var seq int64
	var hash, mac string
	// The copy made at entry 8: the head as Record left it then.
	var h8 string
	if err := db.QueryRow(context.Background(), `SELECT hash FROM audit_log WHERE seq = 8`).Scan(&h8); err != nil {
		t.Fatal(err)
	}
	seq, hash, mac = 8, h8, headMAC(testKey, 8, h8)
	if cp, err := l.Checkpoint(context.Background(), db); err != nil || cp == nil || cp.Seq != 10 {
		t.Fatalf("checkpoint: %+v %v", cp, err)
	}
	exec(t, db, `DELETE FROM audit_log WHERE seq > 8`)
	exec(t, db, `UPDATE audit_head SET seq = ?, hash = ?, mac = ?`, seq, hash, mac)
	if dropCheckpoints {
		exec(t, db, `DELETE FROM audit_checkpoints WHERE seq > 8`)
	}
}

// rewrite changes entry seq and recomputes its hash from its stored
// prev_hash... relinked to the current hash of the entry before it, as an
// attacker who knows the (public) hash construction would.
func rewrite(t *testing.T, db *store.DB, seq int64, f func(r *Record)) {
	t.Helper()
	ctx := context.Background()
	var r Record
	rows, err := db.Query(ctx, `SELECT `+recordCols+` FROM audit_log WHERE seq = ?`, seq)
	if err != nil {
		t.Fatal(err)
	}
	rows.Next()
	if err := scanRecord(rows, &r); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if seq > 1 {
		if err := db.QueryRow(ctx, `SELECT hash FROM audit_log WHERE seq = ?`, seq-1).Scan(&r.PrevHash); err != nil {
			t.Fatal(err)
		}
	}
	f(&r)
	r.Hash = newHasher().entryHash(&r)
	exec(t, db, `UPDATE audit_log SET actor_name = ?, action = ?, prev_hash = ?, hash = ? WHERE seq = ?`, r.ActorName, r.Action, r.PrevHash, r.Hash, seq)
}

func reprotect(t testing.TB, db *store.DB) {
	t.Helper()
	if db.Dialect == store.Postgres {
		exec(t, db, `CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_append_only()`)
		exec(t, db, `CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints FOR EACH ROW EXECUTE FUNCTION audit_append_only()`)
		return
	}
	exec(t, db, `CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`)
	exec(t, db, `CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END`)
}

func TestConcurrentAppendsMakeOneChain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l := New(testKey)
		const writers, each = 8, 25
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				ctx := context.Background()
				for i := range each {
					err := db.Update(ctx, func(tx *store.Tx) error {
						return l.Record(ctx, tx, Entry{Action: "test.append", ObjectID: fmt.Sprintf("%d/%d", w, i)})
					})
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		// Verify while the appends run: it reads one snapshot, so a chain
		// growing under it never looks broken.
		done := make(chan struct{})
		var verifies int
		go func() {
			defer close(done)
			for {
				rep := verify(t, db, l)
				verifies++
				if !rep.OK {
					t.Errorf("verify during appends: %+v", rep.Problem)
					return
				}
				if rep.Entries == writers*each {
					return
				}
			}
		}()
		wg.Wait()
		<-done
		t.Logf("%d verifies ran during the appends", verifies)
		rep := verify(t, db, l)
		if !rep.OK || rep.Entries != writers*each {
			t.Fatalf("got %+v %+v, want one valid chain of %d", rep, rep.Problem, writers*each)
		}
		var n, distinct int
		db.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT object_id) FROM audit_log`).Scan(&n, &distinct)
		if n != writers*each || distinct != n {
			t.Errorf("%d rows, %d distinct objects", n, distinct)
		}
	})
}

func TestCheckpoint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l := New(testKey)
		ctx := context.Background()
		if cp, err := l.Checkpoint(ctx, db); err != nil || cp != nil {
			t.Fatalf("empty trail: %+v %v, want nothing sealed", cp, err)
		}
		appendN(t, db, l, 3)
		cp, err := l.Checkpoint(ctx, db)
		if err != nil || cp == nil || cp.Seq != 3 || len(cp.MAC) != 64 {
			t.Fatalf("got %+v %v", cp, err)
		}
		if again, err := l.Checkpoint(ctx, db); err != nil || again != nil {
			t.Fatalf("head did not move: got %+v %v, want nothing sealed", again, err)
		}
		appendN(t, db, l, 2)
		if cp, err := l.Checkpoint(ctx, db); err != nil || cp == nil || cp.Seq != 5 {
			t.Fatalf("got %+v %v", cp, err)
		}
		if rep := verify(t, db, l); !rep.OK || rep.Checkpoints != 2 || rep.Entries != 5 {
			t.Fatalf("%+v %+v", rep, rep.Problem)
		}
		// A Log with another key neither seals nor appends on this chain.
		wrong := New([]byte(strings.Repeat("w", 32)))
		appendN(t, db, l, 1)
		if _, err := wrong.Checkpoint(ctx, db); !errs.Is(err, errs.Internal) {
			t.Errorf("checkpoint with a wrong key: got %v, want Internal", err)
		}
		err = db.Update(ctx, func(tx *store.Tx) error { return wrong.Record(ctx, tx, Entry{Action: "x.y"}) })
		if !errs.Is(err, errs.Internal) {
			t.Errorf("record with a wrong key: got %v, want Internal", err)
		}
		if err := wrong.CheckKey(ctx, db); !errs.Is(err, errs.Invalid) {
			t.Errorf("CheckKey with a wrong key: got %v, want Invalid", err)
		}
		if err := l.CheckKey(ctx, db); err != nil {
			t.Errorf("CheckKey with the right key: %v", err)
		}
		if rep := verify(t, db, l); !rep.OK || rep.Entries != 6 {
			t.Fatalf("%+v %+v", rep, rep.Problem)
		}
	})
}

func TestEmptyTrail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l := New(testKey)
		if err := l.CheckKey(context.Background(), db); err != nil {
			t.Fatal(err)
		}
		rep := verify(t, db, l)
		if !rep.OK || rep.Entries != 0 || rep.Checkpoints != 0 {
			t.Fatalf("%+v", rep)
		}
	})
}

func TestRecordRefusesWithoutHeadOnNonEmptyTrail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l := New(testKey)
		ctx := context.Background()
		appendN(t, db, l, 2)
		exec(t, db, `DELETE FROM audit_head`)
		err := db.Update(ctx, func(tx *store.Tx) error { return l.Record(ctx, tx, Entry{Action: "x.y"}) })
		if !errs.Is(err, errs.Internal) {
			t.Fatalf("got %v, want Internal", err)
		}
		var n int
		db.QueryRow(ctx, `SELECT count(*) FROM audit_log`).Scan(&n)
		if n != 2 {
			t.Errorf("%d entries, want 2", n)
		}
	})
}

func TestTrailIsAppendOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l := New(testKey)
		appendN(t, db, l, 2)
		if _, err := l.Checkpoint(context.Background(), db); err != nil {
			t.Fatal(err)
		}
		stmts := []string{`UPDATE audit_log SET action = 'x' WHERE seq = 1`, `UPDATE audit_checkpoints SET hash = 'x'`}
		if db.Dialect == store.Postgres {
			stmts = append(stmts, `DELETE FROM audit_log WHERE seq = 1`, `DELETE FROM audit_checkpoints`)
		}
		for _, q := range stmts {
			if _, err := db.Exec(context.Background(), q); err == nil || !strings.Contains(causes(err), "append-only") {
				t.Errorf("%s: got %v, want refused", q, err)
			}
		}
		if rep := verify(t, db, l); !rep.OK {
			t.Fatalf("%+v", rep.Problem)
		}
	})
}

// causes joins the messages of err and every error it wraps.
func causes(err error) string {
	var b strings.Builder
	for e := err; e != nil; e = errors.Unwrap(e) {
		b.WriteString(e.Error())
		b.WriteString(": ")
	}
	return b.String()
}

// TestPeriodicCheckpointJob wires the checkpoint worker and its periodic
// job into a jobs client, as `serve` does, and sees the checkpoint the
// leader writes when it starts.
func TestPeriodicCheckpointJob(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := New(testKey)
		appendN(t, db, l, 3)
		if err := jobs.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		w := river.NewWorkers()
		river.AddWorker(w, NewCheckpointWorker(l, db))
		pj := PeriodicCheckpoint(time.Hour)
		c, err := jobs.New(db, jobs.Config{Workers: w, PeriodicJobs: []*river.PeriodicJob{pj}, PollInterval: 50 * time.Millisecond})
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
		deadline := time.Now().Add(10 * time.Second)
		for {
			var n int
			db.QueryRow(ctx, `SELECT count(*) FROM audit_checkpoints WHERE seq = 3`).Scan(&n)
			if n == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no checkpoint written by the job")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if rep := verify(t, db, l); !rep.OK || rep.Checkpoints != 1 {
			t.Fatalf("%+v %+v", rep, rep.Problem)
		}
	})
}
