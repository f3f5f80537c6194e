-- +goose Up
-- The organisation directory and its users.
CREATE TABLE organizations (
    id            UUID PRIMARY KEY,              -- UUID, stable through export/import and in MISP
    short_name    TEXT NOT NULL,
    name          TEXT NOT NULL,
    country       TEXT NOT NULL,                 -- ISO 3166-1 alpha-2
    timezone      TEXT NOT NULL,                 -- IANA zone
    kind          TEXT NOT NULL,                 -- authz.OrgKind
    nis2_category TEXT NOT NULL DEFAULT '',      -- essential | important | ''
    size_class    TEXT NOT NULL DEFAULT '',      -- micro | small | medium | large | ''
    description   TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX organizations_short_name ON organizations (lower(short_name));
CREATE INDEX organizations_kind ON organizations (kind, country);

-- Sectors and sub-sectors an organisation operates in, with its entity type there.
CREATE TABLE org_sectors (
    org_id      UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    sector      TEXT NOT NULL,
    subsector   TEXT NOT NULL DEFAULT '',
    entity_type TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, sector, subsector, entity_type)
);
CREATE INDEX org_sectors_sector ON org_sectors (sector, subsector);

CREATE TABLE org_contacts (
    org_id   UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    role     TEXT NOT NULL,
    name     TEXT NOT NULL DEFAULT '',
    email    TEXT NOT NULL DEFAULT '',
    phone    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, position)
);

-- Constituency, for the CSIRT side (feeds are matched against it).
CREATE TABLE org_prefixes (
    org_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    prefix CIDR NOT NULL,                         -- canonical CIDR (containment queries for feeds)
    family INTEGER NOT NULL,                      -- 4 or 6
    PRIMARY KEY (org_id, prefix)
);
CREATE INDEX org_prefixes_prefix ON org_prefixes (prefix);
CREATE TABLE org_asns (
    org_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    asn    BIGINT NOT NULL,
    PRIMARY KEY (org_id, asn)
);
CREATE INDEX org_asns_asn ON org_asns (asn);
CREATE TABLE org_domains (
    org_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    domain TEXT NOT NULL,                         -- lower case, no trailing dot
    PRIMARY KEY (org_id, domain)
);
CREATE INDEX org_domains_domain ON org_domains (domain);

-- Supervision: which authority serves which sector (or sub-sector) in which
-- country, in which role, and which regulatory model applies there.
CREATE TABLE supervision_links (
    id                UUID PRIMARY KEY,
    country           TEXT NOT NULL,
    sector            TEXT NOT NULL,
    subsector         TEXT NOT NULL DEFAULT '',   -- '' = the whole sector
    role              TEXT NOT NULL,              -- authz.LinkRole
    authority_org_id  UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    regulatory_model  TEXT NOT NULL DEFAULT '',   -- nis | nis-lu | nis2 | eecc | iso27001
    created_at        TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX supervision_links_unique ON supervision_links (country, sector, subsector, role, authority_org_id);
CREATE INDEX supervision_links_authority ON supervision_links (authority_org_id);

CREATE TABLE users (
    id            UUID PRIMARY KEY,
    org_id        UUID NOT NULL REFERENCES organizations (id),
    email         TEXT NOT NULL,                  -- stored lower case
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL DEFAULT '',       -- argon2id PHC string; '' = cannot log in
    language      TEXT NOT NULL DEFAULT 'en',
    timezone      TEXT NOT NULL DEFAULT '',       -- '' = the organisation's
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    totp_secret   TEXT NOT NULL DEFAULT '',       -- base32; '' = no second factor enrolled
    totp_enabled  BOOLEAN NOT NULL DEFAULT FALSE,
    last_login_at TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);
CREATE INDEX users_org ON users (org_id);

CREATE TABLE user_roles (
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);
-- An analyst or observer limited to some sectors.
CREATE TABLE user_sectors (
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sector  TEXT NOT NULL,
    PRIMARY KEY (user_id, sector)
);

-- Platform-wide settings (key/value), e.g. whether every user needs TOTP.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
