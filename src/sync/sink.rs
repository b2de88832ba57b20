//! The bulk sink (spec §6.5–6.6): takes operations off the [queue](super::queue), drops text documents over
//! `bulk.max_text_document_size`, groups the rest into `_bulk` requests and keeps up to `bulk.max_concurrency` of
//! them in flight. Every item's outcome updates the sync's [`SyncStats`] and the [`ErrorMonitor`]; the sink stops
//! with an error when the monitor trips or a request fails after its retries, and returns promptly when the
//! stop token fires. Log-only counters come back in a [`SinkReport`].
//!
//! Deviation (spec §12.2): `bulk.chunk_size` counts *documents* per request, not NDJSON lines, so the default
//! of 500 means 500 documents (the reference sends about 250). Requests are also bounded by
//! `bulk.chunk_max_mem_size` MiB.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::{JoinError, JoinSet};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::error_monitor::{ErrorMonitor, TooManyErrors};
use super::memory::Reservation;
use super::queue::{mib, QueueReceiver, Queued};
use super::{SyncError, SyncStats};
use crate::config::{BulkConfig, ErrorMonitorConfig};
use crate::es::bulk::{self, Batch, BulkOutcome, EncodedOp, ItemOutcome, ItemRetryPolicy, OpKind};
use crate::es::{EsClient, EsError};

/// How often a running sink logs its progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);
/// How often a sink looks whether someone waits for budget bytes its open batch holds.
const PRESSURE_CHECK: Duration = Duration::from_millis(50);

#[derive(Debug, Clone)]
pub struct SinkSettings {
    /// Documents per request (at least 1).
    pub chunk_docs: usize,
    /// Bytes per request (approximate NDJSON size; a single larger document goes alone).
    pub chunk_bytes: usize,
    /// Requests in flight at once (at least 1).
    pub max_concurrency: usize,
    /// Index operations without `_attachment` larger than this are dropped; `None` = no cap.
    pub max_doc_bytes: Option<usize>,
    pub item_retry: ItemRetryPolicy,
    pub error_monitor: ErrorMonitorConfig,
    /// Debug-log every item's outcome (`bulk.enable_operations_logging`).
    pub log_operations: bool,
    pub progress_every: Duration,
}

impl SinkSettings {
    pub fn from_config(cfg: &BulkConfig) -> Self {
        SinkSettings {
            chunk_docs: cfg.chunk_size.max(1),
            chunk_bytes: mib(cfg.chunk_max_mem_size).max(1),
            max_concurrency: cfg.max_concurrency.max(1),
            max_doc_bytes: Some(mib(cfg.max_text_document_size)).filter(|&b| b > 0),
            item_retry: ItemRetryPolicy::from_config(cfg),
            error_monitor: cfg.error_monitor.clone(),
            log_operations: cfg.enable_operations_logging,
            progress_every: PROGRESS_EVERY,
        }
    }
}

/// Log-only counters of one sink run (the job counters live in [`SyncStats`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SinkReport {
    /// Operations put into requests (first attempts only).
    pub docs_sent: u64,
    pub requests: u64,
    pub indexed: u64,
    pub deleted: u64,
    pub dropped_too_large: u64,
    /// Index items answered `noop` (the pipeline dropped them); also counted in `indexed`.
    pub dropped_by_pipeline: u64,
    pub failed_items: u64,
    /// Item re-sends after 429/5xx.
    pub retried_items: u64,
    /// The last `error_queue_size` item errors, oldest first.
    pub last_errors: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error(transparent)]
    TooManyErrors(#[from] TooManyErrors),
    /// A `_bulk` request failed as a whole after its retries.
    #[error(transparent)]
    Elasticsearch(#[from] EsError),
    #[error("the sync was stopped")]
    Stopped,
    /// A request task panicked or was cancelled from outside.
    #[error("a bulk request task failed: {0}")]
    Task(String),
}

impl From<SinkError> for SyncError {
    fn from(e: SinkError) -> Self {
        match e {
            // Worded as the reference's job error: "<ExceptionClass>: <message>" (spec §6.1).
            SinkError::TooManyErrors(e) => SyncError::Failed(format!("TooManyErrors: {e}")),
            SinkError::Elasticsearch(e) => SyncError::Elasticsearch(e),
            SinkError::Stopped => SyncError::Stopped,
            SinkError::Task(m) => SyncError::Failed(m),
        }
    }
}

pub struct Sink {
    client: EsClient,
    index: Arc<str>,
    pipeline: Option<Arc<str>>,
    settings: SinkSettings,
    stats: Arc<SyncStats>,
}

/// A request's operations, what became of them, and the budget bytes they held until now.
type Done = (Batch, BulkOutcome, Reservation);

/// The mutable state of one run.
struct Run<'a> {
    sink: &'a Sink,
    report: SinkReport,
    monitor: ErrorMonitor,
}

