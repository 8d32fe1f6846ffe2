-- Tenancy: tenants with their brand domains and widget origins, teams, and staff accounts.
-- Ids are hyphenated lower-case UUID text; times are Unix milliseconds (INTEGER).
-- STRICT tables make SQLite refuse values of the wrong type instead of storing them.

CREATE TABLE tenants (
    id            TEXT    NOT NULL PRIMARY KEY,
    name          TEXT    NOT NULL,
    settings      TEXT    NOT NULL CHECK (json_valid(settings)),
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;

-- list_tenants: oldest first.
CREATE INDEX tenants_created_idx ON tenants (created_at_ms, id);

-- A domain belongs to at most one tenant: it is the primary key.
CREATE TABLE tenant_domains (
    domain    TEXT    NOT NULL PRIMARY KEY,
    tenant_id TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL
) STRICT;

CREATE INDEX tenant_domains_tenant_idx ON tenant_domains (tenant_id, position);

CREATE TABLE tenant_origins (
    tenant_id TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    origin    TEXT    NOT NULL,
    position  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, origin)
) STRICT;

CREATE TABLE teams (
    id            TEXT    NOT NULL PRIMARY KEY,
    tenant_id     TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    -- Lower-cased name: team names are unique case-insensitively within a tenant.
    name_key      TEXT    NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at_ms INTEGER NOT NULL,
    UNIQUE (tenant_id, name_key)
) STRICT;

-- list_teams: a tenant's teams, oldest first.
CREATE INDEX teams_tenant_created_idx ON teams (tenant_id, created_at_ms, id);

CREATE TABLE staff (
    id            TEXT    NOT NULL PRIMARY KEY,
    tenant_id     TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- Normalised (lower-case) address.
    email         TEXT    NOT NULL,
    display_name  TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'supervisor', 'agent')),
    -- Argon2id PHC string; NULL until a password is set.
    password_hash TEXT,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    UNIQUE (tenant_id, email)
) STRICT;

-- list_staff: a tenant's accounts, oldest first.
CREATE INDEX staff_tenant_created_idx ON staff (tenant_id, created_at_ms, id);
