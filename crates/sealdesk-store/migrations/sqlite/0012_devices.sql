-- Staff devices (E2EE.md §3): a device asks to be enrolled with its Ed25519 signature key and
-- its X25519 wrap key; an admin compares the fingerprint with the one on the device's screen
-- and certifies it (the chain is stored as the device's credential), or it is revoked. Team
-- key wraps are the team key's private half sealed to one device's wrap key (HPKE): the server
-- stores them and cannot open them.
CREATE TABLE devices (
    id              TEXT    NOT NULL PRIMARY KEY,
    tenant_id       TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    staff_id        TEXT    NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    label           TEXT    NOT NULL,
    signature_key   BLOB    NOT NULL CHECK (length(signature_key) = 32),
    wrap_key        BLOB    NOT NULL CHECK (length(wrap_key) = 32),
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'certified', 'revoked')),
    credential      BLOB,
    requested_at_ms INTEGER NOT NULL,
    decided_at_ms   INTEGER,
    decided_by      TEXT,
    CHECK (status <> 'certified' OR credential IS NOT NULL)
) STRICT;

CREATE UNIQUE INDEX devices_signature_key_idx ON devices (tenant_id, signature_key);
CREATE INDEX devices_staff_idx ON devices (tenant_id, staff_id);

CREATE TABLE team_key_wraps (
    device_id     TEXT    NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    tenant_id     TEXT    NOT NULL,
    team_id       TEXT    NOT NULL,
    version       INTEGER NOT NULL CHECK (version >= 1),
    sealed        BLOB    NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (device_id, team_id, version),
    FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, id) ON DELETE CASCADE
) STRICT;
