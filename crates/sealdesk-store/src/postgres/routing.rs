//! Team membership, staff availability and team routing settings on PostgreSQL. Writes are
//! single statements guarded by `EXISTS` checks in the tenant.

use async_trait::async_trait;
use sealdesk_core::routing::{AgentLoad, AssignmentMode, Availability};
use sealdesk_proto::{StaffId, TeamId, TenantId};
use sqlx::Row;
use time::OffsetDateTime;

use super::{PgStore, db_err};
use crate::conversation_rows::{self, LoadRow, ms};
use crate::{RoutingRepo, StoreError, StoreResult};

#[async_trait]
impl RoutingRepo for PgStore {
    async fn add_team_member(
        &self,
        tenant: TenantId,
        team: TeamId,
        staff: StaffId,
    ) -> StoreResult<()> {
        // The existence checks and the insert in one statement; the outer query returns the
        // checks even when ON CONFLICT skipped the insert (already a member).
        let found: (bool, bool) = sqlx::query_as(
            "WITH ok AS (
                 SELECT EXISTS (SELECT 1 FROM teams WHERE tenant_id = $1 AND id = $2) AS team,
                        EXISTS (SELECT 1 FROM staff WHERE tenant_id = $1 AND id = $3) AS staff
             ), ins AS (
                 INSERT INTO team_members (tenant_id, team_id, staff_id)
                 SELECT $1, $2, $3 FROM ok WHERE ok.team AND ok.staff
                 ON CONFLICT (team_id, staff_id) DO NOTHING
             )
             SELECT team, staff FROM ok",
        )
        .bind(tenant.as_uuid())
        .bind(team.as_uuid())
        .bind(staff.as_uuid())
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        if found == (true, true) {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }

    async fn remove_team_member(
        &self,
        tenant: TenantId,
        team: TeamId,
        staff: StaffId,
    ) -> StoreResult<bool> {
        let deleted = sqlx::query(
            "DELETE FROM team_members WHERE tenant_id = $1 AND team_id = $2 AND staff_id = $3",
        )
        .bind(tenant.as_uuid())
        .bind(team.as_uuid())
        .bind(staff.as_uuid())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(deleted.rows_affected() > 0)
    }

    async fn teams_of_staff(&self, tenant: TenantId, staff: StaffId) -> StoreResult<Vec<TeamId>> {
        let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
            "SELECT team_id FROM team_members WHERE tenant_id = $1 AND staff_id = $2
             ORDER BY team_id",
        )
        .bind(tenant.as_uuid())
        .bind(staff.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(ids.into_iter().map(TeamId::from_uuid).collect())
    }

    async fn team_members(&self, tenant: TenantId, team: TeamId) -> StoreResult<Vec<StaffId>> {
        let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
            "SELECT staff_id FROM team_members WHERE tenant_id = $1 AND team_id = $2
             ORDER BY staff_id",
        )
        .bind(tenant.as_uuid())
        .bind(team.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(ids.into_iter().map(StaffId::from_uuid).collect())
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
             SELECT $1, $2, $3, $4, $5
             WHERE EXISTS (SELECT 1 FROM staff WHERE tenant_id = $2 AND id = $1)
             ON CONFLICT (staff_id) DO UPDATE SET availability = excluded.availability,
                 capacity = excluded.capacity, updated_at_ms = excluded.updated_at_ms",
        )
        .bind(staff.as_uuid())
        .bind(tenant.as_uuid())
        .bind(availability.as_str())
        .bind(i32::from(capacity))
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
        let row: Option<(String, i32)> = sqlx::query_as(
            "SELECT availability, capacity FROM staff_availability
             WHERE tenant_id = $1 AND staff_id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(staff.as_uuid())
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
            "SELECT s.id, a.availability, a.capacity::BIGINT AS capacity, a.last_assigned_at_ms,
                    (SELECT COUNT(*) FROM conversations c
                     WHERE c.tenant_id = s.tenant_id AND c.assignee_id = s.id
                       AND c.state = 'assigned') AS active
             FROM team_members m
             JOIN staff s ON s.tenant_id = m.tenant_id AND s.id = m.staff_id
             LEFT JOIN staff_availability a ON a.staff_id = s.id
             WHERE m.tenant_id = $1 AND m.team_id = $2 AND NOT s.disabled
             ORDER BY s.id",
        )
        .bind(tenant.as_uuid())
        .bind(team.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|row| {
            LoadRow {
                staff_id: row.try_get("id").map_err(db_err)?,
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
             WHERE t.tenant_id = $1 AND t.id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(team.as_uuid())
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
             SELECT $1, $2, $3, $4
             WHERE EXISTS (SELECT 1 FROM teams WHERE tenant_id = $2 AND id = $1)
             ON CONFLICT (team_id) DO UPDATE SET mode = excluded.mode,
                 updated_at_ms = excluded.updated_at_ms",
        )
        .bind(team.as_uuid())
        .bind(tenant.as_uuid())
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
