//! The contract suite on PostgreSQL, one fresh schema per case, against the server named by
//! `SEALDESK_TEST_PG_URL`. Unset: every case prints a notice and passes without running. Set
//! but unreachable: the cases fail, so a broken CI database is never mistaken for a pass.
//! Also detection of audit-log tampering done behind the store's back.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sealdesk_store::contract::Fixture;
use sealdesk_store::postgres::{self, PgOptions, PgStore};
use sealdesk_store::{Backend, StaffRepo, StoreAdmin, StoreError};
use sqlx::{Connection, Executor, PgConnection};
use uuid::Uuid;

const URL_VAR: &str = "SEALDESK_TEST_PG_URL";

/// The test server's URL, or `None` (with a notice) when the variable is not set.
fn test_url() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) => {
            assert!(!url.trim().is_empty(), "{URL_VAR} is set but empty");
            Some(url)
        }
        Err(std::env::VarError::NotPresent) => {
            eprintln!("skipping: {URL_VAR} is not set");
            None
        }
        Err(std::env::VarError::NotUnicode(_)) => panic!("{URL_VAR} is not valid UTF-8"),
    }
}

/// A migrated store in a new schema, and a connection that drops the schema afterwards.
async fn fresh(url: &str) -> (PgStore, String, PgConnection) {
    let schema = format!("t_{}", Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("{URL_VAR} is set but the server cannot be reached: {e}"));
    admin
        .execute(format!("CREATE SCHEMA \"{schema}\"").as_str())
        .await
        .unwrap();
    let opts = PgOptions {
        max_connections: 4,
        schema: Some(schema.clone()),
        ..PgOptions::default()
    };
    let store = postgres::connect(url, &opts).await.unwrap();
    assert!(
        store.migrate().await.unwrap() > 0,
        "a new schema gets every migration"
    );
    (store, schema, admin)
}

async fn fixture() -> Option<Fixture> {
    let url = test_url()?;
    let (store, schema, mut admin) = fresh(&url).await;
    Some(
        Fixture::new(Arc::new(store)).with_teardown(move || async move {
            admin
                .execute(format!("DROP SCHEMA \"{schema}\" CASCADE").as_str())
                .await
                .unwrap();
            admin.close().await.unwrap();
        }),
    )
}

sealdesk_store::store_contract_tests!(fixture);

#[tokio::test]
async fn tables_live_in_the_configured_schema() {
    let Some(url) = test_url() else { return };
    let (store, schema, mut admin) = fresh(&url).await;
    assert_eq!(store.backend(), Backend::Postgres);
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1",
    )
    .bind(&schema)
    .fetch_all(&mut admin)
    .await
    .unwrap();
    for table in [
        "_sqlx_migrations",
        "staff",
        "teams",
        "tenant_domains",
        "tenant_origins",
        "tenants",
        "sessions",
        "staff_totp",
        "recovery_codes",
        "login_throttle",
        "invitations",
        "audit_log",
        "audit_head",
    ] {
        assert!(
            tables.iter().any(|t| t == table),
            "{table} missing from {schema}: {tables:?}"
        );
    }
    store.close().await;
    admin
        .execute(format!("DROP SCHEMA \"{schema}\" CASCADE").as_str())
        .await
        .unwrap();
}

async fn drop_schema(mut admin: PgConnection, schema: &str) {
    admin
        .execute(format!("DROP SCHEMA \"{schema}\" CASCADE").as_str())
        .await
        .unwrap();
    admin.close().await.unwrap();
}

/// Editing an entry's details with raw SQL is reported at that entry.
#[tokio::test]
async fn audit_edit_is_detected_at_its_entry() {
    let Some(url) = test_url() else { return };
    let (store, schema, mut admin) = fresh(&url).await;
    crate::tamper::seed_chain(&store).await;
    let edited = admin
        .execute(
            format!(
                "UPDATE \"{schema}\".audit_log SET details = '{{\"n\":\"3\",\"reason\":\"ok\"}}'
                 WHERE seq = 3"
            )
            .as_str(),
        )
        .await
        .unwrap();
    assert_eq!(edited.rows_affected(), 1);

    let report = crate::tamper::stored_chain(&store).await;
    assert!(!report.ok);
    assert_eq!(report.entries, 5);
    let (seq, why) = report.first_error.unwrap();
    assert_eq!(seq, 3, "{why}");
    store.close().await;
    drop_schema(admin, &schema).await;
}