impl Sink {
    /// A sink writing to `index`, through ingest `pipeline` when given.
    pub fn new(
        client: EsClient,
        index: &str,
        pipeline: Option<&str>,
        settings: SinkSettings,
        stats: Arc<SyncStats>,
    ) -> Self {
        Sink {
            client,
            index: index.into(),
            pipeline: pipeline.map(Arc::from),
            settings,
            stats,
        }
    }

    /// Drains `queue` until every sender is gone and every request has finished. On an error or a stop, requests
    /// still in flight are aborted and the queue is dropped (waiting producers then fail with `Closed`).
    pub async fn run(
        &self,
        mut queue: QueueReceiver,
        stop: CancellationToken,
    ) -> Result<SinkReport, SinkError> {
        let mut run = Run {
            sink: self,
            report: SinkReport::default(),
            monitor: ErrorMonitor::new(&self.settings.error_monitor),
        };
        let result = run.drive(&mut queue, &stop).await;
        run.report.last_errors = run.monitor.last_errors();
        let r = &run.report;
        tracing::info!(
            sent = r.docs_sent,
            requests = r.requests,
            indexed = r.indexed,
            deleted = r.deleted,
            dropped_too_large = r.dropped_too_large,
            dropped_by_pipeline = r.dropped_by_pipeline,
            failed = r.failed_items,
            retried = r.retried_items,
            ok = result.is_ok(),
            "bulk sink finished"
        );
        result.map(|()| run.report)
    }
}

