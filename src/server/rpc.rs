//! Every gRPC method of the Isobar services and the permissions it needs: the one place that
//! decides it. A test checks that every method in `isobar_proto::FILE_DESCRIPTOR_SET` is listed,
//! so a new RPC cannot be served before someone decides who may call it, and another that the
//! table in `docs/security.md` lists every method with exactly these permissions.
//!
//! | permission | methods |
//! |------------|---------|
//! | view       | Scan, Aggregate, Latest, ListTables, DescribeTable, Stats |
//! | add        | Write, WriteStream, ProducerStream; Resume (add on any table); OTLP MetricsService/Export (every table it writes) |
//! | change     | CreateTable, AlterTable |
//! | delete     | Delete |
//! | change + delete | DropTable |
//! | admin      | Flush, Compact, Export, ExportWithProgress; on `*`: CreateSnapshot, ListSnapshots, DeleteSnapshot, VerifySnapshot, ChangeAccess, IssueToken, DescribeAccess, ListAuditEntries, ResumeWrites |
//! | (any identity) | WhoAmI |
//!
//! `Export` needs `admin`, not `view`: it writes files onto the server's disk (under
//! `server.export_dir`, within `server.export_max_bytes`), which viewing does not. `Flush` of a
//! table flushes only that table's memtables (`Db::flush_table`); `Flush` without a table
//! flushes every table and needs `admin` on `*`. `ListTables` and `Stats` without a table
//! answer only with the tables the caller may view; `Stats` is refused to a caller that may
//! view no table at all, and its database-wide counters (WAL and memtable bytes, last
//! sequence) are 0 unless the caller may view `*`. `DropTable` needs `change` and `delete`:
//! it removes the schema and the data (and so a config-file `write` token, = `add` + `delete`,
//! still cannot drop, as before).
//!
//! Adding an RPC: add a variant here (name and permissions; the compiler then points at every
//! `match`), and call [`super::guard::authorize`] in its handler with the table it touches, or
//! with [`crate::auth::ALL_TABLES`] for a database-wide operation such as a snapshot (which then
//! needs the permission on `*`).
//! Health (`grpc.health.v1`) and reflection (`grpc.reflection.*`) need no token.
//!
//! Arrow Flight SQL (`arrow.flight.protocol.FlightService`, [`super::flight`]) is not in this
//! table: one Flight method carries many commands, so each command's handler checks its own
//! permission on the tables it touches (bulk ingest: `write` on its table). Its calls still
//! pass the authentication layer like every other non-open path.

use crate::auth::Permission;

/// The OTLP metrics service, outside `isobar_proto` (its code comes from `opentelemetry-proto`).
pub const OTLP_METRICS: &str = opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::SERVICE_NAME;

/// One Isobar gRPC method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rpc {
    /// `isobar.v1.Ingest/Write`.
    Write,
    /// `isobar.v1.Ingest/WriteStream`.
    WriteStream,
    /// `isobar.v1.Ingest/ProducerStream`.
    ProducerStream,
    /// `isobar.v1.Ingest/Resume` (write permission on any table).
    Resume,
    /// `isobar.v1.Query/Scan`.
    Scan,
    /// `isobar.v1.Query/Aggregate`.
    Aggregate,
    /// `isobar.v1.Query/Latest`.
    Latest,
    /// `isobar.v1.Admin/CreateTable`.
    CreateTable,
    /// `isobar.v1.Admin/AlterTable`.
    AlterTable,
    /// `isobar.v1.Admin/DropTable`.
    DropTable,
    /// `isobar.v1.Admin/ListTables`.
    ListTables,
    /// `isobar.v1.Admin/DescribeTable`.
    DescribeTable,
    /// `isobar.v1.Admin/Flush`.
    Flush,
    /// `isobar.v1.Admin/Compact`.
    Compact,
    /// `isobar.v1.Admin/Stats`.
    Stats,
    /// `isobar.v1.Admin/Export`.
    Export,
    /// `isobar.v1.Admin/ExportWithProgress`.
    ExportWithProgress,
    /// `isobar.v1.Admin/Delete`.
    Delete,
    /// `isobar.v1.Admin/CreateSnapshot`.
    CreateSnapshot,
    /// `isobar.v1.Admin/ListSnapshots`.
    ListSnapshots,
    /// `isobar.v1.Admin/DeleteSnapshot`.
    DeleteSnapshot,
    /// `isobar.v1.Admin/VerifySnapshot`.
    VerifySnapshot,
    /// `isobar.v1.Admin/ResumeWrites` (on `*`).
    ResumeWrites,
    /// `isobar.v1.Admin/ChangeAccess` (users, groups, grants, token revocation).
    ChangeAccess,
    /// `isobar.v1.Admin/IssueToken`.
    IssueToken,
    /// `isobar.v1.Admin/DescribeAccess`.
    DescribeAccess,
    /// `isobar.v1.Admin/ListAuditEntries`.
    ListAuditEntries,
    /// `isobar.v1.Admin/WhoAmI` (any authenticated caller).
    WhoAmI,
    /// `opentelemetry.proto.collector.metrics.v1.MetricsService/Export` (OTLP metrics, served
    /// only with `[otlp] enabled = true`; write on every table the request writes).
    OtlpExport,
}

