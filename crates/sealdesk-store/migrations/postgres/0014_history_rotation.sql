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
ALTER TABLE history_pool ADD COLUMN team_key_version BIGINT;

-- The existing History Members become generation 1, active.
ALTER TABLE conversation_history
    ADD COLUMN generation INTEGER NOT NULL DEFAULT 1,
    ADD COLUMN state TEXT NOT NULL DEFAULT 'active',
    ADD COLUMN team_key_version BIGINT,
    ADD COLUMN not_after_ms BIGINT,
    ADD COLUMN changed_at_ms BIGINT;

UPDATE conversation_history SET changed_at_ms = taken_at_ms;

ALTER TABLE conversation_history
    ALTER COLUMN generation DROP DEFAULT,
    ALTER COLUMN state DROP DEFAULT,
    ALTER COLUMN changed_at_ms SET NOT NULL,
    ADD CONSTRAINT conversation_history_generation_check CHECK (generation >= 1),
    ADD CONSTRAINT conversation_history_state_check
        CHECK (state IN ('pending', 'active', 'retired', 'abandoned')),
    DROP CONSTRAINT conversation_history_pkey,
    ADD CONSTRAINT conversation_history_pkey PRIMARY KEY (conversation_id, generation);

CREATE UNIQUE INDEX conversation_history_active_idx
    ON conversation_history (conversation_id) WHERE state = 'active';
CREATE UNIQUE INDEX conversation_history_pending_idx
    ON conversation_history (conversation_id) WHERE state = 'pending';