impl Run<'_> {
    async fn drive(
        &mut self,
        queue: &mut QueueReceiver,
        stop: &CancellationToken,
    ) -> Result<(), SinkError> {
        let sink = self.sink;
        let settings = &sink.settings;
        // Dropping the set (any early return) aborts the requests in flight.
        let mut tasks: JoinSet<Done> = JoinSet::new();
        let mut batcher = Batcher::new(
            settings.chunk_docs,
            settings.chunk_bytes,
            queue.budget().none(),
        );
        // Full batches waiting for a free request slot: at most two, because the queue is not read meanwhile.
        let mut ready: VecDeque<Pending> = VecDeque::new();
        let budget = queue.budget().clone();
        let mut progress = tokio::time::interval_at(
            Instant::now() + settings.progress_every,
            settings.progress_every,
        );
        progress.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut pressure_check = tokio::time::interval(PRESSURE_CHECK);
        pressure_check.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_progress = (Instant::now(), 0u64);
        let mut open = true;
        loop {
            // The concurrency bound: this task alone spawns, so the set's size is the number in flight.
            while tasks.len() < settings.max_concurrency {
                let Some(batch) = ready.pop_front() else {
                    break;
                };
                self.spawn(&mut tasks, batch);
            }
            if !open && ready.is_empty() && tasks.is_empty() {
                return Ok(());
            }
            tokio::select! {
                biased;
                () = stop.cancelled() => return Err(SinkError::Stopped),
                Some(joined) = tasks.join_next() => self.absorb(joined)?,
                op = queue.recv(), if open && ready.is_empty() => match op {
                    Some(Queued { op, held }) => {
                        if self.accept(&op) {
                            ready.extend(batcher.push(op, held));
                            // Someone waits for budget bytes: do not keep an open batch's bytes idle.
                            if budget.has_waiters() {
                                ready.extend(batcher.finish());
                            }
                        }
                    }
                    None => {
                        open = false;
                        ready.extend(batcher.finish());
                    }
                },
                // Someone waits for budget bytes: send the open batch now rather than hold its bytes idle. The
                // notification may go to another sync's sink (the budget is shared), so a waiter still there is
                // also looked for every `PRESSURE_CHECK`.
                () = budget.pressure(), if ready.is_empty() && tasks.len() < settings.max_concurrency => {
                    ready.extend(batcher.finish());
                }
                _ = pressure_check.tick(), if budget.has_waiters() && ready.is_empty() && tasks.len() < settings.max_concurrency => {
                    ready.extend(batcher.finish());
                }
                _ = progress.tick() => self.log_progress(queue, tasks.len(), &mut last_progress),
            }
        }
    }

    /// The every-10-s progress line; `last` is when the previous one was logged and how many items were done.
    fn log_progress(&self, queue: &QueueReceiver, in_flight: usize, last: &mut (Instant, u64)) {
        let done = self.report.indexed + self.report.deleted;
        let seconds = last.0.elapsed().as_secs_f64().max(0.001);
        let rate = done.saturating_sub(last.1) as f64 / seconds;
        *last = (Instant::now(), done);
        tracing::info!(
            done,
            docs_per_sec = rate.round(),
            queued = queue.len(),
            budget_in_use = queue.budget().in_use(),
            in_flight,
            errors = self.monitor.total_errors(),
            "bulk sink progress"
        );
    }

    /// Whether an operation goes on to a request; drops (and counts) text documents over the size cap.
    fn accept(&mut self, op: &EncodedOp) -> bool {
        if !too_large(op, self.sink.settings.max_doc_bytes) {
            return true;
        }
        self.report.dropped_too_large += 1;
        tracing::warn!(
            id = op.id(),
            bytes = op.size(),
            limit = self.sink.settings.max_doc_bytes,
            "dropping a document larger than bulk.max_text_document_size"
        );
        false
    }

    fn spawn(&mut self, tasks: &mut JoinSet<Done>, (ops, mut held): Pending) {
        self.report.docs_sent += ops.len() as u64;
        // Joining several operations into one body copies them: count the copy while both exist.
        let size: usize = ops.iter().map(EncodedOp::size).sum();
        if ops.len() > 1 {
            held.grow_to(held.bytes() + size);
        }
        let batch = Batch::from_ops(ops);
        held.shrink_to(size);
        self.report.requests += 1;
        let sink = self.sink;
        let (client, index, pipeline) = (
            sink.client.clone(),
            Arc::clone(&sink.index),
            sink.pipeline.clone(),
        );
        let policy = sink.settings.item_retry;
        tasks.spawn(
            async move {
                let outcome = bulk::send_with_item_retries(
                    &client,
                    &index,
                    pipeline.as_deref(),
                    &batch,
                    &policy,
                )
                .await;
                (batch, outcome, held)
            }
            .in_current_span(),
        );
    }

    /// Counts a finished request's items. Every item is counted before an error is returned, so the job
    /// counters include the successes of the request that tripped the monitor.
    fn absorb(&mut self, joined: Result<Done, JoinError>) -> Result<(), SinkError> {
        // The request's bytes go back to the budget when `_held` drops, at the end of this call.
        let (batch, outcome, _held) = joined.map_err(|e| SinkError::Task(e.to_string()))?;
        self.report.retried_items += outcome.retried;
        let mut tripped = None;
        for (op, item) in batch.items().iter().zip(&outcome.items) {
            if self.sink.settings.log_operations {
                tracing::debug!(id = op.id(), ?item, "bulk item");
            }
            match item {
                ItemOutcome::Created | ItemOutcome::Updated | ItemOutcome::Noop => {
                    self.sink.stats.add_indexed(op.body_bytes() as u64);
                    self.report.indexed += 1;
                    self.report.dropped_by_pipeline += u64::from(*item == ItemOutcome::Noop);
                    self.monitor.track_success();
                }
                ItemOutcome::Deleted | ItemOutcome::NotFound => {
                    self.sink.stats.add_deleted();
                    self.report.deleted += 1;
                    self.monitor.track_success();
                }
                ItemOutcome::Failed(e) => {
                    self.report.failed_items += 1;
                    tracing::warn!(
                        id = %e.id, status = e.status, error_type = %e.error_type, reason = %e.reason,
                        "bulk item failed"
                    );
                    if let Err(too_many) = self.monitor.track_error(e.to_string()) {
                        tripped.get_or_insert(too_many);
                    }
                }
                // The request's own error (below) is what fails the sync.
                ItemOutcome::Unsent => self.report.failed_items += 1,
            }
        }
        if let Some(e) = outcome.request_error {
            return Err(e.into());
        }
        tripped.map_or(Ok(()), |e| Err(e.into()))
    }
}

