//! The audit log on PostgreSQL. An append locks the chain head row (`SELECT ... FOR UPDATE`)
//! and moves it in the same transaction, so appends are serialised and the chain never forks.

use async_trait::async_trait;
use sealdesk_core::audit::{AuditEvent, AuditRecord};
use sealdesk_core::clock::to_unix_ms;
use sealdesk_proto::TenantId;
use sqlx::Row;
use sqlx::postgres::PgRow;

use super::{PgStore, db_err};
use crate::auth_rows::{self, AUDIT_COLUMNS, AuditRow};
use crate::{AuditRepo, StoreError, StoreResult};

#[async_trait]
impl AuditRepo for PgStore {
    async fn append_audit(&self, event: &AuditEvent) -> StoreResult<AuditRecord> {
        // FOR UPDATE locks the head row until commit: a concurrent append waits here and
        // then reads the moved head, so sequence numbers have no gaps or duplicates and every
        // entry links to its real predecessor (OWASP ASVS v5.0.0-16.4.2).
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE")
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .ok_or_else(|| StoreError::Corrupt("audit_head has no row".into()))?;
        let head_seq: i64 = head.try_get("seq").map_err(db_err)?;
        let head_hash: Vec<u8> = head.try_get("hash").map_err(db_err)?;
        let record = auth_rows::next_audit_entry(head_seq, &head_hash, event)?;
        let hash = auth_rows::hash_bytes(&record.hash)?;
        let e = &record.event;
        sqlx::query(
            "INSERT INTO audit_log (seq, tenant_id, at_ms, actor, action, target, details, ip,
                                    prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(record.seq)
        .bind(e.tenant.map(|t| t.as_uuid()))
        .bind(to_unix_ms(e.at))
        .bind(e.actor.encode())
        .bind(e.action.as_str())
        .bind(e.target.as_deref())
        .bind(auth_rows::details_json(&e.details)?)
        .bind(e.ip.as_deref())
        .bind(&head_hash)
        .bind(&hash)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(record.seq)
            .bind(&hash)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(record)
    }

    async fn list_audit(
        &self,
        tenant: Option<TenantId>,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>> {
        let rows = match tenant {
            Some(tenant) => sqlx::query(&format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE tenant_id = $1 AND seq > $2
                 ORDER BY seq LIMIT $3"
            ))
            .bind(tenant.as_uuid())
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?,
            None => sqlx::query(&format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"
            ))
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?,
        };
        rows.iter()
            .map(|row| audit_row(row)?.into_record())
            .collect()
    }

    async fn list_audit_newest(
        &self,
        tenant: TenantId,
        before_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE tenant_id = $1 AND seq < $2
             ORDER BY seq DESC LIMIT $3"
        ))
        .bind(tenant.as_uuid())
        .bind(before_seq.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|row| audit_row(row)?.into_record())
            .collect()
    }

    async fn audit_head(&self) -> StoreResult<Option<(i64, String)>> {
        let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .ok_or_else(|| StoreError::Corrupt("audit_head has no row".into()))?;
        let seq: i64 = row.try_get("seq").map_err(db_err)?;
        let hash: Vec<u8> = row.try_get("hash").map_err(db_err)?;
        if seq == 0 {
            return Ok(None);
        }
        Ok(Some((
            seq,
            hex::encode(auth_rows::digest(&hash, "audit head hash")?),
        )))
    }
}

fn audit_row(row: &PgRow) -> StoreResult<AuditRow> {
    Ok(AuditRow {
        seq: row.try_get("seq").map_err(db_err)?,
        tenant_id: row.try_get("tenant_id").map_err(db_err)?,
        at_ms: row.try_get("at_ms").map_err(db_err)?,
        actor: row.try_get("actor").map_err(db_err)?,
        action: row.try_get("action").map_err(db_err)?,
        target: row.try_get("target").map_err(db_err)?,
        details: row.try_get("details").map_err(db_err)?,
        ip: row.try_get("ip").map_err(db_err)?,
        prev_hash: row.try_get("prev_hash").map_err(db_err)?,
        hash: row.try_get("hash").map_err(db_err)?,
    })
}
