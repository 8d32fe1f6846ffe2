//! HDR histograms across process boundaries: workers send theirs as base64 V2+deflate, the
//! coordinator decodes and merges them.

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2DeflateSerializer};

/// base64 of the V2+deflate serialisation.
pub(crate) fn encode(h: &Histogram<u64>) -> anyhow::Result<String> {
    let mut raw = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut raw)
        .map_err(|e| anyhow::anyhow!("cannot serialise a histogram: {e:?}"))?;
    Ok(STANDARD.encode(raw))
}

/// The inverse of [`encode`].
pub(crate) fn decode(text: &str) -> anyhow::Result<Histogram<u64>> {
    let raw = STANDARD.decode(text).context("histogram is not base64")?;
    Deserializer::new()
        .deserialize(&mut raw.as_slice())
        .map_err(|e| anyhow::anyhow!("cannot read a histogram: {e:?}"))
}

/// Adds the encoded histogram `text` into `into`.
pub(crate) fn merge(into: &mut Histogram<u64>, text: &str) -> anyhow::Result<()> {
    let h = decode(text)?;
    into.add(&h)
        .map_err(|e| anyhow::anyhow!("cannot merge histograms: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_histograms_merge() {
        let mut a = crate::stats::histogram().unwrap();
        let mut b = crate::stats::histogram().unwrap();
        for v in 1..=1000u64 {
            a.record(v).unwrap();
            b.record(v * 1000).unwrap();
        }
        let mut total = crate::stats::histogram().unwrap();
        merge(&mut total, &encode(&a).unwrap()).unwrap();
        merge(&mut total, &encode(&b).unwrap()).unwrap();
        assert_eq!(total.len(), 2000);
        assert_eq!(total.max(), b.max());
        assert!(decode("not base64!").is_err());
    }
}