/// Text documents (index ops without `_attachment`) larger than the cap are dropped (spec §6.5).
fn too_large(op: &EncodedOp, max_doc_bytes: Option<usize>) -> bool {
    match max_doc_bytes {
        Some(max) => op.kind() == OpKind::Index && !op.has_attachment() && op.size() > max,
        None => false,
    }
}

/// Operations of one request-to-be and the budget bytes they hold.
type Pending = (Vec<EncodedOp>, Reservation);

/// Groups operations into requests of at most `max_docs` documents and about `max_bytes` bytes: before adding
/// an op, flush if it would push a non-empty batch past either bound; after adding, flush once a bound is
/// reached. An op larger than `max_bytes` therefore goes alone. The open batch keeps its ops' reservations.
struct Batcher {
    max_docs: usize,
    max_bytes: usize,
    ops: Vec<EncodedOp>,
    bytes: usize,
    held: Reservation,
}

impl Batcher {
    fn new(max_docs: usize, max_bytes: usize, none: Reservation) -> Self {
        Batcher {
            max_docs: max_docs.max(1),
            max_bytes: max_bytes.max(1),
            ops: Vec::new(),
            bytes: 0,
            held: none,
        }
    }

    /// Adds `op`; returns the batches that became full (none, one or two).
    fn push(&mut self, op: EncodedOp, held: Reservation) -> Vec<Pending> {
        let mut full = Vec::new();
        let size = op.size();
        if !self.ops.is_empty()
            && (self.ops.len() + 1 > self.max_docs || self.bytes + size > self.max_bytes)
        {
            full.extend(self.finish());
        }
        self.ops.push(op);
        self.held.merge(held);
        self.bytes += size;
        if self.ops.len() >= self.max_docs || self.bytes >= self.max_bytes {
            full.extend(self.finish());
        }
        full
    }

