-- Staff devices (E2EE.md §3): a device asks to be enrolled with its Ed25519 signature key and
-- its X25519 wrap key; an admin compares the fingerprint with the one on the device's screen
-- and certifies it (the chain is stored as the device's credential), or it is revoked. Team
-- key wraps are the team key's private half sealed to one device's wrap key (HPKE): the server
-- stores them and cannot open them.
CREATE TABLE devices (
    id              UUID   NOT NULL,
    tenant_id       UUID   NOT NULL,
    staff_id        UUID   NOT NULL,
    label           TEXT   NOT NULL,
    signature_key   BYTEA  NOT NULL,
    wrap_key        BYTEA  NOT NULL,
    status          TEXT   NOT NULL,
    credential      BYTEA,
    requested_at_ms BIGINT NOT NULL,
    decided_at_ms   BIGINT,
    decided_by      UUID,
    CONSTRAINT devices_pkey PRIMARY KEY (id),
    CONSTRAINT devices_signature_key_key UNIQUE (tenant_id, signature_key),
    CONSTRAINT devices_keys_check CHECK (length(signature_key) = 32 AND length(wrap_key) = 32),
    CONSTRAINT devices_status_check CHECK (status IN ('pending', 'certified', 'revoked')),
    CONSTRAINT devices_credential_check CHECK (status <> 'certified' OR credential IS NOT NULL),
    CONSTRAINT devices_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT devices_staff_fkey FOREIGN KEY (staff_id) REFERENCES staff (id) ON DELETE CASCADE
);

CREATE INDEX devices_staff_idx ON devices (tenant_id, staff_id);

CREATE TABLE team_key_wraps (
    device_id     UUID   NOT NULL,
    tenant_id     UUID   NOT NULL,
    team_id       UUID   NOT NULL,
    version       BIGINT NOT NULL,
    sealed        BYTEA  NOT NULL,
    created_at_ms BIGINT NOT NULL,
    CONSTRAINT team_key_wraps_pkey PRIMARY KEY (device_id, team_id, version),
    CONSTRAINT team_key_wraps_version_check CHECK (version >= 1),
    CONSTRAINT team_key_wraps_device_fkey FOREIGN KEY (device_id)
        REFERENCES devices (id) ON DELETE CASCADE,
    CONSTRAINT team_key_wraps_team_fkey FOREIGN KEY (tenant_id, team_id)
        REFERENCES teams (tenant_id, id) ON DELETE CASCADE
);
