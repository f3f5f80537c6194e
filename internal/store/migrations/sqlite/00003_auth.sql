-- +goose Up
-- Sign-in: sessions, login throttling, TOTP recovery codes, API tokens.

-- The last TOTP time step accepted, so that a code cannot be used twice.
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;

-- Server-side sessions; the browser holds the token, we keep its SHA-256.
CREATE TABLE auth_sessions (
    id                 TEXT PRIMARY KEY,
    token_hash         TEXT NOT NULL,            -- hex SHA-256 of the cookie token
    user_id            TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at         DATETIME NOT NULL,
    last_seen_at       DATETIME NOT NULL,
    expires_at         DATETIME NOT NULL,        -- absolute end of life
    second_factor_done INTEGER NOT NULL DEFAULT 0,
    addr               TEXT NOT NULL DEFAULT '',
    user_agent         TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX auth_sessions_token ON auth_sessions (token_hash);
CREATE INDEX auth_sessions_user ON auth_sessions (user_id);
CREATE INDEX auth_sessions_expires ON auth_sessions (expires_at);
CREATE INDEX auth_sessions_last_seen ON auth_sessions (last_seen_at);

-- Failure counters shared by every server process: scope 'account' (subject
-- = SHA-256 of the e-mail typed, whether or not such a user exists),
-- 'address' (client address, IPv6 by /64) and 'totp' (user id).
CREATE TABLE auth_throttle (
    scope        TEXT NOT NULL,
    subject      TEXT NOT NULL,
    window_start DATETIME NOT NULL,
    failures     INTEGER NOT NULL,
    PRIMARY KEY (scope, subject)
);
CREATE INDEX auth_throttle_window ON auth_throttle (window_start);

-- One-time recovery codes of the TOTP second factor (SHA-256, hex).
CREATE TABLE auth_recovery_codes (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    used_at    DATETIME,
    PRIMARY KEY (user_id, code_hash)
);

-- API tokens: the secret is shown once; we keep its SHA-256 and a prefix
-- for display.
CREATE TABLE auth_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    created_at   DATETIME NOT NULL,
    expires_at   DATETIME NOT NULL,
    last_used_at DATETIME,
    revoked_at   DATETIME
);
CREATE UNIQUE INDEX auth_tokens_secret ON auth_tokens (secret_hash);
CREATE INDEX auth_tokens_user ON auth_tokens (user_id, created_at);