    /// The partial batch, if any.
    fn finish(&mut self) -> Option<Pending> {
        self.bytes = 0;
        if self.ops.is_empty() {
            return None;
        }
        Some((std::mem::take(&mut self.ops), self.held.take()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ElasticsearchConfig;
    use crate::es::bulk::{BulkOp, ItemError};
    use crate::sync::memory::MemoryBudget;
    use serde_json::{json, Value};

    fn op(id: &str, body: Value) -> EncodedOp {
        let body = body.as_object().cloned().unwrap_or_default();
        BulkOp::Index {
            id: id.into(),
            body,
        }
        .encode()
    }

    fn text(id: &str, len: usize) -> EncodedOp {
        op(id, json!({"t": "x".repeat(len)}))
    }

    fn ids(batches: &[Pending]) -> Vec<Vec<&str>> {
        batches
            .iter()
            .map(|(b, _)| b.iter().map(EncodedOp::id).collect())
            .collect()
    }

    /// One unbounded budget for the batching tests (reservations merge only within one budget).
    fn shared() -> &'static MemoryBudget {
        static BUDGET: std::sync::OnceLock<MemoryBudget> = std::sync::OnceLock::new();
        BUDGET.get_or_init(|| MemoryBudget::new(0))
    }

    #[tokio::test]
    async fn batches_carry_their_operations_budget_bytes() {
        let budget = MemoryBudget::new(10_000);
        let mut b = Batcher::new(2, usize::MAX, budget.none());
        for id in ["a", "b", "c"] {
            let op = text(id, 100);
            let held = budget.reserve(op.size()).await.unwrap();
            let full = b.push(op, held);
            if id == "b" {
                assert_eq!(full[0].1.bytes(), 2 * text("a", 100).size());
            }
        }
        assert_eq!(
            budget.in_use(),
            text("c", 100).size(),
            "the full batch was dropped: released"
        );
        let (ops, held) = b.finish().unwrap();
        assert_eq!((ops.len(), held.bytes()), (1, text("c", 100).size()));
        drop(held);
        assert_eq!(budget.in_use(), 0);
    }

    #[test]
    fn batches_are_bounded_by_document_count() {
        let mut b = Batcher::new(3, usize::MAX, shared().none());
        let mut out = Vec::new();
        for i in 0..7 {
            out.extend(b.push(text(&i.to_string(), 1), shared().none()));
        }
        assert_eq!(ids(&out), [["0", "1", "2"], ["3", "4", "5"]]);
        out.extend(b.finish());
        assert_eq!(ids(&out[2..]), [["6"]]);
        assert!(b.finish().is_none());
    }

    #[test]
    fn batches_are_bounded_by_bytes() {
        let size = text("a", 100).size();
        // Room for two and a half documents: the third flushes the first two before it is added.
        let mut b = Batcher::new(100, size * 5 / 2, shared().none());
        assert!(b.push(text("a", 100), shared().none()).is_empty());
        assert!(b.push(text("b", 100), shared().none()).is_empty());
        assert_eq!(ids(&b.push(text("c", 100), shared().none())), [["a", "b"]]);
        // Exactly reaching the bound flushes after adding.
        let mut exact = Batcher::new(100, size * 2, shared().none());
        assert!(exact.push(text("a", 100), shared().none()).is_empty());
        assert_eq!(
            ids(&exact.push(text("b", 100), shared().none())),
            [["a", "b"]]
        );
    }

    #[test]
    fn an_op_over_the_byte_bound_goes_alone() {
        let mut b = Batcher::new(100, 1000, shared().none());
        assert!(b.push(text("small", 10), shared().none()).is_empty());
        assert_eq!(
            ids(&b.push(text("big", 5000), shared().none())),
            [vec!["small"], vec!["big"]]
        );
        assert!(b.finish().is_none());
        assert_eq!(
            ids(&b.push(text("big2", 5000), shared().none())),
            [["big2"]]
        );
    }

    #[test]
    fn only_text_documents_over_the_cap_are_too_large() {
        let big = text("big", 2000);
        assert!(too_large(&big, Some(1000)));
        assert!(!too_large(&big, None));
        assert!(
            !too_large(&big, Some(big.size())),
            "the cap itself is allowed"
        );
        let attachment = op("att", json!({"_attachment": "x".repeat(5000)}));
        assert!(!too_large(&attachment, Some(1000)));
        assert!(!too_large(&delete("d"), Some(1)));
        let cfg = BulkConfig {
            max_text_document_size: 0.0,
            ..Default::default()
        };
        assert_eq!(SinkSettings::from_config(&cfg).max_doc_bytes, None);
        assert_eq!(
            SinkSettings::from_config(&BulkConfig::default()).max_doc_bytes,
            Some(3 << 20)
        );
    }

    fn sink(monitor: ErrorMonitorConfig) -> Sink {
        let client =
            EsClient::new(&ElasticsearchConfig::default(), &Default::default()).expect("client");
        let mut settings = SinkSettings::from_config(&BulkConfig::default());
        settings.error_monitor = monitor;
        Sink::new(client, "search-x", None, settings, Arc::default())
    }

    fn delete(id: &str) -> EncodedOp {
        BulkOp::Delete { id: id.into() }.encode()
    }

    fn failure(id: &str) -> ItemOutcome {
        let (id, error_type, reason) = (id.into(), "t".into(), "r".into());
        ItemOutcome::Failed(ItemError {
            id,
            status: 400,
            error_type,
            reason,
        })
    }

    /// Absorbs one finished request (2 item re-sends) in a fresh run: its result, report and monitor total.
    fn absorb(
        sink: &Sink,
        ops: Vec<EncodedOp>,
        items: Vec<ItemOutcome>,
        request_error: Option<EsError>,
    ) -> (Result<(), SinkError>, SinkReport, u64) {
        let monitor = ErrorMonitor::new(&sink.settings.error_monitor);
        let mut run = Run {
            sink,
            report: SinkReport::default(),
            monitor,
        };
        let result = run.absorb(Ok((
            Batch::from_ops(ops),
            BulkOutcome {
                items,
                request_error,
                retried: 2,
            },
            shared().none(),
        )));
        (result, run.report, run.monitor.total_errors())
    }

    #[test]
    fn outcomes_update_the_job_counters_and_the_report() {
        let sink = sink(ErrorMonitorConfig::default());
        // 1.7 MB of successful index items (1.62 MiB → 2), and a 3 MB failed one that must not count.
        let ops = vec![
            text("a", 700_000),
            text("b", 700_000),
            text("c", 300_000),
            delete("d"),
            delete("e"),
            text("f", 3_000_000),
        ];
        use ItemOutcome::*;
        let items = vec![Created, Updated, Noop, Deleted, NotFound, failure("f")];
        let (result, r, errors) = absorb(&sink, ops, items, None);
        assert!(result.is_ok());
        let counts = (
            r.indexed,
            r.deleted,
            r.dropped_by_pipeline,
            r.failed_items,
            r.retried_items,
            errors,
        );
        assert_eq!(counts, (3, 2, 1, 1, 2, 1));
        let stats = sink.stats.snapshot();
        let job = (
            stats.indexed_document_count,
            stats.deleted_document_count,
            stats.indexed_document_volume,
        );
        assert_eq!(job, (3, 2, 2));
    }

    #[test]
    fn the_monitor_trips_after_the_whole_request_is_counted() {
        let sink = sink(ErrorMonitorConfig {
            max_consecutive_errors: 1,
            ..Default::default()
        });
        let ops = vec![text("a", 1), text("b", 1), text("c", 1)];
        let items = vec![failure("a"), failure("b"), ItemOutcome::Created];
        let (result, report, _) = absorb(&sink, ops, items, None);
        let Err(SinkError::TooManyErrors(e)) = result else {
            panic!("{result:?}")
        };
        assert!(e.to_string().contains("document `b`"), "{e}");
        assert_eq!(
            (report.indexed, sink.stats.snapshot().indexed_document_count),
            (1, 1)
        );
        let SyncError::Failed(message) = SyncError::from(SinkError::from(e)) else {
            panic!()
        };
        assert!(message.starts_with("TooManyErrors: "), "{message}");
    }

    #[test]
    fn a_failed_request_fails_the_sink_with_its_error() {
        let sink = sink(ErrorMonitorConfig::default());
        let items = vec![ItemOutcome::Created, ItemOutcome::Unsent];
        let timeout = Some(EsError::Timeout { host: "h".into() });
        let (result, report, errors) =
            absorb(&sink, vec![text("a", 1), text("b", 1)], items, timeout);
        assert!(matches!(
            result,
            Err(SinkError::Elasticsearch(EsError::Timeout { .. }))
        ));
        assert_eq!((report.indexed, report.failed_items), (1, 1));
        assert_eq!(errors, 0, "an unsent item is not an item error");
    }

    #[tokio::test]
    async fn a_stop_returns_promptly_and_an_empty_queue_finishes() {
        use crate::sync::queue::{bounded, QueueError, QueueLimits};
        let sink = sink(ErrorMonitorConfig::default());
        let limits = QueueLimits::from_config(&BulkConfig::default());
        let (tx, rx) = bounded(limits);
        let stop = CancellationToken::new();
        stop.cancel();
        assert!(matches!(sink.run(rx, stop).await, Err(SinkError::Stopped)));
        assert_eq!(
            tx.send(BulkOp::Delete { id: "x".into() }).await,
            Err(QueueError::Closed)
        );
        let (tx, rx) = bounded(limits);
        drop(tx);
        let report = sink.run(rx, CancellationToken::new()).await;
        assert_eq!(report.unwrap(), SinkReport::default());
    }
}
