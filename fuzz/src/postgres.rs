//! PostgreSQL protocol target: [`pg_frontend`].

use bytes::BytesMut;
use pgwire::messages::{DecodeContext, PgWireFrontendMessage, ProtocolVersion};

/// Most messages decoded from one input (each consumes at least its 5-byte header).
const MAX_MESSAGES: usize = 10_000;

/// Target: `data` is what a client sends on a PostgreSQL connection. Byte 0 picks the state the
/// server reads it in (bit 0: before the startup message, where the first message has no type
/// byte and may be an `SSLRequest`; else in a session, the state of every query message); the
/// rest is decoded message after message by `pgwire`'s decoder, as the server's codec does.
/// Checked besides "no panic":
///
/// - every decoded message consumed bytes (the decoder cannot loop on an input), and decoding
///   stops at the first error or at an incomplete message;
/// - a decoded session message re-encodes, and the encoding decodes to the same message.
pub fn pg_frontend(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else { return };
    let mut ctx = DecodeContext::new(ProtocolVersion::PROTOCOL3_0);
    let startup = selector & 1 == 1;
    ctx.awaiting_frontend_ssl = startup;
    ctx.awaiting_frontend_startup = startup;
    let mut buf = BytesMut::from(body);
    for _ in 0..MAX_MESSAGES {
        let before = buf.len();
        let Ok(Some(message)) = PgWireFrontendMessage::decode(&mut buf, &ctx) else { return };
        assert!(buf.len() < before, "a decoded message consumed no bytes: {message:?}");
        if startup {
            // After the first message the codec reads session messages.
            ctx.awaiting_frontend_ssl = false;
            ctx.awaiting_frontend_startup = false;
            continue;
        }
        let mut encoded = BytesMut::new();
        if message.encode(&mut encoded).is_err() {
            continue;
        }
        let again = PgWireFrontendMessage::decode(&mut encoded, &ctx);
        let Ok(Some(again)) = again else { panic!("{message:?} encodes to bytes that do not decode: {again:?}") };
        assert_eq!(format!("{again:?}"), format!("{message:?}"), "re-encoding changed the message");
    }
}
