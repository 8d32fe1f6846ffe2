//! Upgrades of existing databases, on both backends: migration 0005 keeps recovery codes
//! stored before it (HMAC digests) usable; 0014 keeps each conversation's History Member as
//! its generation 1, active; 0015 (SQLite) keeps every log entry. Each test migrates a fresh database only up to the migration
//! before, writes data the way the old code did, then lets the store apply the rest.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sealdesk_core::domain::Role;
use sealdesk_proto::{StaffId, TenantId};
use sealdesk_store::contract::TestData;
use sealdesk_store::postgres::{self, PgOptions};
use sealdesk_store::sqlite;
use sealdesk_store::{RecoveryCodeHash, StaffRepo, Store, StoreAdmin, TenantRepo};
use sqlx::migrate::Migrator;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor, PgConnection};
use uuid::Uuid;

/// A migration source with the backend's migrations before 0005 (copied to `into`).
fn before_0005(backend: &str, into: &Path) -> PathBuf {
    before(backend, into, 5)
}

/// A migration source with the backend's migrations before `first_left_out`.
fn before(backend: &str, into: &Path, first_left_out: u32) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let target = into.join(backend);
    std::fs::create_dir_all(&target).unwrap();
    let mut copied = 0;
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let version: u32 = name.split('_').next().unwrap().parse().unwrap();
        if version < first_left_out {
            std::fs::copy(&path, target.join(&name)).unwrap();
            copied += 1;
        }
    }
    assert!(copied >= 3, "0001 to 0003 at least");
    target
}

/// Two legacy rows of `staff`: one unused (digest `[7; 32]`), one already used.
fn legacy_rows_sql(tenant: TenantId, staff: StaffId, cast: &str) -> Vec<String> {
    [("07", "NULL"), ("08", "1700000000000")]
        .iter()
        .map(|(byte, used)| {
            format!(
                "INSERT INTO recovery_codes (tenant_id, staff_id, digest, key_version,
                                             created_at_ms, used_at_ms)
                 VALUES ('{tenant}'{cast}, '{staff}'{cast}, {}, 3, 1700000000000, {used})",
                if cast.is_empty() {
                    format!("X'{}'", byte.repeat(32))
                } else {
                    format!("'\\x{}'::bytea", byte.repeat(32))
                }
            )
        })
        .collect()
}

/// What every backend must show after the upgrade.
async fn legacy_code_still_works(store: &dyn Store, tenant: TenantId, staff: StaffId) {
    let codes = store.list_recovery_codes(tenant, staff).await.unwrap();
    assert_eq!(codes.len(), 1, "the used code stays used: {codes:?}");
    assert_eq!(codes[0].hash, RecoveryCodeHash::LegacyHmac([7; 32]));
    assert_eq!(codes[0].key_version, 3);
    assert_eq!(store.count_recovery_codes(tenant, staff).await.unwrap(), 1);
    let at = TestData::new().now();
    assert!(
        store
            .use_recovery_code(tenant, staff, codes[0].id, at)
            .await
            .unwrap()
    );
    assert!(
        !store
            .use_recovery_code(tenant, staff, codes[0].id, at)
            .await
            .unwrap()
    );
    // New codes are Argon2id PHC strings next to nothing else.
    store
        .replace_recovery_codes(tenant, staff, &["$argon2id$new".to_owned()], 4, at)
        .await
        .unwrap();
    let codes = store.list_recovery_codes(tenant, staff).await.unwrap();
    assert_eq!(
        codes.iter().map(|c| c.hash.clone()).collect::<Vec<_>>(),
        [RecoveryCodeHash::Argon2id("$argon2id$new".to_owned())]
    );
}

#[tokio::test]
async fn sqlite_legacy_recovery_codes_survive_0005() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sealdesk.db");
    let store = sqlite::open(&path).await.unwrap();
    let mut conn = sqlite_before(dir.path(), &path, 5).await;
    let data = TestData::new();
    let tenant = data.tenant("Acme", &["acme.example"], &[]);
    store.create_tenant(&tenant).await.unwrap();
    let staff = data.staff(tenant.id, "jane@acme.example", Role::Owner, None);
    store.create_staff(&staff).await.unwrap();
    for sql in legacy_rows_sql(tenant.id, staff.id, "") {
        conn.execute(sql.as_str()).await.unwrap();
    }
    conn.close().await.unwrap();

    assert!(store.migrate().await.unwrap() >= 1, "0005 applies");
    assert_eq!(store.pragma("foreign_key_check").await.unwrap().len(), 0);
    legacy_code_still_works(&store, tenant.id, staff.id).await;
    // The rebuilt table still enforces one hash per row.
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .connect()
        .await
        .unwrap();
    let neither = format!(
        "INSERT INTO recovery_codes (tenant_id, staff_id, key_version, created_at_ms)
         VALUES ('{}', '{}', 1, 1)",
        tenant.id, staff.id
    );
    assert!(conn.execute(neither.as_str()).await.is_err());
    conn.close().await.unwrap();
    store.close().await;
}

