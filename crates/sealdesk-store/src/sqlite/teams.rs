//! Teams on SQLite. Every query names the tenant, so a team id of another tenant finds nothing.

use async_trait::async_trait;
use sealdesk_core::clock::to_unix_ms;
use sealdesk_core::domain::{NewTeam, Team};
use sealdesk_proto::{TeamId, TenantId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{SqliteStore, db_err};
use crate::rows::{self, TeamRow};
use crate::{StoreError, StoreResult, TeamRepo};

#[async_trait]
impl TeamRepo for SqliteStore {
    async fn create_team(&self, team: &NewTeam) -> StoreResult<Team> {
        // One statement, so the tenant check and the insert are one atomic step: the row is
        // written only if the tenant exists (no reliance on the foreign-key error text).
        let inserted = sqlx::query(
            "INSERT INTO teams (id, tenant_id, name, name_key, disabled, created_at_ms)
             SELECT ?, ?, ?, ?, 0, ? WHERE EXISTS (SELECT 1 FROM tenants WHERE id = ?)",
        )
        .bind(team.id.to_string())
        .bind(team.tenant_id.to_string())
        .bind(team.name.as_str())
        .bind(team.name.unique_key())
        .bind(to_unix_ms(team.created_at))
        .bind(team.tenant_id.to_string())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(rows::created_team(team))
    }

    async fn get_team(&self, tenant: TenantId, id: TeamId) -> StoreResult<Team> {
        let row = sqlx::query(
            "SELECT id, tenant_id, name, disabled, created_at_ms FROM teams
             WHERE tenant_id = ? AND id = ?",
        )
        .bind(tenant.to_string())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        team_row(&row)?.into_team()
    }

    async fn list_teams(&self, tenant: TenantId) -> StoreResult<Vec<Team>> {
        sqlx::query(
            "SELECT id, tenant_id, name, disabled, created_at_ms FROM teams
             WHERE tenant_id = ? ORDER BY created_at_ms, id",
        )
        .bind(tenant.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|row| team_row(row)?.into_team())
        .collect()
    }

    async fn set_team_disabled(
        &self,
        tenant: TenantId,
        id: TeamId,
        disabled: bool,
    ) -> StoreResult<Team> {
        let row = sqlx::query(
            "UPDATE teams SET disabled = ? WHERE tenant_id = ? AND id = ?
             RETURNING id, tenant_id, name, disabled, created_at_ms",
        )
        .bind(disabled)
        .bind(tenant.to_string())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        team_row(&row)?.into_team()
    }
}

fn team_row(row: &SqliteRow) -> StoreResult<TeamRow> {
    Ok(TeamRow {
        id: rows::parse_uuid(row.try_get::<&str, _>("id").map_err(db_err)?, "teams.id")?,
        tenant_id: rows::parse_uuid(
            row.try_get::<&str, _>("tenant_id").map_err(db_err)?,
            "teams.tenant_id",
        )?,
        name: row.try_get("name").map_err(db_err)?,
        disabled: row.try_get("disabled").map_err(db_err)?,
        created_at_ms: row.try_get("created_at_ms").map_err(db_err)?,
    })
}
