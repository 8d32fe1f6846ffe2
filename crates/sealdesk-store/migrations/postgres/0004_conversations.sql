-- Conversations: visitors and their tickets, conversations with their routing state and
-- append-only logs, participants, team membership, staff availability, team routing, internal
-- notes, canned responses and attachment references. Payloads are opaque BYTEA the store
-- never parses. Times are Unix milliseconds (BIGINT), as on SQLite. Constraint names are
-- mapped to `Constraint` in src/postgres/mod.rs. PostgreSQL does not index the referencing
-- side of a foreign key by itself: every foreign key below is covered by an index (its own, or
-- a primary key that starts with the referenced id), so deleting a parent row does not scan
-- the child table.

-- Lets the tables below reference a team together with its tenant, so a row can never name a
-- team of another tenant. (`id` alone is already unique.)
ALTER TABLE teams ADD CONSTRAINT teams_tenant_id_key UNIQUE (tenant_id, id);

CREATE TABLE visitors (
    id              UUID    NOT NULL,
    tenant_id       UUID    NOT NULL,
    -- The team (inbox) whose widget created the visitor.
    team_id         UUID    NOT NULL,
    -- SHA-256 of the visitor key the widget keeps; the key itself is never stored.
    key_hash        BYTEA   NOT NULL,
    -- The tenant's own customer id, when a signed identity token vouched for it.
    external_id     TEXT,
    created_at_ms   BIGINT  NOT NULL,
    last_seen_at_ms BIGINT  NOT NULL,
    CONSTRAINT visitors_pkey PRIMARY KEY (id),
    CONSTRAINT visitors_tenant_id_key UNIQUE (tenant_id, id),
    CONSTRAINT visitors_tenant_key_hash_key UNIQUE (tenant_id, key_hash),
    CONSTRAINT visitors_key_hash_check CHECK (octet_length(key_hash) = 32),
    CONSTRAINT visitors_external_id_check
        CHECK (external_id IS NULL OR octet_length(external_id) BETWEEN 1 AND 128),
    CONSTRAINT visitors_team_fkey FOREIGN KEY (tenant_id, team_id)
        REFERENCES teams (tenant_id, id) ON DELETE CASCADE
);

