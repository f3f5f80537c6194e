-- +goose Up
-- The in-platform inbox (internal/notify). E-mails are River jobs that
-- point at these rows.
CREATE TABLE notifications (
    id         UUID PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL DEFAULT '',
    link       TEXT NOT NULL DEFAULT '',              -- a path within nisduc
    created_at TIMESTAMPTZ NOT NULL,
    read_at    TIMESTAMPTZ,                           -- NULL = unread
    emailed_at TIMESTAMPTZ                            -- NULL = no e-mail handed to SMTP yet
);
-- The inbox page: a user's latest first.
CREATE INDEX notifications_inbox ON notifications (user_id, created_at DESC, id DESC);
-- The unread badge on every page: only unread rows are indexed.
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;
