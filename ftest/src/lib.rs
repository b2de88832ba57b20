//! Test infrastructure for the elastic-ingest service: the Elasticsearch stand-in (`es_front`, run as the
//! `es-standin` binary) and the helper tests use to start one (`standin`). See ftest/README.md.

pub mod es_front;
pub mod standin;

pub use standin::{ApiKey, StandIn, StandInError, StandInOptions};
