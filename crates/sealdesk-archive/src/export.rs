//! Writing a tenant's archive from the store.

use std::io::Write;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_proto::{ConversationId, TenantId};
use sealdesk_store::{ConversationFilter, KeyScope, Store};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::ArchiveError;
use crate::format::{
    ConversationRecord, EntryRecord, FORMAT, Header, HistoryRecord, KeyRecord, NoteRecord, Trailer,
};

const PAGE: u32 = 500;

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportSummary {
    /// Conversations written.
    pub conversations: u64,
    /// Log entries written.
    pub entries: u64,
}

/// Writes `sink` and hashes what it writes.
struct Hashing<W> {
    sink: W,
    hash: Sha256,
}

impl<W: Write> Hashing<W> {
    fn line(&mut self, value: &impl serde::Serialize) -> Result<(), ArchiveError> {
        let mut bytes = serde_json::to_vec(value)
            .map_err(|e| ArchiveError::Invalid(format!("cannot encode a line: {e}")))?;
        bytes.push(b'\n');
        self.hash.update(&bytes);
        self.sink.write_all(&bytes)?;
        Ok(())
    }
}

/// A conversation's whole log, oldest first.
async fn entries_of(
    store: &dyn Store,
    tenant: TenantId,
    id: ConversationId,
) -> Result<Vec<EntryRecord>, ArchiveError> {
    let mut entries = Vec::new();
    let mut after = 0;
    loop {
        let page = store.read_log(tenant, id, after, PAGE).await?;
        let full = page.len() == PAGE as usize;
        for e in page {
            after = e.seq;
            entries.push(EntryRecord {
                seq: e.seq,
                kind: e.kind.as_str().into(),
                at: e.created_at,
                payload: STANDARD.encode(&e.payload),
            });
        }
        if !full {
            return Ok(entries);
        }
    }
}

/// A conversation's internal notes (opaque SDT1 objects), oldest first.
async fn notes_of(
    store: &dyn Store,
    tenant: TenantId,
    id: ConversationId,
) -> Result<Vec<NoteRecord>, ArchiveError> {
    Ok(store
        .list_notes(tenant, id)
        .await?
        .into_iter()
        .map(|n| NoteRecord {
            seq: n.seq,
            author: n.author.to_string(),
            at: n.created_at,
            payload: STANDARD.encode(&n.payload),
        })
        .collect())
}

/// Writes the tenant's archive to `out`, calling `progress(done, total)` after each
/// conversation (`total` counts what the first pass listed).
pub async fn export(
    store: &dyn Store,
    tenant: TenantId,
    now: OffsetDateTime,
    out: impl Write,
    mut progress: impl FnMut(u64, u64),
) -> Result<ExportSummary, ArchiveError> {
    let info = store.get_tenant(tenant).await?;
    let mut ids = Vec::new();
    let mut before = None;
    loop {
        let filter = ConversationFilter {
            before,
            limit: PAGE,
            ..ConversationFilter::default()
        };
        let page = store.list_conversations(tenant, &filter).await?;
        before = page.last().map(|c| c.id);
        let full = page.len() == PAGE as usize;
        ids.extend(page.into_iter().map(|c| c.id));
        if !full {
            break;
        }
    }
    // Oldest first, as a reader expects.
    ids.reverse();
    let total = ids.len() as u64;

    let mut w = Hashing {
        sink: out,
        hash: Sha256::new(),
    };
    w.line(&Header {
        format: FORMAT.into(),
        tenant: tenant.to_string(),
        tenant_name: info.name.to_string(),
        exported_at: now,
        root_keys: store
            .root_keys(tenant)
            .await?
            .iter()
            .map(|k| STANDARD.encode(k))
            .collect(),
        sealing_keys: store
            .sealing_keys(tenant)
            .await?
            .into_iter()
            .map(|k| KeyRecord {
                scope: match k.scope {
                    KeyScope::Team(team) => team.to_string(),
                    KeyScope::Archive => "archive".into(),
                },
                version: k.version,
                announcement: STANDARD.encode(&k.announcement),
            })
            .collect(),
    })?;
    let mut summary = ExportSummary {
        conversations: 0,
        entries: 0,
    };
    for id in ids {
        // Erased since the listing (retention runs concurrently): skip it. Any other
        // failure stops the export: an archive must not silently miss a conversation.
        let conversation = match store.get_conversation(tenant, id).await {
            Ok(c) => c,
            Err(sealdesk_store::StoreError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        let history = store.conversation_history_member(tenant, id).await?;
        let generations = match store.conversation_history_members(tenant, id).await {
            Ok(g) => g,
            Err(sealdesk_store::StoreError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        let entries = entries_of(store, tenant, id).await?;
        let notes = notes_of(store, tenant, id).await?;
        summary.entries += entries.len() as u64;
        w.line(&ConversationRecord {
            id: id.to_string(),
            team: conversation.team_id.to_string(),
            state: conversation.state.as_str().into(),
            created_at: conversation.created_at,
            history_member: history.map(|h| HistoryRecord {
                generation: None,
                state: None,
                key_package: STANDARD.encode(&h.key_package),
                sealed_bundle: STANDARD.encode(&h.sealed_bundle),
            }),
            history_members: generations
                .iter()
                .map(|g| HistoryRecord {
                    generation: Some(g.generation),
                    state: Some(g.state.as_str().into()),
                    key_package: STANDARD.encode(&g.package.key_package),
                    sealed_bundle: STANDARD.encode(&g.package.sealed_bundle),
                })
                .collect(),
            entries,
            notes,
        })?;
        summary.conversations += 1;
        progress(summary.conversations, total);
    }
    let sha256 = hex::encode(w.hash.clone().finalize());
    w.line(&Trailer {
        end: true,
        conversations: summary.conversations,
        entries: summary.entries,
        sha256,
    })?;
    w.sink.flush()?;
    Ok(summary)
}
