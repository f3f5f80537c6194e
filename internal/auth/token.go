package auth

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/nisduc/nisduc/internal/audit"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
)

// Token is an API token's record; its secret is shown once at creation and
// never stored.
type Token struct {
	ID     string
	UserID string
	Name   string
	// Prefix is the start of the secret ("ndc_" and 8 characters), enough
	// for a user to tell tokens apart and to find one in a leak report.
	Prefix     string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// TokenPrefix starts every API token secret, so that secret scanners and
// people can recognise one.
const TokenPrefix = "ndc_"

// MaxTokenName is the longest token name, in characters.
const MaxTokenName = 100

// secret length: prefix + 43 base64url characters of 32 random bytes.
const tokenSecretLen = len(TokenPrefix) + 43

func tokenInvalid() error {
	return &errs.Error{Code: errs.Unauthenticated, Key: "auth.token.invalid", Message: "Unknown, expired or revoked API token."}
}

// checkTokenInput validates a new token's name and lifetime (ttl 0 means
// def) and returns them cleaned.
func checkTokenInput(name string, ttl, def time.Duration) (string, time.Duration, error) {
	var f errs.Fields
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		f.AddKey("name", "auth.token.name_required")
	case !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		f.AddKey("name", "auth.token.name_invalid")
	case utf8.RuneCountInString(name) > MaxTokenName:
		f.AddKey("name", "auth.token.name_too_long", MaxTokenName)
	}
	switch {
	case ttl == 0:
		ttl = def
	case ttl < 0:
		f.AddKey("ttl", "auth.token.ttl_invalid")
	case ttl > MaxTokenTTL:
		f.AddKey("ttl", "auth.token.ttl_too_long", int(MaxTokenTTL/(24*time.Hour)))
	}
	return name, ttl, f.Err()
}

// CreateToken creates an API token named name for userID, valid for ttl (0
// means Config.TokenTTL, 90 days by default; at most MaxTokenTTL). It
// returns the secret, to show once, and the token. Records token.create.
//
// Errors: Invalid on fields "name" and "ttl"; NotFound for an unknown or
// disabled user.
func (s *Service) CreateToken(ctx context.Context, userID, name string, ttl time.Duration) (string, Token, error) {
	name, ttl, err := checkTokenInput(name, ttl, s.cfg.TokenTTL)
	if err != nil {
		return "", Token{}, err
	}
	if !validID(userID) {
		return "", Token{}, errs.E(errs.NotFound, "user %s", userID)
	}
	r, err := newSecret()
	if err != nil {
		return "", Token{}, err
	}
	secret := TokenPrefix + r
	t := Token{ID: uuid.NewString(), UserID: userID, Name: name, Prefix: secret[:len(TokenPrefix)+8]}
	err = s.db.Update(ctx, func(tx *store.Tx) error {
		var orgID string
		var disabled bool
		err := tx.QueryRow(ctx, `SELECT org_id, disabled FROM users WHERE id = ?`, userID).Scan(&orgID, &disabled)
		if err := userMissing(err, disabled, userID); err != nil {
			return err
		}
		t.CreatedAt, t.ExpiresAt = tx.Now, tx.Now.Add(ttl)
		if _, err := tx.Exec(ctx, `INSERT INTO auth_tokens (id, user_id, name, prefix, secret_hash, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, t.ID, userID, t.Name, t.Prefix, sha256Hex(secret), t.CreatedAt, t.ExpiresAt); err != nil {
			return err
		}
		return s.log.Record(ctx, tx, audit.Entry{OrgID: orgID, Action: "token.create", ObjectType: "api_token", ObjectID: t.ID,
			Details: map[string]any{"user_id": userID, "name": t.Name, "prefix": t.Prefix, "expires_at": t.ExpiresAt}})
	})
	if err != nil {
		return "", Token{}, err
	}
	return secret, t, nil
}

const tokenCols = `t.id, t.user_id, t.name, t.prefix, t.created_at, t.expires_at, t.last_used_at, t.revoked_at`

func scanToken(r rowScanner) (Token, error) {
	var t Token
	var used, revoked sql.NullTime
	if err := r.Scan(&t.ID, &t.UserID, &t.Name, &t.Prefix, &t.CreatedAt, &t.ExpiresAt, &used, &revoked); err != nil {
		return t, err
	}
	t.CreatedAt, t.ExpiresAt = t.CreatedAt.UTC(), t.ExpiresAt.UTC()
	if used.Valid {
		u := used.Time.UTC()
		t.LastUsedAt = &u
	}
	if revoked.Valid {
		r := revoked.Time.UTC()
		t.RevokedAt = &r
	}
	return t, nil
}

// AuthenticateToken returns the token whose secret is given (from an
// Authorization: Bearer header), recording its use at most once a minute.
//
// Errors: Unauthenticated when the secret is unknown, expired or revoked,
// or its user is disabled.
func (s *Service) AuthenticateToken(ctx context.Context, secret string) (Token, error) {
	if len(secret) != tokenSecretLen || !strings.HasPrefix(secret, TokenPrefix) {
		return Token{}, tokenInvalid()
	}
	t, err := scanToken(s.db.QueryRow(ctx, `SELECT `+tokenCols+` FROM auth_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.secret_hash = ? AND u.disabled = ?`, sha256Hex(secret), false))
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, tokenInvalid()
	}
	if err != nil {
		return Token{}, errs.Wrap(err, "look up token")
	}
	now := s.now()
	if t.RevokedAt != nil || !now.Before(t.ExpiresAt) {
		return Token{}, tokenInvalid()
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= touchEvery {
		err := s.db.Update(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE auth_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`,
				tx.Now, t.ID, tx.Now)
			at := tx.Now
			t.LastUsedAt = &at
			return err
		})
		if err != nil {
			return Token{}, err
		}
	}
	return t, nil
}

// ListTokens returns userID's tokens, newest first, revoked and expired
// ones included (the page shows their state).
func (s *Service) ListTokens(ctx context.Context, userID string) ([]Token, error) {
	if !validID(userID) {
		return nil, nil
	}
	rows, err := s.db.Query(ctx, `SELECT `+tokenCols+` FROM auth_tokens t WHERE t.user_id = ? ORDER BY t.created_at DESC, t.id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, errs.Wrap(err, "list tokens")
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "list tokens")
	}
	return out, nil
}

// RevokeToken revokes userID's token tokenID; revoking it again is not an
// error. Records token.revoke.
//
// Errors: NotFound when userID has no such token (another user's included).
func (s *Service) RevokeToken(ctx context.Context, userID, tokenID string) error {
	if !validID(userID) || !validID(tokenID) {
		return errs.E(errs.NotFound, "token %s", tokenID)
	}
	return s.db.Update(ctx, func(tx *store.Tx) error {
		var orgID, name, prefix string
		var revoked sql.NullTime
		err := tx.QueryRow(ctx, `SELECT u.org_id, t.name, t.prefix, t.revoked_at FROM auth_tokens t JOIN users u ON u.id = t.user_id
			WHERE t.id = ? AND t.user_id = ?`, tokenID, userID).Scan(&orgID, &name, &prefix, &revoked)
		if err != nil {
			return store.NotFound(err, "token %s", tokenID)
		}
		if revoked.Valid {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE auth_tokens SET revoked_at = ? WHERE id = ?`, tx.Now, tokenID); err != nil {
			return err
		}
		return s.log.Record(ctx, tx, audit.Entry{OrgID: orgID, Action: "token.revoke", ObjectType: "api_token", ObjectID: tokenID,
			Details: map[string]any{"user_id": userID, "name": name, "prefix": prefix}})
	})
}
