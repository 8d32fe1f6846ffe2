//! Team membership, staff availability and team routing settings on SQLite. Writes are single
//! statements guarded by `EXISTS` checks in the tenant.

use async_trait::async_trait;
use sealdesk_core::routing::{AgentLoad, AssignmentMode, Availability};
use sealdesk_proto::{StaffId, TeamId, TenantId};
use sqlx::Row;
use time::OffsetDateTime;

use super::{SqliteStore, db_err, uuid_at};
use crate::conversation_rows::{self, LoadRow, ms};
use crate::{RoutingRepo, StoreError, StoreResult};

#[async_trait]
impl RoutingRepo for SqliteStore {
    async fn add_team_member(
        &self,
        tenant: TenantId,
        team: TeamId,
        staff: StaffId,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let found: (i64, i64) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM teams WHERE tenant_id = ?1 AND id = ?2),
                    EXISTS (SELECT 1 FROM staff WHERE tenant_id = ?1 AND id = ?3)",
        )
        .bind(tenant.to_string())
        .bind(team.to_string())
        .bind(staff.to_string())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        if found != (1, 1) {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "INSERT INTO team_members (tenant_id, team_id, staff_id) VALUES (?1, ?2, ?3)
             ON CONFLICT (team_id, staff_id) DO NOTHING",
        )
        .bind(tenant.to_string())
        .bind(team.to_string())
        .bind(staff.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn remove_team_member(
        &self,
        tenant: TenantId,
        team: TeamId,
        staff: StaffId,
    ) -> StoreResult<bool> {
        let deleted = sqlx::query(
            "DELETE FROM team_members WHERE tenant_id = ?1 AND team_id = ?2 AND staff_id = ?3",
        )
        .bind(tenant.to_string())
        .bind(team.to_string())
        .bind(staff.to_string())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(deleted.rows_affected() > 0)
    }

    async fn teams_of_staff(&self, tenant: TenantId, staff: StaffId) -> StoreResult<Vec<TeamId>> {
        sqlx::query(
            "SELECT team_id FROM team_members WHERE tenant_id = ?1 AND staff_id = ?2
             ORDER BY team_id",
        )
        .bind(tenant.to_string())
        .bind(staff.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|row| Ok(TeamId::from_uuid(uuid_at(row, "team_id", "team_members")?)))
        .collect()
    }

    async fn team_members(&self, tenant: TenantId, team: TeamId) -> StoreResult<Vec<StaffId>> {
        sqlx::query(
            "SELECT staff_id FROM team_members WHERE tenant_id = ?1 AND team_id = ?2
             ORDER BY staff_id",
        )
        .bind(tenant.to_string())
        .bind(team.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|row| {
            Ok(StaffId::from_uuid(uuid_at(
                row,
                "staff_id",
                "team_members",
            )?))
        })
        .collect()
    }

    async fn set_availability(
        &self,
        tenant: TenantId,
        staff: StaffId,
        availability: Availability,
        capacity: u16,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let written = sqlx::query(
            "INSERT INTO staff_availability (staff_id, tenant_id, availability, capacity,
                                             updated_at_ms)
             SELECT ?1, ?2, ?3, ?4, ?5
             WHERE EXISTS (SELECT 1 FROM staff WHERE tenant_id = ?2 AND id = ?1)
             ON CONFLICT (staff_id) DO UPDATE SET availability = excluded.availability,
                 capacity = excluded.capacity, updated_at_ms = excluded.updated_at_ms",
        )
        .bind(staff.to_string())
        .bind(tenant.to_string())
        .bind(availability.as_str())
        .bind(i64::from(capacity))
        .bind(ms(at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if written.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn availability(
        &self,
        tenant: TenantId,
        staff: StaffId,
    ) -> StoreResult<Option<(Availability, u16)>> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT availability, capacity FROM staff_availability
             WHERE tenant_id = ?1 AND staff_id = ?2",
        )
        .bind(tenant.to_string())
        .bind(staff.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(|(availability, capacity)| {
            let corrupt = || StoreError::Corrupt(format!("availability of {staff}"));
            Ok((
                Availability::parse(&availability).ok_or_else(corrupt)?,
                u16::try_from(capacity).map_err(|_| corrupt())?,
            ))
        })
        .transpose()
    }

    async fn team_loads(&self, tenant: TenantId, team: TeamId) -> StoreResult<Vec<AgentLoad>> {
        // `active` counts assigned conversations in every team: capacity is per person.
        sqlx::query(
            "SELECT s.id, a.availability, a.capacity, a.last_assigned_at_ms,
                    (SELECT COUNT(*) FROM conversations c
                     WHERE c.tenant_id = s.tenant_id AND c.assignee_id = s.id
                       AND c.state = 'assigned') AS active
             FROM team_members m
             JOIN staff s ON s.tenant_id = m.tenant_id AND s.id = m.staff_id
             LEFT JOIN staff_availability a ON a.staff_id = s.id
             WHERE m.tenant_id = ?1 AND m.team_id = ?2 AND s.disabled = 0
             ORDER BY s.id",
        )
        .bind(tenant.to_string())
        .bind(team.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|row| {
            LoadRow {
                staff_id: uuid_at(row, "id", "staff.id")?,
                availability: row.try_get("availability").map_err(db_err)?,
                capacity: row.try_get("capacity").map_err(db_err)?,
                active: row.try_get("active").map_err(db_err)?,
                last_assigned_at_ms: row.try_get("last_assigned_at_ms").map_err(db_err)?,
            }
            .into_load()
        })
        .collect()
    }

    async fn assignment_mode(&self, tenant: TenantId, team: TeamId) -> StoreResult<AssignmentMode> {
        let row = sqlx::query(
            "SELECT r.mode FROM teams t LEFT JOIN team_routing r ON r.team_id = t.id
             WHERE t.tenant_id = ?1 AND t.id = ?2",
        )
        .bind(tenant.to_string())
        .bind(team.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        conversation_rows::assignment_mode(
            row.try_get::<Option<&str>, _>("mode").map_err(db_err)?,
            "team_routing.mode",
        )
    }

    async fn set_assignment_mode(
        &self,
        tenant: TenantId,
        team: TeamId,
        mode: AssignmentMode,
    ) -> StoreResult<()> {
        let written = sqlx::query(
            "INSERT INTO team_routing (team_id, tenant_id, mode, updated_at_ms)
             SELECT ?1, ?2, ?3, ?4
             WHERE EXISTS (SELECT 1 FROM teams WHERE tenant_id = ?2 AND id = ?1)
             ON CONFLICT (team_id) DO UPDATE SET mode = excluded.mode,
                 updated_at_ms = excluded.updated_at_ms",
        )
        .bind(team.to_string())
        .bind(tenant.to_string())
        .bind(mode.as_str())
        .bind(self.now_ms())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if written.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
