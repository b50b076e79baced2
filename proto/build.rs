//! Generates the Rust for `isobar/v1/*.proto` without a system `protoc`.
//!
//! 1. `protox` (a pure-Rust protobuf compiler) parses the files into a `FileDescriptorSet`,
//!    keeping source info so that comments become rustdoc.
//! 2. The build fails if any service, method, message, field, oneof, enum or enum value has no
//!    comment: this API is the product, and its documentation lives in the .proto files.
//! 3. The encoded descriptor set is written to `$OUT_DIR/isobar_v1_descriptor.bin` (for gRPC
//!    server reflection).
//! 4. `tonic-prost-build` generates messages, clients and servers from the descriptor set.

use std::path::{Path, PathBuf};

use prost::Message;
use prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorProto, FileDescriptorSet};

/// The API's files, relative to the crate root (which is also the include path).
const PROTOS: &[&str] = &[
    "isobar/v1/common.proto",
    "isobar/v1/table.proto",
    "isobar/v1/ingest.proto",
    "isobar/v1/query.proto",
    "isobar/v1/access.proto",
    "isobar/v1/admin.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={}", root.join(proto).display());
    }

    let fds = protox::compile(PROTOS.iter().map(|p| root.join(p)), [&root])?;
    let undocumented = undocumented_items(&fds);
    if !undocumented.is_empty() {
        return Err(
            format!("every proto element needs a comment; these have none:\n  {}", undocumented.join("\n  ")).into()
        );
    }

    std::fs::write(out_dir.join("isobar_v1_descriptor.bin"), fds.encode_to_vec())?;

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .build_transport(true)
        .emit_rerun_if_changed(false)
        .compile_fds(fds)?;
    Ok(())
}

/// Names of the elements of `fds` that have neither a leading nor a trailing comment.
fn undocumented_items(fds: &FileDescriptorSet) -> Vec<String> {
    let mut missing = Vec::new();
    for file in &fds.file {
        let documented = documented_paths(file);
        let mut check = |path: &[i32], what: String| {
            if !documented.iter().any(|p| p == path) {
                missing.push(format!("{}: {what}", Path::new(file.name()).display()));
            }
        };
        // Field numbers of FileDescriptorProto, DescriptorProto, etc. as used in source-info paths.
        for (i, msg) in file.message_type.iter().enumerate() {
            check_message(msg, &[4, i as i32], msg.name(), &mut check);
        }
        for (i, en) in file.enum_type.iter().enumerate() {
            check_enum(en, &[5, i as i32], en.name(), &mut check);
        }
        for (i, svc) in file.service.iter().enumerate() {
            check(&[6, i as i32], format!("service {}", svc.name()));
            for (j, method) in svc.method.iter().enumerate() {
                check(&[6, i as i32, 2, j as i32], format!("rpc {}.{}", svc.name(), method.name()));
            }
        }
    }
    missing
}

/// Checks a message, its fields, oneofs, nested messages and nested enums.
fn check_message(msg: &DescriptorProto, path: &[i32], name: &str, check: &mut impl FnMut(&[i32], String)) {
    check(path, format!("message {name}"));
    let sub = |kind: i32, index: usize| {
        let mut p = path.to_vec();
        p.extend([kind, index as i32]);
        p
    };
    for (j, field) in msg.field.iter().enumerate() {
        check(&sub(2, j), format!("field {name}.{}", field.name()));
    }
    for (j, oneof) in msg.oneof_decl.iter().enumerate() {
        // proto3 `optional` fields are synthetic oneofs named `_field`; they need no comment.
        let synthetic = msg.field.iter().any(|f| f.proto3_optional() && f.oneof_index == Some(j as i32));
        if !synthetic {
            check(&sub(8, j), format!("oneof {name}.{}", oneof.name()));
        }
    }
    for (j, nested) in msg.nested_type.iter().enumerate() {
        check_message(nested, &sub(3, j), &format!("{name}.{}", nested.name()), check);
    }
    for (j, en) in msg.enum_type.iter().enumerate() {
        check_enum(en, &sub(4, j), &format!("{name}.{}", en.name()), check);
    }
}

/// Checks an enum and its values.
fn check_enum(en: &EnumDescriptorProto, path: &[i32], name: &str, check: &mut impl FnMut(&[i32], String)) {
    check(path, format!("enum {name}"));
    for (j, value) in en.value.iter().enumerate() {
        let mut p = path.to_vec();
        p.extend([2, j as i32]);
        check(&p, format!("enum value {name}.{}", value.name()));
    }
}

/// Source-info paths of `file` that carry a non-empty comment.
fn documented_paths(file: &FileDescriptorProto) -> Vec<Vec<i32>> {
    let Some(info) = &file.source_code_info else {
        return Vec::new();
    };
    info.location
        .iter()
        .filter(|l| !l.leading_comments().trim().is_empty() || !l.trailing_comments().trim().is_empty())
        .map(|l| l.path.clone())
        .collect()
}
