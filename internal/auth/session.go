package auth

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"

	"github.com/google/uuid"
)

// Session is a signed-in browser. The token that names it lives only in the
// browser's cookie; the database keeps its SHA-256.
type Session struct {
	ID         string
	UserID     string
	CreatedAt  time.Time
	LastSeenAt time.Time
	// ExpiresAt is the absolute end (sign-in + SessionLifetime); the session
	// also ends after IdleTimeout without use.
	ExpiresAt        time.Time
	SecondFactorDone bool
	Addr             string
	UserAgent        string
}

// newSecret returns 32 random bytes, base64url: 256 bits nobody can guess.
func newSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", errs.Wrap(err, "random")
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func sessionEnded() error {
	return &errs.Error{Code: errs.Unauthenticated, Key: "auth.session.ended", Message: "Your session has ended. Please sign in again."}
}

// clip cuts s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// CreateSession starts a session for userID, signed in from addr with
// userAgent, and returns the token to put in the cookie. secondFactorDone
// says whether the sign-in already satisfied the second factor. Each login
// gets a new session (and token); the web layer deletes the old cookie's.
//
// Errors: Unauthenticated when the user is unknown or disabled.
func (s *Service) CreateSession(ctx context.Context, userID, addr, userAgent string, secondFactorDone bool) (string, Session, error) {
	if !validID(userID) {
		return "", Session{}, sessionEnded()
	}
	token, err := newSecret()
	if err != nil {
		return "", Session{}, err
	}
	sess := Session{ID: uuid.NewString(), UserID: userID, SecondFactorDone: secondFactorDone,
		Addr: clip(addr, 100), UserAgent: clip(userAgent, 512)}
	err = s.db.Update(ctx, func(tx *store.Tx) error {
		var disabled bool
		err := tx.QueryRow(ctx, `SELECT disabled FROM users WHERE id = ?`, userID).Scan(&disabled)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && disabled) {
			return sessionEnded()
		}
		if err != nil {
			return errs.Wrap(err, "create session")
		}
		sess.CreatedAt, sess.LastSeenAt, sess.ExpiresAt = tx.Now, tx.Now, tx.Now.Add(s.cfg.SessionLifetime)
		_, err = tx.Exec(ctx, `INSERT INTO auth_sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at, second_factor_done, addr, user_agent)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			sess.ID, sha256Hex(token), userID, sess.CreatedAt, sess.LastSeenAt, sess.ExpiresAt, secondFactorDone, sess.Addr, sess.UserAgent)
		return err
	})
	if err != nil {
		return "", Session{}, err
	}
	return token, sess, nil
}

const sessionCols = `s.id, s.user_id, s.created_at, s.last_seen_at, s.expires_at, s.second_factor_done, s.addr, s.user_agent`

type rowScanner interface{ Scan(...any) error }

func scanSession(r rowScanner) (Session, error) {
	var x Session
	err := r.Scan(&x.ID, &x.UserID, &x.CreatedAt, &x.LastSeenAt, &x.ExpiresAt, &x.SecondFactorDone, &x.Addr, &x.UserAgent)
	x.CreatedAt, x.LastSeenAt, x.ExpiresAt = x.CreatedAt.UTC(), x.LastSeenAt.UTC(), x.ExpiresAt.UTC()
	return x, err
}

// plausibleToken rejects at once what cannot be a token, before hashing.
func plausibleToken(t string) bool { return len(t) >= 32 && len(t) <= 64 }

// alive reports whether the session may still be used at now.
func (s *Service) alive(x Session, now time.Time) bool {
	return now.Before(x.ExpiresAt) && now.Before(x.LastSeenAt.Add(s.cfg.IdleTimeout))
}

// LookupSession returns the session named by token, marking it used. It
// writes last_seen_at at most once a minute, so that a page view is not a
// write.
//
// Errors: Unauthenticated when the token is unknown, the session expired or
// sat idle too long, or its user is disabled.
func (s *Service) LookupSession(ctx context.Context, token string) (Session, error) {
	if !plausibleToken(token) {
		return Session{}, sessionEnded()
	}
	x, err := scanSession(s.db.QueryRow(ctx, `SELECT `+sessionCols+` FROM auth_sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = ? AND u.disabled = ?`, sha256Hex(token), false))
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, sessionEnded()
	}
	if err != nil {
		return Session{}, errs.Wrap(err, "look up session")
	}
	now := s.now()
	if !s.alive(x, now) {
		return Session{}, sessionEnded()
	}
	if now.Sub(x.LastSeenAt) >= touchEvery {
		err := s.db.Update(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE auth_sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?`, tx.Now, x.ID, tx.Now)
			x.LastSeenAt = tx.Now
			return err
		})
		if err != nil {
			return Session{}, err
		}
	}
	return x, nil
}

