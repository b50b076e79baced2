//! An MQTT 3.1.1 subscriber (the few packets a subscriber needs, over a plain TCP connection).
//!
//! Mapping: the topic, after `strip_prefix` is removed, is `<table>/<series...>`: its first level
//! names the table, the rest (which may contain `/`) is the series key. The payload is a JSON
//! object mapped by the source's [`crate::config::FieldMapping`] (see [`crate::map`]): e.g.
//! topic `sensors/plant/line1/oven` with `strip_prefix = "sensors/"` and payload
//! `{"ts": 1700000000000, "temp": 212.5, "door_open": false}` writes table `plant`, series
//! `line1/oven`, columns `data.temp` (f64) and `data.door_open` (bool) at that millisecond.
//!
//! QoS 1 messages are acknowledged (PUBACK) only once their reading is in the agent's on-disk
//! queue (the batcher sends an [`Ack`] back after the append; a thread of the session writes the
//! PUBACKs as they come). With `qos = 1` the session is persistent (clean session off, under
//! the stable client id `isobar-agent-<producer id>`): the broker keeps what is published while
//! the agent is down or restarting and redelivers every message it has not seen acknowledged,
//! so killing the agent (even with SIGKILL) loses nothing the broker accepted; a message queued
//! but not yet acknowledged when the agent died comes again and is written again, which upserts
//! the same row. With `qos = 0` the session is clean and delivery is at most once.
//! The connection is retried every second (doubling to 30 s) until the agent stops.
//!
//! Packet framing: `type<<4 | flags: u8`, remaining length (varint, 7 bits a byte, at most 4
//! bytes), then the body; strings are `len: u16 BE` + UTF-8.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use std::sync::{Arc, Mutex, mpsc};

use super::{Ack, Chunk, Ctx};
use crate::config::{FieldMapping, SourceConfig};
use crate::map;

/// Keep-alive announced to the broker, seconds.
const KEEP_ALIVE_S: u16 = 30;
/// Largest packet accepted.
const MAX_PACKET: usize = 16 << 20;

fn bad(what: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.into())
}

/// Runs the subscriber until the agent stops.
pub fn run(config: &SourceConfig, ctx: &Ctx, producer_id: &str) -> std::io::Result<()> {
    let SourceConfig::Mqtt { broker, topics, strip_prefix, qos, client_id, mapping, .. } = config else {
        return Ok(());
    };
    let client_id = if client_id.is_empty() { format!("isobar-agent-{producer_id}") } else { client_id.clone() };
    let mut delay = Duration::from_secs(1);
    while !ctx.stopping() {
        match session(broker, topics, *qos, &client_id, strip_prefix, mapping, ctx) {
            Ok(()) => return Ok(()),
            Err(e) => {
                tracing::warn!(source = %ctx.name, %broker, error = %e, "MQTT connection lost; retrying");
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_secs(30));
            }
        }
    }
    Ok(())
}

fn string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn packet(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    let mut len = body.len();
    loop {
        let mut byte = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if len == 0 {
            break;
        }
    }
    out.extend_from_slice(body);
    out
}

/// Reads one packet: its first byte and body. A read time-out before the first byte is
/// `Ok(None)`.
fn read_packet(stream: &mut TcpStream) -> std::io::Result<Option<(u8, Vec<u8>)>> {
    let mut first = [0u8; 1];
    match stream.read(&mut first) {
        Ok(0) => return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "broker closed the connection")),
        Ok(_) => {}
        Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut len = 0usize;
    for i in 0..4 {
        let mut b = [0u8; 1];
        stream.read_exact(&mut b)?;
        len |= ((b[0] & 0x7f) as usize) << (7 * i);
        if b[0] & 0x80 == 0 {
            if len > MAX_PACKET {
                return Err(bad(format!("packet of {len} bytes is over the {MAX_PACKET} byte limit")));
            }
            let mut body = vec![0; len];
            stream.read_exact(&mut body)?;
            return Ok(Some((first[0], body)));
        }
    }
    Err(bad("remaining length longer than 4 bytes"))
}

/// One PUBLISH body: topic, packet id (QoS > 0) and payload.
pub fn parse_publish(flags: u8, body: &[u8]) -> std::io::Result<(String, Option<u16>, &[u8])> {
    let len =
        body.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]]) as usize).ok_or_else(|| bad("PUBLISH without topic"))?;
    let topic = body.get(2..2 + len).ok_or_else(|| bad("PUBLISH topic cut short"))?;
    let topic = String::from_utf8(topic.to_vec()).map_err(|_| bad("PUBLISH topic is not UTF-8"))?;
    let mut pos = 2 + len;
    let qos = (flags >> 1) & 3;
    let id = if qos > 0 {
        let id = body
            .get(pos..pos + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| bad("PUBLISH id missing"))?;
        pos += 2;
        Some(id)
    } else {
        None
    };
    Ok((topic, id, body.get(pos..).unwrap_or_default()))
}

/// `(table, series)` of a topic by the documented rule.
pub fn map_topic<'a>(topic: &'a str, strip_prefix: &str) -> Option<(&'a str, &'a str)> {
    let rest = topic.strip_prefix(strip_prefix)?;
    let (table, series) = rest.split_once('/')?;
    (!table.is_empty() && !series.is_empty()).then_some((table, series))
}