/// Deleting a middle entry with raw SQL is reported at the entry after the gap.
#[tokio::test]
async fn audit_deletion_is_detected() {
    let Some(url) = test_url() else { return };
    let (store, schema, mut admin) = fresh(&url).await;
    crate::tamper::seed_chain(&store).await;
    admin
        .execute(format!("DELETE FROM \"{schema}\".audit_log WHERE seq = 3").as_str())
        .await
        .unwrap();

    let report = crate::tamper::stored_chain(&store).await;
    assert!(!report.ok);
    assert_eq!(report.entries, 4);
    let (seq, why) = report.first_error.unwrap();
    assert_eq!(seq, 4, "{why}");
    assert!(why.contains("expected entry 3"), "{why}");
    store.close().await;
    drop_schema(admin, &schema).await;
}

/// The store has no tenant deletion; deleting the row with raw SQL shows what the schema
/// does: sessions cascade with the account, audit entries (no foreign key) stay.
#[tokio::test]
async fn deleting_a_tenant_cascades_sessions_but_not_audit() {
    let Some(url) = test_url() else { return };
    let (store, schema, mut admin) = fresh(&url).await;
    let (tenant, staff) = crate::tamper::tenant_with_session_and_audit(&store).await;
    let deleted = admin
        .execute(format!("DELETE FROM \"{schema}\".tenants WHERE id = '{tenant}'").as_str())
        .await
        .unwrap();
    assert_eq!(deleted.rows_affected(), 1);
    let sessions: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM \"{schema}\".sessions"))
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(sessions, 0);
    assert!(matches!(
        store.get_staff(tenant, staff).await,
        Err(StoreError::NotFound)
    ));
    crate::tamper::check_after_tenant_deletion(&store, tenant, staff).await;
    store.close().await;
    drop_schema(admin, &schema).await;
}

/// Deleting a tenant row cascades through its conversations, logs, notes, tickets, routing and
/// attachment rows, although the references to staff (assignee, note author, canned response
/// author) do not cascade: they are checked at commit, when the staff rows' referrers are gone
/// too. The other tenant keeps everything.
#[tokio::test]
async fn deleting_a_tenant_removes_its_conversations() {
    let Some(url) = test_url() else { return };
    let (store, schema, mut admin) = fresh(&url).await;
    let data = sealdesk_store::contract::TestData::new();
    let gone = crate::tenant_deletion::world(&store, &data, "Acme").await;
    let kept = crate::tenant_deletion::world(&store, &data, "Globex").await;
    let deleted = admin
        .execute(
            format!(
                "DELETE FROM \"{schema}\".tenants WHERE id = '{}'",
                gone.tenant
            )
            .as_str(),
        )
        .await
        .unwrap();
    assert_eq!(deleted.rows_affected(), 1);
    crate::tenant_deletion::check(&store, gone, kept).await;
    store.close().await;
    drop_schema(admin, &schema).await;
}

#[tokio::test]
async fn unreachable_server_is_unavailable_quickly() {
    let opts = PgOptions {
        acquire_timeout: Duration::from_secs(1),
        ..PgOptions::default()
    };
    let started = Instant::now();
    let err = postgres::connect("postgres://sealdesk@127.0.0.1:1/nope", &opts)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn malformed_url_and_schema_are_rejected_before_connecting() {
    let opts = PgOptions::default();
    for url in ["not a url", "postgres://sealdesk@127.0.0.1:notaport/db"] {
        let err = postgres::connect(url, &opts).await.unwrap_err();
        assert!(matches!(err, StoreError::Other(_)), "{url}: {err:?}");
    }
    for schema in ["", "Public", "t x", "t;drop", "1abc", &"a".repeat(64)] {
        let opts = PgOptions {
            schema: Some(schema.to_owned()),
            ..PgOptions::default()
        };
        let err = postgres::connect("postgres://sealdesk@127.0.0.1:1/nope", &opts)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Other(_)), "{schema:?}: {err:?}");
    }
}

#[test]
fn default_options() {
    let opts = PgOptions::default();
    assert_eq!(opts.max_connections, 10);
    assert_eq!(opts.acquire_timeout, Duration::from_secs(5));
    assert_eq!(opts.schema, None);
}
