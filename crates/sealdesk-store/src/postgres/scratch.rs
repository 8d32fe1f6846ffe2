//! Disposable schemas, for benchmarks and tools that need a private, empty corner of a shared
//! PostgreSQL database (the integration tests do the same with their own connection). Not for
//! the server: it uses the schema its configuration names.

use sqlx::{Connection, Executor, PgConnection};

use super::{db_err, is_plain_identifier};
use crate::{StoreError, StoreResult};

fn checked(schema: &str) -> StoreResult<&str> {
    if is_plain_identifier(schema) {
        Ok(schema)
    } else {
        Err(StoreError::Other(sqlx::Error::Configuration(
            format!("schema {schema:?} must be a lower-case identifier (a-z, 0-9, _)").into(),
        )))
    }
}

async fn run(url: &str, sql: &str) -> StoreResult<()> {
    let mut conn = PgConnection::connect(url).await.map_err(db_err)?;
    conn.execute(sql).await.map_err(db_err)?;
    conn.close().await.map_err(db_err)?;
    Ok(())
}

/// Creates the schema `schema` (a plain lower-case identifier) in the database at `url`.
#[doc(hidden)]
pub async fn create_schema(url: &str, schema: &str) -> StoreResult<()> {
    // The name is checked to be a plain identifier, so it needs no quoting beyond this.
    run(url, &format!("CREATE SCHEMA \"{}\"", checked(schema)?)).await
}

/// Drops the schema `schema` and everything in it.
#[doc(hidden)]
pub async fn drop_schema(url: &str, schema: &str) -> StoreResult<()> {
    run(
        url,
        &format!("DROP SCHEMA \"{}\" CASCADE", checked(schema)?),
    )
    .await
}
