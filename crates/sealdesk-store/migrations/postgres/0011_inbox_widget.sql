-- An inbox's widget settings: the privacy notice visitors accept and the pre-chat field
-- definitions (the tenant's words; the visitors' answers travel end-to-end encrypted and are
-- never stored here). `prechat_fields` is a JSON array of {name, label, kind, required}.
CREATE TABLE inbox_widget (
    team_id        UUID   NOT NULL,
    tenant_id      UUID   NOT NULL,
    notice_version TEXT,
    notice_text    TEXT,
    notice_url     TEXT,
    prechat_fields TEXT   NOT NULL,
    updated_at_ms  BIGINT NOT NULL,
    CONSTRAINT inbox_widget_pkey PRIMARY KEY (team_id),
    CONSTRAINT inbox_widget_notice_check CHECK ((notice_version IS NULL) = (notice_text IS NULL)),
    CONSTRAINT inbox_widget_team_fkey FOREIGN KEY (tenant_id, team_id)
        REFERENCES teams (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX inbox_widget_tenant_idx ON inbox_widget (tenant_id);

-- The privacy-notice version a visitor accepted when opening the conversation (consent
-- record, content-free; its time is the conversation's creation time).
ALTER TABLE conversations ADD COLUMN consent_notice TEXT;
