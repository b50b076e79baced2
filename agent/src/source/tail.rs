//! Tailing CSV and JSON-lines files. Only complete lines (ending in `\n`) are read; the byte
//! offset after the last line of a chunk travels with it into the queue record, so a restarted
//! agent continues at exactly the next line. The file is identified by its inode: when the path
//! names a new file (rotation) the old one is read to its end first, then the new one from its
//! start; when the file shrank below the offset (truncation) it is read again from its start.
//! A CSV file's first line is its header, read again from the file's start after a restart.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use super::{Chunk, Ctx};
use crate::config::{FieldMapping, SourceConfig};
use crate::map;
use crate::queue::Checkpoint;

/// Lines per chunk at most.
const CHUNK_LINES: usize = 5000;

enum Format {
    Csv { header: Option<Vec<String>> },
    Jsonl,
}

struct Tail<'a> {
    table: &'a str,
    series: &'a str,
    series_field: &'a str,
    mapping: &'a FieldMapping,
    format: Format,
}

/// Runs the tailer until the agent stops.
pub fn run(config: &SourceConfig, ctx: &Ctx) -> std::io::Result<()> {
    let (spec, format) = match config {
        SourceConfig::Csv(spec) => (spec, Format::Csv { header: None }),
        SourceConfig::Jsonl(spec) => (spec, Format::Jsonl),
        _ => return Ok(()),
    };
    let path = &spec.path;
    let mut tail = Tail {
        table: &spec.table,
        series: &spec.series,
        series_field: &spec.series_field,
        mapping: &spec.mapping,
        format,
    };
    let poll = Duration::from_millis(spec.poll_ms.max(1));
    let (mut file_id, mut offset) = ctx.queue.checkpoint(&ctx.name).unwrap_or((0, 0));
    tracing::info!(source = %ctx.name, path = %path.display(), offset, "tailing");
    let mut open: Option<File> = None;
    while !ctx.stopping() {
        if open.is_none() {
            match File::open(path) {
                Ok(f) => {
                    let meta = f.metadata()?;
                    if meta.ino() != file_id || meta.len() < offset {
                        if file_id != 0 {
                            tracing::info!(source = %ctx.name, "file replaced or truncated: reading it from its start");
                        }
                        file_id = meta.ino();
                        offset = 0;
                    }
                    if let Format::Csv { header } = &mut tail.format {
                        *header = read_header(path)?;
                    }
                    open = Some(f);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    std::thread::sleep(poll);
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        let Some(file) = open.as_mut() else { continue };
        if file.metadata()?.len() < offset {
            tracing::info!(source = %ctx.name, "file truncated: reading it from its start");
            offset = 0;
        }
        let (rows, new_offset) = tail.read_lines(file, offset, ctx)?;
        if new_offset > offset {
            offset = new_offset;
            let checkpoint = Some(Checkpoint { source: ctx.name.clone(), file_id, offset });
            if !rows.is_empty() && !ctx.send(Chunk { rows, batches: Vec::new(), checkpoint, ack: None }) {
                return Ok(());
            }
            continue;
        }
        // At the end: has the path moved on to a new file?
        let rotated = std::fs::metadata(path).is_ok_and(|m| m.ino() != file_id);
        if rotated {
            open = None;
            continue;
        }
        std::thread::sleep(poll);
    }
    Ok(())
}

fn read_header(path: &Path) -> std::io::Result<Option<Vec<String>>> {
    let mut line = String::new();
    BufReader::new(File::open(path)?).read_line(&mut line)?;
    if !line.ends_with('\n') {
        return Ok(None);
    }
    Ok(Some(line.trim_end().split(',').map(|s| s.trim().to_string()).collect()))
}

impl Tail<'_> {
    /// Reads up to [`CHUNK_LINES`] complete lines from `offset`; returns their rows and the
    /// offset after the last complete line.
    fn read_lines(
        &mut self,
        file: &mut File,
        offset: u64,
        ctx: &Ctx,
    ) -> std::io::Result<(Vec<isobar_proto::v1::Row>, u64)> {
        file.seek(SeekFrom::Start(offset))?;
        let mut reader = BufReader::new(file.take(64 << 20));
        let (mut rows, mut pos, mut line) = (Vec::new(), offset, Vec::new());
        for _ in 0..CHUNK_LINES {
            line.clear();
            let n = reader.read_until(b'\n', &mut line)?;
            if n == 0 || line.last() != Some(&b'\n') {
                break;
            }
            let at = pos;
            pos += n as u64;
            let text = String::from_utf8_lossy(&line);
            let text = text.trim_end();
            if text.is_empty() {
                continue;
            }
            match &self.format {
                Format::Csv { header } => {
                    // Offset 0 is the header line itself.
                    let Some(header) = header else { break };
                    if at == 0 {
                        continue;
                    }
                    let fields: Vec<&str> = text.split(',').collect();
                    match map::csv_row(header, &fields, self.table, self.series, self.series_field, self.mapping) {
                        Ok(row) => rows.push(row),
                        Err(e) => ctx.bad(&format_args!("line at byte {at}: {e}")),
                    }
                }
                Format::Jsonl => match serde_json::from_str::<serde_json::Value>(text) {
                    Ok(serde_json::Value::Object(obj)) => {
                        match map::json_row(&obj, self.table, self.series, self.series_field, self.mapping) {
                            Ok(row) => rows.push(row),
                            Err(e) => ctx.bad(&format_args!("line at byte {at}: {e}")),
                        }
                    }
                    Ok(_) => ctx.bad(&format_args!("line at byte {at}: not a JSON object")),
                    Err(e) => ctx.bad(&format_args!("line at byte {at}: {e}")),
                },
            }
        }
        Ok((rows, pos))
    }
}