-- At most one visitor per customer of a tenant.
CREATE UNIQUE INDEX visitors_tenant_external_key ON visitors (tenant_id, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX visitors_tenant_team_idx ON visitors (tenant_id, team_id);

-- Short-lived bearer tickets for the widget's WebSocket, stored as SHA-256 of the token.
CREATE TABLE visitor_tickets (
    token_hash    BYTEA   NOT NULL,
    tenant_id     UUID    NOT NULL,
    visitor_id    UUID    NOT NULL,
    team_id       UUID    NOT NULL,
    created_at_ms BIGINT  NOT NULL,
    expires_at_ms BIGINT  NOT NULL,
    CONSTRAINT visitor_tickets_pkey PRIMARY KEY (token_hash),
    CONSTRAINT visitor_tickets_token_hash_check CHECK (octet_length(token_hash) = 32),
    CONSTRAINT visitor_tickets_visitor_fkey FOREIGN KEY (tenant_id, visitor_id)
        REFERENCES visitors (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT visitor_tickets_team_fkey FOREIGN KEY (tenant_id, team_id)
        REFERENCES teams (tenant_id, id) ON DELETE CASCADE
);

-- purge_expired_tickets.
CREATE INDEX visitor_tickets_expires_idx ON visitor_tickets (expires_at_ms);
CREATE INDEX visitor_tickets_visitor_idx ON visitor_tickets (tenant_id, visitor_id);
CREATE INDEX visitor_tickets_team_idx ON visitor_tickets (tenant_id, team_id);

CREATE TABLE conversations (
    -- A compact surrogate key for the log, which would otherwise repeat the 16-byte id in
    -- every entry and in both of its indexes.
    rid           BIGINT  GENERATED ALWAYS AS IDENTITY,
    id            UUID    NOT NULL,
    tenant_id     UUID    NOT NULL,
    team_id       UUID    NOT NULL,
    visitor_id    UUID    NOT NULL,
    state         TEXT    NOT NULL,
    assignee_id   UUID,
    -- The closed conversation this one reopens; cleared when that one is deleted.
    reopened_from UUID,
    -- The sequence number of the last log entry (0: empty log).
    last_seq      BIGINT  NOT NULL DEFAULT 0,
    -- The sequence number of the last internal note.
    note_seq      BIGINT  NOT NULL DEFAULT 0,
    created_at_ms BIGINT  NOT NULL,
    updated_at_ms BIGINT  NOT NULL,
    closed_at_ms  BIGINT,
    CONSTRAINT conversations_pkey PRIMARY KEY (id),
    CONSTRAINT conversations_rid_key UNIQUE (rid),
    CONSTRAINT conversations_tenant_id_key UNIQUE (tenant_id, id),
    CONSTRAINT conversations_state_check
        CHECK (state IN ('open', 'queued', 'assigned', 'closed')),
    CONSTRAINT conversations_assignee_check CHECK ((state = 'assigned') = (assignee_id IS NOT NULL)),
    CONSTRAINT conversations_closed_check CHECK ((state = 'closed') = (closed_at_ms IS NOT NULL)),
    CONSTRAINT conversations_seq_check CHECK (last_seq >= 0 AND note_seq >= 0),
    CONSTRAINT conversations_team_fkey FOREIGN KEY (tenant_id, team_id)
        REFERENCES teams (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT conversations_visitor_fkey FOREIGN KEY (tenant_id, visitor_id)
        REFERENCES visitors (tenant_id, id) ON DELETE CASCADE,
    -- No cascade: a staff member's conversations, notes and canned responses outlive the
    -- account. Deferred to the commit, so that deleting a whole tenant (which cascades to
    -- both ends in separate internal statements) does not trip it half-way.
    CONSTRAINT conversations_assignee_fkey FOREIGN KEY (tenant_id, assignee_id)
        REFERENCES staff (tenant_id, id) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT conversations_reopened_fkey FOREIGN KEY (reopened_from)
        REFERENCES conversations (id) ON DELETE SET NULL
);

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
CREATE INDEX conversations_reopened_idx ON conversations (reopened_from)
    WHERE reopened_from IS NOT NULL;

-- The append-only logs: the hot table, keyed by (conversation surrogate, seq). Deliberately
-- without tenant_id: the conversation determines it, and every read goes through the
-- conversation's tenant.
CREATE TABLE log_entries (
    conv          BIGINT   NOT NULL,
    seq           BIGINT   NOT NULL,
    -- EntryKind::code: 1 handshake, 2 application, 3 welcome, 4 system.
    kind          SMALLINT NOT NULL,
    -- Party::code: 1 visitor, 2 staff, 3 system (no id).
    sender_kind   SMALLINT NOT NULL,
    sender_id     UUID,
    client_msg_id TEXT,
    payload       BYTEA    NOT NULL,
    created_at_ms BIGINT   NOT NULL,
    CONSTRAINT log_entries_pkey PRIMARY KEY (conv, seq),
    CONSTRAINT log_entries_seq_check CHECK (seq >= 1),
    CONSTRAINT log_entries_kind_check CHECK (kind BETWEEN 1 AND 4),
    CONSTRAINT log_entries_sender_check
        CHECK (sender_kind BETWEEN 1 AND 3 AND (sender_kind = 3) = (sender_id IS NULL)),
    CONSTRAINT log_entries_client_msg_id_check
        CHECK (client_msg_id IS NULL OR length(client_msg_id) BETWEEN 1 AND 64),
    CONSTRAINT log_entries_conv_fkey FOREIGN KEY (conv)
        REFERENCES conversations (rid) ON DELETE CASCADE
);

-- Idempotent sends: one entry per (conversation, client message id, sender).
CREATE UNIQUE INDEX log_entries_client_msg_key ON log_entries (conv, client_msg_id, sender_id)
    WHERE client_msg_id IS NOT NULL;

-- Staff who joined a conversation (a supervisor, an agent in a transfer).
CREATE TABLE conversation_participants (
    tenant_id       UUID   NOT NULL,
    conversation_id UUID   NOT NULL,
    staff_id        UUID   NOT NULL,
    added_at_ms     BIGINT NOT NULL,
    CONSTRAINT conversation_participants_pkey PRIMARY KEY (conversation_id, staff_id),
    CONSTRAINT conversation_participants_conv_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES conversations (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT conversation_participants_staff_fkey FOREIGN KEY (tenant_id, staff_id)
        REFERENCES staff (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX conversation_participants_staff_idx ON conversation_participants (tenant_id, staff_id);

CREATE TABLE team_members (
    tenant_id UUID NOT NULL,
    team_id   UUID NOT NULL,
    staff_id  UUID NOT NULL,
    CONSTRAINT team_members_pkey PRIMARY KEY (team_id, staff_id),
    CONSTRAINT team_members_team_fkey FOREIGN KEY (tenant_id, team_id)
        REFERENCES teams (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT team_members_staff_fkey FOREIGN KEY (tenant_id, staff_id)
        REFERENCES staff (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX team_members_staff_idx ON team_members (tenant_id, staff_id);

-- One row per staff member who set an availability or was ever assigned a conversation; no
-- row reads as offline with the default capacity.
CREATE TABLE staff_availability (
    staff_id            UUID    NOT NULL,
    tenant_id           UUID    NOT NULL,
    availability        TEXT    NOT NULL,
    capacity            INTEGER NOT NULL,
    updated_at_ms       BIGINT  NOT NULL,
    -- The last time a conversation was assigned to them (round robin, least-busy ties).
    last_assigned_at_ms BIGINT,
    CONSTRAINT staff_availability_pkey PRIMARY KEY (staff_id),
    CONSTRAINT staff_availability_check CHECK (availability IN ('online', 'away', 'offline')),
    CONSTRAINT staff_availability_capacity_check CHECK (capacity BETWEEN 0 AND 65535),
    CONSTRAINT staff_availability_staff_fkey FOREIGN KEY (tenant_id, staff_id)
        REFERENCES staff (tenant_id, id) ON DELETE CASCADE
);

-- A team's assignment mode; no row reads as the default mode.
CREATE TABLE team_routing (
    team_id       UUID   NOT NULL,
    tenant_id     UUID   NOT NULL,
    mode          TEXT   NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    CONSTRAINT team_routing_pkey PRIMARY KEY (team_id),
    CONSTRAINT team_routing_mode_check CHECK (mode IN ('manual', 'least_busy', 'round_robin')),
    CONSTRAINT team_routing_team_fkey FOREIGN KEY (tenant_id, team_id)
        REFERENCES teams (tenant_id, id) ON DELETE CASCADE
);

-- Internal notes: staff-only, numbered per conversation from conversations.note_seq.
CREATE TABLE notes (
    tenant_id       UUID   NOT NULL,
    conversation_id UUID   NOT NULL,
    seq             BIGINT NOT NULL,
    author_id       UUID   NOT NULL,
    payload         BYTEA  NOT NULL,
    created_at_ms   BIGINT NOT NULL,
    CONSTRAINT notes_pkey PRIMARY KEY (conversation_id, seq),
    CONSTRAINT notes_seq_check CHECK (seq >= 1),
    CONSTRAINT notes_conv_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES conversations (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT notes_author_fkey FOREIGN KEY (tenant_id, author_id)
        REFERENCES staff (tenant_id, id) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX notes_author_idx ON notes (tenant_id, author_id);

CREATE TABLE canned_responses (
    id            UUID   NOT NULL,
    tenant_id     UUID   NOT NULL,
    team_id       UUID   NOT NULL,
    payload       BYTEA  NOT NULL,
    created_by    UUID   NOT NULL,
    created_at_ms BIGINT NOT NULL,
    CONSTRAINT canned_responses_pkey PRIMARY KEY (id),
    CONSTRAINT canned_responses_team_fkey FOREIGN KEY (tenant_id, team_id)
        REFERENCES teams (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT canned_responses_author_fkey FOREIGN KEY (tenant_id, created_by)
        REFERENCES staff (tenant_id, id) DEFERRABLE INITIALLY DEFERRED
);

-- A team's canned responses, oldest first.
CREATE INDEX canned_responses_team_idx ON canned_responses (tenant_id, team_id, created_at_ms, id);
CREATE INDEX canned_responses_author_idx ON canned_responses (tenant_id, created_by);

-- Which conversation references which client-encrypted blob (stored in the data directory
-- under the hex SHA-256 of its bytes). A blob no row references any more is deleted.
CREATE TABLE attachments (
    tenant_id       UUID     NOT NULL,
    conversation_id UUID     NOT NULL,
    sha256          BYTEA    NOT NULL,
    size            BIGINT   NOT NULL,
    -- 1 visitor, 2 staff (as Party::code).
    uploader_kind   SMALLINT NOT NULL,
    uploader_id     UUID     NOT NULL,
    created_at_ms   BIGINT   NOT NULL,
    CONSTRAINT attachments_pkey PRIMARY KEY (conversation_id, sha256),
    CONSTRAINT attachments_sha256_check CHECK (octet_length(sha256) = 32),
    CONSTRAINT attachments_size_check CHECK (size >= 0),
    CONSTRAINT attachments_uploader_check CHECK (uploader_kind IN (1, 2)),
    CONSTRAINT attachments_conv_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES conversations (tenant_id, id) ON DELETE CASCADE
);

-- blob_referenced and the orphan check after a deletion.
CREATE INDEX attachments_sha256_idx ON attachments (sha256);
