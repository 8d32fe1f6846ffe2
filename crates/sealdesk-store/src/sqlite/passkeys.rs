//! Passkeys and WebAuthn ceremony state on SQLite. Creating checks the account in the same
//! statement; taking a ceremony is one `DELETE … RETURNING`, so it happens at most once.

use async_trait::async_trait;
use sealdesk_core::clock::{from_unix_ms, to_unix_ms};
use sealdesk_proto::{StaffId, TenantId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{SqliteStore, db_err, opt_uuid_at, uuid_at};
use crate::passkey_repo::ceremony_kind;
use crate::{Ceremony, CeremonyKind, PasskeyRecord, PasskeyRepo, StoreError, StoreResult};

const PASSKEY_COLUMNS: &str =
    "id, tenant_id, staff_id, credential_id, passkey, name, created_at_ms, last_used_at_ms";

#[async_trait]
impl PasskeyRepo for SqliteStore {
    async fn create_passkey(&self, passkey: &PasskeyRecord) -> StoreResult<PasskeyRecord> {
        // The account check and the insert are one statement; the composite foreign key is
        // the second line of defence against naming an account of another tenant.
        let inserted = sqlx::query(
            "INSERT INTO passkeys (id, tenant_id, staff_id, credential_id, passkey, name,
                                   created_at_ms, last_used_at_ms)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL
             WHERE EXISTS (SELECT 1 FROM staff WHERE tenant_id = ?2 AND id = ?3)",
        )
        .bind(passkey.id.to_string())
        .bind(passkey.tenant.to_string())
        .bind(passkey.staff.to_string())
        .bind(passkey.credential_id.as_slice())
        .bind(passkey.passkey.as_str())
        .bind(passkey.name.as_str())
        .bind(to_unix_ms(passkey.created_at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(PasskeyRecord {
            created_at: from_unix_ms(to_unix_ms(passkey.created_at)),
            last_used_at: None,
            ..passkey.clone()
        })
    }

    async fn list_passkeys(
        &self,
        tenant: TenantId,
        staff: StaffId,
    ) -> StoreResult<Vec<PasskeyRecord>> {
        sqlx::query(&format!(
            "SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE tenant_id = ?1 AND staff_id = ?2
             ORDER BY created_at_ms, id"
        ))
        .bind(tenant.to_string())
        .bind(staff.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(passkey_row)
        .collect()
    }

    async fn delete_passkey(
        &self,
        tenant: TenantId,
        staff: StaffId,
        id: Uuid,
    ) -> StoreResult<bool> {
        let deleted =
            sqlx::query("DELETE FROM passkeys WHERE tenant_id = ?1 AND staff_id = ?2 AND id = ?3")
                .bind(tenant.to_string())
                .bind(staff.to_string())
                .bind(id.to_string())
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(deleted.rows_affected() == 1)
    }

    async fn update_passkey_after_use(
        &self,
        tenant: TenantId,
        id: Uuid,
        passkey: &str,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let updated = sqlx::query(
            "UPDATE passkeys SET passkey = ?3, last_used_at_ms = ?4
             WHERE tenant_id = ?1 AND id = ?2",
        )
        .bind(tenant.to_string())
        .bind(id.to_string())
        .bind(passkey)
        .bind(to_unix_ms(at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(updated.rows_affected() == 1)
    }

    async fn find_passkey_by_credential(
        &self,
        credential_id: &[u8],
    ) -> StoreResult<Option<PasskeyRecord>> {
        sqlx::query(&format!(
            "SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE credential_id = ?1"
        ))
        .bind(credential_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .as_ref()
        .map(passkey_row)
        .transpose()
    }

    async fn put_ceremony(&self, ceremony: &Ceremony) -> StoreResult<()> {
        let inserted = sqlx::query(
            "INSERT INTO webauthn_ceremonies (id, tenant_id, staff_id, kind, state, expires_at_ms)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6
             WHERE ?3 IS NULL
                OR EXISTS (SELECT 1 FROM staff WHERE tenant_id = ?2 AND id = ?3)",
        )
        .bind(ceremony.id.to_string())
        .bind(ceremony.tenant.to_string())
        .bind(ceremony.staff.map(|s| s.to_string()))
        .bind(ceremony.kind.as_str())
        .bind(ceremony.state.as_str())
        .bind(to_unix_ms(ceremony.expires_at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn take_ceremony(
        &self,
        id: Uuid,
        kind: CeremonyKind,
        now: OffsetDateTime,
    ) -> StoreResult<Option<Ceremony>> {
        // Deleting is the single use: of two concurrent finishes only one gets the row. An
        // expired row is deleted too, and then refused.
        let row = sqlx::query(
            "DELETE FROM webauthn_ceremonies WHERE id = ?1 AND kind = ?2
             RETURNING id, tenant_id, staff_id, kind, state, expires_at_ms",
        )
        .bind(id.to_string())
        .bind(kind.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let ceremony = ceremony_row(&row)?;
        Ok((ceremony.expires_at > now).then_some(ceremony))
    }

    async fn purge_ceremonies(&self, before: OffsetDateTime) -> StoreResult<u64> {
        let deleted = sqlx::query("DELETE FROM webauthn_ceremonies WHERE expires_at_ms < ?1")
            .bind(to_unix_ms(before))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(deleted.rows_affected())
    }
}

fn passkey_row(row: &SqliteRow) -> StoreResult<PasskeyRecord> {
    Ok(PasskeyRecord {
        id: uuid_at(row, "id", "passkeys.id")?,
        tenant: TenantId::from_uuid(uuid_at(row, "tenant_id", "passkeys.tenant_id")?),
        staff: StaffId::from_uuid(uuid_at(row, "staff_id", "passkeys.staff_id")?),
        credential_id: row.try_get("credential_id").map_err(db_err)?,
        passkey: row.try_get("passkey").map_err(db_err)?,
        name: row.try_get("name").map_err(db_err)?,
        created_at: from_unix_ms(row.try_get("created_at_ms").map_err(db_err)?),
        last_used_at: row
            .try_get::<Option<i64>, _>("last_used_at_ms")
            .map_err(db_err)?
            .map(from_unix_ms),
    })
}

fn ceremony_row(row: &SqliteRow) -> StoreResult<Ceremony> {
    Ok(Ceremony {
        id: uuid_at(row, "id", "webauthn_ceremonies.id")?,
        tenant: TenantId::from_uuid(uuid_at(row, "tenant_id", "webauthn_ceremonies.tenant_id")?),
        staff: opt_uuid_at(row, "staff_id", "webauthn_ceremonies.staff_id")?
            .map(StaffId::from_uuid),
        kind: ceremony_kind(row.try_get("kind").map_err(db_err)?)?,
        state: row.try_get("state").map_err(db_err)?,
        expires_at: from_unix_ms(row.try_get("expires_at_ms").map_err(db_err)?),
    })
}
