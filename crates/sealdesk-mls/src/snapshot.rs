//! Saving and restoring a client: a versioned JSON document with the key store records, the
//! signature key pair, the identity and the group id. The caller encrypts it at rest (the
//! terminal agent's profile directory; E2EE.md §8).

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use openmls::prelude::GroupId;
use serde::{Deserialize, Serialize};

use crate::signer::DeviceSigner;
use crate::{Client, CredentialCheck, MlsError, Provider};

const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Snapshot {
    version: u32,
    identity: String,
    signer: String,
    group_id: Option<String>,
    records: Vec<(String, String)>,
}

pub(crate) fn save(client: &Client) -> Result<Vec<u8>, MlsError> {
    let (provider, signer, identity, group_id) = client.parts();
    let records = provider
        .records()?
        .into_iter()
        .map(|(k, v)| (STANDARD.encode(k), STANDARD.encode(v)))
        .collect();
    let snapshot = Snapshot {
        version: VERSION,
        identity: STANDARD.encode(identity),
        signer: STANDARD.encode(signer.seed()),
        group_id: group_id.map(|id| STANDARD.encode(id.as_slice())),
        records,
    };
    serde_json::to_vec(&snapshot).map_err(|e| MlsError::State(e.to_string()))
}

pub(crate) fn restore(bytes: &[u8], check: Arc<dyn CredentialCheck>) -> Result<Client, MlsError> {
    let snapshot: Snapshot =
        serde_json::from_slice(bytes).map_err(|e| MlsError::State(e.to_string()))?;
    if snapshot.version != VERSION {
        return Err(MlsError::State(format!(
            "unknown state version {}",
            snapshot.version
        )));
    }
    let decode = |s: &str| {
        STANDARD
            .decode(s)
            .map_err(|e| MlsError::State(e.to_string()))
    };
    let mut records = Vec::with_capacity(snapshot.records.len());
    for (k, v) in &snapshot.records {
        records.push((decode(k)?, decode(v)?));
    }
    let group_id = snapshot
        .group_id
        .as_deref()
        .map(decode)
        .transpose()?
        .map(|v: Vec<u8>| GroupId::from_slice(&v));
    Client::from_parts(
        Provider::from_records(records),
        DeviceSigner::from_seed(&zeroize::Zeroizing::new(decode(&snapshot.signer)?))?,
        decode(&snapshot.identity)?,
        group_id,
        check,
    )
}
