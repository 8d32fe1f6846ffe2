//! Devices and team-key wraps on PostgreSQL.

use async_trait::async_trait;
use sealdesk_core::clock::to_unix_ms;
use sealdesk_proto::{StaffId, TenantId};
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{PgStore, db_err};
use crate::device_repo::{DEVICE_COLUMNS, DeviceRow, added_device, key_wrap_from_row};
use crate::{
    Constraint, Device, DeviceDecision, DeviceRepo, DeviceStatus, KeyWrap, NewDevice, StoreError,
    StoreResult,
};

fn device_row(row: &PgRow) -> StoreResult<Device> {
    DeviceRow {
        id: row.try_get("id").map_err(db_err)?,
        tenant_id: row.try_get("tenant_id").map_err(db_err)?,
        staff_id: row.try_get("staff_id").map_err(db_err)?,
        label: row.try_get("label").map_err(db_err)?,
        signature_key: row.try_get("signature_key").map_err(db_err)?,
        wrap_key: row.try_get("wrap_key").map_err(db_err)?,
        status: row.try_get("status").map_err(db_err)?,
        credential: row.try_get("credential").map_err(db_err)?,
        requested_at_ms: row.try_get("requested_at_ms").map_err(db_err)?,
        decided_at_ms: row.try_get("decided_at_ms").map_err(db_err)?,
        decided_by: row.try_get("decided_by").map_err(db_err)?,
    }
    .into_device()
}

fn conflict(constraint: Constraint) -> StoreError {
    StoreError::Conflict { constraint }
}

#[async_trait]
impl DeviceRepo for PgStore {
    async fn add_device(&self, device: &NewDevice, max_per_staff: u32) -> StoreResult<Device> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let staff: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM staff WHERE tenant_id = $1 AND id = $2 FOR UPDATE")
                .bind(device.tenant_id.as_uuid())
                .bind(device.staff_id.as_uuid())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        if staff.is_none() {
            return Err(StoreError::NotFound);
        }
        let held: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM devices
             WHERE tenant_id = $1 AND staff_id = $2 AND status <> 'revoked'",
        )
        .bind(device.tenant_id.as_uuid())
        .bind(device.staff_id.as_uuid())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        if held >= i64::from(max_per_staff) {
            return Err(conflict(Constraint::DeviceLimit));
        }
        sqlx::query(
            "INSERT INTO devices (id, tenant_id, staff_id, label, signature_key, wrap_key, status,
                                  requested_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7)",
        )
        .bind(device.id)
        .bind(device.tenant_id.as_uuid())
        .bind(device.staff_id.as_uuid())
        .bind(&device.label)
        .bind(device.signature_key.as_slice())
        .bind(device.wrap_key.as_slice())
        .bind(to_unix_ms(device.requested_at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(added_device(device))
    }

    async fn get_device(&self, tenant: TenantId, id: Uuid) -> StoreResult<Device> {
        let row = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_uuid())
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        device_row(&row)
    }

    async fn device_by_key(
        &self,
        tenant: TenantId,
        signature_key: [u8; 32],
    ) -> StoreResult<Option<Device>> {
        let row = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE tenant_id = $1 AND signature_key = $2"
        ))
        .bind(tenant.as_uuid())
        .bind(signature_key.as_slice())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(device_row).transpose()
    }

    async fn list_devices(
        &self,
        tenant: TenantId,
        staff: Option<StaffId>,
    ) -> StoreResult<Vec<Device>> {
        let rows = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices
             WHERE tenant_id = $1 AND ($2::UUID IS NULL OR staff_id = $2)
             ORDER BY requested_at_ms, id"
        ))
        .bind(tenant.as_uuid())
        .bind(staff.map(|s| s.as_uuid()))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(device_row).collect()
    }

    async fn decide_device(
        &self,
        tenant: TenantId,
        id: Uuid,
        decision: &DeviceDecision,
        by: Option<StaffId>,
        at: OffsetDateTime,
    ) -> StoreResult<Device> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let row = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE tenant_id = $1 AND id = $2 FOR UPDATE"
        ))
        .bind(tenant.as_uuid())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        let mut device = device_row(&row)?;
        let allowed = match decision {
            DeviceDecision::Certify(_) => device.status == DeviceStatus::Pending,
            DeviceDecision::Revoke => device.status != DeviceStatus::Revoked,
        };
        if !allowed {
            return Err(conflict(Constraint::DeviceState));
        }
        let (status, credential) = match decision {
            DeviceDecision::Certify(chain) => (DeviceStatus::Certified, Some(chain.clone())),
            DeviceDecision::Revoke => (DeviceStatus::Revoked, device.credential.clone()),
        };
        sqlx::query(
            "UPDATE devices SET status = $3, credential = $4, decided_at_ms = $5, decided_by = $6
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(id)
        .bind(status.as_str())
        .bind(credential.as_deref())
        .bind(to_unix_ms(at))
        .bind(by.map(|b| b.as_uuid()))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if status == DeviceStatus::Revoked {
            sqlx::query("DELETE FROM team_key_wraps WHERE device_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            sqlx::query("DELETE FROM key_packages WHERE tenant_id = $1 AND device_key = $2")
                .bind(tenant.as_uuid())
                .bind(device.signature_key.as_slice())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        device.status = status;
        device.credential = credential;
        device.decided_at = Some(sealdesk_core::clock::from_unix_ms(to_unix_ms(at)));
        device.decided_by = by;
        Ok(device)
    }

    async fn add_key_wraps(&self, tenant: TenantId, wraps: &[KeyWrap]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        for wrap in wraps {
            let status: Option<String> = sqlx::query_scalar(
                "SELECT status FROM devices WHERE tenant_id = $1 AND id = $2 FOR SHARE",
            )
            .bind(tenant.as_uuid())
            .bind(wrap.device_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            match status.as_deref() {
                None => return Err(StoreError::NotFound),
                Some("certified") => {}
                Some(_) => return Err(conflict(Constraint::DeviceState)),
            }
            let team: Option<i32> =
                sqlx::query_scalar("SELECT 1 FROM teams WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant.as_uuid())
                    .bind(wrap.team_id.as_uuid())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
            if team.is_none() {
                return Err(StoreError::NotFound);
            }
            sqlx::query(
                "INSERT INTO team_key_wraps
                 (device_id, tenant_id, team_id, version, sealed, created_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (device_id, team_id, version) DO UPDATE
                 SET sealed = excluded.sealed, created_at_ms = excluded.created_at_ms",
            )
            .bind(wrap.device_id)
            .bind(tenant.as_uuid())
            .bind(wrap.team_id.as_uuid())
            .bind(i64::from(wrap.version))
            .bind(wrap.sealed.as_ref())
            .bind(to_unix_ms(wrap.created_at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn key_wraps(&self, tenant: TenantId, device: Uuid) -> StoreResult<Vec<KeyWrap>> {
        let rows = sqlx::query(
            "SELECT device_id, team_id, version, sealed, created_at_ms FROM team_key_wraps
             WHERE tenant_id = $1 AND device_id = $2 ORDER BY team_id, version",
        )
        .bind(tenant.as_uuid())
        .bind(device)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|row| {
                key_wrap_from_row((
                    row.try_get("device_id").map_err(db_err)?,
                    row.try_get("team_id").map_err(db_err)?,
                    row.try_get("version").map_err(db_err)?,
                    row.try_get("sealed").map_err(db_err)?,
                    row.try_get("created_at_ms").map_err(db_err)?,
                ))
            })
            .collect()
    }
}