impl Rpc {
    /// Every method.
    pub const ALL: &'static [Rpc] = &[
        Rpc::Write,
        Rpc::WriteStream,
        Rpc::ProducerStream,
        Rpc::Resume,
        Rpc::Scan,
        Rpc::Aggregate,
        Rpc::Latest,
        Rpc::CreateTable,
        Rpc::AlterTable,
        Rpc::DropTable,
        Rpc::ListTables,
        Rpc::DescribeTable,
        Rpc::Flush,
        Rpc::Compact,
        Rpc::Stats,
        Rpc::Export,
        Rpc::ExportWithProgress,
        Rpc::Delete,
        Rpc::CreateSnapshot,
        Rpc::ListSnapshots,
        Rpc::DeleteSnapshot,
        Rpc::VerifySnapshot,
        Rpc::ResumeWrites,
        Rpc::ChangeAccess,
        Rpc::IssueToken,
        Rpc::DescribeAccess,
        Rpc::ListAuditEntries,
        Rpc::WhoAmI,
        Rpc::OtlpExport,
    ];

    /// `(service, method)` as in the `.proto` files, e.g. `("isobar.v1.Admin", "CreateTable")`.
    pub fn name(self) -> (&'static str, &'static str) {
        const INGEST: &str = "isobar.v1.Ingest";
        const QUERY: &str = "isobar.v1.Query";
        const ADMIN: &str = "isobar.v1.Admin";
        match self {
            Rpc::Write => (INGEST, "Write"),
            Rpc::WriteStream => (INGEST, "WriteStream"),
            Rpc::ProducerStream => (INGEST, "ProducerStream"),
            Rpc::Resume => (INGEST, "Resume"),
            Rpc::Scan => (QUERY, "Scan"),
            Rpc::Aggregate => (QUERY, "Aggregate"),
            Rpc::Latest => (QUERY, "Latest"),
            Rpc::CreateTable => (ADMIN, "CreateTable"),
            Rpc::AlterTable => (ADMIN, "AlterTable"),
            Rpc::DropTable => (ADMIN, "DropTable"),
            Rpc::ListTables => (ADMIN, "ListTables"),
            Rpc::DescribeTable => (ADMIN, "DescribeTable"),
            Rpc::Flush => (ADMIN, "Flush"),
            Rpc::Compact => (ADMIN, "Compact"),
            Rpc::Stats => (ADMIN, "Stats"),
            Rpc::Export => (ADMIN, "Export"),
            Rpc::ExportWithProgress => (ADMIN, "ExportWithProgress"),
            Rpc::Delete => (ADMIN, "Delete"),
            Rpc::CreateSnapshot => (ADMIN, "CreateSnapshot"),
            Rpc::ListSnapshots => (ADMIN, "ListSnapshots"),
            Rpc::DeleteSnapshot => (ADMIN, "DeleteSnapshot"),
            Rpc::VerifySnapshot => (ADMIN, "VerifySnapshot"),
            Rpc::ResumeWrites => (ADMIN, "ResumeWrites"),
            Rpc::ChangeAccess => (ADMIN, "ChangeAccess"),
            Rpc::IssueToken => (ADMIN, "IssueToken"),
            Rpc::DescribeAccess => (ADMIN, "DescribeAccess"),
            Rpc::ListAuditEntries => (ADMIN, "ListAuditEntries"),
            Rpc::WhoAmI => (ADMIN, "WhoAmI"),
            Rpc::OtlpExport => (OTLP_METRICS, "Export"),
        }
    }

    /// The permissions the method needs, all of them, on the table(s) it touches (none: any
    /// authenticated caller).
    pub fn permissions(self) -> &'static [Permission] {
        match self {
            Rpc::Scan | Rpc::Aggregate | Rpc::Latest | Rpc::ListTables | Rpc::DescribeTable | Rpc::Stats => {
                &[Permission::View]
            }
            Rpc::Write | Rpc::WriteStream | Rpc::ProducerStream | Rpc::Resume | Rpc::OtlpExport => &[Permission::Add],
            Rpc::CreateTable | Rpc::AlterTable => &[Permission::Change],
            Rpc::Delete => &[Permission::Delete],
            Rpc::DropTable => &[Permission::Change, Permission::Delete],
            Rpc::Flush
            | Rpc::Compact
            | Rpc::Export
            | Rpc::ExportWithProgress
            | Rpc::CreateSnapshot
            | Rpc::ListSnapshots
            | Rpc::DeleteSnapshot
            | Rpc::VerifySnapshot
            | Rpc::ResumeWrites
            | Rpc::ChangeAccess
            | Rpc::IssueToken
            | Rpc::DescribeAccess
            | Rpc::ListAuditEntries => &[Permission::Admin],
            Rpc::WhoAmI => &[],
        }
    }

    /// The method an HTTP/2 path such as `/isobar.v1.Admin/CreateTable` calls.
    pub fn from_path(path: &str) -> Option<Rpc> {
        let (service, method) = path.strip_prefix('/')?.split_once('/')?;
        Rpc::ALL.iter().copied().find(|rpc| rpc.name() == (service, method))
    }
}

