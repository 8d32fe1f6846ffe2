-- Conversations: visitors and their tickets, conversations with their routing state and
-- append-only logs, participants, team membership, staff availability, team routing, internal
-- notes, canned responses and attachment references. Payloads are opaque BLOBs the store
-- never parses. Ids are UUID text and times Unix milliseconds, as in 0001. Where a foreign
-- key's columns are not a prefix of the child's primary key, an index lets SQLite find the
-- referencing rows without a table scan when a parent row is deleted.

-- Lets the tables below reference a team together with its tenant, so a row can never name a
-- team of another tenant. (`id` alone is already unique.)
CREATE UNIQUE INDEX teams_tenant_id_idx ON teams (tenant_id, id);

CREATE TABLE visitors (
    id              TEXT    NOT NULL PRIMARY KEY,
    tenant_id       TEXT    NOT NULL,
    -- The team (inbox) whose widget created the visitor.
    team_id         TEXT    NOT NULL,
    -- SHA-256 of the visitor key the widget keeps; the key itself is never stored.
    key_hash        BLOB    NOT NULL CHECK (length(key_hash) = 32),
    -- The tenant's own customer id, when a signed identity token vouched for it.
    external_id     TEXT    CHECK (external_id IS NULL OR length(CAST(external_id AS BLOB)) BETWEEN 1 AND 128),
    created_at_ms   INTEGER NOT NULL,
    last_seen_at_ms INTEGER NOT NULL,
    UNIQUE (tenant_id, key_hash),
    FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, id) ON DELETE CASCADE
) STRICT;

CREATE UNIQUE INDEX visitors_tenant_id_idx ON visitors (tenant_id, id);
-- At most one visitor per customer of a tenant.
CREATE UNIQUE INDEX visitors_tenant_external_idx ON visitors (tenant_id, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX visitors_tenant_team_idx ON visitors (tenant_id, team_id);

-- Short-lived bearer tickets for the widget's WebSocket, stored as SHA-256 of the token.
CREATE TABLE visitor_tickets (
    token_hash    BLOB    NOT NULL PRIMARY KEY CHECK (length(token_hash) = 32),
    tenant_id     TEXT    NOT NULL,
    visitor_id    TEXT    NOT NULL,
    team_id       TEXT    NOT NULL,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, visitor_id) REFERENCES visitors (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- purge_expired_tickets.
CREATE INDEX visitor_tickets_expires_idx ON visitor_tickets (expires_at_ms);
CREATE INDEX visitor_tickets_visitor_idx ON visitor_tickets (tenant_id, visitor_id);
CREATE INDEX visitor_tickets_team_idx ON visitor_tickets (tenant_id, team_id);

CREATE TABLE conversations (
    -- A compact surrogate key (the rowid) for the log, which would otherwise repeat the
    -- 36-byte id in every entry and in both of its indexes.
    rid            INTEGER PRIMARY KEY,
    id             TEXT    NOT NULL UNIQUE,
    tenant_id      TEXT    NOT NULL,
    team_id        TEXT    NOT NULL,
    visitor_id     TEXT    NOT NULL,
    state          TEXT    NOT NULL CHECK (state IN ('open', 'queued', 'assigned', 'closed')),
    assignee_id    TEXT,
    -- The closed conversation this one reopens; cleared when that one is deleted.
    reopened_from  TEXT    REFERENCES conversations (id) ON DELETE SET NULL,
    -- The sequence number of the last log entry (0: empty log).
    last_seq       INTEGER NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    -- The sequence number of the last internal note.
    note_seq       INTEGER NOT NULL DEFAULT 0 CHECK (note_seq >= 0),
    created_at_ms  INTEGER NOT NULL,
    updated_at_ms  INTEGER NOT NULL,
    closed_at_ms   INTEGER,
    CHECK ((state = 'assigned') = (assignee_id IS NOT NULL)),
    CHECK ((state = 'closed') = (closed_at_ms IS NOT NULL)),
    FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, visitor_id) REFERENCES visitors (tenant_id, id) ON DELETE CASCADE,
    -- No cascade: a staff member's conversations, notes and canned responses outlive the
    -- account. Deferred to the commit, like on PostgreSQL (where deleting a whole tenant
    -- would otherwise trip it half-way through the cascade).
    FOREIGN KEY (tenant_id, assignee_id) REFERENCES staff (tenant_id, id)
        DEFERRABLE INITIALLY DEFERRED
) STRICT;

-- Lets notes, participants and attachments reference a conversation with its tenant.
CREATE UNIQUE INDEX conversations_tenant_id_idx ON conversations (tenant_id, id);
-- Team queues: list_conversations by team and state, newest first.
CREATE INDEX conversations_queue_idx ON conversations (tenant_id, team_id, state, id);
-- An agent's conversations, and team_loads (count of assigned conversations per agent).
CREATE INDEX conversations_assignee_idx ON conversations (tenant_id, assignee_id, state, id)
    WHERE assignee_id IS NOT NULL;
-- A visitor's conversations.
CREATE INDEX conversations_visitor_idx ON conversations (tenant_id, visitor_id, id);
-- Retention: a tenant's closed conversations, oldest first.
CREATE INDEX conversations_closed_idx ON conversations (tenant_id, closed_at_ms, id)
    WHERE closed_at_ms IS NOT NULL;
CREATE INDEX conversations_reopened_idx ON conversations (reopened_from);

-- The append-only logs: the hot table. Keyed by (conversation surrogate, seq) WITHOUT ROWID,
-- so an entry is stored once, in primary-key order, and a resume read is one range scan.
-- Deliberately without tenant_id: the conversation determines it, and 37 bytes per entry
-- would add ~15 % to a 200-byte message; every read goes through the conversation's tenant.
CREATE TABLE log_entries (
    conv          INTEGER NOT NULL REFERENCES conversations (rid) ON DELETE CASCADE,
    seq           INTEGER NOT NULL CHECK (seq >= 1),
    -- EntryKind::code: 1 handshake, 2 application, 3 welcome, 4 system.
    kind          INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 4),
    -- Party::code: 1 visitor, 2 staff, 3 system (no id).
    sender_kind   INTEGER NOT NULL CHECK (sender_kind BETWEEN 1 AND 3),
    sender_id     TEXT    CHECK ((sender_kind = 3) = (sender_id IS NULL)),
    client_msg_id TEXT    CHECK (client_msg_id IS NULL OR length(client_msg_id) BETWEEN 1 AND 64),
    payload       BLOB    NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (conv, seq)
) STRICT, WITHOUT ROWID;

