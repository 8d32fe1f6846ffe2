-- Team and archive keys (E2EE.md §3): the signed public announcements of each version of a
-- team's key (scope = the team id) and of the tenant's archive key (scope = 'archive'). The
-- private halves stay with the tenant's devices and owners; old versions stay so that old
-- History Member bundles can still be opened.
CREATE TABLE sealing_keys (
    tenant_id     TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    scope         TEXT    NOT NULL,
    version       INTEGER NOT NULL CHECK (version >= 1),
    public_key    BLOB    NOT NULL CHECK (length(public_key) = 32),
    announcement  BLOB    NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, scope, version)
) STRICT;