// DeleteSession ends the session named by token (logout). Ending an unknown
// or already ended session is not an error.
func (s *Service) DeleteSession(ctx context.Context, token string) error {
	if !plausibleToken(token) {
		return nil
	}
	return s.db.Update(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM auth_sessions WHERE token_hash = ?`, sha256Hex(token))
		return err
	})
}

// DeleteUserSessions ends every session of userID but exceptSessionID (""
// for none), inside the caller's transaction: after a password change, a
// reset, or disabling the user.
func (s *Service) DeleteUserSessions(ctx context.Context, tx *store.Tx, userID, exceptSessionID string) error {
	_, err := deleteUserSessions(ctx, tx, userID, exceptSessionID)
	return err
}

// DeleteUserSessions is (*Service).DeleteUserSessions for packages that hold
// no Service (internal/directory disabling a user or resetting a password).
func DeleteUserSessions(ctx context.Context, tx *store.Tx, userID, exceptSessionID string) error {
	_, err := deleteUserSessions(ctx, tx, userID, exceptSessionID)
	return err
}

func deleteUserSessions(ctx context.Context, tx *store.Tx, userID, except string) (int64, error) {
	if !validID(userID) {
		return 0, nil
	}
	var res sql.Result
	var err error
	if validID(except) {
		res, err = tx.Exec(ctx, `DELETE FROM auth_sessions WHERE user_id = ? AND id <> ?`, userID, except)
	} else {
		res, err = tx.Exec(ctx, `DELETE FROM auth_sessions WHERE user_id = ?`, userID)
	}
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// CompleteSecondFactor marks the session named by token as having passed
// the second factor and rotates its token — the privilege changed, so a
// token seen before (by a shoulder, a log) must not carry it. It returns the
// new token for the cookie; the session keeps its id and lifetimes.
//
// Errors: Unauthenticated when the session is unknown or ended.
func (s *Service) CompleteSecondFactor(ctx context.Context, token string) (string, error) {
	if !plausibleToken(token) {
		return "", sessionEnded()
	}
	fresh, err := newSecret()
	if err != nil {
		return "", err
	}
	err = s.db.Update(ctx, func(tx *store.Tx) error {
		x, err := scanSession(tx.QueryRow(ctx, `SELECT `+sessionCols+` FROM auth_sessions s JOIN users u ON u.id = s.user_id
			WHERE s.token_hash = ? AND u.disabled = ?`, sha256Hex(token), false))
		if errors.Is(err, sql.ErrNoRows) {
			return sessionEnded()
		}
		if err != nil {
			return errs.Wrap(err, "second factor")
		}
		if !s.alive(x, tx.Now) {
			return sessionEnded()
		}
		_, err = tx.Exec(ctx, `UPDATE auth_sessions SET token_hash = ?, second_factor_done = ?, last_seen_at = ? WHERE id = ?`,
			sha256Hex(fresh), true, tx.Now, x.ID)
		return err
	})
	if err != nil {
		return "", err
	}
	return fresh, nil
}

// PurgeExpired deletes ended sessions (expired or idle) and stale throttle
// counters, and returns how many sessions it deleted. Run it periodically.
func (s *Service) PurgeExpired(ctx context.Context) (int, error) {
	var n int64
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM auth_sessions WHERE expires_at <= ? OR last_seen_at <= ?`,
			tx.Now, tx.Now.Add(-s.cfg.IdleTimeout))
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		_, err = tx.Exec(ctx, `DELETE FROM auth_throttle WHERE window_start <= ?`, tx.Now.Add(-s.cfg.FailureWindow))
		return err
	})
	return int(n), err
}
