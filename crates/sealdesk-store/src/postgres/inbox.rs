//! Inbox identity settings on PostgreSQL.

use async_trait::async_trait;
use sealdesk_core::clock::{from_unix_ms, to_unix_ms};
use sealdesk_proto::{TeamId, TenantId};
use sqlx::Row;

use super::{PgStore, db_err};
use crate::inbox_repo::InboxWidgetRow;
use crate::{IdentityKeyKind, InboxIdentity, InboxRepo, InboxWidget, StoreError, StoreResult};

#[async_trait]
impl InboxRepo for PgStore {
    async fn get_inbox_identity(
        &self,
        tenant: TenantId,
        team: TeamId,
    ) -> StoreResult<Option<InboxIdentity>> {
        let row = sqlx::query(
            "SELECT kind, key, required, updated_at_ms FROM inbox_identity
             WHERE tenant_id = $1 AND team_id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(team.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let kind: String = row.try_get("kind").map_err(db_err)?;
        Ok(Some(InboxIdentity {
            tenant_id: tenant,
            team_id: team,
            kind: IdentityKeyKind::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("inbox identity kind {kind:?}")))?,
            key: row.try_get("key").map_err(db_err)?,
            required: row.try_get("required").map_err(db_err)?,
            updated_at: from_unix_ms(row.try_get("updated_at_ms").map_err(db_err)?),
        }))
    }

    async fn set_inbox_identity(&self, identity: &InboxIdentity) -> StoreResult<()> {
        let written = sqlx::query(
            "INSERT INTO inbox_identity (team_id, tenant_id, kind, key, required, updated_at_ms)
             SELECT $1, $2, $3, $4, $5, $6
             WHERE EXISTS (SELECT 1 FROM teams WHERE tenant_id = $2 AND id = $1)
             ON CONFLICT (team_id) DO UPDATE SET kind = excluded.kind, key = excluded.key,
                 required = excluded.required, updated_at_ms = excluded.updated_at_ms
             WHERE inbox_identity.tenant_id = excluded.tenant_id",
        )
        .bind(identity.team_id.as_uuid())
        .bind(identity.tenant_id.as_uuid())
        .bind(identity.kind.as_str())
        .bind(identity.key.as_slice())
        .bind(identity.required)
        .bind(to_unix_ms(identity.updated_at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if written.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn get_inbox_widget(
        &self,
        tenant: TenantId,
        team: TeamId,
    ) -> StoreResult<Option<InboxWidget>> {
        let row = sqlx::query(
            "SELECT notice_version, notice_text, notice_url, prechat_fields, updated_at_ms
             FROM inbox_widget WHERE tenant_id = $1 AND team_id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(team.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let Some(row) = row else {
            return Ok(None);
        };
        InboxWidgetRow {
            notice_version: row.try_get("notice_version").map_err(db_err)?,
            notice_text: row.try_get("notice_text").map_err(db_err)?,
            notice_url: row.try_get("notice_url").map_err(db_err)?,
            prechat_fields: row.try_get("prechat_fields").map_err(db_err)?,
            updated_at_ms: row.try_get("updated_at_ms").map_err(db_err)?,
        }
        .into_widget(tenant, team)
        .map(Some)
    }

    async fn set_inbox_widget(&self, widget: &InboxWidget) -> StoreResult<()> {
        let row = InboxWidgetRow::of(widget)?;
        let written = sqlx::query(
            "INSERT INTO inbox_widget (team_id, tenant_id, notice_version, notice_text, notice_url,
                                       prechat_fields, updated_at_ms)
             SELECT $1, $2, $3, $4, $5, $6, $7
             WHERE EXISTS (SELECT 1 FROM teams WHERE tenant_id = $2 AND id = $1)
             ON CONFLICT (team_id) DO UPDATE SET notice_version = excluded.notice_version,
                 notice_text = excluded.notice_text, notice_url = excluded.notice_url,
                 prechat_fields = excluded.prechat_fields, updated_at_ms = excluded.updated_at_ms
             WHERE inbox_widget.tenant_id = excluded.tenant_id",
        )
        .bind(widget.team_id.as_uuid())
        .bind(widget.tenant_id.as_uuid())
        .bind(row.notice_version)
        .bind(row.notice_text)
        .bind(row.notice_url)
        .bind(row.prechat_fields)
        .bind(row.updated_at_ms)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if written.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn clear_inbox_identity(&self, tenant: TenantId, team: TeamId) -> StoreResult<bool> {
        let deleted =
            sqlx::query("DELETE FROM inbox_identity WHERE tenant_id = $1 AND team_id = $2")
                .bind(tenant.as_uuid())
                .bind(team.as_uuid())
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(deleted.rows_affected() > 0)
    }

    async fn list_inbox_secrets(&self) -> StoreResult<Vec<(TenantId, TeamId, Vec<u8>)>> {
        let rows =
            sqlx::query("SELECT tenant_id, team_id, key FROM inbox_identity WHERE kind = 'hs256'")
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        rows.iter()
            .map(|row| {
                Ok((
                    TenantId::from_uuid(row.try_get("tenant_id").map_err(db_err)?),
                    TeamId::from_uuid(row.try_get("team_id").map_err(db_err)?),
                    row.try_get("key").map_err(db_err)?,
                ))
            })
            .collect()
    }

    async fn replace_inbox_secret(
        &self,
        tenant: TenantId,
        team: TeamId,
        old: &[u8],
        new: &[u8],
    ) -> StoreResult<bool> {
        let updated = sqlx::query(
            "UPDATE inbox_identity SET key = $4
             WHERE tenant_id = $1 AND team_id = $2 AND kind = 'hs256' AND key = $3",
        )
        .bind(tenant.as_uuid())
        .bind(team.as_uuid())
        .bind(old)
        .bind(new)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(updated.rows_affected() > 0)
    }
}
