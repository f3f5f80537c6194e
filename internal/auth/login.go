package auth

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"

	"github.com/nisduc/nisduc/internal/audit"
	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
)

// maxPasswordBytes bounds what a login will hash; the policy allows
// MaxPasswordLen characters of up to four bytes each.
const maxPasswordBytes = 4 * MaxPasswordLen

func loginFailed() error {
	return &errs.Error{Code: errs.Unauthenticated, Key: "auth.login.failed", Message: "Wrong e-mail or password."}
}

// Authenticate checks an e-mail and password typed at the login page from
// client address addr and returns the user's id.
//
// Every failure — unknown e-mail, wrong password, disabled account, account
// without a password — is the same Unauthenticated error and costs the same
// hashing time, so that the answer reveals no account. Attempts are counted
// per e-mail and per client address in the database before the password is
// checked (so parallel guesses are counted too); over the limit the error is
// TooMany, carrying *Throttled with the time to retry. A success resets the
// e-mail's counter, does not count against the address, updates
// last_login_at, rehashes the password when its parameters are outdated, and
// records auth.login; failures are logged, not audited.
func (s *Service) Authenticate(ctx context.Context, email, password, addr string) (string, error) {
	email = normEmail(email)
	addrKey, acctKey := addressKey(addr), accountKey(email)
	if err := s.blocked(ctx, limit{scopeAddress, addrKey, s.cfg.MaxAddressFailures},
		limit{scopeAccount, acctKey, s.cfg.MaxAccountFailures}); err != nil {
		slog.Warn("login throttled", "addr", addr)
		return "", err
	}
	var acct, ip slot
	var throttled error
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		var err error
		if ip, err = s.take(ctx, tx, scopeAddress, addrKey, s.cfg.MaxAddressFailures); err != nil {
			throttled = err
			return nil
		}
		if acct, err = s.take(ctx, tx, scopeAccount, acctKey, s.cfg.MaxAccountFailures); err != nil {
			// Commit anyway: hammering a locked account still counts
			// against the address.
			throttled = err
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if throttled != nil {
		slog.Warn("login throttled", "addr", addr)
		return "", throttled
	}

	var u struct {
		id, hash, name, orgID string
		disabled              bool
	}
	err = s.db.QueryRow(ctx, `SELECT id, password_hash, name, org_id, disabled FROM users WHERE email = ?`, email).
		Scan(&u.id, &u.hash, &u.name, &u.orgID, &u.disabled)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", errs.Wrap(err, "login")
	}
	var reason string
	var rehash bool
	switch {
	case len(password) > maxPasswordBytes:
		burn("")
		reason = "password too long"
	case u.id == "":
		burn(password)
		reason = "unknown e-mail"
	case u.hash == "":
		burn(password)
		reason = "no password set"
	default:
		ok, needs, verr := VerifyPassword(u.hash, password)
		switch {
		case verr != nil:
			slog.Error("stored password hash unreadable", "user_id", u.id, "err", verr)
			reason = "unreadable hash"
		case !ok:
			reason = "wrong password"
		case u.disabled:
			reason = "account disabled"
		}
		rehash = needs
	}
	if reason != "" {
		// The typed e-mail is logged only when it names an account: an
		// unknown one may be a password typed in the wrong field.
		slog.Warn("login failed", "reason", reason, "user_id", u.id, "addr", addr)
		return "", loginFailed()
	}

	newHash := ""
	if rehash {
		if newHash, err = HashPassword(password); err != nil {
			return "", err
		}
	}
	actx := authz.WithActor(ctx, &authz.Actor{UserID: u.id, Email: email, Name: u.name, OrgID: u.orgID, Addr: addr, Via: "web"})
	err = s.db.Update(ctx, func(tx *store.Tx) error {
		if err := reset(ctx, tx, scopeAccount, acct.subject); err != nil {
			return err
		}
		if err := refund(ctx, tx, ip); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET last_login_at = ? WHERE id = ?`, tx.Now, u.id); err != nil {
			return err
		}
		if newHash != "" {
			// Only if unchanged meanwhile: never overwrite a new password
			// with a rehash of the old one.
			if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?`, newHash, u.id, u.hash); err != nil {
				return err
			}
		}
		return s.log.Record(actx, tx, audit.Entry{OrgID: u.orgID, Action: "auth.login", ObjectType: "user", ObjectID: u.id,
			Details: map[string]any{"method": "password", "rehashed": newHash != ""}})
	})
	if err != nil {
		return "", err
	}
	return u.id, nil
}

