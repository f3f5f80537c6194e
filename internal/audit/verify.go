package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/i18n"
	"github.com/nisduc/nisduc/internal/store"
)

// Problem kinds reported by Verify.
const (
	Altered       = "altered"        // an entry's content, or the link to it, changed
	Removed       = "removed"        // entries are missing inside the chain
	Truncated     = "truncated"      // entries are missing after the last one present
	BadCheckpoint = "bad-checkpoint" // a checkpoint does not authenticate with the key
	BadHead       = "bad-head"       // the chain head is missing, forged, or behind the chain
)

// Problem is the first broken link Verify found.
type Problem struct {
	Seq    int64  `json:"seq"`          // the entry (or checkpoint) where the chain breaks
	ID     string `json:"id,omitempty"` // that entry's id, when it exists
	Kind   string `json:"kind"`         // Altered, Removed, Truncated, BadCheckpoint or BadHead
	Detail string `json:"detail"`       // English explanation for logs and the CLI
}

// Message is the problem in lang, for the web page.
func (p *Problem) Message(lang string) string {
	return i18n.T(lang, "audit.verify.broken", p.Seq, i18n.T(lang, "audit.problem."+p.Kind))
}

// Report is what Verify found.
type Report struct {
	Entries     int      `json:"entries"`     // entries verified (before the problem, if any)
	Checkpoints int      `json:"checkpoints"` // checkpoints verified
	OK          bool     `json:"ok"`
	Problem     *Problem `json:"problem,omitempty"`
}

// verifyPage is how many entries one query reads. Each page is a range of
// seq, so memory stays constant however long the chain is, and no two
// cursors are open at once on the one connection of the snapshot.
var verifyPage int64 = 10000

type checkpoint struct {
	seq       int64
	hash, mac string
	at        time.Time
}

