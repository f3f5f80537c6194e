package auth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
)

// Throttle scopes (auth_throttle.scope).
const (
	scopeAccount = "account"
	scopeAddress = "address"
	scopeCode    = "totp"
)

// Throttled is the cause carried by a TooMany error: when the caller may try
// again. The web layer reads it with RetryAfter to set Retry-After.
type Throttled struct{ Until time.Time }

func (t *Throttled) Error() string { return "throttled until " + t.Until.Format(time.RFC3339) }

// RetryAfter returns how long after now the throttled err lifts, and whether
// err is a throttling error at all.
func RetryAfter(err error, now time.Time) (time.Duration, bool) {
	var t *Throttled
	if !errors.As(err, &t) {
		return 0, false
	}
	return max(t.Until.Sub(now), 0), true
}

func tooMany(until, now time.Time) error {
	mins := int(math.Ceil(until.Sub(now).Minutes()))
	mins = max(mins, 1)
	return &errs.Error{Code: errs.TooMany, Key: "auth.throttled", Args: []any{mins},
		Message: fmt.Sprintf("Too many failed attempts. Try again in %d minutes.", mins), Err: &Throttled{Until: until}}
}

// slot is one counted attempt; refund gives it back when it succeeded.
type slot struct {
	scope, subject string
	window         time.Time
}

// take counts one attempt against (scope, subject) before the attempt is
// checked — counting first is what stops a burst of parallel guesses from
// all passing a check-then-record throttle. It returns TooMany when the
// attempt is over limit within the current window. The counter is a fixed
// window opened by the first failure; once it has passed, the next attempt
// opens a new one.
func (s *Service) take(ctx context.Context, tx *store.Tx, scope, subject string, allowed int) (slot, error) {
	opened := tx.Now.Add(-s.cfg.FailureWindow)
	var n int
	var start time.Time
	err := tx.QueryRow(ctx, `INSERT INTO auth_throttle (scope, subject, window_start, failures) VALUES (?, ?, ?, 1)
		ON CONFLICT (scope, subject) DO UPDATE SET
			failures = CASE WHEN auth_throttle.window_start <= ? THEN 1 ELSE auth_throttle.failures + 1 END,
			window_start = CASE WHEN auth_throttle.window_start <= ? THEN excluded.window_start ELSE auth_throttle.window_start END
		RETURNING failures, window_start`,
		scope, subject, tx.Now, opened, opened).Scan(&n, (*anyTime)(&start))
	if err != nil {
		return slot{}, errs.Wrap(err, "throttle")
	}
	if n > allowed {
		return slot{}, tooMany(start.Add(s.cfg.FailureWindow), tx.Now)
	}
	return slot{scope: scope, subject: subject, window: start}, nil
}

// limit is one counter to check: its scope, subject and allowance.
type limit struct {
	scope, subject string
	max            int
}

// blocked reads whether any of the counters is already over its limit in
// its current window, so that a flood of attempts that are refused anyway
// costs reads, not writes (SQLite has one writer). take still decides: two
// racing attempts may both pass this check.
func (s *Service) blocked(ctx context.Context, limits ...limit) error {
	q := `SELECT scope, subject, failures, window_start FROM auth_throttle WHERE ` +
		strings.TrimSuffix(strings.Repeat(`(scope = ? AND subject = ?) OR `, len(limits)), " OR ")
	args := make([]any, 0, 2*len(limits))
	for _, l := range limits {
		args = append(args, l.scope, l.subject)
	}
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	now := s.now()
	var until time.Time
	for rows.Next() {
		var scope, subject string
		var n int
		var start time.Time
		if err := rows.Scan(&scope, &subject, &n, (*anyTime)(&start)); err != nil {
			return errs.Wrap(err, "throttle")
		}
		end := start.Add(s.cfg.FailureWindow)
		for _, l := range limits {
			if l.scope == scope && l.subject == subject && n >= l.max && now.Before(end) && end.After(until) {
				until = end
			}
		}
	}
	if err := rows.Err(); err != nil {
		return errs.Wrap(err, "throttle")
	}
	if !until.IsZero() {
		return tooMany(until, now)
	}
	return nil
}

// refund gives back an attempt that succeeded, if its window is still the
// current one (a client address shared by an office must not be throttled
// by its users' successful logins).
func refund(ctx context.Context, tx *store.Tx, sl slot) error {
	_, err := tx.Exec(ctx, `UPDATE auth_throttle SET failures = failures - 1
		WHERE scope = ? AND subject = ? AND window_start = ? AND failures > 0`, sl.scope, sl.subject, sl.window)
	return err
}

// reset clears a counter (a successful login resets its account's).
func reset(ctx context.Context, tx *store.Tx, scope, subject string) error {
	_, err := tx.Exec(ctx, `DELETE FROM auth_throttle WHERE scope = ? AND subject = ?`, scope, subject)
	return err
}

// addressKey is the throttling subject of a client address: an IPv6 client
// controls a whole /64, so it is counted as one; a port is ignored; anything
// unparsable is counted as given (bounded in length).
func addressKey(addr string) string {
	addr = strings.TrimSpace(addr)
	var ip netip.Addr
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		ip = ap.Addr()
	} else if a, err := netip.ParseAddr(addr); err == nil {
		ip = a
	} else {
		if len(addr) > 100 {
			addr = addr[:100]
		}
		return addr
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// accountKey is the throttling subject of an e-mail typed at login. It is
// hashed because people sometimes type their password in the e-mail field,
// and it does not depend on whether the account exists, so throttling
// reveals nothing about which accounts do.
func accountKey(email string) string { return sha256Hex(normEmail(email)) }

func normEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }
