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
///
/// Some input shapes are stepped around, not fed, because `pgwire` 0.41.1 panics on them (this
/// target found them): a password message (`p`) whose length field is below 4 (`length - 4`
/// unchecked), and a `Parse` (`P`), `Bind` (`B`), `Execute` (`E`), `Describe` (`D`) or `Close`
/// (`C`) whose strings, counts or lengths run past the message (`split_to` / `get_i16` out of
/// bounds). In the server such a panic ends only that
/// connection's task: other connections and listeners go on (`tests/security_postgres.rs`
/// sends each shape and checks it). [`known_panic`] recognises exactly these shapes, so that
/// every other malformation of these messages is still fed, and the finding is to be reported
/// upstream.
pub fn pg_frontend(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else { return };
    let mut ctx = DecodeContext::new(ProtocolVersion::PROTOCOL3_0);
    let startup = selector & 1 == 1;
    ctx.awaiting_frontend_ssl = startup;
    ctx.awaiting_frontend_startup = startup;
    let mut buf = BytesMut::from(body);
    for _ in 0..MAX_MESSAGES {
        if known_panic(&buf, &ctx) {
            return;
        }
        let before = buf.len();
        let Ok(Some(message)) = PgWireFrontendMessage::decode(&mut buf, &ctx) else { return };
        if ctx.awaiting_frontend_ssl {
            // Not an SSLRequest: the codec reads the same bytes again as a startup message.
            ctx.awaiting_frontend_ssl = false;
            continue;
        }
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

/// Whether `buf` starts with one of the shapes `pgwire` 0.41.1 panics on (see [`pg_frontend`]).
pub fn known_panic(buf: &[u8], ctx: &DecodeContext) -> bool {
    if ctx.awaiting_frontend_ssl || ctx.awaiting_frontend_startup {
        return false;
    }
    let [ty, a, b, c, d, rest @ ..] = buf else { return false };
    let len = i32::from_be_bytes([*a, *b, *c, *d]);
    let Ok(body_len) = usize::try_from(len).map(|l| l.saturating_sub(4)) else { return false };
    match ty {
        b'p' => len < 4,
        // Incomplete messages wait for more bytes; only a complete one is decoded.
        b'P' | b'B' | b'E' | b'D' | b'C' if rest.len() < body_len => false,
        b'P' | b'B' | b'E' | b'D' | b'C' if len < 4 => true,
        b'P' => !parse_fits(&rest[..body_len]),
        b'B' => !bind_fits(&rest[..body_len]),
        b'E' => !fits(&rest[..body_len], |r| {
            r.cstring()?;
            r.i32().map(drop)
        }),
        b'D' | b'C' => !fits(&rest[..body_len], |r| {
            r.take(1)?;
            r.cstring()
        }),
        _ => false,
    }
}

/// A reader of a message body that fails instead of running past its end.
struct Body<'a>(&'a [u8]);

impl Body<'_> {
    fn cstring(&mut self) -> Option<()> {
        let end = self.0.iter().position(|b| *b == 0)?;
        self.0 = self.0.get(end + 1..)?;
        Some(())
    }

    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let (head, tail) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = tail;
        Some(head)
    }

    fn i16(&mut self) -> Option<i16> {
        self.take(2).map(|b| i16::from_be_bytes([b[0], b[1]]))
    }

    fn i32(&mut self) -> Option<i32> {
        self.take(4).map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Whether `read` gets through `body` without running past it.
fn fits(body: &[u8], read: impl FnOnce(&mut Body<'_>) -> Option<()>) -> bool {
    read(&mut Body(body)).is_some()
}

/// `Parse`: name, query, a count of type OIDs and the OIDs, all within the body.
fn parse_fits(body: &[u8]) -> bool {
    let mut r = Body(body);
    (|| {
        r.cstring()?;
        r.cstring()?;
        let n = usize::try_from(r.i16()?).ok()?;
        r.take(n.checked_mul(4)?)?;
        Some(())
    })()
    .is_some()
}

/// `Bind`: portal, statement, format codes, parameters (length-prefixed, -1 for NULL), result
/// format codes, all within the body.
fn bind_fits(body: &[u8]) -> bool {
    let mut r = Body(body);
    (|| {
        r.cstring()?;
        r.cstring()?;
        let formats = usize::try_from(r.i16()?).ok()?;
        r.take(formats.checked_mul(2)?)?;
        let params = usize::try_from(r.i16()?).ok()?;
        for _ in 0..params {
            let len = r.i32()?;
            if len >= 0 {
                r.take(usize::try_from(len).ok()?)?;
            }
        }
        let results = usize::try_from(r.i16()?).ok()?;
        r.take(results.checked_mul(2)?)?;
        Some(())
    })()
    .is_some()
}
