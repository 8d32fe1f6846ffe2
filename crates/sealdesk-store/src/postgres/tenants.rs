//! Tenants on PostgreSQL: a tenant row plus its domain and origin rows, always written
//! together in one transaction.

use std::collections::HashMap;

use async_trait::async_trait;
use sealdesk_core::clock::to_unix_ms;
use sealdesk_core::domain::{DomainName, NewTenant, Tenant};
use sealdesk_proto::TenantId;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use super::{PgStore, db_err};
use crate::rows::{self, TenantRow};
use crate::{Deleted, StoreError, StoreResult, TenantRepo};

#[async_trait]
impl TenantRepo for PgStore {
    async fn add_root_key(
        &self,
        tenant: TenantId,
        public_key: [u8; 32],
        at: time::OffsetDateTime,
    ) -> StoreResult<()> {
        let inserted = sqlx::query(
            "INSERT INTO tenant_root_keys (tenant_id, public_key, added_at_ms)
             SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM tenants WHERE id = $1)
             ON CONFLICT (tenant_id, public_key) DO NOTHING",
        )
        .bind(tenant.as_uuid())
        .bind(public_key.as_slice())
        .bind(to_unix_ms(at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?
        .rows_affected();
        if inserted == 0 {
            // Already registered, or no such tenant.
            self.get_tenant(tenant).await?;
        }
        Ok(())
    }

    async fn root_keys(&self, tenant: TenantId) -> StoreResult<Vec<[u8; 32]>> {
        let rows: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT public_key FROM tenant_root_keys WHERE tenant_id = $1
             ORDER BY added_at_ms, public_key",
        )
        .bind(tenant.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter()
            .map(|k| {
                <[u8; 32]>::try_from(k.as_slice())
                    .map_err(|_| StoreError::Corrupt("a root key is not 32 bytes".into()))
            })
            .collect()
    }

    async fn delete_tenant(&self, id: TenantId) -> StoreResult<Deleted> {
        let id = id.as_uuid();
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // Lock the row first: a concurrent write to the tenant waits for the deletion.
        let exists: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        let blobs: Vec<Vec<u8>> =
            sqlx::query_scalar("DELETE FROM attachments WHERE tenant_id = $1 RETURNING sha256")
                .bind(id)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?;
        let entries = sqlx::query(
            "DELETE FROM log_entries WHERE conv IN (SELECT rid FROM conversations WHERE tenant_id = $1)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        for table in [
            "carried_notes",
            "carried_history",
            "notes",
            "conversation_participants",
            "conversations",
            "canned_responses",
            "tenant_root_keys",
            "sealing_keys",
            "team_key_wraps",
            "devices",
            "key_packages",
            "history_pool",
            "conversation_history",
        ] {
            sqlx::query(&format!("DELETE FROM {table} WHERE tenant_id = $1"))
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        sqlx::query("DELETE FROM tenants WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let mut orphaned_blobs = Vec::new();
        for blob in blobs {
            let still: Option<i32> =
                sqlx::query_scalar("SELECT 1 FROM attachments WHERE sha256 = $1 LIMIT 1")
                    .bind(&blob)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
            if still.is_none()
                && let Ok(digest) = <[u8; 32]>::try_from(blob.as_slice())
                && !orphaned_blobs.contains(&digest)
            {
                orphaned_blobs.push(digest);
            }
        }
        tx.commit().await.map_err(db_err)?;
        Ok(Deleted {
            entries,
            orphaned_blobs,
        })
    }

    async fn create_tenant(&self, tenant: &NewTenant) -> StoreResult<Tenant> {
        let id = tenant.id.as_uuid();
        let created_at_ms = to_unix_ms(tenant.created_at);
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO tenants (id, name, settings, disabled, created_at_ms, updated_at_ms)
             VALUES ($1, $2, $3::jsonb, FALSE, $4, $4)",
        )
        .bind(id)
        .bind(tenant.name.as_str())
        .bind(rows::settings_json(&tenant.settings)?)
        .bind(created_at_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        for (index, domain) in tenant.domains.iter().enumerate() {
            sqlx::query(
                "INSERT INTO tenant_domains (domain, tenant_id, position) VALUES ($1, $2, $3)",
            )
            .bind(domain.as_str())
            .bind(id)
            .bind(rows::position(index))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        for (index, origin) in tenant.widget_origins.iter().enumerate() {
            sqlx::query(
                "INSERT INTO tenant_origins (tenant_id, origin, position) VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(origin.as_str())
            .bind(rows::position(index))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        // On any error above, dropping `tx` rolls back: nothing of the tenant is written.
        tx.commit().await.map_err(db_err)?;
        Ok(rows::created_tenant(tenant))
    }

    async fn get_tenant(&self, id: TenantId) -> StoreResult<Tenant> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        load_tenant(&mut conn, id.as_uuid())
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let tenants = sqlx::query(
            "SELECT id, name, settings::text AS settings, disabled, created_at_ms
             FROM tenants ORDER BY created_at_ms, id",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
        let domains = grouped(
            &mut conn,
            "SELECT tenant_id, domain FROM tenant_domains ORDER BY tenant_id, position",
        )
        .await?;
        let origins = grouped(
            &mut conn,
            "SELECT tenant_id, origin FROM tenant_origins ORDER BY tenant_id, position",
        )
        .await?;
        // Domains are written with their tenant and never change; origins are replaced in one
        // transaction, so this read sees the old or the new set of a tenant, never a mix.
        tenants
            .iter()
            .map(|row| {
                let tenant = tenant_row(row)?;
                let id = tenant.id;
                tenant.into_tenant(listed(&domains, &id), listed(&origins, &id))
            })
            .collect()
    }

    async fn set_tenant_disabled(&self, id: TenantId, disabled: bool) -> StoreResult<Tenant> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let updated =
            sqlx::query("UPDATE tenants SET disabled = $1, updated_at_ms = $2 WHERE id = $3")
                .bind(disabled)
                .bind(self.now_ms())
                .bind(id.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let tenant = load_tenant(&mut tx, id.as_uuid()).await?;
        tx.commit().await.map_err(db_err)?;
        tenant.ok_or(StoreError::NotFound)
    }

    async fn update_tenant_settings(
        &self,
        id: TenantId,
        settings: &sealdesk_core::domain::TenantSettings,
    ) -> StoreResult<Tenant> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let updated = sqlx::query(
            "UPDATE tenants SET settings = $1::jsonb, updated_at_ms = $2 WHERE id = $3",
        )
        .bind(rows::settings_json(settings)?)
        .bind(self.now_ms())
        .bind(id.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let tenant = load_tenant(&mut tx, id.as_uuid()).await?;
        tx.commit().await.map_err(db_err)?;
        tenant.ok_or(StoreError::NotFound)
    }

    async fn set_widget_origins(
        &self,
        id: TenantId,
        origins: &[sealdesk_core::domain::WidgetOrigin],
    ) -> StoreResult<Tenant> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let updated = sqlx::query("UPDATE tenants SET updated_at_ms = $1 WHERE id = $2")
            .bind(self.now_ms())
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM tenant_origins WHERE tenant_id = $1")
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        for (index, origin) in origins.iter().enumerate() {
            sqlx::query(
                "INSERT INTO tenant_origins (tenant_id, origin, position) VALUES ($1, $2, $3)",
            )
            .bind(id.as_uuid())
            .bind(origin.as_str())
            .bind(rows::position(index))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        let tenant = load_tenant(&mut tx, id.as_uuid()).await?;
        tx.commit().await.map_err(db_err)?;
        tenant.ok_or(StoreError::NotFound)
    }

    async fn find_tenant_by_domain(&self, domain: &str) -> StoreResult<Option<Tenant>> {
        // Domains are stored in their normalised ASCII form; a string that does not parse
        // as a domain cannot belong to any tenant.
        let Ok(domain) = DomainName::parse(domain) else {
            return Ok(None);
        };
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let owner: Option<Uuid> =
            sqlx::query_scalar("SELECT tenant_id FROM tenant_domains WHERE domain = $1")
                .bind(domain.as_str())
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_err)?;
        match owner {
            Some(id) => load_tenant(&mut conn, id).await,
            None => Ok(None),
        }
    }
}

/// One tenant with its domains and origins, read on `conn`.
async fn load_tenant(conn: &mut PgConnection, id: Uuid) -> StoreResult<Option<Tenant>> {
    let Some(row) = sqlx::query(
        "SELECT id, name, settings::text AS settings, disabled, created_at_ms
         FROM tenants WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?
    else {
        return Ok(None);
    };
    let domains: Vec<String> = sqlx::query_scalar(
        "SELECT domain FROM tenant_domains WHERE tenant_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    let origins: Vec<String> = sqlx::query_scalar(
        "SELECT origin FROM tenant_origins WHERE tenant_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    tenant_row(&row)?.into_tenant(&domains, &origins).map(Some)
}

/// `(tenant_id, value)` rows, in query order, grouped by tenant id.
async fn grouped(
    conn: &mut PgConnection,
    sql: &'static str,
) -> StoreResult<HashMap<Uuid, Vec<String>>> {
    let pairs: Vec<(Uuid, String)> = sqlx::query_as(sql).fetch_all(conn).await.map_err(db_err)?;
    let mut map: HashMap<Uuid, Vec<String>> = HashMap::new();
    for (tenant_id, value) in pairs {
        map.entry(tenant_id).or_default().push(value);
    }
    Ok(map)
}

/// A tenant's entries in a [`grouped`] map (none if it has no rows there).
fn listed<'a>(map: &'a HashMap<Uuid, Vec<String>>, id: &Uuid) -> &'a [String] {
    map.get(id).map_or(&[], Vec::as_slice)
}

fn tenant_row(row: &PgRow) -> StoreResult<TenantRow> {
    Ok(TenantRow {
        id: row.try_get("id").map_err(db_err)?,
        name: row.try_get("name").map_err(db_err)?,
        settings: row.try_get("settings").map_err(db_err)?,
        disabled: row.try_get("disabled").map_err(db_err)?,
        created_at_ms: row.try_get("created_at_ms").map_err(db_err)?,
    })
}
