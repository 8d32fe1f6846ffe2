-- History Member rotation (E2EE.md §3 "Rotation"): after a team key rotation, a member's
-- client commits Remove(old History Member) + Add(new one) in each open conversation, so a
-- removed agent holding only the old team key cannot read what follows. A conversation
-- therefore has several History Members over its life, numbered 1, 2, … in order: at most
-- one `active` (the one in the group), at most one `pending` (taken from the pool for a
-- rotation, not committed yet), and `retired` ones (removed by a rotation; their bundles
-- still open the log up to that commit). A pending one whose key package expired before it
-- was committed is `abandoned`.
--
-- The pool records the team key version a bundle says it is sealed to (the cleartext header
-- of the SDB1 envelope; the server cannot check the seal, the opener does), so a rotation
-- takes a package sealed to the current version and new conversations get the newest ones.
ALTER TABLE history_pool ADD COLUMN team_key_version INTEGER;

-- The primary key changes to (conversation, generation): SQLite rebuilds the table. The
-- existing History Members become generation 1, active.
CREATE TABLE conversation_history_v2 (
    conversation_id  TEXT    NOT NULL,
    generation       INTEGER NOT NULL CHECK (generation >= 1),
    tenant_id        TEXT    NOT NULL,
    hash_ref         BLOB    NOT NULL,
    key_package      BLOB    NOT NULL,
    sealed_bundle    BLOB    NOT NULL,
    state            TEXT    NOT NULL
                     CHECK (state IN ('pending', 'active', 'retired', 'abandoned')),
    team_key_version INTEGER,
    not_after_ms     INTEGER,
    taken_at_ms      INTEGER NOT NULL,
    changed_at_ms    INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, generation)
) STRICT;

INSERT INTO conversation_history_v2
    (conversation_id, generation, tenant_id, hash_ref, key_package, sealed_bundle, state,
     team_key_version, not_after_ms, taken_at_ms, changed_at_ms)
SELECT conversation_id, 1, tenant_id, hash_ref, key_package, sealed_bundle, 'active',
       NULL, NULL, taken_at_ms, taken_at_ms
FROM conversation_history;

DROP TABLE conversation_history;
ALTER TABLE conversation_history_v2 RENAME TO conversation_history;

CREATE UNIQUE INDEX conversation_history_active_idx
    ON conversation_history (conversation_id) WHERE state = 'active';
CREATE UNIQUE INDEX conversation_history_pending_idx
    ON conversation_history (conversation_id) WHERE state = 'pending';
