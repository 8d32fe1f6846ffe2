//! The length-prefixed vectors of our sealed formats: MLS's variable-length integer
//! (RFC 9420 §2.1.2), of which we write only the minimal 1- and 2-byte forms (objects under
//! 16 KiB) and read nothing else, so every object has exactly one encoding.

use crate::MlsError;

pub(crate) fn put_vec(out: &mut Vec<u8>, bytes: &[u8]) -> Result<(), MlsError> {
    let len = bytes.len();
    if len < 64 {
        out.push(u8::try_from(len).map_err(|_| MlsError::Library("length".into()))?);
    } else if len < 16_384 {
        out.extend_from_slice(
            &(0x4000 | u16::try_from(len).map_err(|_| MlsError::Library("length".into()))?)
                .to_be_bytes(),
        );
    } else {
        return Err(MlsError::Rejected("sealed objects are under 16 KiB".into()));
    }
    out.extend_from_slice(bytes);
    Ok(())
}

pub(crate) fn take_vec<'a>(bytes: &mut &'a [u8]) -> Result<&'a [u8], MlsError> {
    let bad = || MlsError::Malformed("sealed object".into());
    let first = *bytes.first().ok_or_else(bad)?;
    let (len, skip) = match first >> 6 {
        0 => (usize::from(first & 0x3f), 1),
        1 => {
            let second = *bytes.get(1).ok_or_else(bad)?;
            let len = usize::from(u16::from_be_bytes([first & 0x3f, second]));
            if len < 64 {
                return Err(bad());
            }
            (len, 2)
        }
        _ => return Err(bad()),
    };
    let rest = bytes.get(skip..).ok_or_else(bad)?;
    if rest.len() < len {
        return Err(bad());
    }
    let (head, tail) = rest.split_at(len);
    *bytes = tail;
    Ok(head)
}

/// Takes `n` bytes.
pub(crate) fn take<'a>(bytes: &mut &'a [u8], n: usize, what: &str) -> Result<&'a [u8], MlsError> {
    if bytes.len() < n {
        return Err(MlsError::Malformed(format!("{what}: truncated")));
    }
    let (head, tail) = bytes.split_at(n);
    *bytes = tail;
    Ok(head)
}

/// Takes a fixed-size array.
pub(crate) fn array<const N: usize>(bytes: &mut &[u8], what: &str) -> Result<[u8; N], MlsError> {
    take(bytes, N, what)?
        .try_into()
        .map_err(|_| MlsError::Malformed(format!("{what}: truncated")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_have_one_encoding() {
        for len in [0_usize, 1, 63, 64, 300, 16_383] {
            let data = vec![7_u8; len];
            let mut out = Vec::new();
            put_vec(&mut out, &data).unwrap();
            assert_eq!(out.len(), len + if len < 64 { 1 } else { 2 });
            let mut rest = out.as_slice();
            assert_eq!(take_vec(&mut rest).unwrap(), data.as_slice());
            assert!(rest.is_empty());
        }
        assert!(put_vec(&mut Vec::new(), &vec![0; 16_384]).is_err());
        // A 2-byte length under 64 is not minimal; 4- and 8-byte forms are not ours.
        assert!(take_vec(&mut [0x40, 0x05, 1, 2, 3, 4, 5].as_slice()).is_err());
        assert!(take_vec(&mut [0x80, 0, 0, 1, 9].as_slice()).is_err());
        assert!(take_vec(&mut [0x05, 1, 2].as_slice()).is_err());
    }
}
