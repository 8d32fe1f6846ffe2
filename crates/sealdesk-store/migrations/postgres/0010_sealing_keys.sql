-- Team and archive keys (E2EE.md §3): the signed public announcements of each version of a
-- team's key (scope = the team id) and of the tenant's archive key (scope = 'archive'). The
-- private halves stay with the tenant's devices and owners; old versions stay so that old
-- History Member bundles can still be opened.
CREATE TABLE sealing_keys (
    tenant_id     UUID   NOT NULL,
    scope         TEXT   NOT NULL,
    version       BIGINT NOT NULL,
    public_key    BYTEA  NOT NULL,
    announcement  BYTEA  NOT NULL,
    created_at_ms BIGINT NOT NULL,
    CONSTRAINT sealing_keys_pkey PRIMARY KEY (tenant_id, scope, version),
    CONSTRAINT sealing_keys_version_check CHECK (version >= 1),
    CONSTRAINT sealing_keys_length_check CHECK (length(public_key) = 32),
    CONSTRAINT sealing_keys_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE
);