// Verify walks the whole chain in seq order, in one snapshot of the
// database: it recomputes every entry's hash, checks every link, checks
// every checkpoint's MAC and that its (seq, hash) is on the chain, and
// checks the head. It stops at the first problem, so Problem is the first
// broken link. Verify only reads: it can run against a restored backup.
//
// Errors are for failures to read (Internal); a broken chain is a Report
// with OK false, not an error.
func (l *Log) Verify(ctx context.Context, db *store.DB) (Report, error) {
	var rep Report
	err := db.View(ctx, func(tx *store.Tx) error {
		if tx.Dialect == store.Postgres {
			// store.View is READ COMMITTED on PostgreSQL: ask for one
			// snapshot, or appends made during the walk would look like
			// a head that ran ahead of the chain.
			if _, err := tx.Exec(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`); err != nil {
				return err
			}
		}
		p, err := l.verify(ctx, tx, &rep)
		if err != nil {
			return err
		}
		rep.Problem = p
		rep.OK = p == nil
		return nil
	})
	if err != nil {
		return Report{}, errs.Wrap(err, "audit verify")
	}
	return rep, nil
}

func (l *Log) verify(ctx context.Context, tx *store.Tx, rep *Report) (*Problem, error) {
	var h head
	hasHead := true
	if err := tx.QueryRow(ctx, `SELECT seq, hash, mac FROM audit_head WHERE id = 1`).Scan(&h.seq, &h.hash, &h.mac); err != nil {
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		hasHead = false
	}
	var minSeq, maxSeq int64
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MIN(seq), 1), COALESCE(MAX(seq), 0) FROM audit_log`).Scan(&minSeq, &maxSeq); err != nil {
		return nil, err
	}
	if minSeq < 1 {
		// Only possible with the CHECK constraint dropped; the walk starts
		// at 1 and would never see such a row.
		return &Problem{Seq: minSeq, Kind: Altered, Detail: fmt.Sprintf("an entry numbered %d was added outside nisduc", minSeq)}, nil
	}

	x := newHasher()
	prev, expect := genesisHash, int64(1)
	var (
		r   Record
		cps []checkpoint // checkpoints not yet matched to an entry, in seq order
	)
	for lo := int64(0); lo < maxSeq; lo += verifyPage {
		hi := lo + verifyPage
		more, err := loadCheckpoints(ctx, tx, lo, hi)
		if err != nil {
			return nil, err
		}
		// Checkpoints left from the previous page point at entries that
		// were not there: the next entry read shows a gap (Removed), or
		// none comes (Truncated, below).
		cps = append(cps, more...)
		rows, err := tx.Query(ctx, `SELECT `+recordCols+` FROM audit_log WHERE seq > ? AND seq <= ? ORDER BY seq`, lo, hi)
		if err != nil {
			return nil, err
		}
		p, err := func() (*Problem, error) {
			defer rows.Close()
			for rows.Next() {
				if err := scanRecord(rows, &r); err != nil {
					return nil, err
				}
				if r.Seq != expect {
					return &Problem{Seq: expect, Kind: Removed,
						Detail: fmt.Sprintf("entries %d to %d are missing (the chain goes on at %d)", expect, r.Seq-1, r.Seq)}, nil
				}
				if got := x.entryHash(&r); got != r.Hash {
					return &Problem{Seq: r.Seq, ID: r.ID, Kind: Altered,
						Detail: fmt.Sprintf("entry %d does not match its hash: its content was changed", r.Seq)}, nil
				}
				if r.PrevHash != prev {
					return &Problem{Seq: r.Seq, ID: r.ID, Kind: Altered,
						Detail: fmt.Sprintf("entry %d does not link to entry %d: entry %d was rewritten, or entries were removed and renumbered", r.Seq, r.Seq-1, r.Seq-1)}, nil
				}
				for len(cps) > 0 && cps[0].seq == r.Seq {
					if p := l.checkCheckpoint(cps[0], r.Hash); p != nil {
						p.ID = r.ID
						return p, nil
					}
					rep.Checkpoints++
					cps = cps[1:]
				}
				prev = r.Hash
				expect++
				rep.Entries++
			}
			return nil, rows.Err()
		}()
		if p != nil || err != nil {
			return p, err
		}
		if expect <= hi && expect <= maxSeq {
			// Entries are missing at the end of this page while later ones
			// exist: report the gap now rather than walk empty pages up
			// to an entry numbered far ahead.
			var next int64
			if err := tx.QueryRow(ctx, `SELECT MIN(seq) FROM audit_log WHERE seq > ?`, expect).Scan(&next); err != nil {
				return nil, err
			}
			return &Problem{Seq: expect, Kind: Removed,
				Detail: fmt.Sprintf("entries %d to %d are missing (the chain goes on at %d)", expect, next-1, next)}, nil
		}
	}
	last := expect - 1
	if len(cps) > 0 {
		return l.missingEntry(cps[0], expect), nil
	}

	// Checkpoints past the last entry: the tail was cut (or they are forged).
	var cp checkpoint
	err := tx.QueryRow(ctx, `SELECT seq, hash, mac, at FROM audit_checkpoints WHERE seq > ? ORDER BY seq LIMIT 1`, last).
		Scan(&cp.seq, &cp.hash, &cp.mac, &cp.at)
	switch {
	case err == nil:
		return l.missingEntry(cp, expect), nil
	case !errors.Is(err, sql.ErrNoRows):
		return nil, err
	}

	switch {
	case !hasHead && last == 0:
		return nil, nil // a new, empty trail
	case !hasHead:
		return &Problem{Seq: last, Kind: BadHead, Detail: "the chain head is missing"}, nil
	case !macEqual(h.mac, headMAC(l.key, h.seq, h.hash)):
		return &Problem{Seq: h.seq, Kind: BadHead,
			Detail: fmt.Sprintf("the chain head (entry %d) does not authenticate: it was forged, or the audit key is wrong", h.seq)}, nil
	case h.seq > last:
		return &Problem{Seq: last + 1, Kind: Truncated,
			Detail: fmt.Sprintf("entries %d to %d were removed from the end (the authenticated head is at %d)", last+1, h.seq, h.seq)}, nil
	case h.seq < last:
		return &Problem{Seq: h.seq + 1, Kind: BadHead,
			Detail: fmt.Sprintf("entries %d to %d come after the authenticated head: they were added outside nisduc", h.seq+1, last)}, nil
	case h.hash != prev:
		return &Problem{Seq: last, Kind: Altered,
			Detail: fmt.Sprintf("entry %d differs from the authenticated head: it was rewritten", last)}, nil
	}
	return nil, nil
}

// checkCheckpoint checks one checkpoint against the entry hash at its seq.
func (l *Log) checkCheckpoint(cp checkpoint, entryHash string) *Problem {
	if !macEqual(cp.mac, checkpointMAC(l.key, cp.seq, cp.hash, cp.at)) {
		return &Problem{Seq: cp.seq, Kind: BadCheckpoint,
			Detail: fmt.Sprintf("the checkpoint at entry %d (%s) does not authenticate: it was forged or altered, or the audit key is wrong", cp.seq, formatTime(cp.at))}
	}
	if cp.hash != entryHash {
		return &Problem{Seq: cp.seq, Kind: Altered,
			Detail: fmt.Sprintf("entry %d differs from the checkpoint of %s: the chain was rewritten up to it", cp.seq, formatTime(cp.at))}
	}
	return nil
}

// missingEntry reports a checkpoint whose entry is not in the chain: a
// forged checkpoint, or (when it authenticates) entries removed from the
// end — a gap inside the chain is found, as Removed, before this.
func (l *Log) missingEntry(cp checkpoint, expect int64) *Problem {
	if !macEqual(cp.mac, checkpointMAC(l.key, cp.seq, cp.hash, cp.at)) {
		return &Problem{Seq: cp.seq, Kind: BadCheckpoint,
			Detail: fmt.Sprintf("the checkpoint at entry %d (%s) does not authenticate: it was forged or altered, or the audit key is wrong", cp.seq, formatTime(cp.at))}
	}
	return &Problem{Seq: expect, Kind: Truncated,
		Detail: fmt.Sprintf("entries from %d on were removed from the end (a checkpoint of %s covers entry %d)", expect, formatTime(cp.at), cp.seq)}
}

// loadCheckpoints returns the checkpoints with lo < seq <= hi, in seq order
// (at most one per seq, so at most one page of them).
func loadCheckpoints(ctx context.Context, tx *store.Tx, lo, hi int64) ([]checkpoint, error) {
	rows, err := tx.Query(ctx, `SELECT seq, hash, mac, at FROM audit_checkpoints WHERE seq > ? AND seq <= ? ORDER BY seq`, lo, hi)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []checkpoint
	for rows.Next() {
		var c checkpoint
		if err := rows.Scan(&c.seq, &c.hash, &c.mac, &c.at); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
