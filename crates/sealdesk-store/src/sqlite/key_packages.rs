//! The key-package directory on SQLite.

use async_trait::async_trait;
use bytes::Bytes;
use sealdesk_core::clock::to_unix_ms;
use sealdesk_proto::{StaffId, TenantId};
use time::OffsetDateTime;

use super::{SqliteStore, db_err};
use crate::{
    Constraint, DeviceStock, KeyPackageRepo, NewKeyPackage, StoreError, StoreResult,
    TakenKeyPackage,
};

fn key32(raw: &[u8]) -> StoreResult<[u8; 32]> {
    raw.try_into()
        .map_err(|_| StoreError::Corrupt("a device key is not 32 bytes".into()))
}

#[async_trait]
impl KeyPackageRepo for SqliteStore {
    async fn add_key_packages(
        &self,
        tenant: TenantId,
        staff: StaffId,
        device_key: [u8; 32],
        packages: &[NewKeyPackage],
        max_per_device: u32,
        at: OffsetDateTime,
    ) -> StoreResult<u32> {
        let mut tx = self.begin_write().await?;
        // SQLite has one writer at a time: the count below cannot race another upload.
        let exists: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM staff WHERE tenant_id = ?1 AND id = ?2")
                .bind(tenant.to_string())
                .bind(staff.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        let now = to_unix_ms(at);
        sqlx::query(
            "DELETE FROM key_packages WHERE tenant_id = ?1 AND staff_id = ?2 AND device_key = ?3
             AND (not_after_ms <= ?4 OR (?5 AND last_resort = 1))",
        )
        .bind(tenant.to_string())
        .bind(staff.to_string())
        .bind(device_key.as_slice())
        .bind(now)
        .bind(packages.iter().any(|p| p.last_resort))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        for p in packages {
            sqlx::query(
                "INSERT INTO key_packages
                 (hash_ref, tenant_id, staff_id, device_key, payload, last_resort, not_after_ms, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (hash_ref) DO NOTHING",
            )
            .bind(p.hash_ref.as_slice())
            .bind(tenant.to_string())
            .bind(staff.to_string())
            .bind(device_key.as_slice())
            .bind(p.payload.as_ref())
            .bind(p.last_resort)
            .bind(to_unix_ms(p.not_after))
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM key_packages WHERE tenant_id = ?1 AND staff_id = ?2
             AND device_key = ?3 AND last_resort = 0",
        )
        .bind(tenant.to_string())
        .bind(staff.to_string())
        .bind(device_key.as_slice())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        if count > max_per_device {
            // Dropping the transaction rolls it back: nothing of this upload is kept.
            return Err(StoreError::Conflict {
                constraint: Constraint::KeyPackageLimit,
            });
        }
        tx.commit().await.map_err(db_err)?;
        Ok(count)
    }

    async fn take_key_packages(
        &self,
        tenant: TenantId,
        staff: StaffId,
        except: &[[u8; 32]],
        now: OffsetDateTime,
    ) -> StoreResult<Vec<TakenKeyPackage>> {
        let now = to_unix_ms(now);
        let mut tx = self.begin_write().await?;
        let devices: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT DISTINCT device_key FROM key_packages
             WHERE tenant_id = ?1 AND staff_id = ?2 AND not_after_ms > ?3 ORDER BY device_key",
        )
        .bind(tenant.to_string())
        .bind(staff.to_string())
        .bind(now)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut taken = Vec::new();
        for device in devices {
            let device_key = key32(&device)?;
            if except.contains(&device_key) {
                continue;
            }
            let single: Option<Vec<u8>> = sqlx::query_scalar(
                "DELETE FROM key_packages WHERE hash_ref = (
                    SELECT hash_ref FROM key_packages
                    WHERE tenant_id = ?1 AND staff_id = ?2 AND device_key = ?3
                      AND last_resort = 0 AND not_after_ms > ?4
                    ORDER BY created_at_ms, hash_ref LIMIT 1)
                 RETURNING payload",
            )
            .bind(tenant.to_string())
            .bind(staff.to_string())
            .bind(device.as_slice())
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            let (payload, last_resort) = if let Some(p) = single {
                (p, false)
            } else {
                let kept: Option<Vec<u8>> = sqlx::query_scalar(
                    "SELECT payload FROM key_packages
                         WHERE tenant_id = ?1 AND staff_id = ?2 AND device_key = ?3
                           AND last_resort = 1 AND not_after_ms > ?4",
                )
                .bind(tenant.to_string())
                .bind(staff.to_string())
                .bind(device.as_slice())
                .bind(now)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
                match kept {
                    Some(p) => (p, true),
                    None => continue,
                }
            };
            taken.push(TakenKeyPackage {
                device_key,
                payload: Bytes::from(payload),
                last_resort,
            });
        }
        tx.commit().await.map_err(db_err)?;
        Ok(taken)
    }

    async fn key_package_stock(
        &self,
        tenant: TenantId,
        staff: StaffId,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<DeviceStock>> {
        let mut tx = self.begin_read().await?;
        let rows: Vec<(Vec<u8>, i64, i64)> = sqlx::query_as(
            "SELECT device_key,
                    SUM(CASE WHEN last_resort = 0 THEN 1 ELSE 0 END),
                    SUM(CASE WHEN last_resort = 1 THEN 1 ELSE 0 END)
             FROM key_packages
             WHERE tenant_id = ?1 AND staff_id = ?2 AND not_after_ms > ?3
             GROUP BY device_key ORDER BY device_key",
        )
        .bind(tenant.to_string())
        .bind(staff.to_string())
        .bind(to_unix_ms(now))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        rows.into_iter()
            .map(|(key, available, last_resort)| {
                Ok(DeviceStock {
                    device_key: key32(&key)?,
                    available: u32::try_from(available).unwrap_or(u32::MAX),
                    last_resort: last_resort > 0,
                })
            })
            .collect()
    }
}
