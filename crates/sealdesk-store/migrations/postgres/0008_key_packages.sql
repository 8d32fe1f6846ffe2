-- The key-package directory (E2EE.md §9.1): MLS key packages staff devices publish, taken
-- once each (a device's last-resort package is kept). Public material: no secret here.
CREATE TABLE key_packages (
    hash_ref      BYTEA   NOT NULL,
    tenant_id     UUID    NOT NULL,
    staff_id      UUID    NOT NULL,
    device_key    BYTEA   NOT NULL,
    payload       BYTEA   NOT NULL,
    last_resort   BOOLEAN NOT NULL,
    not_after_ms  BIGINT  NOT NULL,
    created_at_ms BIGINT  NOT NULL,
    CONSTRAINT key_packages_pkey PRIMARY KEY (hash_ref),
    CONSTRAINT key_packages_device_key_check CHECK (length(device_key) = 32),
    CONSTRAINT key_packages_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT key_packages_staff_fkey FOREIGN KEY (staff_id)
        REFERENCES staff (id) ON DELETE CASCADE
);

CREATE INDEX key_packages_device_idx
    ON key_packages (tenant_id, staff_id, device_key, last_resort, created_at_ms);
