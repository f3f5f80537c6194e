-- +goose Up
-- The audit trail: a hash chain (see internal/audit). seq is assigned by the
-- appender from the locked head (not a sequence, which leaves gaps on
-- rollback), so a missing seq means a removed entry. details is canonical
-- JSON kept as TEXT, not JSONB: JSONB reorders keys, and the hash covers the
-- exact bytes.
CREATE TABLE audit_log (
    seq           BIGINT PRIMARY KEY CHECK (seq > 0),
    id            UUID NOT NULL UNIQUE,
    at            TIMESTAMPTZ NOT NULL,
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
-- One row, locked FOR UPDATE by every append so that appends from several
-- server processes serialise.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL,
    mac  TEXT NOT NULL
);

-- Periodic seals of the head.
CREATE TABLE audit_checkpoints (
    seq  BIGINT PRIMARY KEY CHECK (seq > 0),
    hash TEXT NOT NULL,
    at   TIMESTAMPTZ NOT NULL,
    mac  TEXT NOT NULL
);

-- Entries and checkpoints are never updated or deleted row by row: refuse
-- it, so a bug or an injected statement cannot rewrite history (verify
-- would notice, but better not to). TRUNCATE, used by the demo reset, is
-- not affected; verify catches anything done by someone who drops these
-- triggers.
-- +goose StatementBegin
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
