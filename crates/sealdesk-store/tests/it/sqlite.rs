//! The contract suite on SQLite, one fresh database file per case, and the SQLite-specific
//! guarantees: WAL with `synchronous=FULL`, foreign keys on, owner-only file permissions.

use std::path::Path;
use std::sync::Arc;

use sealdesk_store::contract::{Fixture, TestData};
use sealdesk_store::sqlite::{self, SqliteStore};
use sealdesk_store::{Backend, StoreAdmin, StoreError, TeamRepo, TenantRepo};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor, SqliteConnection};

/// A migrated store in a new temporary directory (kept alive by the caller).
async fn fresh() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite::open(&dir.path().join("sealdesk.db")).await.unwrap();
    assert!(
        store.migrate().await.unwrap() > 0,
        "a new database gets every migration"
    );
    (store, dir)
}

async fn fixture() -> Fixture {
    let (store, dir) = fresh().await;
    Fixture::new(Arc::new(store)).with_guard(dir)
}

sealdesk_store::store_contract_tests!(fixture);

#[tokio::test]
async fn durability_pragmas_are_set() {
    let (store, _dir) = fresh().await;
    assert_eq!(store.backend(), Backend::Sqlite);
    assert_eq!(store.pragma("journal_mode").await.unwrap(), ["wal"]);
    // 2 = FULL: the WAL is synced at every commit.
    assert_eq!(store.pragma("synchronous").await.unwrap(), ["2"]);
    assert_eq!(store.pragma("foreign_keys").await.unwrap(), ["1"]);
    assert_eq!(store.pragma("busy_timeout").await.unwrap(), ["5000"]);
    assert!(matches!(
        store.pragma("journal_mode; DROP TABLE tenants").await,
        Err(StoreError::Other(_))
    ));
}

#[cfg(unix)]
#[tokio::test]
async fn database_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;

    let (store, dir) = fresh().await;
    let data = TestData::new();
    store
        .create_tenant(&data.tenant("Acme", &["acme.example"], &[]))
        .await
        .unwrap();
    let db = dir.path().join("sealdesk.db");
    let wal = dir.path().join("sealdesk.db-wal");
    let shm = dir.path().join("sealdesk.db-shm");
    assert!(
        wal.exists(),
        "WAL mode keeps a -wal file while the database is open"
    );
    for file in [&db, &wal, &shm] {
        if file.exists() {
            let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{} has mode {mode:o}", file.display());
        }
    }
}

#[tokio::test]
async fn the_parent_directory_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("sealdesk.db");
    let err = sqlite::open(&path).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(!path.parent().unwrap().exists());
}

#[tokio::test]
async fn data_survives_reopening() {
    let (store, dir) = fresh().await;
    let data = TestData::new();
    let acme = data.tenant("Acme", &["acme.example"], &["https://acme.example"]);
    store.create_tenant(&acme).await.unwrap();
    store.close().await;

    let reopened = sqlite::open(&dir.path().join("sealdesk.db")).await.unwrap();
    assert_eq!(reopened.migrate().await.unwrap(), 0);
    let got = reopened.get_tenant(acme.id).await.unwrap();
    assert_eq!(got.name, acme.name);
    assert_eq!(got.widget_origins, acme.widget_origins);
}

/// A stored value that no longer parses is reported as corrupt, not returned.
#[tokio::test]
async fn invalid_stored_values_are_corrupt() {
    let (store, dir) = fresh().await;
    let data = TestData::new();
    let acme = data.tenant("Acme", &["acme.example"], &[]);
    store.create_tenant(&acme).await.unwrap();
    let team = data.team(acme.id, "Billing");
    store.create_team(&team).await.unwrap();

    let mut raw = raw_connection(&dir.path().join("sealdesk.db")).await;
    // A right-to-left override: TeamName::parse refuses it.
    raw.execute("UPDATE teams SET name = 'Bil' || char(8238) || 'ling'")
        .await
        .unwrap();
    raw.execute("UPDATE tenants SET settings = '{\"retention_days\":0}'")
        .await
        .unwrap();
    raw.close().await.unwrap();

    assert!(matches!(
        store.get_team(acme.id, team.id).await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        store.list_teams(acme.id).await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        store.get_tenant(acme.id).await,
        Err(StoreError::Corrupt(_))
    ));
}

/// The schema refuses what the store never writes, as a second line of defence.
#[tokio::test]
async fn the_schema_enforces_foreign_keys_and_roles() {
    let (_store, dir) = fresh().await;
    let mut raw = raw_connection(&dir.path().join("sealdesk.db")).await;
    raw.execute("PRAGMA foreign_keys = ON").await.unwrap();
    let orphan = raw
        .execute("INSERT INTO teams VALUES ('0190c2d6-7b1e-7cc3-9a5e-2f3c4d5e6f70', 'nope', 'x', 'x', 0, 0)")
        .await;
    assert!(orphan.is_err(), "a team needs its tenant");
    raw.execute(
        "INSERT INTO tenants VALUES ('0190c2d6-7b1e-7cc3-9a5e-2f3c4d5e6f70', 'Acme', '{}', 0, 0, 0)",
    )
    .await
    .unwrap();
    let bad_role = raw
        .execute(
            "INSERT INTO staff VALUES ('0190c2d6-7b1e-7cc3-9a5e-2f3c4d5e6f71',
             '0190c2d6-7b1e-7cc3-9a5e-2f3c4d5e6f70', 'a@b.example', 'A', 'root', NULL, 0, 0, 0)",
        )
        .await;
    assert!(bad_role.is_err(), "roles are checked");
}

async fn raw_connection(path: &Path) -> SqliteConnection {
    SqliteConnectOptions::new()
        .filename(path)
        .connect()
        .await
        .unwrap()
}
