-- +goose Up
-- The audit trail: a hash chain (see internal/audit). seq is assigned by the
-- appender from the locked head, so the chain has no gaps and a missing seq
-- means a removed entry. details is canonical JSON kept as TEXT: the hash
-- covers its exact bytes.
CREATE TABLE audit_log (
    seq           INTEGER PRIMARY KEY CHECK (seq > 0),
    id            TEXT NOT NULL UNIQUE,
    at            DATETIME NOT NULL,
    actor_user_id TEXT NOT NULL DEFAULT '',
    actor_org_id  TEXT NOT NULL DEFAULT '',
    actor_name    TEXT NOT NULL DEFAULT '',
    addr          TEXT NOT NULL DEFAULT '',
    org_id        TEXT NOT NULL DEFAULT '',     -- '' = platform-wide
    action        TEXT NOT NULL,
    object_type   TEXT NOT NULL DEFAULT '',
    object_id     TEXT NOT NULL DEFAULT '',
    details       TEXT NOT NULL DEFAULT '{}',
    prev_hash     TEXT NOT NULL,                -- hex SHA-256
    hash          TEXT NOT NULL
);
CREATE INDEX audit_log_org ON audit_log (org_id, seq);
CREATE INDEX audit_log_actor ON audit_log (actor_user_id, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);

-- The chain head, authenticated with the key kept outside the database.
-- One row, locked by every append.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL,
    mac  TEXT NOT NULL
);

-- Periodic seals of the head.
CREATE TABLE audit_checkpoints (
    seq  INTEGER PRIMARY KEY CHECK (seq > 0),
    hash TEXT NOT NULL,
    at   DATETIME NOT NULL,
    mac  TEXT NOT NULL
);

-- Entries and checkpoints are never updated: refuse it, so a bug or an
-- injected statement cannot rewrite history (verify would notice, but
-- better not to). Deleting stays possible for the demo reset, which
-- empties every table; verify catches any other deletion.
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;
-- +goose StatementEnd
