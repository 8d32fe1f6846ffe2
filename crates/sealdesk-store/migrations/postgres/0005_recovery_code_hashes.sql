-- Recovery codes hashed with Argon2id and a per-code random salt (OWASP ASVS v5.0.0-6.5.2),
-- still keyed with a master-key subkey. A salted hash cannot be looked up by value, so each
-- code gets an id: the server checks a presented code against each unused row and spends the
-- one that matched by its id (an identity column never reuses a value).
--
-- Codes generated before this migration keep their HMAC digest (no salt) in `digest` and
-- still verify until the account regenerates its codes; new codes fill `phc` instead.
-- Constraint names are mapped to `Constraint` in src/postgres/mod.rs.
ALTER TABLE recovery_codes ADD COLUMN id BIGINT GENERATED ALWAYS AS IDENTITY;
ALTER TABLE recovery_codes ADD CONSTRAINT recovery_codes_pkey PRIMARY KEY (id);
-- Argon2id PHC string: algorithm, parameters, salt and hash.
ALTER TABLE recovery_codes ADD COLUMN phc TEXT;
ALTER TABLE recovery_codes ALTER COLUMN digest DROP NOT NULL;
ALTER TABLE recovery_codes ADD CONSTRAINT recovery_codes_phc_check
    CHECK (phc IS NULL OR length(phc) BETWEEN 1 AND 512);
ALTER TABLE recovery_codes ADD CONSTRAINT recovery_codes_one_hash_check
    CHECK ((phc IS NULL) <> (digest IS NULL));
ALTER TABLE recovery_codes ADD CONSTRAINT recovery_codes_staff_phc_key UNIQUE (staff_id, phc);
