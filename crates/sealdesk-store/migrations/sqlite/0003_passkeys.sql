-- Passkeys (WebAuthn credentials) of staff accounts, and the short-lived state of WebAuthn
-- ceremonies between their start and finish requests. The state lives in the database, not
-- in one node's memory, so a ceremony started on one node can finish on another.

CREATE TABLE passkeys (
    id               TEXT    NOT NULL PRIMARY KEY,
    tenant_id        TEXT    NOT NULL,
    staff_id         TEXT    NOT NULL,
    -- The credential id the authenticator chose; unique across the installation (W3C
    -- WebAuthn Level 3 §7.1 step 25: a credential id registered once only).
    credential_id    BLOB    NOT NULL UNIQUE CHECK (length(credential_id) BETWEEN 1 AND 1023),
    -- The webauthn-rs `Passkey` as JSON: public key, signature counter, backup flags. No secret.
    passkey          TEXT    NOT NULL CHECK (json_valid(passkey)),
    name             TEXT    NOT NULL,
    created_at_ms    INTEGER NOT NULL,
    last_used_at_ms  INTEGER,
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX passkeys_tenant_staff_idx ON passkeys (tenant_id, staff_id, created_at_ms);

CREATE TABLE webauthn_ceremonies (
    id             TEXT    NOT NULL PRIMARY KEY,
    -- Not a foreign key: a login ceremony for an unknown tenant still gets a (useless) row,
    -- so the answer does not reveal which tenants exist.
    tenant_id      TEXT    NOT NULL,
    -- NULL for login ceremonies that do not name an account.
    staff_id       TEXT,
    kind           TEXT    NOT NULL CHECK (kind IN ('registration', 'authentication')),
    state          TEXT    NOT NULL CHECK (json_valid(state)),
    expires_at_ms  INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX webauthn_ceremonies_expiry_idx ON webauthn_ceremonies (expires_at_ms);
