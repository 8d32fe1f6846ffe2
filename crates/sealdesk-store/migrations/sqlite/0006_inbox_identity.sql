-- Identity-token keys per inbox (team): how the tenant's website vouches for its logged-in
-- customers. An HS256 secret is stored sealed by the master key (purpose "inbox-identity",
-- context = team id); an Ed25519 key is the tenant's public key, stored as is.
CREATE TABLE inbox_identity (
    team_id       TEXT    NOT NULL PRIMARY KEY,
    tenant_id     TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('hs256', 'ed25519')),
    key           BLOB    NOT NULL,
    -- Tickets without a valid identity token are refused.
    required      INTEGER NOT NULL CHECK (required IN (0, 1)),
    updated_at_ms INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX inbox_identity_tenant_idx ON inbox_identity (tenant_id);
