//! Attachments, internal notes, canned responses and retention through a real server: the
//! bytes come back unchanged to those who may read the conversation and to nobody else, the
//! edge's body limit does not cut an attachment, and retention really deletes (log, blob file,
//! routing state) and says so in the audit log.

use std::time::Duration;

use reqwest::StatusCode;
use sealdesk_client::{Client, ClientError};
use sealdesk_core::audit::{Actor, AuditAction};
use sealdesk_proto::{ConversationId, ErrorCode};
use sealdesk_testkit::{TenantSpec, TestApp, spawn_app, spawn_app_with};
use sha2::{Digest as _, Sha256};

use super::conversations::{Desk, desk, visitor};

fn code_of<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, ErrorCode) {
    match r {
        Err(ClientError::Api { status, body }) => (status, body.code),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn blob(len: u32) -> Vec<u8> {
    (0..len).map(|i| u8::try_from(i % 251).unwrap()).collect()
}

fn blob_path(app: &TestApp, sha256: &str) -> std::path::PathBuf {
    app.data_dir
        .path()
        .join("data")
        .join("blobs")
        .join(&sha256[..2])
        .join(sha256)
}

async fn login_as(app: &TestApp, desk: &Desk, email: &str, role: &str) -> Client {
    app.staff(&desk.tenant, email, role).await;
    app.login(&desk.tenant, email).await
}

#[tokio::test]
async fn an_attachment_reaches_those_who_may_read_the_conversation_and_nobody_else() {
    // The edge limit (4 KiB) is far below the attachment: uploads stream under their own.
    let app = spawn_app_with(|c| {
        c.server.body_limit_bytes = 4096;
        c.chat.attachment_max_bytes = 64 * 1024;
    })
    .await;
    let acme = desk(&app, "Acme", "acme.example", &["ann@acme.example"]).await;
    let tenant = acme.tenant.id;
    let (_, ann) = &acme.agents[0];
    let v = visitor(&app, &acme).await;
    let c = v.http.open_conversation(None).await.unwrap();

    let bytes = blob(20_000);
    let stored = v.http.visitor_upload(c.id, bytes.clone()).await.unwrap();
    assert_eq!(stored.sha256, hex::encode(Sha256::digest(&bytes)));
    assert_eq!(stored.size, 20_000);
    assert_eq!(
        std::fs::read(blob_path(&app, &stored.sha256)).unwrap(),
        bytes
    );
    assert_eq!(
        v.http.visitor_download(c.id, &stored.sha256).await.unwrap(),
        bytes
    );
    // Ann's team holds the open conversation: she may read it, not write to it yet.
    assert_eq!(
        ann.download_attachment(tenant, c.id, &stored.sha256)
            .await
            .unwrap(),
        bytes
    );
    assert_eq!(
        code_of(ann.upload_attachment(tenant, c.id, blob(10)).await),
        (403, ErrorCode::Forbidden)
    );

    // Another visitor of the same inbox, in their own conversation or in this one: 404.
    let other = visitor(&app, &acme).await;
    let theirs = other.http.open_conversation(None).await.unwrap();
    for id in [theirs.id, c.id] {
        assert_eq!(
            code_of(other.http.visitor_download(id, &stored.sha256).await),
            (404, ErrorCode::NotFound)
        );
    }
    // The same bytes uploaded elsewhere do not open this conversation's reference either.
    other
        .http
        .visitor_upload(theirs.id, bytes.clone())
        .await
        .unwrap();
    assert_eq!(
        code_of(other.http.visitor_download(c.id, &stored.sha256).await),
        (404, ErrorCode::NotFound)
    );
    // Another tenant's agent, with the conversation id and the hash: 404.
    let globex = desk(&app, "Globex", "globex.example", &["gil@globex.example"]).await;
    let (_, gil) = &globex.agents[0];
    assert_eq!(
        code_of(gil.download_attachment(tenant, c.id, &stored.sha256).await),
        (404, ErrorCode::NotFound)
    );
    assert_eq!(
        code_of(
            gil.download_attachment(globex.tenant.id, c.id, &stored.sha256)
                .await
        ),
        (404, ErrorCode::NotFound)
    );
}

#[tokio::test]
async fn bad_uploads_are_refused_with_stable_codes_and_leave_nothing_behind() {
    let app = spawn_app_with(|c| c.chat.attachment_max_bytes = 8 * 1024).await;
    let acme = desk(&app, "Acme", "acme.example", &[]).await;
    let v = visitor(&app, &acme).await;
    let c = v.http.open_conversation(None).await.unwrap();

    assert_eq!(
        code_of(v.http.visitor_upload(c.id, blob(8 * 1024 + 1)).await),
        (413, ErrorCode::PayloadTooLarge)
    );
    assert_eq!(
        code_of(v.http.visitor_upload(c.id, Vec::new()).await).0,
        400
    );
    // Streamed without a declared length, longer than the limit: cut while reading.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..4).map(|_| Ok(blob(4096))).collect();
    let streamed = reqwest::Client::new()
        .post(format!(
            "{}/api/visitor/conversations/{}/attachments",
            app.url, c.id
        ))
        .bearer_auth(&v.ticket)
        .header("content-type", "application/octet-stream")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(streamed.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Not declared as opaque bytes.
    let form = reqwest::Client::new()
        .post(format!(
            "{}/api/visitor/conversations/{}/attachments",
            app.url, c.id
        ))
        .bearer_auth(&v.ticket)
        .header("content-type", "text/html")
        .body("<script>alert(1)</script>")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        form.json::<sealdesk_proto::ErrorBody>().await.unwrap().code,
        ErrorCode::UnsupportedMediaType
    );
    assert_eq!(
        code_of(v.http.visitor_download(c.id, &"g".repeat(64)).await),
        (400, ErrorCode::InvalidInput)
    );
    assert_eq!(
        code_of(
            v.http
                .visitor_download(c.id, "../../../../etc/passwd")
                .await
        ),
        (404, ErrorCode::NotFound)
    );
    assert_eq!(
        code_of(v.http.visitor_download(c.id, &"0".repeat(64)).await),
        (404, ErrorCode::NotFound)
    );
    // Nothing was kept: no blob, no temp file.
    let blobs = app.data_dir.path().join("data").join("blobs");
    let leftovers: Vec<_> = std::fs::read_dir(&blobs)
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");

    // A closed conversation takes no more attachments.
    v.http.visitor_close(c.id).await.unwrap();
    assert_eq!(
        code_of(v.http.visitor_upload(c.id, blob(10)).await),
        (409, ErrorCode::ConversationClosed)
    );
}

#[tokio::test]
async fn a_download_is_served_as_an_opaque_file() {
    let app = spawn_app().await;
    let acme = desk(&app, "Acme", "acme.example", &[]).await;
    let v = visitor(&app, &acme).await;
    let c = v.http.open_conversation(None).await.unwrap();
    let stored = v.http.visitor_upload(c.id, blob(100)).await.unwrap();
    let r = reqwest::Client::new()
        .get(format!(
            "{}/api/visitor/conversations/{}/attachments/{}",
            app.url, c.id, stored.sha256
        ))
        .bearer_auth(&v.ticket)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers();
    assert_eq!(h["content-type"], "application/octet-stream");
    assert_eq!(h["content-length"], "100");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(
        h["content-disposition"],
        format!("attachment; filename=\"{}.bin\"", stored.sha256).as_str()
    );
}

#[tokio::test]
async fn internal_notes_are_for_staff_who_may_read_the_conversation() {
    let app = spawn_app_with(|c| c.chat.max_payload_bytes = 1024).await;
    let acme = desk(&app, "Acme", "acme.example", &["ann@acme.example"]).await;
    let tenant = acme.tenant.id;
    let (_, ann) = &acme.agents[0];
    let v = visitor(&app, &acme).await;
    let c = v.http.open_conversation(None).await.unwrap();

    let first = ann.add_note(tenant, c.id, b"sealed note 1").await.unwrap();
    let second = ann.add_note(tenant, c.id, b"sealed note 2").await.unwrap();
    assert_eq!((first.seq, second.seq), (1, 2));
    let notes = ann.notes(tenant, c.id).await.unwrap().notes;
    assert_eq!(notes, vec![first, second]);

    // A supervisor reads them; an agent outside the team, a visitor and another tenant do not.
    let sue = login_as(&app, &acme, "sue@acme.example", "supervisor").await;
    assert_eq!(sue.notes(tenant, c.id).await.unwrap().notes.len(), 2);
    let bob = login_as(&app, &acme, "bob@acme.example", "agent").await;
    assert_eq!(
        code_of(bob.notes(tenant, c.id).await),
        (404, ErrorCode::NotFound)
    );
    assert_eq!(
        code_of(bob.add_note(tenant, c.id, b"x").await),
        (404, ErrorCode::NotFound)
    );
    assert_eq!(code_of(v.http.notes(tenant, c.id).await).0, 401);
    let globex = desk(&app, "Globex", "globex.example", &["gil@globex.example"]).await;
    let (_, gil) = &globex.agents[0];
    assert_eq!(
        code_of(gil.notes(globex.tenant.id, c.id).await),
        (404, ErrorCode::NotFound)
    );

    // Bad payloads.
    assert_eq!(
        code_of(ann.add_note(tenant, c.id, &[7; 1025]).await),
        (413, ErrorCode::PayloadTooLarge)
    );
    assert_eq!(code_of(ann.add_note(tenant, c.id, b"").await).0, 400);
    let path = format!("/api/tenants/{tenant}/conversations/{}/notes", c.id);
    let not_base64 = ann
        .send_json(
            reqwest::Method::POST,
            &path,
            &serde_json::json!({"p": "not base64!"}),
        )
        .await;
    assert_eq!(code_of(not_base64).0, 400);
}

#[tokio::test]
async fn canned_responses_belong_to_a_team() {
    let app = spawn_app().await;
    let acme = desk(&app, "Acme", "acme.example", &["ann@acme.example"]).await;
    let tenant = acme.tenant.id;
    let team = acme.team.id;
    let (_, ann) = &acme.agents[0];
    let sue = login_as(&app, &acme, "sue@acme.example", "supervisor").await;

    let hello = sue
        .create_canned_response(tenant, team, b"sealed: Hello!")
        .await
        .unwrap();
    let bye = sue
        .create_canned_response(tenant, team, b"sealed: Goodbye")
        .await
        .unwrap();
    let listed = ann.canned_responses(tenant, team).await.unwrap();
    assert_eq!(listed.canned_responses, vec![hello.clone(), bye.clone()]);

    // Agents read their team's responses but do not manage them; other teams' stay hidden.
    assert_eq!(
        code_of(ann.create_canned_response(tenant, team, b"mine").await),
        (403, ErrorCode::Forbidden)
    );
    assert_eq!(
        code_of(ann.delete_canned_response(tenant, team, hello.id).await),
        (403, ErrorCode::Forbidden)
    );
    let billing = super::conversations::team(&app, &acme.tenant, "Billing").await;
    sue.create_canned_response(tenant, billing.id, b"sealed: invoices")
        .await
        .unwrap();
    assert_eq!(
        code_of(ann.canned_responses(tenant, billing.id).await),
        (404, ErrorCode::NotFound)
    );

    sue.delete_canned_response(tenant, team, hello.id)
        .await
        .unwrap();
    assert_eq!(
        code_of(sue.delete_canned_response(tenant, team, hello.id).await),
        (404, ErrorCode::NotFound)
    );
    // The id of one team's response does not delete through another team.
    assert_eq!(
        code_of(sue.delete_canned_response(tenant, billing.id, bye.id).await),
        (404, ErrorCode::NotFound)
    );
    assert_eq!(
        ann.canned_responses(tenant, team)
            .await
            .unwrap()
            .canned_responses,
        vec![bye]
    );
}

async fn closed_conversation_with(
    app: &TestApp,
    desk: &Desk,
    agent_email: &str,
    bytes: &[u8],
) -> (ConversationId, String) {
    let v = visitor(app, desk).await;
    let c = v.http.open_conversation(None).await.unwrap();
    let stored = v.http.visitor_upload(c.id, bytes.to_vec()).await.unwrap();
    // A fresh login: the test clock may have moved past the earlier session's lifetime.
    let agent = app.login(&desk.tenant, agent_email).await;
    agent
        .add_note(desk.tenant.id, c.id, b"sealed note")
        .await
        .unwrap();
    v.http.visitor_close(c.id).await.unwrap();
    (c.id, stored.sha256)
}

#[tokio::test]
async fn retention_deletes_expired_conversations_with_their_blobs_and_audits_it() {
    let app = spawn_app().await;
    let spec = TenantSpec::relaxed("Acme", "acme.example");
    assert_eq!(spec.settings.retention_days, 30);
    let acme = desk(&app, "Acme", "acme.example", &["ann@acme.example"]).await;
    let tenant = acme.tenant.id;

    // Closed 31 days before the sweep: one blob only it uses, one it shares with a
    // conversation that is still within retention.
    let shared = blob(300);
    let (old, old_only) =
        closed_conversation_with(&app, &acme, "ann@acme.example", &blob(200)).await;
    let v = visitor(&app, &acme).await;
    let old_shared_conv = v.http.open_conversation(None).await.unwrap();
    v.http
        .visitor_upload(old_shared_conv.id, shared.clone())
        .await
        .unwrap();
    v.http.visitor_close(old_shared_conv.id).await.unwrap();
    app.clock.advance(Duration::from_hours(24 * 10));
    let (recent, shared_sha) =
        closed_conversation_with(&app, &acme, "ann@acme.example", &shared).await;
    // Open for 40 days but never closed: retention counts from closing.
    let waiting = visitor(&app, &acme)
        .await
        .http
        .open_conversation(None)
        .await
        .unwrap();
    app.clock.advance(Duration::from_hours(24 * 21));

    let report = sealdesk_server::app::retention::sweep(&app.state)
        .await
        .unwrap();
    assert_eq!(report.conversations, 2, "{report:?}");
    assert_eq!(report.blobs, 1, "only the unshared blob goes: {report:?}");
    assert_eq!(report.failed_tenants, 0);

    for id in [old, old_shared_conv.id] {
        assert!(matches!(
            app.store.get_conversation(tenant, id).await,
            Err(sealdesk_store::StoreError::NotFound)
        ));
        assert!(
            app.store
                .read_log(tenant, id, 0, 100)
                .await
                .unwrap_or_default()
                .is_empty()
        );
        assert!(!matches!(app.store.list_notes(tenant, id).await, Ok(n) if !n.is_empty()));
    }
    assert!(!blob_path(&app, &old_only).exists());
    assert!(blob_path(&app, &shared_sha).exists());
    for id in [recent, waiting.id] {
        app.store.get_conversation(tenant, id).await.unwrap();
    }

    let audit = app.store.list_audit(Some(tenant), 0, 1000).await.unwrap();
    let deleted: Vec<_> = audit
        .iter()
        .filter(|r| r.event.action == AuditAction::RetentionDeleted)
        .collect();
    assert_eq!(deleted.len(), 2);
    let targets: Vec<_> = deleted
        .iter()
        .map(|r| r.event.target.clone().unwrap())
        .collect();
    assert!(targets.contains(&format!("conversation:{old}")));
    assert!(deleted.iter().all(|r| r.event.actor == Actor::System));

    // A second sweep finds nothing more; ten more days expire the recent one and its blob.
    let again = sealdesk_server::app::retention::sweep(&app.state)
        .await
        .unwrap();
    assert_eq!(again.conversations, 0);
    app.clock.advance(Duration::from_hours(24 * 10));
    let later = sealdesk_server::app::retention::sweep(&app.state)
        .await
        .unwrap();
    assert_eq!((later.conversations, later.blobs), (1, 1));
    assert!(!blob_path(&app, &shared_sha).exists());
}

#[tokio::test]
async fn erasing_a_tenant_removes_its_blob_files_but_not_shared_ones() {
    let app = spawn_app().await;
    let acme = desk(&app, "Acme", "acme.example", &["ann@acme.example"]).await;
    let globex = desk(&app, "Globex", "globex.example", &["gil@globex.example"]).await;
    let (_, own) = closed_conversation_with(&app, &acme, "ann@acme.example", &blob(500)).await;
    let (_, shared) = closed_conversation_with(&app, &acme, "ann@acme.example", &blob(600)).await;
    let (_, also_globex) =
        closed_conversation_with(&app, &globex, "gil@globex.example", &blob(600)).await;
    assert_eq!(shared, also_globex);
    let deleted = app.store.delete_tenant(acme.tenant.id).await.unwrap();
    assert!(deleted.entries >= 2);
    let removed = sealdesk_server::blobs::remove_orphans(
        &*app.store,
        app.state.blobs(),
        &deleted.orphaned_blobs,
    )
    .await;
    assert_eq!(removed, 1);
    assert!(!blob_path(&app, &own).exists());
    assert!(blob_path(&app, &shared).exists(), "Globex still uses it");
}
