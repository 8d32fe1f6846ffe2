-- The key-package directory (E2EE.md §9.1): MLS key packages staff devices publish, taken
-- once each (a device's last-resort package is kept). Public material: no secret here.
CREATE TABLE key_packages (
    hash_ref      BLOB    NOT NULL PRIMARY KEY,
    tenant_id     TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    staff_id      TEXT    NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    device_key    BLOB    NOT NULL CHECK (length(device_key) = 32),
    payload       BLOB    NOT NULL,
    last_resort   INTEGER NOT NULL CHECK (last_resort IN (0, 1)),
    not_after_ms  INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL
) STRICT;

CREATE INDEX key_packages_device_idx
    ON key_packages (tenant_id, staff_id, device_key, last_resort, created_at_ms);
