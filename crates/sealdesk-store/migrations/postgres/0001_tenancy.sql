-- Tenancy: tenants with their brand domains and widget origins, teams, and staff accounts.
-- Times are Unix milliseconds (BIGINT), as on SQLite. Every constraint is named explicitly:
-- the store maps unique violations to `Constraint` by these names (src/postgres/mod.rs).

CREATE TABLE tenants (
    id            UUID    NOT NULL,
    name          TEXT    NOT NULL,
    settings      JSONB   NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at_ms BIGINT  NOT NULL,
    updated_at_ms BIGINT  NOT NULL,
    CONSTRAINT tenants_pkey PRIMARY KEY (id)
);

-- list_tenants: oldest first.
CREATE INDEX tenants_created_idx ON tenants (created_at_ms, id);

-- A domain belongs to at most one tenant: it is the primary key.
CREATE TABLE tenant_domains (
    domain    TEXT    NOT NULL,
    tenant_id UUID    NOT NULL,
    position  INTEGER NOT NULL,
    CONSTRAINT tenant_domains_pkey PRIMARY KEY (domain),
    CONSTRAINT tenant_domains_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE
);

CREATE INDEX tenant_domains_tenant_idx ON tenant_domains (tenant_id, position);

CREATE TABLE tenant_origins (
    tenant_id UUID    NOT NULL,
    origin    TEXT    NOT NULL,
    position  INTEGER NOT NULL,
    CONSTRAINT tenant_origins_pkey PRIMARY KEY (tenant_id, origin),
    CONSTRAINT tenant_origins_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE
);

CREATE TABLE teams (
    id            UUID    NOT NULL,
    tenant_id     UUID    NOT NULL,
    name          TEXT    NOT NULL,
    -- Lower-cased name: team names are unique case-insensitively within a tenant.
    name_key      TEXT    NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at_ms BIGINT  NOT NULL,
    CONSTRAINT teams_pkey PRIMARY KEY (id),
    CONSTRAINT teams_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT teams_tenant_name_key UNIQUE (tenant_id, name_key)
);

-- list_teams: a tenant's teams, oldest first.
CREATE INDEX teams_tenant_created_idx ON teams (tenant_id, created_at_ms, id);

CREATE TABLE staff (
    id            UUID    NOT NULL,
    tenant_id     UUID    NOT NULL,
    -- Normalised (lower-case) address.
    email         TEXT    NOT NULL,
    display_name  TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    -- Argon2id PHC string; NULL until a password is set.
    password_hash TEXT,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at_ms BIGINT  NOT NULL,
    updated_at_ms BIGINT  NOT NULL,
    CONSTRAINT staff_pkey PRIMARY KEY (id),
    CONSTRAINT staff_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT staff_tenant_email_key UNIQUE (tenant_id, email),
    CONSTRAINT staff_role_check CHECK (role IN ('owner', 'admin', 'supervisor', 'agent'))
);

-- list_staff: a tenant's accounts, oldest first.
CREATE INDEX staff_tenant_created_idx ON staff (tenant_id, created_at_ms, id);
