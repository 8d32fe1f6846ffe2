//! Devices and team-key wraps on SQLite.

use async_trait::async_trait;
use sealdesk_core::clock::to_unix_ms;
use sealdesk_proto::{StaffId, TenantId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{SqliteStore, db_err, opt_uuid_at, uuid_at};
use crate::device_repo::{DEVICE_COLUMNS, DeviceRow, added_device, key_wrap_from_row};
use crate::{
    Constraint, Device, DeviceDecision, DeviceRepo, DeviceStatus, KeyWrap, NewDevice, StoreError,
    StoreResult,
};

fn device_row(row: &SqliteRow) -> StoreResult<Device> {
    let what = "devices";
    DeviceRow {
        id: uuid_at(row, "id", what)?,
        tenant_id: uuid_at(row, "tenant_id", what)?,
        staff_id: uuid_at(row, "staff_id", what)?,
        label: row.try_get("label").map_err(db_err)?,
        signature_key: row.try_get("signature_key").map_err(db_err)?,
        wrap_key: row.try_get("wrap_key").map_err(db_err)?,
        status: row.try_get("status").map_err(db_err)?,
        credential: row.try_get("credential").map_err(db_err)?,
        requested_at_ms: row.try_get("requested_at_ms").map_err(db_err)?,
        decided_at_ms: row.try_get("decided_at_ms").map_err(db_err)?,
        decided_by: opt_uuid_at(row, "decided_by", what)?,
    }
    .into_device()
}

fn conflict(constraint: Constraint) -> StoreError {
    StoreError::Conflict { constraint }
}

#[async_trait]
impl DeviceRepo for SqliteStore {
    async fn add_device(&self, device: &NewDevice, max_per_staff: u32) -> StoreResult<Device> {
        let mut tx = self.begin_write().await?;
        let staff: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM staff WHERE tenant_id = ?1 AND id = ?2")
                .bind(device.tenant_id.to_string())
                .bind(device.staff_id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        if staff.is_none() {
            return Err(StoreError::NotFound);
        }
        let held: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM devices
             WHERE tenant_id = ?1 AND staff_id = ?2 AND status <> 'revoked'",
        )
        .bind(device.tenant_id.to_string())
        .bind(device.staff_id.to_string())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        if held >= i64::from(max_per_staff) {
            return Err(conflict(Constraint::DeviceLimit));
        }
        sqlx::query(
            "INSERT INTO devices (id, tenant_id, staff_id, label, signature_key, wrap_key, status,
                                  requested_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7)",
        )
        .bind(device.id.to_string())
        .bind(device.tenant_id.to_string())
        .bind(device.staff_id.to_string())
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
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE tenant_id = ?1 AND id = ?2"
        ))
        .bind(tenant.to_string())
        .bind(id.to_string())
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
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE tenant_id = ?1 AND signature_key = ?2"
        ))
        .bind(tenant.to_string())
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
             WHERE tenant_id = ?1 AND (?2 IS NULL OR staff_id = ?2)
             ORDER BY requested_at_ms, id"
        ))
        .bind(tenant.to_string())
        .bind(staff.map(|s| s.to_string()))
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
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE tenant_id = ?1 AND id = ?2"
        ))
        .bind(tenant.to_string())
        .bind(id.to_string())
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
            "UPDATE devices SET status = ?3, credential = ?4, decided_at_ms = ?5, decided_by = ?6
             WHERE tenant_id = ?1 AND id = ?2",
        )
        .bind(tenant.to_string())
        .bind(id.to_string())
        .bind(status.as_str())
        .bind(credential.as_deref())
        .bind(to_unix_ms(at))
        .bind(by.map(|b| b.to_string()))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if status == DeviceStatus::Revoked {
            sqlx::query("DELETE FROM team_key_wraps WHERE device_id = ?1")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            sqlx::query("DELETE FROM key_packages WHERE tenant_id = ?1 AND device_key = ?2")
                .bind(tenant.to_string())
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
        let mut tx = self.begin_write().await?;
        for wrap in wraps {
            let status: Option<String> =
                sqlx::query_scalar("SELECT status FROM devices WHERE tenant_id = ?1 AND id = ?2")
                    .bind(tenant.to_string())
                    .bind(wrap.device_id.to_string())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
            match status.as_deref() {
                None => return Err(StoreError::NotFound),
                Some("certified") => {}
                Some(_) => return Err(conflict(Constraint::DeviceState)),
            }
            let team: Option<i32> =
                sqlx::query_scalar("SELECT 1 FROM teams WHERE tenant_id = ?1 AND id = ?2")
                    .bind(tenant.to_string())
                    .bind(wrap.team_id.to_string())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
            if team.is_none() {
                return Err(StoreError::NotFound);
            }
            sqlx::query(
                "INSERT INTO team_key_wraps
                 (device_id, tenant_id, team_id, version, sealed, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (device_id, team_id, version) DO UPDATE
                 SET sealed = excluded.sealed, created_at_ms = excluded.created_at_ms",
            )
            .bind(wrap.device_id.to_string())
            .bind(tenant.to_string())
            .bind(wrap.team_id.to_string())
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
             WHERE tenant_id = ?1 AND device_id = ?2 ORDER BY team_id, version",
        )
        .bind(tenant.to_string())
        .bind(device.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|row| {
                let what = "team_key_wraps";
                key_wrap_from_row((
                    uuid_at(row, "device_id", what)?,
                    uuid_at(row, "team_id", what)?,
                    row.try_get("version").map_err(db_err)?,
                    row.try_get("sealed").map_err(db_err)?,
                    row.try_get("created_at_ms").map_err(db_err)?,
                ))
            })
            .collect()
    }
}
