//! The Elasticsearch stand-in front: a thin HTTP layer in front of osmem-server (an in-memory
//! OpenSearch-compatible engine) that makes it look like an Elasticsearch 9.x cluster to the service —
//! ES identity and license, Basic and API key authentication, a simple role/privilege model for API keys,
//! compatibility media types, the connector system index templates, the Connector API (`/_connector*`,
//! stored in the connector system indices), ingest pipelines (`/_ingest/pipeline`, run on the write path)
//! and test-only hooks (`/_standin/faults`, `/_standin/requests`). Everything else is osmem's.
//!
//! Code map: `lifecycle` (start/stop), `osmem` (child process), `server` (request pipeline), `media`,
//! `auth`, `privileges` + `actions` + `roles` + `authz` + `bulk` (authorization), `security` + `api_keys` (security APIs),
//! `info` (`/`, `/_license`), `connector_api`, `templates`, `ingest` (pipelines), `writes` (bulk and document
//! writes: faults, pipelines), `faults` + `request_log` (test hooks), `proxy`, `errors`, `random`.

mod actions;
mod api_keys;
mod auth;
mod authz;
mod bulk;
mod connector_api;
mod errors;
mod faults;
mod info;
mod ingest;
mod lifecycle;
mod media;
mod osmem;
mod privileges;
mod proxy;
mod random;
mod request_log;
mod roles;
mod security;
mod server;
mod templates;
mod writes;

pub use lifecycle::{Front, FrontConfig, FrontStartError};
pub use osmem::{default_osmem_path, locate_osmem, OsmemError};
