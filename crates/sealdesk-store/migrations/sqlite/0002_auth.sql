-- Staff authentication: sessions and API tokens, TOTP enrolments, recovery codes, login
-- throttling, invitations, and the hash-chained audit log. Secrets are never stored in the
-- clear: tokens and codes as 32-byte digests, TOTP seeds sealed by the master key.

-- Lets the tables below reference an account together with its tenant, so a row can never
-- name an account of another tenant. (`id` alone is already unique.)
CREATE UNIQUE INDEX staff_tenant_id_idx ON staff (tenant_id, id);

CREATE TABLE sessions (
    id                     TEXT    NOT NULL PRIMARY KEY,
    tenant_id              TEXT    NOT NULL,
    staff_id               TEXT    NOT NULL,
    -- SHA-256 of the bearer token; the token itself is never stored.
    token_hash             BLOB    NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    kind                   TEXT    NOT NULL CHECK (kind IN ('browser', 'cli', 'api_token')),
    name                   TEXT,
    -- JSON array of action names (API tokens); '[]' for sessions.
    scopes                 TEXT    NOT NULL CHECK (json_valid(scopes) AND json_type(scopes) = 'array'),
    created_at_ms          INTEGER NOT NULL,
    last_seen_at_ms        INTEGER NOT NULL,
    authenticated_at_ms    INTEGER NOT NULL,
    idle_expires_at_ms     INTEGER,
    absolute_expires_at_ms INTEGER NOT NULL,
    revoked_at_ms          INTEGER,
    ip                     TEXT,
    user_agent             TEXT,
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE
) STRICT;

-- list_sessions and revoke_all_sessions: one account's sessions.
CREATE INDEX sessions_tenant_staff_idx ON sessions (tenant_id, staff_id, created_at_ms);

CREATE TABLE staff_totp (
    staff_id        TEXT    NOT NULL PRIMARY KEY,
    tenant_id       TEXT    NOT NULL,
    -- The seed, sealed with the master key; never stored in the clear.
    sealed_secret   BLOB    NOT NULL,
    confirmed_at_ms INTEGER,
    -- The last accepted time step; codes at or before it are replays.
    last_used_step  INTEGER,
    created_at_ms   INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE
) STRICT;

CREATE TABLE recovery_codes (
    tenant_id     TEXT    NOT NULL,
    staff_id      TEXT    NOT NULL,
    digest        BLOB    NOT NULL CHECK (length(digest) = 32),
    -- Which key made the digest, so codes can be regenerated after a key rotation.
    key_version   INTEGER NOT NULL CHECK (key_version >= 0),
    created_at_ms INTEGER NOT NULL,
    used_at_ms    INTEGER,
    UNIQUE (staff_id, digest),
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX recovery_codes_tenant_staff_idx ON recovery_codes (tenant_id, staff_id);

-- Keyed by what is throttled (an account, a source address); not tenant rows.
CREATE TABLE login_throttle (
    key                TEXT    NOT NULL PRIMARY KEY,
    failures           INTEGER NOT NULL CHECK (failures >= 0),
    last_failure_at_ms INTEGER NOT NULL,
    locked_until_ms    INTEGER
) STRICT;

CREATE TABLE invitations (
    id            TEXT    NOT NULL PRIMARY KEY,
    tenant_id     TEXT    NOT NULL,
    staff_id      TEXT    NOT NULL,
    -- SHA-256 of the invitation token.
    token_hash    BLOB    NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    -- The inviter; forgotten (not cascaded) when that account is deleted.
    created_by    TEXT    REFERENCES staff (id) ON DELETE SET NULL,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    used_at_ms    INTEGER,
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX invitations_tenant_idx ON invitations (tenant_id, created_at_ms);

-- The audit log. `seq` is assigned by the store from `audit_head`, never by AUTOINCREMENT,
-- so the chain has no gaps. `tenant_id` is deliberately not a foreign key: entries outlive
-- the tenants they mention (OWASP ASVS v5.0.0-16.4.2).
CREATE TABLE audit_log (
    seq       INTEGER NOT NULL PRIMARY KEY CHECK (seq >= 1),
    tenant_id TEXT,
    at_ms     INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    target    TEXT,
    -- Canonical JSON object of string values (keys sorted), as hashed.
    details   TEXT    NOT NULL CHECK (json_valid(details) AND json_type(details) = 'object'),
    ip        TEXT,
    prev_hash BLOB    NOT NULL CHECK (length(prev_hash) = 32),
    hash      BLOB    NOT NULL CHECK (length(hash) = 32)
) STRICT;

-- list_audit for one tenant.
CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, seq);

-- The chain's head: the one row every append reads and moves, inside the append's write
-- transaction, so appends are serialised.
CREATE TABLE audit_head (
    id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL CHECK (seq >= 0),
    hash BLOB    NOT NULL CHECK (length(hash) = 32)
) STRICT;

INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, zeroblob(32));