impl std::fmt::Display for Rpc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (service, method) = self.name();
        write!(f, "{service}/{method}")
    }
}

/// Whether a path belongs to a service open to everyone (health checks, reflection).
pub fn is_open_path(path: &str) -> bool {
    path.starts_with("/grpc.health.v1.Health/") || path.starts_with("/grpc.reflection.")
}

#[cfg(test)]
mod tests {
    use prost::Message;
    use prost_types::FileDescriptorSet;

    use super::*;

    /// Every method the generated services declare.
    fn declared_methods() -> Vec<(String, String)> {
        let set = FileDescriptorSet::decode(isobar_proto::FILE_DESCRIPTOR_SET).expect("descriptor set decodes");
        let mut out = Vec::new();
        for file in set.file {
            let package = file.package().to_owned();
            for service in file.service {
                for method in &service.method {
                    out.push((format!("{package}.{}", service.name()), method.name().to_owned()));
                }
            }
        }
        out
    }

    #[test]
    fn every_declared_rpc_has_a_permission_and_every_listed_rpc_exists() {
        let declared = declared_methods();
        assert!(declared.len() >= 16, "descriptor has the services: {declared:?}");
        for (service, method) in &declared {
            let path = format!("/{service}/{method}");
            let rpc = Rpc::from_path(&path);
            assert!(rpc.is_some(), "{path} has no entry in server::rpc::Rpc: decide which permission it needs");
        }
        for rpc in Rpc::ALL.iter().filter(|r| **r != Rpc::OtlpExport) {
            let (service, method) = rpc.name();
            assert!(declared.iter().any(|(s, m)| s == service && m == method), "{rpc} is not in the protos");
        }
    }

    #[test]
    fn the_otlp_method_is_the_generated_one_and_needs_write() {
        use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::MetricsServiceServer;
        use tonic::server::NamedService;
        type Server = MetricsServiceServer<crate::server::otlp::OtlpService>;
        assert_eq!(Rpc::OtlpExport.name(), (<Server as NamedService>::NAME, "Export"));
        let path = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
        assert_eq!(Rpc::from_path(path), Some(Rpc::OtlpExport));
        assert_eq!(Rpc::OtlpExport.permissions(), &[Permission::Write]);
    }

    #[test]
    fn paths_resolve_and_open_services_are_recognised() {
        assert_eq!(Rpc::from_path("/isobar.v1.Admin/DropTable"), Some(Rpc::DropTable));
        assert_eq!(Rpc::DropTable.permissions(), &[Permission::Change, Permission::Delete]);
        assert_eq!(Rpc::from_path("/isobar.v1.Admin/Nope"), None);
        assert_eq!(Rpc::from_path("isobar.v1.Admin/DropTable"), None);
        assert!(is_open_path("/grpc.health.v1.Health/Check"));
        assert!(is_open_path("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"));
        assert!(!is_open_path("/isobar.v1.Query/Scan"));
    }

    /// The table in docs/security.md ("Which call needs what") names every method, and each
    /// with exactly the permissions [`Rpc::permissions`] gives it.
    #[test]
    fn the_permission_table_in_the_security_doc_is_complete_and_agrees() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/security.md")).expect("doc");
        let section = doc.split("### Which call needs what").nth(1).expect("the section exists");
        let rows: Vec<(String, String)> = section
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .skip(2)
            .filter_map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                Some((cells.get(1)?.trim_matches('`').to_owned(), (*cells.get(2)?).to_owned()))
            })
            .collect();
        for rpc in Rpc::ALL {
            let (service, method) = rpc.name();
            let name = format!("{service}/{method}");
            let row = rows.iter().find(|(n, _)| *n == name);
            let (_, needs) = row.unwrap_or_else(|| panic!("{name} is missing from the table in docs/security.md"));
            let expected = if rpc.permissions().is_empty() {
                "any identity".to_owned()
            } else {
                rpc.permissions().iter().map(|p| p.as_str()).collect::<Vec<_>>().join(" + ")
            };
            assert!(needs.starts_with(&expected), "{name}: the doc says {needs:?}, the code needs {expected:?}");
        }
        assert_eq!(rows.len(), Rpc::ALL.len() + 2, "one row per method plus the two HTTP endpoints: {rows:?}");
    }
}
