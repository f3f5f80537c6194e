package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/nisduc/nisduc/internal/audit"
	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
)

// TOTP as authenticator apps expect it (RFC 6238 defaults).
const (
	totpPeriod = 30
	totpDigits = otp.DigitsSix
	// RecoveryCodes is how many one-time recovery codes ConfirmTOTP issues.
	RecoveryCodes = 10
)

// SettingRequireTOTPAll is the settings key which, set to "true", requires
// a second factor of every user.
const SettingRequireTOTPAll = "auth.require_totp_all"

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1}

// matchTOTP returns the time step whose code is code, trying the current
// step and one either side (clock drift, a code typed as it changes). It
// compares every candidate in constant time.
func matchTOTP(secret, code string, now time.Time) (int64, bool) {
	if len(code) != totpDigits.Length() {
		return 0, false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	cur := now.Unix() / totpPeriod
	var found int64 = -1
	for step := cur - 1; step <= cur+1; step++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totpOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			found = step
		}
	}
	return found, found >= 0
}

// normCode strips what people type around a code (spaces, dashes) and
// lowercases it.
func normCode(code string) string {
	if len(code) > 64 {
		return ""
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			return -1
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return r
	}, code)
}

var recoveryEnc = base32.StdEncoding.WithPadding(base32.NoPadding)

// newRecoveryCode returns 80 random bits as xxxx-xxxx-xxxx-xxxx (base32:
// no 0/O or 1/l to confuse on paper).
func newRecoveryCode() (string, error) {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", errs.Wrap(err, "random")
	}
	s := strings.ToLower(recoveryEnc.EncodeToString(b[:]))
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16], nil
}

// userMissing turns the outcome of reading a user into NotFound when there
// is no such user or it is disabled.
func userMissing(err error, disabled bool, userID string) error {
	if err == nil && disabled {
		return errs.E(errs.NotFound, "user %s", userID)
	}
	return store.NotFound(err, "user %s", userID)
}

func wrongCode() error {
	return &errs.Error{Code: errs.Unauthenticated, Key: "auth.totp.wrong", Message: "Wrong code."}
}