fn session(
    broker: &str,
    topics: &[String],
    qos: u8,
    client_id: &str,
    strip_prefix: &str,
    mapping: &FieldMapping,
    ctx: &Ctx,
) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(broker)?;
    stream.set_nodelay(true)?;
    let mut body = Vec::new();
    string(&mut body, "MQTT");
    // Connect flags: clean session (0x02) only for QoS 0; QoS 1 keeps its session at the broker.
    let flags = if qos == 0 { 0x02 } else { 0x00 };
    body.extend_from_slice(&[4, flags]);
    body.extend_from_slice(&KEEP_ALIVE_S.to_be_bytes());
    string(&mut body, client_id);
    stream.write_all(&packet(0x10, &body))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    match read_packet(&mut stream)? {
        Some((0x20, b)) if b.get(1) == Some(&0) => {}
        Some((0x20, b)) => return Err(bad(format!("broker refused the connection: code {:?}", b.get(1)))),
        other => return Err(bad(format!("expected CONNACK, got {:?}", other.map(|p| p.0)))),
    }
    let mut body = 1u16.to_be_bytes().to_vec();
    for t in topics {
        string(&mut body, t);
        body.push(qos);
    }
    stream.write_all(&packet(0x82, &body))?;
    tracing::info!(source = %ctx.name, %broker, ?topics, "MQTT subscribed");
    stream.set_read_timeout(Some(Duration::from_millis(500)))?;
    // Writes go through one lock: this loop's pings and the PUBACKs of the ack thread.
    let writer = Arc::new(Mutex::new(stream.try_clone()?));
    let (acked, queued) = mpsc::channel::<u64>();
    let pubacks = {
        let writer = Arc::clone(&writer);
        std::thread::Builder::new().name("mqtt-puback".into()).spawn(move || {
            for id in queued {
                let id = u16::try_from(id).unwrap_or_default();
                let sent = writer.lock().map(|mut w| w.write_all(&packet(0x40, &id.to_be_bytes())));
                if !matches!(sent, Ok(Ok(()))) {
                    return;
                }
            }
        })?
    };
    let result = receive(&mut stream, &writer, &acked, strip_prefix, mapping, ctx);
    drop(acked);
    // The ack thread ends when every ack is fired or dropped, or its write fails.
    let _ = stream.shutdown(std::net::Shutdown::Both);
    let _ = pubacks.join();
    result
}

/// Reads PUBLISH packets until the agent stops; each QoS 1 message's ack goes with its chunk.
fn receive(
    stream: &mut TcpStream,
    writer: &Mutex<TcpStream>,
    acked: &mpsc::Sender<u64>,
    strip_prefix: &str,
    mapping: &FieldMapping,
    ctx: &Ctx,
) -> std::io::Result<()> {
    let mut last_ping = Instant::now();
    while !ctx.stopping() {
        if last_ping.elapsed() > Duration::from_secs(u64::from(KEEP_ALIVE_S) / 2) {
            writer.lock().map_err(|_| bad("the MQTT writer lock is poisoned"))?.write_all(&[0xC0, 0])?;
            last_ping = Instant::now();
        }
        let Some((first, body)) = read_packet(stream)? else { continue };
        match first >> 4 {
            3 => {
                let (topic, id, payload) = parse_publish(first & 0x0f, &body)?;
                let row = match map_topic(&topic, strip_prefix) {
                    None => Err(format!("topic {topic:?} is not {strip_prefix}<table>/<series>")),
                    Some((table, series)) => match serde_json::from_slice::<serde_json::Value>(payload) {
                        Ok(serde_json::Value::Object(o)) => {
                            map::json_row(&o, table, series, "", mapping).map_err(|e| e.to_string())
                        }
                        Ok(_) => Err("payload is not a JSON object".to_string()),
                        Err(e) => Err(e.to_string()),
                    },
                };
                let ack = id.map(|id| Ack::new(acked.clone(), u64::from(id)));
                match row {
                    Ok(row) => {
                        if !ctx.send(Chunk { rows: vec![row], ack, ..Chunk::default() }) {
                            return Ok(());
                        }
                    }
                    Err(e) => {
                        // A reading that can never be mapped is acknowledged, or the broker
                        // would redeliver it forever; it is counted and logged.
                        ctx.bad(&format_args!("topic {topic}: {e}"));
                        ack.into_iter().for_each(Ack::fire);
                    }
                }
            }
            9 if body.get(2) == Some(&0x80) => return Err(bad("broker refused the subscription")),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_map_to_table_and_series() {
        assert_eq!(map_topic("sensors/plant/line1/oven", "sensors/"), Some(("plant", "line1/oven")));
        assert_eq!(map_topic("plant/s1", ""), Some(("plant", "s1")));
        assert_eq!(map_topic("plant", ""), None);
        assert_eq!(map_topic("other/plant/s1", "sensors/"), None);
    }

    #[test]
    fn publish_bodies_parse_without_panics() {
        let mut body = Vec::new();
        string(&mut body, "a/b");
        body.extend_from_slice(&7u16.to_be_bytes());
        body.extend_from_slice(b"{}");
        let (topic, id, payload) = parse_publish(0x02, &body).expect("parses");
        assert_eq!((topic.as_str(), id, payload), ("a/b", Some(7), b"{}".as_slice()));
        for cut in 0..5 {
            assert!(parse_publish(0x02, &body[..cut]).is_err());
        }
        assert_eq!(packet(0x30, &[0; 200])[..3], [0x30, 0xC8, 0x01]);
    }
}