#[tokio::test]
async fn postgres_legacy_recovery_codes_survive_0005() {
    let Ok(url) = std::env::var("SEALDESK_TEST_PG_URL") else {
        eprintln!("skipping: SEALDESK_TEST_PG_URL is not set");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let schema = format!("t_{}", Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&url).await.unwrap();
    admin
        .execute(format!("CREATE SCHEMA \"{schema}\"").as_str())
        .await
        .unwrap();
    let options: PgConnectOptions = url.parse().unwrap();
    let mut conn = options
        .options([("search_path", schema.as_str())])
        .connect()
        .await
        .unwrap();
    let old = Migrator::new(before_0005("postgres", dir.path()))
        .await
        .unwrap();
    old.run(&mut conn).await.unwrap();
    let opts = PgOptions {
        max_connections: 2,
        schema: Some(schema.clone()),
        ..PgOptions::default()
    };
    let store = Arc::new(postgres::connect(&url, &opts).await.unwrap());
    let data = TestData::new();
    let tenant = data.tenant("Acme", &["acme.example"], &[]);
    store.create_tenant(&tenant).await.unwrap();
    let staff = data.staff(tenant.id, "jane@acme.example", Role::Owner, None);
    store.create_staff(&staff).await.unwrap();
    for sql in legacy_rows_sql(tenant.id, staff.id, "::uuid") {
        conn.execute(sql.as_str()).await.unwrap();
    }
    assert!(store.migrate().await.unwrap() >= 1, "0005 applies");
    legacy_code_still_works(store.as_ref(), tenant.id, staff.id).await;
    let neither = format!(
        "INSERT INTO recovery_codes (tenant_id, staff_id, key_version, created_at_ms)
         VALUES ('{}'::uuid, '{}'::uuid, 1, 1)",
        tenant.id, staff.id
    );
    assert!(conn.execute(neither.as_str()).await.is_err());
    conn.close().await.unwrap();
    store.close().await;
    admin
        .execute(format!("DROP SCHEMA \"{schema}\" CASCADE").as_str())
        .await
        .unwrap();
    admin.close().await.unwrap();
}

/// A History Member row as migration 0009 stored it.
fn legacy_history_sql(tenant: Uuid, conversation: Uuid, cast: &str) -> String {
    let bytes = |b: &str, n: usize| {
        if cast.is_empty() {
            format!("X'{}'", b.repeat(n))
        } else {
            format!("'\\x{}'::bytea", b.repeat(n))
        }
    };
    format!(
        "INSERT INTO conversation_history
         (conversation_id, tenant_id, hash_ref, key_package, sealed_bundle, taken_at_ms)
         VALUES ('{conversation}'{cast}, '{tenant}'{cast}, {}, {}, {}, 1700000000000)",
        bytes("0a", 32),
        bytes("0b", 40),
        bytes("0c", 50)
    )
}

async fn legacy_history_member_is_generation_one(
    store: &dyn Store,
    tenant: Uuid,
    conversation: Uuid,
) {
    let member = store
        .conversation_history_member(
            TenantId::from_uuid(tenant),
            sealdesk_proto::ConversationId::from_uuid(conversation),
        )
        .await
        .unwrap()
        .expect("the History Member is still the conversation's");
    assert_eq!(member.hash_ref, vec![0x0a; 32]);
    assert_eq!(member.key_package.as_ref(), [0x0b; 40]);
    assert_eq!(member.sealed_bundle.as_ref(), [0x0c; 50]);
}

/// A connection to the SQLite database at `path`, migrated only up to the migration before
/// `first_left_out` (the sources copied under `dir`).
async fn sqlite_before(dir: &Path, path: &Path, first_left_out: u32) -> sqlx::SqliteConnection {
    let old = Migrator::new(before("sqlite", dir, first_left_out))
        .await
        .unwrap();
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .foreign_keys(true)
        .connect()
        .await
        .unwrap();
    old.run(&mut conn).await.unwrap();
    conn
}

#[tokio::test]
async fn sqlite_history_members_survive_0014() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sealdesk.db");
    let store = sqlite::open(&path).await.unwrap();
    let mut conn = sqlite_before(dir.path(), &path, 14).await;
    let (tenant, conversation) = (Uuid::new_v4(), Uuid::new_v4());
    conn.execute(legacy_history_sql(tenant, conversation, "").as_str())
        .await
        .unwrap();
    conn.close().await.unwrap();
    assert!(store.migrate().await.unwrap() >= 1, "0014 applies");
    legacy_history_member_is_generation_one(&store, tenant, conversation).await;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .connect()
        .await
        .unwrap();
    let (generation, state): (i64, String) = sqlx::query_as(
        "SELECT generation, state FROM conversation_history WHERE conversation_id = ?1",
    )
    .bind(conversation.to_string())
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!((generation, state.as_str()), (1, "active"));
    // At most one active member per conversation.
    let second = format!(
        "INSERT INTO conversation_history
         (conversation_id, generation, tenant_id, hash_ref, key_package, sealed_bundle, state,
          taken_at_ms, changed_at_ms)
         VALUES ('{conversation}', 2, '{tenant}', X'01', X'01', X'01', 'active', 1, 1)"
    );
    assert!(conn.execute(second.as_str()).await.is_err());
    conn.close().await.unwrap();
    store.close().await;
}

