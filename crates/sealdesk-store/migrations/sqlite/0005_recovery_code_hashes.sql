-- Recovery codes hashed with Argon2id and a per-code random salt (OWASP ASVS v5.0.0-6.5.2),
-- still keyed with a master-key subkey. A salted hash cannot be looked up by value, so each
-- code gets an id: the server checks a presented code against each unused row and spends the
-- one that matched by its id. AUTOINCREMENT, so an id is never reused, even after a
-- regenerated set replaced the rows with the highest ids.
--
-- Codes generated before this migration keep their HMAC digest (no salt) in `digest` and
-- still verify until the account regenerates its codes; new codes fill `phc` instead.
-- SQLite cannot relax a NOT NULL column in place, so the table is rebuilt.
CREATE TABLE recovery_codes_0005 (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     TEXT    NOT NULL,
    staff_id      TEXT    NOT NULL,
    -- Argon2id PHC string: algorithm, parameters, salt and hash.
    phc           TEXT    CHECK (phc IS NULL OR length(phc) BETWEEN 1 AND 512),
    -- Legacy: HMAC-SHA256 of the code under the master-key subkey.
    digest        BLOB    CHECK (digest IS NULL OR length(digest) = 32),
    -- Which master key version's subkey made the hash.
    key_version   INTEGER NOT NULL CHECK (key_version >= 0),
    created_at_ms INTEGER NOT NULL,
    used_at_ms    INTEGER,
    CHECK ((phc IS NULL) <> (digest IS NULL)),
    UNIQUE (staff_id, digest),
    UNIQUE (staff_id, phc),
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE
) STRICT;

INSERT INTO recovery_codes_0005 (tenant_id, staff_id, phc, digest, key_version, created_at_ms,
                                 used_at_ms)
SELECT tenant_id, staff_id, NULL, digest, key_version, created_at_ms, used_at_ms
FROM recovery_codes
ORDER BY rowid;

DROP TABLE recovery_codes;
ALTER TABLE recovery_codes_0005 RENAME TO recovery_codes;
CREATE INDEX recovery_codes_tenant_staff_idx ON recovery_codes (tenant_id, staff_id);
