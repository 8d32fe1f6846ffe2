//! The contract suite on SQLite, one fresh database file per case, and the SQLite-specific
//! guarantees: WAL with `synchronous=FULL`, foreign keys on, owner-only file permissions; and
//! detection of audit-log tampering done behind the store's back.

use std::path::Path;
use std::sync::Arc;

use sealdesk_core::audit::AuditAction;
use sealdesk_core::auth::SessionKind;
use sealdesk_core::domain::Role;
use sealdesk_store::contract::{Fixture, TestData};
use sealdesk_store::sqlite::{self, SqliteStore};
use sealdesk_store::{
    AuditRepo, Backend, SessionRepo, StaffRepo, StoreAdmin, StoreError, TeamRepo, TenantRepo,
};
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
    assert_eq!(store.pragma("secure_delete").await.unwrap(), ["1"]);
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

/// Stored session scopes and audit actors that no longer parse are corrupt, not returned.
#[tokio::test]
async fn invalid_auth_values_are_corrupt() {
    let (store, dir) = fresh().await;
    let data = TestData::new();
    let acme = data.tenant("Acme", &["acme.example"], &[]);
    store.create_tenant(&acme).await.unwrap();
    let jane = data.staff(acme.id, "jane@acme.example", Role::Owner, None);
    store.create_staff(&jane).await.unwrap();
    let session = data.session(acme.id, jane.id, SessionKind::Browser);
    store.create_session(&session).await.unwrap();
    store
        .append_audit(&data.audit_event(None, AuditAction::LoginFailed, 1))
        .await
        .unwrap();

    let mut raw = raw_connection(&dir.path().join("sealdesk.db")).await;
    raw.execute("UPDATE sessions SET scopes = '[1]'")
        .await
        .unwrap();
    raw.execute("UPDATE audit_log SET actor = 'root'")
        .await
        .unwrap();
    raw.close().await.unwrap();
    assert!(matches!(
        store.get_session(acme.id, session.id).await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        store.list_audit(None, 0, 10).await,
        Err(StoreError::Corrupt(_))
    ));
}

/// Editing an entry's details with raw SQL is reported at that entry.
#[tokio::test]
async fn audit_edit_is_detected_at_its_entry() {
    let (store, dir) = fresh().await;
    crate::tamper::seed_chain(&store).await;
    let mut raw = raw_connection(&dir.path().join("sealdesk.db")).await;
    let edited = raw
        .execute("UPDATE audit_log SET details = '{\"n\":\"3\",\"reason\":\"ok\"}' WHERE seq = 3")
        .await
        .unwrap();
    assert_eq!(edited.rows_affected(), 1);
    raw.close().await.unwrap();

    let report = crate::tamper::stored_chain(&store).await;
    assert!(!report.ok);
    assert_eq!(report.entries, 5);
    let (seq, why) = report.first_error.unwrap();
    assert_eq!(seq, 3, "{why}");
}

/// Deleting a middle entry with raw SQL is reported at the entry after the gap.
#[tokio::test]
async fn audit_deletion_is_detected() {
    let (store, dir) = fresh().await;
    crate::tamper::seed_chain(&store).await;
    let mut raw = raw_connection(&dir.path().join("sealdesk.db")).await;
    raw.execute("DELETE FROM audit_log WHERE seq = 3")
        .await
        .unwrap();
    raw.close().await.unwrap();

    let report = crate::tamper::stored_chain(&store).await;
    assert!(!report.ok);
    assert_eq!(report.entries, 4);
    let (seq, why) = report.first_error.unwrap();
    assert_eq!(seq, 4, "{why}");
    assert!(why.contains("expected entry 3"), "{why}");
}

/// The store has no tenant deletion; deleting the row with raw SQL shows what the schema
/// does: sessions cascade with the account, audit entries (no foreign key) stay.
#[tokio::test]
async fn deleting_a_tenant_cascades_sessions_but_not_audit() {
    let (store, dir) = fresh().await;
    let (tenant, staff) = crate::tamper::tenant_with_session_and_audit(&store).await;
    let mut raw = raw_connection(&dir.path().join("sealdesk.db")).await;
    raw.execute("PRAGMA foreign_keys = ON").await.unwrap();
    let deleted = raw
        .execute(format!("DELETE FROM tenants WHERE id = '{tenant}'").as_str())
        .await
        .unwrap();
    assert_eq!(deleted.rows_affected(), 1);
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(&mut raw)
        .await
        .unwrap();
    assert_eq!(sessions, 0);
    raw.close().await.unwrap();
    assert!(matches!(
        store.get_staff(tenant, staff).await,
        Err(StoreError::NotFound)
    ));
    crate::tamper::check_after_tenant_deletion(&store, tenant, staff).await;
}

