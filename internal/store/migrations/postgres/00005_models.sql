-- +goose Up
-- Regulatory models, knowledge bases and sector models (internal/model):
-- one row per document, one per version. Content is the canonical JSON of
-- the version (model.Document.JSON), kept as TEXT rather than JSONB so that
-- stored bytes compare equal to a freshly encoded document.
CREATE TABLE model_documents (
    code       TEXT PRIMARY KEY,                -- stable short code, never changes
    kind       TEXT NOT NULL,                   -- regulatory-model | knowledge-base | sector-model
    uuid       UUID NOT NULL,                   -- the document's UUID
    builtin    BOOLEAN NOT NULL DEFAULT FALSE,  -- shipped in the binary
    created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX model_documents_uuid ON model_documents (uuid);

CREATE TABLE model_versions (
    code         TEXT NOT NULL REFERENCES model_documents (code) ON DELETE CASCADE,
    version      INTEGER NOT NULL CHECK (version >= 1),
    kind         TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    title        TEXT NOT NULL DEFAULT '',      -- English label, for lists
    content      TEXT NOT NULL,                 -- canonical JSON
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    published_at TIMESTAMPTZ,
    PRIMARY KEY (code, version)
);
CREATE INDEX model_versions_status ON model_versions (status, code, version);
