//! Writes the seeds of every fuzz target to `fuzz/corpus/<target>/` (replacing files of
//! the same name). Run after a format change: `cargo run -p isobar-fuzz --example make_corpus`.

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for (target, name, bytes) in isobar_fuzz::seeds::corpus() {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(&name), &bytes)?;
        println!("{target}/{name}: {} bytes", bytes.len());
    }
    Ok(())
}
