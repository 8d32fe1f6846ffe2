//! Visitors and their tickets on PostgreSQL. Creates are single `INSERT … SELECT … WHERE
//! EXISTS` statements, so the tenant checks and the write are one atomic step.

use async_trait::async_trait;
use sealdesk_core::auth::Digest;
use sealdesk_core::domain::{ExternalId, NewVisitor, Visitor, VisitorTicket};
use sealdesk_proto::{TenantId, VisitorId};
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;

use super::{PgStore, db_err};
use crate::conversation_rows::{self, TicketRow, VISITOR_COLUMNS, VisitorRow, ms};
use crate::{StoreError, StoreResult, VisitorRepo};

#[async_trait]
impl VisitorRepo for PgStore {
    async fn create_visitor(&self, visitor: &NewVisitor) -> StoreResult<Visitor> {
        let inserted = sqlx::query(
            "INSERT INTO visitors (id, tenant_id, team_id, key_hash, external_id,
                                   created_at_ms, last_seen_at_ms)
             SELECT $1, $2, $3, $4, $5, $6, $6
             WHERE EXISTS (SELECT 1 FROM teams WHERE tenant_id = $2 AND id = $3)",
        )
        .bind(visitor.id.as_uuid())
        .bind(visitor.tenant_id.as_uuid())
        .bind(visitor.team_id.as_uuid())
        .bind(visitor.key_hash.as_slice())
        .bind(visitor.external_id.as_ref().map(ExternalId::as_str))
        .bind(ms(visitor.created_at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(conversation_rows::created_visitor(visitor))
    }

    async fn get_visitor(&self, tenant: TenantId, id: VisitorId) -> StoreResult<Visitor> {
        let row = sqlx::query(&format!(
            "SELECT {VISITOR_COLUMNS} FROM visitors WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        visitor_row(&row)?.into_visitor()
    }

    async fn find_visitor_by_key(
        &self,
        tenant: TenantId,
        key_hash: &Digest,
    ) -> StoreResult<Option<Visitor>> {
        sqlx::query(&format!(
            "SELECT {VISITOR_COLUMNS} FROM visitors WHERE tenant_id = $1 AND key_hash = $2"
        ))
        .bind(tenant.as_uuid())
        .bind(key_hash.as_slice())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|row| visitor_row(&row)?.into_visitor())
        .transpose()
    }

    async fn find_visitor_by_external_id(
        &self,
        tenant: TenantId,
        external_id: &ExternalId,
    ) -> StoreResult<Option<Visitor>> {
        sqlx::query(&format!(
            "SELECT {VISITOR_COLUMNS} FROM visitors WHERE tenant_id = $1 AND external_id = $2"
        ))
        .bind(tenant.as_uuid())
        .bind(external_id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|row| visitor_row(&row)?.into_visitor())
        .transpose()
    }

    async fn touch_visitor(
        &self,
        tenant: TenantId,
        id: VisitorId,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        // Never backwards: two tickets issued at nearly the same moment may land in any order.
        let updated = sqlx::query(
            "UPDATE visitors SET last_seen_at_ms = GREATEST(last_seen_at_ms, $3)
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .bind(ms(at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn create_ticket(&self, ticket: &VisitorTicket) -> StoreResult<()> {
        // The visitor and the team must both be the ticket's tenant's.
        let inserted = sqlx::query(
            "INSERT INTO visitor_tickets (token_hash, tenant_id, visitor_id, team_id,
                                          created_at_ms, expires_at_ms)
             SELECT $1, $2, $3, $4, $5, $6
             WHERE EXISTS (SELECT 1 FROM visitors WHERE tenant_id = $2 AND id = $3)
               AND EXISTS (SELECT 1 FROM teams WHERE tenant_id = $2 AND id = $4)",
        )
        .bind(ticket.token_hash.as_slice())
        .bind(ticket.tenant_id.as_uuid())
        .bind(ticket.visitor_id.as_uuid())
        .bind(ticket.team_id.as_uuid())
        .bind(ms(ticket.created_at))
        .bind(ms(ticket.expires_at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn find_ticket(
        &self,
        token_hash: &Digest,
    ) -> StoreResult<Option<(VisitorTicket, Visitor)>> {
        // By the token hash alone: the 256-bit token is the credential that names the tenant.
        let Some(row) = sqlx::query(
            "SELECT t.token_hash, t.tenant_id AS t_tenant_id, t.visitor_id, t.team_id AS t_team_id,
                    t.created_at_ms AS t_created_at_ms, t.expires_at_ms,
                    v.id, v.tenant_id, v.team_id, v.external_id, v.created_at_ms,
                    v.last_seen_at_ms
             FROM visitor_tickets t
             JOIN visitors v ON v.tenant_id = t.tenant_id AND v.id = t.visitor_id
             WHERE t.token_hash = $1",
        )
        .bind(token_hash.as_slice())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        else {
            return Ok(None);
        };
        let ticket = TicketRow {
            token_hash: row.try_get("token_hash").map_err(db_err)?,
            tenant_id: row.try_get("t_tenant_id").map_err(db_err)?,
            visitor_id: row.try_get("visitor_id").map_err(db_err)?,
            team_id: row.try_get("t_team_id").map_err(db_err)?,
            created_at_ms: row.try_get("t_created_at_ms").map_err(db_err)?,
            expires_at_ms: row.try_get("expires_at_ms").map_err(db_err)?,
        }
        .into_ticket()?;
        let visitor = visitor_row(&row)?.into_visitor()?;
        Ok(Some((ticket, visitor)))
    }

    async fn purge_expired_tickets(&self, before: OffsetDateTime) -> StoreResult<u64> {
        let deleted = sqlx::query("DELETE FROM visitor_tickets WHERE expires_at_ms < $1")
            .bind(ms(before))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(deleted.rows_affected())
    }
}

fn visitor_row(row: &PgRow) -> StoreResult<VisitorRow> {
    Ok(VisitorRow {
        id: row.try_get("id").map_err(db_err)?,
        tenant_id: row.try_get("tenant_id").map_err(db_err)?,
        team_id: row.try_get("team_id").map_err(db_err)?,
        external_id: row.try_get("external_id").map_err(db_err)?,
        created_at_ms: row.try_get("created_at_ms").map_err(db_err)?,
        last_seen_at_ms: row.try_get("last_seen_at_ms").map_err(db_err)?,
    })
}
