-- Staff authentication: sessions and API tokens, TOTP enrolments, recovery codes, login
-- throttling, invitations, and the hash-chained audit log. Secrets are never stored in the
-- clear: tokens and codes as 32-byte digests, TOTP seeds sealed by the master key.
-- Constraint names are mapped to `Constraint` in src/postgres/mod.rs.

-- Lets the tables below reference an account together with its tenant, so a row can never
-- name an account of another tenant. (`id` alone is already unique.)
ALTER TABLE staff ADD CONSTRAINT staff_tenant_id_key UNIQUE (tenant_id, id);

CREATE TABLE sessions (
    id                     UUID    NOT NULL,
    tenant_id              UUID    NOT NULL,
    staff_id               UUID    NOT NULL,
    -- SHA-256 of the bearer token; the token itself is never stored.
    token_hash             BYTEA   NOT NULL,
    kind                   TEXT    NOT NULL,
    name                   TEXT,
    -- JSON array of action names (API tokens); '[]' for sessions.
    scopes                 TEXT    NOT NULL,
    created_at_ms          BIGINT  NOT NULL,
    last_seen_at_ms        BIGINT  NOT NULL,
    authenticated_at_ms    BIGINT  NOT NULL,
    idle_expires_at_ms     BIGINT,
    absolute_expires_at_ms BIGINT  NOT NULL,
    revoked_at_ms          BIGINT,
    ip                     TEXT,
    user_agent             TEXT,
    CONSTRAINT sessions_pkey PRIMARY KEY (id),
    CONSTRAINT sessions_token_hash_key UNIQUE (token_hash),
    CONSTRAINT sessions_token_hash_check CHECK (octet_length(token_hash) = 32),
    CONSTRAINT sessions_kind_check CHECK (kind IN ('browser', 'cli', 'api_token')),
    CONSTRAINT sessions_scopes_check CHECK (jsonb_typeof(scopes::jsonb) = 'array'),
    CONSTRAINT sessions_staff_fkey FOREIGN KEY (tenant_id, staff_id)
        REFERENCES staff (tenant_id, id) ON DELETE CASCADE
);

-- list_sessions and revoke_all_sessions: one account's sessions.
CREATE INDEX sessions_tenant_staff_idx ON sessions (tenant_id, staff_id, created_at_ms);

CREATE TABLE staff_totp (
    staff_id        UUID   NOT NULL,
    tenant_id       UUID   NOT NULL,
    -- The seed, sealed with the master key; never stored in the clear.
    sealed_secret   BYTEA  NOT NULL,
    confirmed_at_ms BIGINT,
    -- The last accepted time step; codes at or before it are replays.
    last_used_step  BIGINT,
    created_at_ms   BIGINT NOT NULL,
    CONSTRAINT staff_totp_pkey PRIMARY KEY (staff_id),
    CONSTRAINT staff_totp_staff_fkey FOREIGN KEY (tenant_id, staff_id)
        REFERENCES staff (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE recovery_codes (
    tenant_id     UUID    NOT NULL,
    staff_id      UUID    NOT NULL,
    digest        BYTEA   NOT NULL,
    -- Which key made the digest, so codes can be regenerated after a key rotation.
    key_version   BIGINT  NOT NULL,
    created_at_ms BIGINT  NOT NULL,
    used_at_ms    BIGINT,
    CONSTRAINT recovery_codes_staff_digest_key UNIQUE (staff_id, digest),
    CONSTRAINT recovery_codes_digest_check CHECK (octet_length(digest) = 32),
    CONSTRAINT recovery_codes_key_version_check CHECK (key_version >= 0),
    CONSTRAINT recovery_codes_staff_fkey FOREIGN KEY (tenant_id, staff_id)
        REFERENCES staff (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX recovery_codes_tenant_staff_idx ON recovery_codes (tenant_id, staff_id);

-- Keyed by what is throttled (an account, a source address); not tenant rows.
CREATE TABLE login_throttle (
    key                TEXT   NOT NULL,
    failures           BIGINT NOT NULL,
    last_failure_at_ms BIGINT NOT NULL,
    locked_until_ms    BIGINT,
    CONSTRAINT login_throttle_pkey PRIMARY KEY (key),
    CONSTRAINT login_throttle_failures_check CHECK (failures >= 0)
);

CREATE TABLE invitations (
    id            UUID   NOT NULL,
    tenant_id     UUID   NOT NULL,
    staff_id      UUID   NOT NULL,
    -- SHA-256 of the invitation token.
    token_hash    BYTEA  NOT NULL,
    -- The inviter; forgotten (not cascaded) when that account is deleted.
    created_by    UUID,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    used_at_ms    BIGINT,
    CONSTRAINT invitations_pkey PRIMARY KEY (id),
    CONSTRAINT invitations_token_hash_key UNIQUE (token_hash),
    CONSTRAINT invitations_token_hash_check CHECK (octet_length(token_hash) = 32),
    CONSTRAINT invitations_staff_fkey FOREIGN KEY (tenant_id, staff_id)
        REFERENCES staff (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT invitations_created_by_fkey FOREIGN KEY (created_by)
        REFERENCES staff (id) ON DELETE SET NULL
);

CREATE INDEX invitations_tenant_idx ON invitations (tenant_id, created_at_ms);

-- The audit log. `seq` is assigned by the store from `audit_head`, never by a sequence
-- (sequences leave gaps on rollback), so the chain has no gaps. `tenant_id` is deliberately
-- not a foreign key: entries outlive the tenants they mention (OWASP ASVS v5.0.0-16.4.2).
CREATE TABLE audit_log (
    seq       BIGINT NOT NULL,
    tenant_id UUID,
    at_ms     BIGINT NOT NULL,
    actor     TEXT   NOT NULL,
    action    TEXT   NOT NULL,
    target    TEXT,
    -- Canonical JSON object of string values (keys sorted), as hashed. TEXT, not JSONB:
    -- the stored bytes are kept exactly as written.
    details   TEXT   NOT NULL,
    ip        TEXT,
    prev_hash BYTEA  NOT NULL,
    hash      BYTEA  NOT NULL,
    CONSTRAINT audit_log_pkey PRIMARY KEY (seq),
    CONSTRAINT audit_log_seq_check CHECK (seq >= 1),
    CONSTRAINT audit_log_details_check CHECK (jsonb_typeof(details::jsonb) = 'object'),
    CONSTRAINT audit_log_prev_hash_check CHECK (octet_length(prev_hash) = 32),
    CONSTRAINT audit_log_hash_check CHECK (octet_length(hash) = 32)
);

-- list_audit for one tenant.
CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, seq);

-- The chain's head: the one row every append locks (SELECT ... FOR UPDATE) and moves inside
-- the append's transaction, so appends are serialised.
CREATE TABLE audit_head (
    id   INTEGER NOT NULL,
    seq  BIGINT  NOT NULL,
    hash BYTEA   NOT NULL,
    CONSTRAINT audit_head_pkey PRIMARY KEY (id),
    CONSTRAINT audit_head_one_row CHECK (id = 1),
    CONSTRAINT audit_head_seq_check CHECK (seq >= 0),
    CONSTRAINT audit_head_hash_check CHECK (octet_length(hash) = 32)
);

INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));
