-- Carried over at a transfer to another team (docs/e2ee.md, "Transfer to another team"): the
-- transferring agent's client re-seals each earlier History Member bundle and each internal
-- note to the new team's newest key (and the archive key), and the server stores the copies
-- beside the originals in the transfer's transaction. The originals stay (the first team and
-- the archive keep reading them); a copy is per (original, team), and a later transfer to
-- the same team replaces it. The server checks the cleartext headers only; readers check the
-- seals, the re-sealer's chain at `carried_at_ms`, and that the secrets match the original.
CREATE TABLE carried_history (
    conversation_id  UUID    NOT NULL,
    generation       INTEGER NOT NULL,
    team_id          UUID    NOT NULL,
    tenant_id        UUID    NOT NULL,
    sealed_bundle    BYTEA   NOT NULL,
    team_key_version BIGINT  NOT NULL,
    resealed_by      UUID    NOT NULL,
    carried_at_ms    BIGINT  NOT NULL,
    CONSTRAINT carried_history_pkey PRIMARY KEY (conversation_id, generation, team_id),
    CONSTRAINT carried_history_version_check CHECK (team_key_version >= 1),
    CONSTRAINT carried_history_generation_fkey FOREIGN KEY (conversation_id, generation)
        REFERENCES conversation_history (conversation_id, generation) ON DELETE CASCADE,
    CONSTRAINT carried_history_team_fkey FOREIGN KEY (tenant_id, team_id)
        REFERENCES teams (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT carried_history_staff_fkey FOREIGN KEY (tenant_id, resealed_by)
        REFERENCES staff (tenant_id, id) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX carried_history_tenant_idx ON carried_history (tenant_id, team_id);

CREATE TABLE carried_notes (
    conversation_id UUID   NOT NULL,
    seq             BIGINT NOT NULL,
    team_id         UUID   NOT NULL,
    tenant_id       UUID   NOT NULL,
    payload         BYTEA  NOT NULL,
    resealed_by     UUID   NOT NULL,
    carried_at_ms   BIGINT NOT NULL,
    CONSTRAINT carried_notes_pkey PRIMARY KEY (conversation_id, seq, team_id),
    CONSTRAINT carried_notes_note_fkey FOREIGN KEY (conversation_id, seq)
        REFERENCES notes (conversation_id, seq) ON DELETE CASCADE,
    CONSTRAINT carried_notes_team_fkey FOREIGN KEY (tenant_id, team_id)
        REFERENCES teams (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT carried_notes_staff_fkey FOREIGN KEY (tenant_id, resealed_by)
        REFERENCES staff (tenant_id, id) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX carried_notes_tenant_idx ON carried_notes (tenant_id, team_id);
