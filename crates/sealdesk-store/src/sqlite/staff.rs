//! Staff accounts and their roles on SQLite. Every query names the tenant; the password hash
//! is read only by the credential query, never with the account.

use async_trait::async_trait;
use sealdesk_core::clock::to_unix_ms;
use sealdesk_core::domain::{Email, NewStaff, Role, Staff};
use sealdesk_proto::{StaffId, TenantId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{SqliteStore, db_err};
use crate::rows::{self, StaffRow};
use crate::{Constraint, RoleRepo, StaffRepo, StoreError, StoreResult};

#[async_trait]
impl StaffRepo for SqliteStore {
    async fn create_staff(&self, staff: &NewStaff) -> StoreResult<Staff> {
        let created_at_ms = to_unix_ms(staff.created_at);
        // One statement, so the tenant check and the insert are one atomic step.
        let inserted = sqlx::query(
            "INSERT INTO staff (id, tenant_id, email, display_name, role, password_hash, disabled,
                                created_at_ms, updated_at_ms)
             SELECT ?, ?, ?, ?, ?, ?, 0, ?, ? WHERE EXISTS (SELECT 1 FROM tenants WHERE id = ?)",
        )
        .bind(staff.id.to_string())
        .bind(staff.tenant_id.to_string())
        .bind(staff.email.as_str())
        .bind(staff.display_name.as_str())
        .bind(staff.role.as_str())
        .bind(staff.password_hash.as_deref())
        .bind(created_at_ms)
        .bind(created_at_ms)
        .bind(staff.tenant_id.to_string())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(rows::created_staff(staff))
    }

    async fn get_staff(&self, tenant: TenantId, id: StaffId) -> StoreResult<Staff> {
        let row = sqlx::query(
            "SELECT id, tenant_id, email, display_name, role, password_hash IS NOT NULL AS has_password,
                    disabled, created_at_ms
             FROM staff WHERE tenant_id = ? AND id = ?",
        )
        .bind(tenant.to_string())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        staff_row(&row)?.into_staff()
    }

    async fn find_staff_by_email(
        &self,
        tenant: TenantId,
        email: &str,
    ) -> StoreResult<Option<Staff>> {
        // Addresses are stored normalised; a string that does not parse matches no account.
        let Ok(email) = Email::parse(email) else {
            return Ok(None);
        };
        sqlx::query(
            "SELECT id, tenant_id, email, display_name, role, password_hash IS NOT NULL AS has_password,
                    disabled, created_at_ms
             FROM staff WHERE tenant_id = ? AND email = ?",
        )
        .bind(tenant.to_string())
        .bind(email.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|row| staff_row(&row)?.into_staff())
        .transpose()
    }

    async fn list_staff(&self, tenant: TenantId) -> StoreResult<Vec<Staff>> {
        sqlx::query(
            "SELECT id, tenant_id, email, display_name, role, password_hash IS NOT NULL AS has_password,
                    disabled, created_at_ms
             FROM staff WHERE tenant_id = ? ORDER BY created_at_ms, id",
        )
        .bind(tenant.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|row| staff_row(row)?.into_staff())
        .collect()
    }

    async fn set_staff_disabled(
        &self,
        tenant: TenantId,
        id: StaffId,
        disabled: bool,
    ) -> StoreResult<Staff> {
        let row = sqlx::query(
            "UPDATE staff SET disabled = ?, updated_at_ms = ? WHERE tenant_id = ? AND id = ?
             RETURNING id, tenant_id, email, display_name, role,
                       password_hash IS NOT NULL AS has_password, disabled, created_at_ms",
        )
        .bind(disabled)
        .bind(self.now_ms())
        .bind(tenant.to_string())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        staff_row(&row)?.into_staff()
    }

    async fn staff_password_hash(
        &self,
        tenant: TenantId,
        id: StaffId,
    ) -> StoreResult<Option<String>> {
        sqlx::query_scalar("SELECT password_hash FROM staff WHERE tenant_id = ? AND id = ?")
            .bind(tenant.to_string())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound)
    }

    async fn set_staff_password_hash(
        &self,
        tenant: TenantId,
        id: StaffId,
        phc: &str,
    ) -> StoreResult<()> {
        let updated = sqlx::query(
            "UPDATE staff SET password_hash = ?, updated_at_ms = ? WHERE tenant_id = ? AND id = ?",
        )
        .bind(phc)
        .bind(self.now_ms())
        .bind(tenant.to_string())
        .bind(id.to_string())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

#[async_trait]
impl RoleRepo for SqliteStore {
    async fn set_staff_role(
        &self,
        tenant: TenantId,
        id: StaffId,
        role: Role,
    ) -> StoreResult<Staff> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        // BEGIN IMMEDIATE: the owner count and the change happen under the write lock, so
        // two admins demoting the last two owners at once cannot both succeed.
        let mut tx = self.begin_write().await?;
        let current: Option<(String, bool)> =
            sqlx::query_as("SELECT role, disabled FROM staff WHERE tenant_id = ?1 AND id = ?2")
                .bind(&tenant)
                .bind(&id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        let Some((current, disabled)) = current else {
            return Err(StoreError::NotFound);
        };
        if current == Role::Owner.as_str() && role != Role::Owner && !disabled {
            let others: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM staff
                 WHERE tenant_id = ?1 AND id <> ?2 AND role = 'owner' AND disabled = 0",
            )
            .bind(&tenant)
            .bind(&id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
            if others == 0 {
                return Err(StoreError::Conflict {
                    constraint: Constraint::LastOwner,
                });
            }
        }
        let row = sqlx::query(
            "UPDATE staff SET role = ?3, updated_at_ms = ?4 WHERE tenant_id = ?1 AND id = ?2
             RETURNING id, tenant_id, email, display_name, role,
                       password_hash IS NOT NULL AS has_password, disabled, created_at_ms",
        )
        .bind(&tenant)
        .bind(&id)
        .bind(role.as_str())
        .bind(self.now_ms())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let staff = staff_row(&row)?.into_staff()?;
        tx.commit().await.map_err(db_err)?;
        Ok(staff)
    }
}

fn staff_row(row: &SqliteRow) -> StoreResult<StaffRow> {
    Ok(StaffRow {
        id: rows::parse_uuid(row.try_get::<&str, _>("id").map_err(db_err)?, "staff.id")?,
        tenant_id: rows::parse_uuid(
            row.try_get::<&str, _>("tenant_id").map_err(db_err)?,
            "staff.tenant_id",
        )?,
        email: row.try_get("email").map_err(db_err)?,
        display_name: row.try_get("display_name").map_err(db_err)?,
        role: row.try_get("role").map_err(db_err)?,
        has_password: row.try_get("has_password").map_err(db_err)?,
        disabled: row.try_get("disabled").map_err(db_err)?,
        created_at_ms: row.try_get("created_at_ms").map_err(db_err)?,
    })
}
