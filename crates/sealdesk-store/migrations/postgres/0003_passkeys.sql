-- Passkeys (WebAuthn credentials) of staff accounts, and the short-lived state of WebAuthn
-- ceremonies between their start and finish requests. The state lives in the database, not
-- in one node's memory, so a ceremony started on one node can finish on another.
-- Constraint names are mapped to `Constraint` in src/postgres/mod.rs.

CREATE TABLE passkeys (
    id               UUID    NOT NULL,
    tenant_id        UUID    NOT NULL,
    staff_id         UUID    NOT NULL,
    -- The credential id the authenticator chose; unique across the installation (W3C
    -- WebAuthn Level 3 §7.1 step 25: a credential id registered once only).
    credential_id    BYTEA   NOT NULL,
    -- The webauthn-rs `Passkey` as JSON: public key, signature counter, backup flags. No secret.
    passkey          TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    created_at_ms    BIGINT  NOT NULL,
    last_used_at_ms  BIGINT,
    CONSTRAINT passkeys_pkey PRIMARY KEY (id),
    CONSTRAINT passkeys_credential_id_key UNIQUE (credential_id),
    CONSTRAINT passkeys_credential_id_check
        CHECK (octet_length(credential_id) BETWEEN 1 AND 1023),
    CONSTRAINT passkeys_passkey_check CHECK (jsonb_typeof(passkey::jsonb) = 'object'),
    CONSTRAINT passkeys_staff_fkey FOREIGN KEY (tenant_id, staff_id)
        REFERENCES staff (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX passkeys_tenant_staff_idx ON passkeys (tenant_id, staff_id, created_at_ms);

CREATE TABLE webauthn_ceremonies (
    id             UUID    NOT NULL,
    -- Not a foreign key: a login ceremony for an unknown tenant still gets a (useless) row,
    -- so the answer does not reveal which tenants exist.
    tenant_id      UUID    NOT NULL,
    -- NULL for login ceremonies that do not name an account.
    staff_id       UUID,
    kind           TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    expires_at_ms  BIGINT  NOT NULL,
    CONSTRAINT webauthn_ceremonies_pkey PRIMARY KEY (id),
    CONSTRAINT webauthn_ceremonies_kind_check CHECK (kind IN ('registration', 'authentication')),
    CONSTRAINT webauthn_ceremonies_state_check CHECK (jsonb_typeof(state::jsonb) = 'object'),
    CONSTRAINT webauthn_ceremonies_staff_fkey FOREIGN KEY (tenant_id, staff_id)
        REFERENCES staff (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX webauthn_ceremonies_expiry_idx ON webauthn_ceremonies (expires_at_ms);
