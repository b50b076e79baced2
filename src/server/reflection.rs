//! gRPC server reflection, served as `grpc.reflection.v1` and as `grpc.reflection.v1alpha`
//! (Python's `grpcio-reflection`, older `grpcurl` and many IDE plugins speak only `v1alpha`).
//!
//! Both list the same services: the Isobar services, health, reflection itself, and Arrow
//! Flight SQL's `arrow.flight.protocol.FlightService`. The Isobar and health services come with
//! their file descriptors; the Flight service is listed by name only, because the `arrow-flight`
//! crate ships no descriptor set (Flight clients use the Arrow project's `Flight.proto`), so
//! asking reflection for its file answers `NOT_FOUND`.

use prost::Message;
use prost_types::FileDescriptorSet;
use tonic_reflection::server::Builder;

/// The service name of Arrow Flight (and so Flight SQL).
pub const FLIGHT_SERVICE: &str = "arrow.flight.protocol.FlightService";

/// The reflection services' names (besides the descriptors' own services).
const REFLECTION: [&str; 2] = ["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"];

/// Every service the gRPC port lists, sorted.
pub fn service_names() -> Vec<String> {
    let mut names: Vec<String> = [isobar_proto::FILE_DESCRIPTOR_SET, tonic_health::pb::FILE_DESCRIPTOR_SET]
        .into_iter()
        .filter_map(|bytes| FileDescriptorSet::decode(bytes).ok())
        .flat_map(|set| set.file)
        .flat_map(|file| {
            let package = file.package().to_owned();
            file.service.into_iter().map(move |s| format!("{package}.{}", s.name()))
        })
        .chain(REFLECTION.iter().map(|s| (*s).to_owned()))
        .chain([FLIGHT_SERVICE.to_owned()])
        .collect();
    names.sort();
    names.dedup();
    names
}

/// A reflection builder with the descriptors and the service list (build it as v1 or v1alpha).
pub fn builder() -> Builder<'static> {
    let builder = Builder::configure()
        .register_encoded_file_descriptor_set(isobar_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET);
    service_names().into_iter().fold(builder, Builder::with_service_name)
}
