//! Test infrastructure for the elastic-ingest service: the Elasticsearch stand-in (`es_front`, run as the
//! `es-standin` binary) and the helper tests use to start one (`standin`); the Microsoft Graph fixture
//! server (`graph`, run as the `graph-fixture` binary) and its helper (`graph_fixture`); in-process servers for
//! connection tests: an HTTPS front (`tls_front`) and an HTTP proxy (`forward_proxy`). See ftest/README.md.

#![recursion_limit = "256"]

pub mod child;
pub mod es_front;
pub mod forward_proxy;
pub mod graph;
pub mod graph_fixture;
pub mod stack;
pub mod standin;
pub mod tls_front;

pub use graph_fixture::{GraphFixture, GraphOptions};
pub use standin::{ApiKey, StandIn, StandInError, StandInOptions};
