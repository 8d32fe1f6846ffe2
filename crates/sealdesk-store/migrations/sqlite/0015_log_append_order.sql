-- The conversation logs in append order (S6, docs/performance.md). 0004 clustered the entries
-- by (conversation, seq) WITHOUT ROWID, so a resume is one range scan. But live traffic is
-- spread over thousands of conversations: each entry landed in its own leaf page of that
-- B-tree, and a group commit of ~280 entries rewrote ~280 whole 4 KiB pages to the WAL (and
-- the checkpoint copied them again) for ~60 KiB of entries. With a rowid table the entries of
-- a commit fill consecutive pages at the end of the table; only the narrow (conversation,
-- seq) index, ~20 bytes per entry, takes random leaf writes. A resume is a range scan of that
-- index plus one rowid lookup per entry, which is what a read of a busy conversation's recent
-- entries did anyway (they sat in different leaves).
--
-- Measured with the same schema, batch and spread as S6 (docs/performance.md): SQLite's CPU
-- per append about halved. The rebuild keeps every row and constraint; nothing references
-- log_entries, so it can be dropped inside the migration's transaction.
CREATE TABLE log_entries_v2 (
    id            INTEGER PRIMARY KEY,
    conv          INTEGER NOT NULL REFERENCES conversations (rid) ON DELETE CASCADE,
    seq           INTEGER NOT NULL CHECK (seq >= 1),
    -- EntryKind::code: 1 handshake, 2 application, 3 welcome, 4 system.
    kind          INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 4),
    -- Party::code: 1 visitor, 2 staff, 3 system (no id).
    sender_kind   INTEGER NOT NULL CHECK (sender_kind BETWEEN 1 AND 3),
    sender_id     TEXT    CHECK ((sender_kind = 3) = (sender_id IS NULL)),
    client_msg_id TEXT    CHECK (client_msg_id IS NULL OR length(client_msg_id) BETWEEN 1 AND 64),
    payload       BLOB    NOT NULL,
    created_at_ms INTEGER NOT NULL
) STRICT;

INSERT INTO log_entries_v2 (conv, seq, kind, sender_kind, sender_id, client_msg_id, payload,
                            created_at_ms)
SELECT conv, seq, kind, sender_kind, sender_id, client_msg_id, payload, created_at_ms
FROM log_entries ORDER BY created_at_ms, conv, seq;

DROP TABLE log_entries;
ALTER TABLE log_entries_v2 RENAME TO log_entries;

-- One entry per (conversation, seq): the total order, and the resume read's range scan. Also
-- the index the cascade from conversations uses.
CREATE UNIQUE INDEX log_entries_seq_idx ON log_entries (conv, seq);

-- Idempotent sends: one entry per (conversation, client message id, sender).
CREATE UNIQUE INDEX log_entries_client_msg_idx ON log_entries (conv, client_msg_id, sender_id)
    WHERE client_msg_id IS NOT NULL;
