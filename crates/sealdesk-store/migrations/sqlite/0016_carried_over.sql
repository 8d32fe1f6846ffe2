-- Carried over at a transfer to another team (docs/e2ee.md, "Transfer to another team"): the
-- transferring agent's client re-seals each earlier History Member bundle and each internal
-- note to the new team's newest key (and the archive key), and the server stores the copies
-- beside the originals in the transfer's transaction. The originals stay (the first team and
-- the archive keep reading them); a copy is per (original, team), and a later transfer to
-- the same team replaces it. The server checks the cleartext headers only; readers check the
-- seals, the re-sealer's chain at `carried_at_ms`, and that the secrets match the original.
CREATE TABLE carried_history (
    conversation_id  TEXT    NOT NULL,
    generation       INTEGER NOT NULL CHECK (generation >= 1),
    team_id          TEXT    NOT NULL,
    tenant_id        TEXT    NOT NULL,
    sealed_bundle    BLOB    NOT NULL,
    team_key_version INTEGER NOT NULL CHECK (team_key_version >= 1),
    resealed_by      TEXT    NOT NULL,
    carried_at_ms    INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, generation, team_id),
    FOREIGN KEY (conversation_id, generation)
        REFERENCES conversation_history (conversation_id, generation) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, resealed_by) REFERENCES staff (tenant_id, id)
        DEFERRABLE INITIALLY DEFERRED
) STRICT, WITHOUT ROWID;

CREATE INDEX carried_history_tenant_idx ON carried_history (tenant_id, team_id);

CREATE TABLE carried_notes (
    conversation_id TEXT    NOT NULL,
    seq             INTEGER NOT NULL CHECK (seq >= 1),
    team_id         TEXT    NOT NULL,
    tenant_id       TEXT    NOT NULL,
    payload         BLOB    NOT NULL,
    resealed_by     TEXT    NOT NULL,
    carried_at_ms   INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, seq, team_id),
    FOREIGN KEY (conversation_id, seq) REFERENCES notes (conversation_id, seq)
        ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, resealed_by) REFERENCES staff (tenant_id, id)
        DEFERRABLE INITIALLY DEFERRED
) STRICT, WITHOUT ROWID;

CREATE INDEX carried_notes_tenant_idx ON carried_notes (tenant_id, team_id);
