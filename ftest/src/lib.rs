//! Test infrastructure for the elastic-ingest service: the Elasticsearch stand-in (`es_front`, run as the
//! `es-standin` binary) and the helper tests use to start one (`standin`); the Microsoft Graph fixture
//! server (`graph`, run as the `graph-fixture` binary) and its helper (`graph_fixture`). See
//! ftest/README.md.

#![recursion_limit = "256"]

pub mod child;
pub mod es_front;
pub mod graph;
pub mod graph_fixture;
pub mod stack;
pub mod standin;

pub use graph_fixture::{GraphFixture, GraphOptions};
pub use standin::{ApiKey, StandIn, StandInError, StandInOptions};