// BeginTOTP starts enrolment: it stores a new, not yet confirmed secret for
// userID and returns it with the otpauth:// URL to show as a QR code.
//
// Errors: NotFound (unknown or disabled user); Conflict when a second factor
// is already enabled (disable it first).
func (s *Service) BeginTOTP(ctx context.Context, userID string) (secret, otpauthURL string, err error) {
	if !validID(userID) {
		return "", "", errs.E(errs.NotFound, "user %s", userID)
	}
	err = s.db.Update(ctx, func(tx *store.Tx) error {
		var email string
		var enabled, disabled bool
		err := tx.QueryRow(ctx, `SELECT email, totp_enabled, disabled FROM users WHERE id = ?`, userID).Scan(&email, &enabled, &disabled)
		if err := userMissing(err, disabled, userID); err != nil {
			return err
		}
		if enabled {
			return &errs.Error{Code: errs.Conflict, Key: "auth.totp.already_enabled", Message: "A second factor is already enabled; disable it first."}
		}
		key, err := totp.Generate(totp.GenerateOpts{Issuer: s.cfg.Issuer, AccountName: email, Period: totpPeriod,
			SecretSize: 20, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return errs.Wrap(err, "totp secret")
		}
		secret, otpauthURL = key.Secret(), key.URL()
		_, err = tx.Exec(ctx, `UPDATE users SET totp_secret = ?, totp_enabled = ?, totp_last_step = 0, updated_at = ? WHERE id = ?`,
			secret, false, tx.Now, userID)
		return err
	})
	if err != nil {
		return "", "", err
	}
	return secret, otpauthURL, nil
}

// takeCode counts one second-factor attempt for userID in its own
// transaction, committed whatever the outcome.
func (s *Service) takeCode(ctx context.Context, userID string) error {
	if err := s.blocked(ctx, limit{scopeCode, userID, s.cfg.MaxCodeFailures}); err != nil {
		return err
	}
	var throttled error
	if err := s.db.Update(ctx, func(tx *store.Tx) error {
		_, throttled = s.take(ctx, tx, scopeCode, userID, s.cfg.MaxCodeFailures)
		return nil
	}); err != nil {
		return err
	}
	return throttled
}

// ConfirmTOTP finishes enrolment with a code from the app: it enables the
// second factor and returns RecoveryCodes one-time recovery codes, to show
// once (only their hashes are kept; earlier codes are replaced). Attempts
// are throttled. Records auth.totp.enable.
//
// Errors: Invalid on field "code" (wrong code); Conflict when no enrolment
// was begun or the factor is already enabled; TooMany; NotFound.
func (s *Service) ConfirmTOTP(ctx context.Context, userID, code string) ([]string, error) {
	if !validID(userID) {
		return nil, errs.E(errs.NotFound, "user %s", userID)
	}
	var secret, orgID string
	var enabled, disabled bool
	err := s.db.QueryRow(ctx, `SELECT totp_secret, totp_enabled, org_id, disabled FROM users WHERE id = ?`, userID).
		Scan(&secret, &enabled, &orgID, &disabled)
	if err := userMissing(err, disabled, userID); err != nil {
		return nil, err
	}
	switch {
	case enabled:
		return nil, &errs.Error{Code: errs.Conflict, Key: "auth.totp.already_enabled", Message: "A second factor is already enabled; disable it first."}
	case secret == "":
		return nil, &errs.Error{Code: errs.Conflict, Key: "auth.totp.not_started", Message: "Start the enrolment again."}
	}
	if err := s.takeCode(ctx, userID); err != nil {
		return nil, err
	}
	step, ok := matchTOTP(secret, normCode(code), s.clock())
	if !ok {
		return nil, errs.FieldKey("code", "auth.totp.code_wrong")
	}
	codes := make([]string, RecoveryCodes)
	for i := range codes {
		if codes[i], err = newRecoveryCode(); err != nil {
			return nil, err
		}
	}
	err = s.db.Update(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE users SET totp_enabled = ?, totp_last_step = ?, updated_at = ?
			WHERE id = ? AND totp_secret = ? AND totp_enabled = ?`, true, step, tx.Now, userID, secret, false)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return &errs.Error{Code: errs.Conflict, Key: "auth.totp.not_started", Message: "Start the enrolment again."}
		}
		if err := storeRecoveryCodes(ctx, tx, userID, codes); err != nil {
			return err
		}
		if err := reset(ctx, tx, scopeCode, userID); err != nil {
			return err
		}
		return s.log.Record(ctx, tx, audit.Entry{OrgID: orgID, Action: "auth.totp.enable", ObjectType: "user", ObjectID: userID})
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

func storeRecoveryCodes(ctx context.Context, tx *store.Tx, userID string, codes []string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM auth_recovery_codes WHERE user_id = ?`, userID); err != nil {
		return err
	}
	for _, c := range codes {
		if _, err := tx.Exec(ctx, `INSERT INTO auth_recovery_codes (user_id, code_hash, created_at) VALUES (?, ?, ?)`,
			userID, sha256Hex(normCode(c)), tx.Now); err != nil {
			return err
		}
	}
	return nil
}

// VerifySecondFactor checks a code typed at sign-in: a TOTP code from the
// app — refused if its time step, or a later one, was already used, so a
// code seen over a shoulder cannot be replayed — or an unused recovery
// code, which is then spent (auth.recovery_code.use is recorded). Attempts
// are throttled per user like passwords; a success resets the counter.
//
// Errors: Unauthenticated (wrong or reused code, unknown or disabled user);
// Conflict when the user has no second factor enabled; TooMany.
func (s *Service) VerifySecondFactor(ctx context.Context, userID, code string) error {
	if !validID(userID) {
		return wrongCode()
	}
	var secret, orgID string
	var enabled, disabled bool
	err := s.db.QueryRow(ctx, `SELECT totp_secret, totp_enabled, org_id, disabled FROM users WHERE id = ?`, userID).
		Scan(&secret, &enabled, &orgID, &disabled)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && disabled) {
		return wrongCode()
	}
	if err != nil {
		return errs.Wrap(err, "second factor")
	}
	if !enabled {
		return &errs.Error{Code: errs.Conflict, Key: "auth.totp.not_enabled", Message: "No second factor is enabled for this account."}
	}
	if err := s.takeCode(ctx, userID); err != nil {
		slog.Warn("second factor throttled", "user_id", userID)
		return err
	}
	code = normCode(code)
	var accepted bool
	if step, ok := matchTOTP(secret, code, s.clock()); ok {
		err = s.db.Update(ctx, func(tx *store.Tx) error {
			// Steps only move forward: the UPDATE is the replay check, and it
			// is atomic, so two requests racing with one code cannot both win.
			res, err := tx.Exec(ctx, `UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_enabled = ? AND totp_last_step < ?`,
				step, userID, true, step)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			if accepted = n == 1; !accepted {
				return nil
			}
			return reset(ctx, tx, scopeCode, userID)
		})
	} else if len(code) == 16 {
		err = s.db.Update(ctx, func(tx *store.Tx) error {
			res, err := tx.Exec(ctx, `UPDATE auth_recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL`,
				tx.Now, userID, sha256Hex(code))
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			if accepted = n == 1; !accepted {
				return nil
			}
			var left int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM auth_recovery_codes WHERE user_id = ? AND used_at IS NULL`, userID).Scan(&left); err != nil {
				return errs.Wrap(err, "recovery codes")
			}
			if err := reset(ctx, tx, scopeCode, userID); err != nil {
				return err
			}
			return s.log.Record(ctx, tx, audit.Entry{OrgID: orgID, Action: "auth.recovery_code.use", ObjectType: "user", ObjectID: userID,
				Details: map[string]any{"codes_left": left}})
		})
	}
	if err != nil {
		return err
	}
	if !accepted {
		slog.Warn("second factor failed", "user_id", userID)
		return wrongCode()
	}
	return nil
}

// DisableTOTP removes userID's second factor and recovery codes. Records
// auth.totp.disable when there was one. The web layer decides who may (the
// user after re-entering the password, or an administrator).
//
// Errors: NotFound.
func (s *Service) DisableTOTP(ctx context.Context, userID string) error {
	if !validID(userID) {
		return errs.E(errs.NotFound, "user %s", userID)
	}
	return s.db.Update(ctx, func(tx *store.Tx) error {
		var orgID, secret string
		var enabled bool
		err := tx.QueryRow(ctx, `SELECT org_id, totp_secret, totp_enabled FROM users WHERE id = ?`, userID).Scan(&orgID, &secret, &enabled)
		if err != nil {
			return store.NotFound(err, "user %s", userID)
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET totp_secret = '', totp_enabled = ?, updated_at = ? WHERE id = ?`, false, tx.Now, userID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM auth_recovery_codes WHERE user_id = ?`, userID); err != nil {
			return err
		}
		if !enabled {
			return nil // an unconfirmed enrolment was dropped: nothing to audit
		}
		return s.log.Record(ctx, tx, audit.Entry{OrgID: orgID, Action: "auth.totp.disable", ObjectType: "user", ObjectID: userID})
	})
}

// HasTOTP reports whether userID has a confirmed second factor (so the
// sign-in must ask for a code).
func (s *Service) HasTOTP(ctx context.Context, userID string) (bool, error) {
	if !validID(userID) {
		return false, nil
	}
	var on bool
	err := s.db.QueryRow(ctx, `SELECT totp_enabled FROM users WHERE id = ?`, userID).Scan(&on)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, errs.Wrap(err, "second factor")
	}
	return on, nil
}

// RecoveryCodesLeft is how many unused recovery codes userID has.
func (s *Service) RecoveryCodesLeft(ctx context.Context, userID string) (int, error) {
	if !validID(userID) {
		return 0, nil
	}
	var n int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM auth_recovery_codes WHERE user_id = ? AND used_at IS NULL`, userID).Scan(&n); err != nil {
		return 0, errs.Wrap(err, "recovery codes")
	}
	return n, nil
}

// SecondFactorRequired reports whether a must pass a second factor: platform
// administrators and every user of an authority organisation by default,
// everyone when the setting auth.require_totp_all is "true"; nobody in demo
// mode, nor the command line.
func (s *Service) SecondFactorRequired(ctx context.Context, a *authz.Actor) (bool, error) {
	if a == nil || s.cfg.DemoMode || a.System {
		return false, nil
	}
	if a.Has(authz.PlatformAdmin) || a.OrgKind.IsAuthority() {
		return true, nil
	}
	var v string
	err := s.db.QueryRow(ctx, `SELECT value FROM settings WHERE key = ?`, SettingRequireTOTPAll).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, errs.Wrap(err, "settings")
	}
	return strings.TrimSpace(strings.ToLower(v)) == "true", nil
}

// SetRequireTOTPAll turns on or off the setting that requires a second
// factor of every user (administrators and authorities always need one).
// Only a platform administrator (or the command line) may change it.
//
// Errors: Unauthenticated, Forbidden.
func (s *Service) SetRequireTOTPAll(ctx context.Context, on bool) error {
	a := authz.ActorFrom(ctx)
	if err := authz.Check(a, authz.SettingsAdmin, authz.Target{}); err != nil {
		return err
	}
	v := "false"
	if on {
		v = "true"
	}
	return s.db.Update(ctx, func(tx *store.Tx) error {
		// ON CONFLICT … DO UPDATE is the same on SQLite and PostgreSQL.
		if _, err := tx.Exec(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
			SettingRequireTOTPAll, v, tx.Now); err != nil {
			return err
		}
		return s.log.Record(ctx, tx, audit.Entry{Action: "settings.update", ObjectType: "setting", ObjectID: SettingRequireTOTPAll,
			Details: map[string]any{"value": v}})
	})
}

// RequireTOTPAll reports the setting's current value.
func (s *Service) RequireTOTPAll(ctx context.Context) (bool, error) {
	var v string
	err := s.db.QueryRow(ctx, `SELECT value FROM settings WHERE key = ?`, SettingRequireTOTPAll).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, errs.Wrap(err, "settings")
	}
	return strings.TrimSpace(strings.ToLower(v)) == "true", nil
}
