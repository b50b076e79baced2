//! Column encoding target: [`encoding`].

use arrow_array::Array;
use isobar_storage::ColumnType;
use isobar_storage::encoding::{IntKind, decode_array, decode_ints, encode_array, encode_ints};

/// Target: byte 0 picks what to decode (`% 5`: the four column types by tag order, then
/// integers), bytes 1..5 are the row count (`u32` LE, as in an SSTable's page table), the rest is
/// the encoded block. A successful decode must have the requested length and type, and encoding
/// the result and decoding that again must give the same values.
pub fn encoding(data: &[u8]) {
    let [pick, a, b, c, d, bytes @ ..] = data else { return };
    let n = u32::from_le_bytes([*a, *b, *c, *d]) as usize;
    match ColumnType::ALL.get(usize::from(*pick % 5)) {
        Some(ty) => column(bytes, *ty, n),
        None => ints(bytes, n),
    }
}

fn column(bytes: &[u8], ty: ColumnType, n: usize) {
    let Ok(array) = decode_array(bytes, ty, n) else { return };
    assert_eq!(array.len(), n, "{ty:?}: decoded length");
    assert_eq!(*array.data_type(), ty.arrow_type(), "{ty:?}: decoded type");
    let mut again = Vec::new();
    if let Err(e) = encode_array(array.as_ref(), &mut again, 3) {
        panic!("{ty:?}: a decoded column does not encode: {e}");
    }
    match decode_array(&again, ty, n) {
        Ok(back) => assert!(back.as_ref() == array.as_ref(), "{ty:?}: re-encoding changed the values"),
        Err(e) => panic!("{ty:?}: a re-encoded column does not decode: {e}"),
    }
}

fn ints(bytes: &[u8], n: usize) {
    let Ok(values) = decode_ints(bytes, n) else { return };
    assert_eq!(values.len(), n, "ints: decoded length");
    for kind in [IntKind::Timestamp, IntKind::Sequence] {
        let mut again = Vec::new();
        encode_ints(&values, kind, &mut again, 3);
        match decode_ints(&again, n) {
            Ok(back) => assert!(back == values, "ints ({kind:?}): re-encoding changed the values"),
            Err(e) => panic!("ints ({kind:?}): re-encoded integers do not decode: {e}"),
        }
    }
}
