-- Tenant root keys (E2EE.md §3): the Ed25519 public keys a tenant's certificate chains must
-- lead to. The private keys never reach the server. Several rows while a rotation overlaps.
CREATE TABLE tenant_root_keys (
    tenant_id   UUID   NOT NULL,
    public_key  BYTEA  NOT NULL,
    added_at_ms BIGINT NOT NULL,
    CONSTRAINT tenant_root_keys_pkey PRIMARY KEY (tenant_id, public_key),
    CONSTRAINT tenant_root_keys_length_check CHECK (length(public_key) = 32),
    CONSTRAINT tenant_root_keys_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE
);
