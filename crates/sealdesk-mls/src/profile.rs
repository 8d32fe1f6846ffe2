//! The MLS profile every Sealdesk client and the server share (`shared/design/E2EE.md` §2).
//! ts-mls uses the same values in `web/shared/mls/adapter.ts`; change both together, and the
//! interop suite (`web/interop`) proves they still agree.

use std::time::Duration;

use openmls::prelude::{
    Ciphersuite, MIXED_PLAINTEXT_WIRE_FORMAT_POLICY, MlsGroupCreateConfig, MlsGroupJoinConfig,
    SenderRatchetConfiguration,
};

/// `MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519` (RFC 9420 §17.1, code point 0x0001).
pub const CIPHERSUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

/// Plaintexts are padded to a multiple of this many bytes, so the server sees size buckets,
/// not lengths (RFC 9420 §6.3.1, §16.4 on padding). ts-mls pads to 256 by default.
pub const PADDING_BYTES: usize = 256;

/// Epochs whose keys are kept for late application messages; the server accepts application
/// messages for the current epoch and the three before it (E2EE.md §9.4). ts-mls keeps 4.
pub const MAX_PAST_EPOCHS: usize = 4;

/// Lifetime of an agent or visitor device key package (E2EE.md §2: 30 days).
pub const DEVICE_KEY_PACKAGE_LIFETIME: Duration = Duration::from_hours(30 * 24);

/// Lifetime of a History Member key package (E2EE.md §2: 90 days; the widget's adapter uses
/// the same). openmls 0.9.2 defines an 84-day "acceptable range" for leaf lifetimes but does
/// not enforce it, and ts-mls 1.6.4 ignores its `maximumTotalLifetime`; the server's key-package
/// directory is where the maximum is enforced. Conversations older than this rotate into a
/// new group (E2EE.md §5.6).
pub const HISTORY_KEY_PACKAGE_LIFETIME: Duration = Duration::from_hours(90 * 24);

/// Out-of-order tolerance inside one epoch's sender ratchet (generations kept / skipped).
const OUT_OF_ORDER_TOLERANCE: u32 = 32;
const MAXIMUM_FORWARD_DISTANCE: u32 = 1000;

fn sender_ratchet() -> SenderRatchetConfiguration {
    SenderRatchetConfiguration::new(OUT_OF_ORDER_TOLERANCE, MAXIMUM_FORWARD_DISTANCE)
}

/// Configuration for a group we create.
pub fn create_config() -> MlsGroupCreateConfig {
    MlsGroupCreateConfig::builder()
        .ciphersuite(CIPHERSUITE)
        // Outgoing handshake messages as PublicMessage so the delivery service can run
        // `PublicGroup` validation; openmls still encrypts application messages, and we
        // refuse encrypted commits on receipt (see `Client::process`).
        .wire_format_policy(MIXED_PLAINTEXT_WIRE_FORMAT_POLICY)
        .padding_size(PADDING_BYTES)
        .max_past_epochs(MAX_PAST_EPOCHS)
        .sender_ratchet_configuration(sender_ratchet())
        .use_ratchet_tree_extension(true)
        .build()
}

/// Configuration for a group we join from a Welcome.
pub fn join_config() -> MlsGroupJoinConfig {
    MlsGroupJoinConfig::builder()
        .wire_format_policy(MIXED_PLAINTEXT_WIRE_FORMAT_POLICY)
        .padding_size(PADDING_BYTES)
        .max_past_epochs(MAX_PAST_EPOCHS)
        .sender_ratchet_configuration(sender_ratchet())
        .use_ratchet_tree_extension(true)
        .build()
}
