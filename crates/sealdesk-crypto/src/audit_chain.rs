//! The audit log's hash chain: each entry's hash covers a canonical encoding of the entry and
//! the previous entry's hash, so editing, inserting or deleting any entry changes every later
//! hash (a linked timestamping chain, as in RFC 3161 §4 / Haber–Stornetta; OWASP ASVS
//! v5.0.0-16.4.2 "logs protected from modification").
//!
//! Canonical encoding (all integers big-endian, strings UTF-8 with a u32 length prefix):
//! `"sealdesk-audit-v1" ‖ prev_hash[32] ‖ seq:i64 ‖ at_unix_ms:i64 ‖ tenant ‖ actor ‖ action ‖
//! target ‖ ip ‖ n_details:u32 ‖ (key ‖ value)*` with details in key order; absent optional
//! fields encode as a single 0xFF byte, so `None` and `Some("")` differ.

use sealdesk_core::audit::{AuditEvent, AuditRecord};
use sealdesk_core::clock::to_unix_ms;
use sha2::{Digest as _, Sha256};

/// The previous hash of the first entry.
pub const GENESIS: [u8; 32] = [0; 32];

fn put_str(buf: &mut Vec<u8>, s: &str) {
    buf.extend_from_slice(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_be_bytes());
    buf.extend_from_slice(s.as_bytes());
}

fn put_opt(buf: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => put_str(buf, s),
        None => buf.push(0xFF),
    }
}

/// The hash of entry `seq` holding `event`, chained to `prev_hash`.
pub fn entry_hash(prev_hash: &[u8; 32], seq: i64, event: &AuditEvent) -> [u8; 32] {
    let mut buf = Vec::with_capacity(256);
    buf.extend_from_slice(b"sealdesk-audit-v1");
    buf.extend_from_slice(prev_hash);
    buf.extend_from_slice(&seq.to_be_bytes());
    buf.extend_from_slice(&to_unix_ms(event.at).to_be_bytes());
    put_opt(&mut buf, event.tenant.map(|t| t.to_string()).as_deref());
    put_str(&mut buf, &event.actor.encode());
    put_str(&mut buf, &event.action.as_str());
    put_opt(&mut buf, event.target.as_deref());
    put_opt(&mut buf, event.ip.as_deref());
    buf.extend_from_slice(
        &u32::try_from(event.details.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    for (k, v) in &event.details {
        put_str(&mut buf, k);
        put_str(&mut buf, v);
    }
    Sha256::digest(&buf).into()
}

/// The outcome of checking a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Whether every entry checked out.
    pub ok: bool,
    /// Entries examined.
    pub entries: u64,
    /// The last entry's sequence number and hash (anchor these elsewhere to also detect
    /// truncation of the newest entries).
    pub head: Option<(i64, String)>,
    /// The first entry found broken, and why.
    pub first_error: Option<(i64, String)>,
}

/// Checks records given in sequence order, continuing from `prev` (the previous entry's
/// sequence number and hash, or `(0, GENESIS)` at the start). Call repeatedly over pages
/// with [`ChainCursor`].
#[derive(Debug, Clone)]
pub struct ChainCursor {
    prev_seq: i64,
    prev_hash: [u8; 32],
    report: ChainReport,
}

impl Default for ChainCursor {
    fn default() -> Self {
        Self {
            prev_seq: 0,
            prev_hash: GENESIS,
            report: ChainReport {
                ok: true,
                entries: 0,
                head: None,
                first_error: None,
            },
        }
    }
}

impl ChainCursor {
    /// Feeds the next record.
    pub fn feed(&mut self, record: &AuditRecord) {
        self.report.entries += 1;
        let fail = |report: &mut ChainReport, why: String| {
            if report.ok {
                report.ok = false;
                report.first_error = Some((record.seq, why));
            }
        };
        if record.seq != self.prev_seq + 1 {
            fail(
                &mut self.report,
                format!(
                    "expected entry {}, found {} (entries deleted or inserted)",
                    self.prev_seq + 1,
                    record.seq
                ),
            );
        }
        if record.prev_hash != hex::encode(self.prev_hash) {
            fail(
                &mut self.report,
                "previous-hash link does not match the previous entry".into(),
            );
        }
        let computed = entry_hash(&self.prev_hash, record.seq, &record.event);
        if record.hash != hex::encode(computed) {
            fail(
                &mut self.report,
                "entry content does not match its hash (edited)".into(),
            );
        }
        // Continue from what the entry claims, so one edit is reported once, not cascaded.
        self.prev_seq = record.seq;
        self.prev_hash = hex::decode(&record.hash)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .unwrap_or(computed);
        self.report.head = Some((record.seq, record.hash.clone()));
    }

    /// The report so far.
    pub fn finish(self) -> ChainReport {
        self.report
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use sealdesk_core::audit::{Actor, AuditAction};
    use time::macros::datetime;

    use super::*;

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS;
        (1..=n)
            .map(|seq| {
                let event = AuditEvent {
                    at: datetime!(2026-01-01 0:00 UTC) + time::Duration::seconds(seq),
                    tenant: None,
                    actor: Actor::Operator,
                    action: AuditAction::LoginFailed,
                    target: Some(format!("staff:{seq}")),
                    details: BTreeMap::from([("reason".into(), "bad_password".into())]),
                    ip: None,
                };
                let hash = entry_hash(&prev, seq, &event);
                let record = AuditRecord {
                    seq,
                    event,
                    prev_hash: hex::encode(prev),
                    hash: hex::encode(hash),
                };
                prev = hash;
                record
            })
            .collect()
    }

    fn verify(records: &[AuditRecord]) -> ChainReport {
        let mut cursor = ChainCursor::default();
        for record in records {
            cursor.feed(record);
        }
        cursor.finish()
    }

    #[test]
    fn intact_chain_verifies() {
        let report = verify(&chain(5));
        assert!(report.ok, "{report:?}");
        assert_eq!(report.entries, 5);
        assert_eq!(report.head.unwrap().0, 5);
    }

    #[test]
    fn an_edit_is_found_at_its_entry() {
        let mut records = chain(5);
        records[2]
            .event
            .details
            .insert("reason".into(), "ok".into());
        let report = verify(&records);
        assert!(!report.ok);
        assert_eq!(report.first_error.unwrap().0, 3);
    }

    #[test]
    fn a_deletion_is_found() {
        let mut records = chain(5);
        records.remove(1);
        let report = verify(&records);
        assert_eq!(report.first_error.unwrap().0, 3);
    }

    #[test]
    fn a_rehashed_edit_still_breaks_the_next_link() {
        let mut records = chain(4);
        records[1].event.target = Some("staff:other".into());
        let prev: [u8; 32] = hex::decode(&records[0].hash).unwrap().try_into().unwrap();
        records[1].hash = hex::encode(entry_hash(&prev, 2, &records[1].event));
        let report = verify(&records);
        assert_eq!(
            report.first_error.unwrap().0,
            3,
            "entry 3's link to entry 2 must break"
        );
    }

    #[test]
    fn none_and_empty_differ() {
        let mut a = chain(1).remove(0).event;
        a.target = None;
        let mut b = a.clone();
        b.target = Some(String::new());
        assert_ne!(entry_hash(&GENESIS, 1, &a), entry_hash(&GENESIS, 1, &b));
    }
}
