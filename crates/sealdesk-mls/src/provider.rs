//! The openmls provider: `RustCrypto` primitives and an in-memory key store whose contents we
//! can snapshot, so a client's whole MLS state can be saved and restored.

use std::collections::HashMap;

use openmls_rust_crypto::{MemoryStorage, RustCrypto};
use openmls_traits::OpenMlsProvider;

use crate::MlsError;

/// One key-store record: openmls's key and value bytes.
pub(crate) type Record = (Vec<u8>, Vec<u8>);

/// Crypto, randomness and storage for one MLS client.
#[derive(Debug, Default)]
pub struct Provider {
    crypto: RustCrypto,
    storage: MemoryStorage,
}

impl Provider {
    /// Every stored record (openmls's own keys and values).
    pub(crate) fn records(&self) -> Result<Vec<Record>, MlsError> {
        let values = self
            .storage
            .values
            .read()
            .map_err(|_| MlsError::State("key store lock poisoned".into()))?;
        let mut out: Vec<_> = values.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        out.sort();
        Ok(out)
    }

    /// A provider holding exactly `records`.
    pub(crate) fn from_records(records: Vec<Record>) -> Self {
        let map: HashMap<Vec<u8>, Vec<u8>> = records.into_iter().collect();
        Self {
            crypto: RustCrypto::default(),
            storage: MemoryStorage {
                values: std::sync::RwLock::new(map),
            },
        }
    }
}

impl OpenMlsProvider for Provider {
    type CryptoProvider = RustCrypto;
    type RandProvider = RustCrypto;
    type StorageProvider = MemoryStorage;

    fn storage(&self) -> &Self::StorageProvider {
        &self.storage
    }

    fn crypto(&self) -> &Self::CryptoProvider {
        &self.crypto
    }

    fn rand(&self) -> &Self::RandProvider {
        &self.crypto
    }
}