-- Idempotent sends: one entry per (conversation, client message id, sender).
CREATE UNIQUE INDEX log_entries_client_msg_idx ON log_entries (conv, client_msg_id, sender_id)
    WHERE client_msg_id IS NOT NULL;

-- Staff who joined a conversation (a supervisor, an agent in a transfer).
CREATE TABLE conversation_participants (
    tenant_id       TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    staff_id        TEXT    NOT NULL,
    added_at_ms     INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, staff_id),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id)
        ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

CREATE INDEX conversation_participants_staff_idx ON conversation_participants (tenant_id, staff_id);

CREATE TABLE team_members (
    tenant_id     TEXT    NOT NULL,
    team_id       TEXT    NOT NULL,
    staff_id      TEXT    NOT NULL,
    PRIMARY KEY (team_id, staff_id),
    FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

CREATE INDEX team_members_staff_idx ON team_members (tenant_id, staff_id);

-- One row per staff member who set an availability or was ever assigned a conversation; no
-- row reads as offline with the default capacity.
CREATE TABLE staff_availability (
    staff_id            TEXT    NOT NULL PRIMARY KEY,
    tenant_id           TEXT    NOT NULL,
    availability        TEXT    NOT NULL CHECK (availability IN ('online', 'away', 'offline')),
    capacity            INTEGER NOT NULL CHECK (capacity BETWEEN 0 AND 65535),
    updated_at_ms       INTEGER NOT NULL,
    -- The last time a conversation was assigned to them (round robin, least-busy ties).
    last_assigned_at_ms INTEGER,
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE
) STRICT;

-- A team's assignment mode; no row reads as the default mode.
CREATE TABLE team_routing (
    team_id       TEXT    NOT NULL PRIMARY KEY,
    tenant_id     TEXT    NOT NULL,
    mode          TEXT    NOT NULL CHECK (mode IN ('manual', 'least_busy', 'round_robin')),
    updated_at_ms INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, id) ON DELETE CASCADE
) STRICT;

-- Internal notes: staff-only, numbered per conversation from conversations.note_seq.
CREATE TABLE notes (
    tenant_id       TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    seq             INTEGER NOT NULL CHECK (seq >= 1),
    author_id       TEXT    NOT NULL,
    payload         BLOB    NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, seq),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id)
        ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, author_id) REFERENCES staff (tenant_id, id)
        DEFERRABLE INITIALLY DEFERRED
) STRICT, WITHOUT ROWID;

CREATE INDEX notes_author_idx ON notes (tenant_id, author_id);

CREATE TABLE canned_responses (
    id            TEXT    NOT NULL PRIMARY KEY,
    tenant_id     TEXT    NOT NULL,
    team_id       TEXT    NOT NULL,
    payload       BLOB    NOT NULL,
    created_by    TEXT    NOT NULL,
    created_at_ms INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, created_by) REFERENCES staff (tenant_id, id)
        DEFERRABLE INITIALLY DEFERRED
) STRICT;

-- A team's canned responses, oldest first.
CREATE INDEX canned_responses_team_idx ON canned_responses (tenant_id, team_id, created_at_ms, id);
CREATE INDEX canned_responses_author_idx ON canned_responses (tenant_id, created_by);

-- Which conversation references which client-encrypted blob (stored in the data directory
-- under the hex SHA-256 of its bytes). A blob no row references any more is deleted.
CREATE TABLE attachments (
    tenant_id       TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    sha256          BLOB    NOT NULL CHECK (length(sha256) = 32),
    size            INTEGER NOT NULL CHECK (size >= 0),
    -- 1 visitor, 2 staff (as Party::code).
    uploader_kind   INTEGER NOT NULL CHECK (uploader_kind IN (1, 2)),
    uploader_id     TEXT    NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, sha256),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id)
        ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- blob_referenced and the orphan check after a deletion.
CREATE INDEX attachments_sha256_idx ON attachments (sha256);