#[tokio::test]
async fn postgres_history_members_survive_0014() {
    let Ok(url) = std::env::var("SEALDESK_TEST_PG_URL") else {
        eprintln!("skipping: SEALDESK_TEST_PG_URL is not set");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let schema = format!("t_{}", Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&url).await.unwrap();
    admin
        .execute(format!("CREATE SCHEMA \"{schema}\"").as_str())
        .await
        .unwrap();
    let options: PgConnectOptions = url.parse().unwrap();
    let mut conn = options
        .options([("search_path", schema.as_str())])
        .connect()
        .await
        .unwrap();
    let old = Migrator::new(before("postgres", dir.path(), 14))
        .await
        .unwrap();
    old.run(&mut conn).await.unwrap();
    let (tenant, conversation) = (Uuid::new_v4(), Uuid::new_v4());
    conn.execute(legacy_history_sql(tenant, conversation, "::uuid").as_str())
        .await
        .unwrap();
    let opts = PgOptions {
        max_connections: 2,
        schema: Some(schema.clone()),
        ..PgOptions::default()
    };
    let store = Arc::new(postgres::connect(&url, &opts).await.unwrap());
    assert!(store.migrate().await.unwrap() >= 1, "0014 applies");
    legacy_history_member_is_generation_one(store.as_ref(), tenant, conversation).await;
    let (generation, state): (i32, String) = sqlx::query_as(
        "SELECT generation, state FROM conversation_history WHERE conversation_id = $1",
    )
    .bind(conversation)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!((generation, state.as_str()), (1, "active"));
    let second = format!(
        "INSERT INTO conversation_history
         (conversation_id, generation, tenant_id, hash_ref, key_package, sealed_bundle, state,
          taken_at_ms, changed_at_ms)
         VALUES ('{conversation}'::uuid, 2, '{tenant}'::uuid, '\\x01', '\\x01', '\\x01',
                 'active', 1, 1)"
    );
    assert!(conn.execute(second.as_str()).await.is_err());
    conn.close().await.unwrap();
    store.close().await;
    admin
        .execute(format!("DROP SCHEMA \"{schema}\" CASCADE").as_str())
        .await
        .unwrap();
    admin.close().await.unwrap();
}

/// 0015 rebuilds the SQLite logs in append order: every entry acknowledged before reads back
/// the same, retried sends stay duplicates, and sequences continue.
#[tokio::test]
async fn sqlite_logs_survive_0015() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sealdesk.db");
    let store = sqlite::open(&path).await.unwrap();
    let conn = sqlite_before(dir.path(), &path, 15).await;
    conn.close().await.unwrap();
    let written = sealdesk_store::contract::write_log_for_upgrade(&store).await;
    assert!(store.migrate().await.unwrap() >= 1, "0015 applies");
    sealdesk_store::contract::log_reads_back_after_upgrade(&store, &written).await;
    // The rebuilt table is a rowid table with its two unique indexes.
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .connect()
        .await
        .unwrap();
    let rowids: i64 = sqlx::query_scalar("SELECT count(id) FROM log_entries")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(rowids >= 37, "{rowids}");
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM pragma_index_list('log_entries') WHERE \"unique\" ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        indexes,
        ["log_entries_client_msg_idx", "log_entries_seq_idx"]
    );
    conn.close().await.unwrap();
    store.close().await;
}