// ChangePassword lets a signed-in user replace their password: oldPw must
// be the current one (attempts are throttled like logins), newPw must pass
// the policy and differ from it. Every other session of the user ends;
// keepSessionID (the one making the change) stays. Records user.password.
//
// Errors: Invalid on field "old_password" (wrong) or "new_password"
// (policy); TooMany when throttled; Unauthenticated when the user is unknown
// or disabled; Conflict when the password changed meanwhile.
func (s *Service) ChangePassword(ctx context.Context, userID, oldPw, newPw, keepSessionID string) error {
	if !validID(userID) {
		return errs.E(errs.Unauthenticated, "unknown user")
	}
	var email, name, hash, orgID string
	var disabled bool
	err := s.db.QueryRow(ctx, `SELECT email, name, password_hash, org_id, disabled FROM users WHERE id = ?`, userID).
		Scan(&email, &name, &hash, &orgID, &disabled)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && disabled) {
		return errs.E(errs.Unauthenticated, "unknown or disabled user")
	}
	if err != nil {
		return errs.Wrap(err, "change password")
	}
	// The new password is checked first: the policy is no oracle, and a user
	// struggling with it must not use up the attempts that guard the
	// current password (and the account's logins).
	if err := CheckPasswordPolicy(newPw, email, name); err != nil {
		return renameField(err, "new_password")
	}
	if newPw == oldPw {
		return errs.FieldKey("new_password", "auth.password.same")
	}
	if err := s.blocked(ctx, limit{scopeAccount, accountKey(email), s.cfg.MaxAccountFailures}); err != nil {
		return err
	}
	var throttled error
	var acct slot
	if err := s.db.Update(ctx, func(tx *store.Tx) error {
		acct, throttled = s.take(ctx, tx, scopeAccount, accountKey(email), s.cfg.MaxAccountFailures)
		return nil
	}); err != nil {
		return err
	}
	if throttled != nil {
		return throttled
	}
	ok := false
	if hash == "" || len(oldPw) > maxPasswordBytes {
		burn("")
	} else if ok, _, err = VerifyPassword(hash, oldPw); err != nil {
		slog.Error("stored password hash unreadable", "user_id", userID, "err", err)
		ok = false
	}
	if !ok {
		slog.Warn("password change: wrong current password", "user_id", userID)
		return errs.FieldKey("old_password", "auth.password.old_wrong")
	}
	newHash, err := HashPassword(newPw)
	if err != nil {
		return err
	}
	return s.db.Update(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ? AND password_hash = ?`,
			newHash, tx.Now, userID, hash)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.E(errs.Conflict, "the password was changed meanwhile")
		}
		ended, err := deleteUserSessions(ctx, tx, userID, keepSessionID)
		if err != nil {
			return err
		}
		if err := reset(ctx, tx, scopeAccount, acct.subject); err != nil {
			return err
		}
		return s.log.Record(ctx, tx, audit.Entry{OrgID: orgID, Action: "user.password", ObjectType: "user", ObjectID: userID,
			Details: map[string]any{"sessions_ended": ended}})
	})
}

// renameField moves the field errors of an Invalid error to field.
func renameField(err error, field string) error {
	var e *errs.Error
	if !errors.As(err, &e) || e.Code != errs.Invalid {
		return err
	}
	c := *e
	c.Fields = append([]errs.FieldError(nil), e.Fields...)
	for i := range c.Fields {
		c.Fields[i].Field = field
	}
	return &c
}