/// Deleting a tenant row cascades through its conversations and everything they own; the
/// other tenant keeps everything (see `tenant_deletion`).
#[tokio::test]
async fn deleting_a_tenant_removes_its_conversations() {
    let (store, dir) = fresh().await;
    let data = TestData::new();
    let gone = crate::tenant_deletion::world(&store, &data, "Acme").await;
    let kept = crate::tenant_deletion::world(&store, &data, "Globex").await;
    let mut raw = raw_connection(&dir.path().join("sealdesk.db")).await;
    raw.execute("PRAGMA foreign_keys = ON").await.unwrap();
    let deleted = raw
        .execute(format!("DELETE FROM tenants WHERE id = '{}'", gone.tenant).as_str())
        .await
        .unwrap();
    assert_eq!(deleted.rows_affected(), 1);
    assert!(
        sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&mut raw)
            .await
            .unwrap()
            .is_empty()
    );
    raw.close().await.unwrap();
    crate::tenant_deletion::check(&store, gone, kept).await;
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

/// A session (or any per-account row) must name an account of its own tenant, and the audit
/// head stays a single row.
#[tokio::test]
async fn auth_rows_cannot_cross_tenants() {
    let (store, dir) = fresh().await;
    let data = TestData::new();
    let acme = data.tenant("Acme", &["acme.example"], &[]);
    let globex = data.tenant("Globex", &["globex.example"], &[]);
    store.create_tenant(&acme).await.unwrap();
    store.create_tenant(&globex).await.unwrap();
    let jane = data.staff(acme.id, "jane@acme.example", Role::Owner, None);
    store.create_staff(&jane).await.unwrap();

    let mut raw = raw_connection(&dir.path().join("sealdesk.db")).await;
    raw.execute("PRAGMA foreign_keys = ON").await.unwrap();
    let insert = |tenant: String| {
        format!(
            "INSERT INTO sessions (id, tenant_id, staff_id, token_hash, kind, scopes,
                                   created_at_ms, last_seen_at_ms, authenticated_at_ms,
                                   absolute_expires_at_ms)
             VALUES ('{}', '{tenant}', '{}', zeroblob(32), 'browser', '[]', 0, 0, 0, 1)",
            data.uuid(),
            jane.id
        )
    };
    assert!(
        raw.execute(insert(globex.id.to_string()).as_str())
            .await
            .is_err(),
        "the account belongs to another tenant"
    );
    raw.execute(insert(acme.id.to_string()).as_str())
        .await
        .unwrap();
    assert!(
        raw.execute("INSERT INTO audit_head (id, seq, hash) VALUES (2, 0, zeroblob(32))")
            .await
            .is_err()
    );
    raw.close().await.unwrap();
}

/// Retention deletion erases the bytes: after a conversation is deleted and the WAL is
/// checkpointed, its payloads are nowhere in the database file (`secure_delete`), while
/// another conversation's are.
#[tokio::test]
async fn deleted_conversations_are_erased_from_the_file() {
    use sealdesk_core::domain::{EntryKind, NewConversation, NewEntry, NewVisitor, Party};
    use sealdesk_proto::{ConversationId, VisitorId};
    use sealdesk_store::{ConversationRepo, LogRepo, RetentionRepo, VisitorRepo};

    let (store, dir) = fresh().await;
    let data = TestData::new();
    let acme = data.tenant("Acme", &["acme.example"], &[]);
    store.create_tenant(&acme).await.unwrap();
    let team = data.team(acme.id, "Support");
    store.create_team(&team).await.unwrap();
    let visitor = store
        .create_visitor(&NewVisitor {
            id: VisitorId::from_uuid(data.uuid()),
            tenant_id: acme.id,
            team_id: team.id,
            key_hash: data.digest(),
            external_id: None,
            created_at: data.now(),
        })
        .await
        .unwrap();
    let mut conversations = Vec::new();
    for _ in 0..2 {
        let c = store
            .create_conversation(&NewConversation {
                id: ConversationId::from_uuid(data.uuid()),
                tenant_id: acme.id,
                team_id: team.id,
                visitor_id: visitor.id,
                reopened_from: None,
                consent_notice: None,
                created_at: data.now(),
            })
            .await
            .unwrap();
        conversations.push(c);
    }
    let marker = |c: usize, i: usize| format!("SECRET-{c}-{i:04}-").repeat(8).into_bytes();
    for (n, c) in conversations.iter().enumerate() {
        let entries: Vec<NewEntry> = (0..200)
            .map(|i| NewEntry {
                tenant_id: acme.id,
                conversation_id: c.id,
                sender: Party::Visitor(visitor.id),
                kind: EntryKind::Application,
                client_msg_id: None,
                payload: marker(n, i).into(),
                at: data.now(),
            })
            .collect();
        store.append_batch(&entries).await.unwrap();
    }
    let file = dir.path().join("sealdesk.db");
    let contains = |bytes: &[u8], needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    // Into the main file first, so the deletion has old bytes to overwrite there.
    store.pragma("wal_checkpoint").await.unwrap();
    assert!(contains(&std::fs::read(&file).unwrap(), &marker(0, 7)));

    let deleted = store
        .delete_conversation(acme.id, conversations[0].id)
        .await
        .unwrap();
    assert_eq!(deleted.entries, 200);
    store.pragma("wal_checkpoint").await.unwrap();
    let bytes = std::fs::read(&file).unwrap();
    for i in [0, 7, 100, 199] {
        assert!(
            !contains(&bytes, &marker(0, i)),
            "entry {i} is still in the file"
        );
    }
    assert!(
        contains(&bytes, &marker(1, 7)),
        "the other conversation is intact"
    );
}
