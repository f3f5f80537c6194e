package audit

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
)

// Checkpoint is an authenticated past state of the chain.
type Checkpoint struct {
	Seq  int64     `json:"seq"`
	Hash string    `json:"hash"`
	At   time.Time `json:"at"`
	MAC  string    `json:"mac"`
}

// Checkpoint seals the current chain head in audit_checkpoints, with a MAC
// over (seq, hash, time), and writes it to the server log as well: that
// line is a copy outside the database, which is what reveals a tail cut
// back to an old head (see the package comment). It returns nil when the
// head has not moved since the last checkpoint.
//
// Errors: Internal when the head does not authenticate with the key
// (nothing is sealed on top of a head that cannot be trusted).
func (l *Log) Checkpoint(ctx context.Context, db *store.DB) (*Checkpoint, error) {
	var cp *Checkpoint
	err := db.Update(ctx, func(tx *store.Tx) error {
		q := `SELECT seq, hash, mac FROM audit_head WHERE id = 1`
		if tx.Dialect == store.Postgres {
			q += ` FOR UPDATE`
		}
		var h head
		if err := tx.QueryRow(ctx, q).Scan(&h.seq, &h.hash, &h.mac); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return nil // nothing recorded yet
			}
			return errs.Wrap(err, "audit head")
		}
		if !macEqual(h.mac, headMAC(l.key, h.seq, h.hash)) {
			return errs.Wrap(errors.New("audit head MAC mismatch"), "audit trail head does not match the audit key")
		}
		if h.seq == 0 {
			return nil
		}
		var last int64
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoints`).Scan(&last); err != nil {
			return errs.Wrap(err, "audit checkpoints")
		}
		if last >= h.seq {
			return nil
		}
		c := Checkpoint{Seq: h.seq, Hash: h.hash, At: tx.Now.UTC().Truncate(time.Microsecond)}
		c.MAC = checkpointMAC(l.key, c.Seq, c.Hash, c.At)
		if _, err := tx.Exec(ctx, `INSERT INTO audit_checkpoints (seq, hash, at, mac) VALUES (?, ?, ?, ?)`,
			c.Seq, c.Hash, c.At, c.MAC); err != nil {
			return errs.Wrap(err, "audit checkpoint")
		}
		cp = &c
		return nil
	})
	if err != nil {
		return nil, err
	}
	if cp != nil {
		slog.InfoContext(ctx, "audit checkpoint", "seq", cp.Seq, "hash", cp.Hash, "at", formatTime(cp.At), "mac", cp.MAC)
	}
	return cp, nil
}

// CheckpointArgs is the periodic job that calls Checkpoint.
type CheckpointArgs struct{}

// Kind names the job in River.
func (CheckpointArgs) Kind() string { return "audit.checkpoint" }

// InsertOpts: a missed checkpoint is made up by the next one, so one
// attempt is enough.
func (CheckpointArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

// CheckpointWorker works CheckpointArgs. Register it with
// river.AddWorker(workers, audit.NewCheckpointWorker(log, db)).
type CheckpointWorker struct {
	river.WorkerDefaults[CheckpointArgs]
	log *Log
	db  *store.DB
}

// NewCheckpointWorker returns the worker sealing l's chain in db.
func NewCheckpointWorker(l *Log, db *store.DB) *CheckpointWorker {
	return &CheckpointWorker{log: l, db: db}
}

// Work seals the head.
func (w *CheckpointWorker) Work(ctx context.Context, _ *river.Job[CheckpointArgs]) error {
	_, err := w.log.Checkpoint(ctx, w.db)
	return err
}

// PeriodicCheckpoint returns the periodic job that seals the chain every
// interval, and once when the job leader starts (River runs periodic jobs
// on the elected leader only, so one checkpoint is written per interval
// however many servers run; a run with nothing new writes nothing).
func PeriodicCheckpoint(every time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) { return CheckpointArgs{}, nil },
		&river.PeriodicJobOpts{ID: "audit.checkpoint", RunOnStart: true})
}
