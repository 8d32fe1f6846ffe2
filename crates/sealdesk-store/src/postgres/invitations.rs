//! Invitations on PostgreSQL, found by token hash and taken at most once by a
//! single conditional UPDATE.

use async_trait::async_trait;
use sealdesk_core::auth::{Digest, Invitation};
use sealdesk_core::clock::to_unix_ms;
use sealdesk_proto::TenantId;
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{PgStore, db_err};
use crate::auth_rows::{self, INVITATION_COLUMNS, InvitationRow};
use crate::{InvitationRepo, StoreError, StoreResult};

#[async_trait]
impl InvitationRepo for PgStore {
    async fn create_invitation(&self, invitation: &Invitation) -> StoreResult<Invitation> {
        // One statement: the invited account and the inviter must both be of the tenant.
        let inserted = sqlx::query(
            "INSERT INTO invitations (id, tenant_id, staff_id, token_hash, created_by,
                                      created_at_ms, expires_at_ms, used_at_ms)
             SELECT $1, $2, $3, $4, $5, $6, $7, NULL
             WHERE EXISTS (SELECT 1 FROM staff WHERE tenant_id = $2 AND id = $3)
               AND ($5 IS NULL OR EXISTS (SELECT 1 FROM staff WHERE tenant_id = $2 AND id = $5))",
        )
        .bind(invitation.id)
        .bind(invitation.tenant.as_uuid())
        .bind(invitation.staff.as_uuid())
        .bind(invitation.token_hash.as_slice())
        .bind(invitation.created_by.map(|id| id.as_uuid()))
        .bind(to_unix_ms(invitation.created_at))
        .bind(to_unix_ms(invitation.expires_at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(auth_rows::created_invitation(invitation))
    }

    async fn peek_invitation(
        &self,
        token_hash: &Digest,
        now: OffsetDateTime,
    ) -> StoreResult<Option<Invitation>> {
        // By the token hash alone: the 256-bit token is the credential that names the tenant.
        sqlx::query(&format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations
             WHERE token_hash = $1 AND used_at_ms IS NULL AND expires_at_ms > $2"
        ))
        .bind(token_hash.as_slice())
        .bind(to_unix_ms(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|row| invitation_row(&row)?.into_invitation())
        .transpose()
    }

    async fn take_invitation(
        &self,
        token_hash: &Digest,
        now: OffsetDateTime,
    ) -> StoreResult<Option<Invitation>> {
        // Atomic check-and-use: an activation link works once and not after it expires, even
        // when opened twice at the same moment (OWASP ASVS v5.0.0-6.4.1).
        sqlx::query(&format!(
            "UPDATE invitations SET used_at_ms = $2
             WHERE token_hash = $1 AND used_at_ms IS NULL AND expires_at_ms > $2
             RETURNING {INVITATION_COLUMNS}"
        ))
        .bind(token_hash.as_slice())
        .bind(to_unix_ms(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|row| invitation_row(&row)?.into_invitation())
        .transpose()
    }

    async fn list_invitations(
        &self,
        tenant: TenantId,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<Invitation>> {
        sqlx::query(&format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations
             WHERE tenant_id = $1 AND used_at_ms IS NULL AND expires_at_ms > $2
             ORDER BY created_at_ms DESC, id DESC"
        ))
        .bind(tenant.as_uuid())
        .bind(to_unix_ms(now))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|row| invitation_row(row)?.into_invitation())
        .collect()
    }

    async fn delete_invitation(&self, tenant: TenantId, id: Uuid) -> StoreResult<bool> {
        let deleted = sqlx::query("DELETE FROM invitations WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_uuid())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(deleted.rows_affected() == 1)
    }
}

fn invitation_row(row: &PgRow) -> StoreResult<InvitationRow> {
    Ok(InvitationRow {
        id: row.try_get("id").map_err(db_err)?,
        tenant_id: row.try_get("tenant_id").map_err(db_err)?,
        staff_id: row.try_get("staff_id").map_err(db_err)?,
        token_hash: row.try_get("token_hash").map_err(db_err)?,
        created_by: row.try_get("created_by").map_err(db_err)?,
        created_at_ms: row.try_get("created_at_ms").map_err(db_err)?,
        expires_at_ms: row.try_get("expires_at_ms").map_err(db_err)?,
        used_at_ms: row.try_get("used_at_ms").map_err(db_err)?,
    })
}
