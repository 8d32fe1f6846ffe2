-- Identity-token keys per inbox (team): how the tenant's website vouches for its logged-in
-- customers. An HS256 secret is stored sealed by the master key (purpose "inbox-identity",
-- context = team id); an Ed25519 key is the tenant's public key, stored as is.
CREATE TABLE inbox_identity (
    team_id       UUID     NOT NULL,
    tenant_id     UUID     NOT NULL,
    kind          TEXT     NOT NULL,
    key           BYTEA    NOT NULL,
    -- Tickets without a valid identity token are refused.
    required      BOOLEAN  NOT NULL,
    updated_at_ms BIGINT   NOT NULL,
    CONSTRAINT inbox_identity_pkey PRIMARY KEY (team_id),
    CONSTRAINT inbox_identity_kind_check CHECK (kind IN ('hs256', 'ed25519')),
    CONSTRAINT inbox_identity_team_fkey FOREIGN KEY (tenant_id, team_id)
        REFERENCES teams (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX inbox_identity_tenant_idx ON inbox_identity (tenant_id);
