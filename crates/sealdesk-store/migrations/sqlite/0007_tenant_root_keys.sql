-- Tenant root keys (E2EE.md §3): the Ed25519 public keys a tenant's certificate chains must
-- lead to. The private keys never reach the server. Several rows while a rotation overlaps.
CREATE TABLE tenant_root_keys (
    tenant_id   TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    public_key  BLOB    NOT NULL CHECK (length(public_key) = 32),
    added_at_ms INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, public_key)
) STRICT;
