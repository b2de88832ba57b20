//! The content sync engine (spec §6.2–6.3): one job's documents from a [`Source`] to the connector's content
//! index. It prepares the index, reads what the index holds, streams the source's documents through sync rules and
//! change detection, downloads content with bounded concurrency, and feeds the bulk queue; when the listing was
//! complete it then deletes what the source no longer has. An incomplete listing deletes nothing.
//!
//! Rule for incomplete listings: the job still ends `completed` (everything seen was indexed), nothing is deleted,
//! and the job's `metadata.incomplete_listing` names the parts that failed; the next sync tries again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use serde_json::{json, Map, Value};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::Instrument;

use super::delete_guard::{DeleteGuard, HeldBack};
use super::document::{self, PipelineSettings};
use super::download::{self, ContentSettings, Extraction};
use super::memory::MemoryBudget;
use super::rules::SyncRules;
use super::{SyncContext, SyncEngine, SyncError, SyncOutcome};
use crate::es::bulk::BulkOp;
use crate::es::content::{self, ExistingDocs};
use crate::es::{time, EsClient, JobType};
use crate::net::Outbound;
use crate::source::{
    Source, SourceError, SourceEvent, SourceFactory, SyncKind, ACCEPT_LARGE_DELETION,
};
use crate::sync::queue::{self, QueueLimits, QueueSender};
use crate::sync::sink::{Sink, SinkSettings};

/// At most this many incomplete parts are named in the job's metadata.
const MAX_REPORTED_PARTS: usize = 50;

pub struct ContentEngine {
    factory: Arc<dyn SourceFactory>,
    /// Service-side extractions running at once, across all of this engine's syncs
    /// (`extract::MAX_CONCURRENT_EXTRACTIONS`).
    extractions: Arc<Semaphore>,
    /// `bulk.queue_max_mem_size`, shared by this engine's syncs (made at the first sync, from its config).
    memory: std::sync::OnceLock<MemoryBudget>,
}

impl ContentEngine {
    pub fn new(factory: Arc<dyn SourceFactory>) -> Self {
        ContentEngine {
            factory,
            extractions: Arc::new(Semaphore::new(crate::extract::MAX_CONCURRENT_EXTRACTIONS)),
            memory: std::sync::OnceLock::new(),
        }
    }

    /// The memory budget, once a sync has run: bytes in use now and at most so far.
    pub fn memory(&self) -> Option<&MemoryBudget> {
        self.memory.get()
    }
}

/// Log-only counters of one sync (spec §6.6).
#[derive(Debug, Default)]
struct Counters {
    docs_seen: u64,
    creates: u64,
    updates: u64,
    unchanged: u64,
    filtered: u64,
    without_id: u64,
    deletes: u64,
    downloads: u64,
}

impl Counters {
    /// The every-`display_every`-documents line (the reference's "Sync progress" line), beside the sink's 10 s one.
    fn log_progress(&self) {
        tracing::info!(
            seen = self.docs_seen,
            created = self.creates,
            updated = self.updates,
            unchanged = self.unchanged,
            filtered = self.filtered,
            deleted = self.deletes,
            downloads = self.downloads,
            "Sync progress"
        );
    }
}

#[async_trait]
impl SyncEngine for ContentEngine {
    async fn check(
        &self,
        service_type: &str,
        configuration: &Map<String, Value>,
    ) -> Result<(), SourceError> {
        let values = crate::es::configuration::values(configuration);
        let source = self.factory.create(service_type, &values)?;
        source.ping().await
    }

    async fn run(&self, ctx: SyncContext) -> Result<SyncOutcome, SyncError> {
        let snapshot = ctx.job.doc.connector.clone().unwrap_or_default();
        let service_type = snapshot.service_type.clone().unwrap_or_default();
        let configuration = snapshot.configuration.clone().unwrap_or_default();
        let values = crate::es::configuration::values(&configuration);
        let source = self
            .factory
            .create(&service_type, &values)
            .map_err(|e| SyncError::Configuration(e.to_string()))?;
        if let Some(usage) = source.api_usage() {
            ctx.stats.track_api(usage);
        }
        let index = ctx
            .job
            .index_name()
            .ok_or_else(|| SyncError::Failed("the job has no content index name".into()))?
            .to_string();
        let data = data_client(&ctx)?;
        if content::ensure_index(&data, &index).await? {
            tracing::info!("Created the content index");
        }
        let kind = match ctx.job.job_type() {
            JobType::Incremental => SyncKind::Incremental,
            _ => SyncKind::Full,
        };
        let cursor = match kind {
            SyncKind::Incremental => {
                Some(ctx.connector.doc.sync_cursor.clone()).filter(|c| !c.is_null())
            }
            SyncKind::Full => None,
        };
        let changes_only = source.lists_changes_only(kind, cursor.as_ref());
        let existing = if changes_only {
            tracing::info!("Delta listing: only what changed since the saved cursor");
            ExistingDocs::new()
        } else {
            let existing = content::scan_existing(&data, &index).await?;
            tracing::info!(
                existing = existing.len(),
                "Read the content index's document ids"
            );
            existing
        };
        let pipeline = PipelineSettings::from_snapshot(&snapshot.pipeline);
        if let Some(note) = &pipeline.name_note {
            tracing::warn!(%index, "{note}");
        }
        let rules = if ctx.connector.doc.sync_rules_enabled() {
            SyncRules::from_filter(&snapshot.filtering).map_err(SyncError::InvalidFiltering)?
        } else {
            SyncRules::default()
        };

        let bulk = &ctx.config.elasticsearch.bulk;
        let limits = QueueLimits::from_config(bulk);
        let memory = self
            .memory
            .get_or_init(|| MemoryBudget::new(limits.max_bytes))
            .clone();
        let (tx, rx) = queue::bounded_with(limits, memory);
        let sink = Sink::new(
            data.clone(),
            &index,
            pipeline.name.as_deref(),
            SinkSettings::from_config(bulk),
            ctx.stats.clone(),
        );
        let stop = ctx.stop.clone();
        // In the job's span, so the sink's lines name the job too.
        let sink_task = tokio::spawn(async move { sink.run(rx, stop).await }.in_current_span());
        let extraction = if pipeline.extract_binary_content {
            Extraction::Pipeline
        } else if values
            .get("use_text_extraction_service")
            .is_some_and(truthy)
        {
            Extraction::Local
        } else {
            Extraction::Off
        };
        let plan = Plan {
            kind,
            changes_only,
            extraction,
            pipeline,
            rules,
            concurrent_downloads: bulk.concurrent_downloads.max(1),
            extractions: self.extractions.clone(),
            max_download: ctx.config.service.max_file_download_size,
            display_every: bulk.display_every,
            guard: DeleteGuard {
                share: ctx.config.service.delete_guard_share,
                min_documents: ctx.config.service.delete_guard_min_documents,
                accepted: values.get(ACCEPT_LARGE_DELETION).is_some_and(truthy),
            },
        };
        let produced = produce(
            source.as_ref(),
            &plan,
            cursor,
            existing,
            tx,
            &ctx,
            (&data, &index),
        )
        .await;
        let sink_result = sink_task
            .await
            .map_err(|e| SyncError::Failed(format!("the bulk sink task failed: {e}")))?;
        // The sink logged its own counters ("bulk sink finished").
        sink_result?;
        let mut produced = produced?;
        tracing::info!(
            seen = produced.counters.docs_seen,
            created = produced.counters.creates,
            updated = produced.counters.updates,
            unchanged = produced.counters.unchanged,
            filtered = produced.counters.filtered,
            without_id = produced.counters.without_id,
            deleted = produced.counters.deletes,
            downloads = produced.counters.downloads,
            failed_downloads = produced.failed_downloads,
            incomplete_parts = produced.incomplete.len(),
            memory_budget_peak_bytes = self.memory().map_or(0, MemoryBudget::peak),
            "Sync finished"
        );
        let mut metadata = Map::new();
        if !produced.incomplete.is_empty() {
            // Sorted, so the same failing parts are named the same way sync after sync (the runner compares them).
            produced.incomplete.sort();
            let parts: Vec<Value> = produced
                .incomplete
                .iter()
                .take(MAX_REPORTED_PARTS)
                .map(|(part, reason)| json!({"part": part, "reason": reason}))
                .collect();
            metadata.insert(
                "incomplete_listing".into(),
                json!({"failed_parts": produced.incomplete.len(), "examples": parts,
                       "deletions_skipped": true}),
            );
        }
        let mut warning = None;
        if let Some(held) = produced.held_back {
            let message = plan.guard.describe(held);
            metadata.insert(
                "delete_guard".into(),
                json!({"would_delete": held.would_delete, "found": held.found,
                       "delete_guard_share": plan.guard.share,
                       "delete_guard_min_documents": plan.guard.min_documents,
                       "deletions_skipped": true, "message": message}),
            );
            warning = Some(message);
        }
        let mut connector_update = None;
        if produced.acceptance_used {
            metadata.insert("delete_guard".into(), json!({"accepted": true}));
            // Once: the acceptance covers this sync's deletions, not the next surprise.
            connector_update =
                Some(json!({"configuration": {ACCEPT_LARGE_DELETION: {"value": false}}}));
        }
        Ok(SyncOutcome {
            sync_cursor: object_cursor(source.sync_cursor()),
            metadata: (!metadata.is_empty()).then_some(Value::Object(metadata)),
            warning,
            connector_update,
        })
    }
}

/// Elasticsearch stores `sync_cursor` as an object (the `_claim` API rejects anything else), so a source's cursor
/// must be one; another shape is not saved.
fn object_cursor(cursor: Option<Value>) -> Option<Value> {
    match cursor {
        Some(c) if !c.is_object() => {
            tracing::warn!("The source's sync cursor is not a JSON object; not saving it");
            None
        }
        other => other,
    }
}

/// The client for the sync's data path: the connector's own API key when configured (spec §2.3).
fn data_client(ctx: &SyncContext) -> Result<EsClient, SyncError> {
    let configured = ctx
        .config
        .connectors
        .iter()
        .find(|c| c.connector_id == ctx.connector.id);
    let outbound = Outbound::from_env(&ctx.config.env.network);
    let client = match configured
        .and_then(|c| c.api_key.as_ref())
        .filter(|k| !k.is_empty())
    {
        Some(key) => EsClient::with_api_key(&ctx.config.elasticsearch, &outbound, key)?,
        None => EsClient::new(&ctx.config.elasticsearch, &outbound)?,
    };
    Ok(client)
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => matches!(s.to_ascii_lowercase().as_str(), "true" | "1" | "yes"),
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    }
}

struct Plan {
    kind: SyncKind,
    extraction: Extraction,
    /// A delta listing: no implicit deletes.
    changes_only: bool,
    pipeline: PipelineSettings,
    rules: SyncRules,
    concurrent_downloads: usize,
    extractions: Arc<Semaphore>,
    max_download: u64,
    /// `bulk.display_every`: a progress line every this many documents from the source (0: none).
    display_every: u64,
    guard: DeleteGuard,
}

struct Produced {
    /// Deletions the guard held back, if it tripped.
    held_back: Option<HeldBack>,
    /// The guard would have tripped, and the operator's acceptance let the deletions through.
    acceptance_used: bool,
    counters: Counters,
    failed_downloads: u64,
    incomplete: Vec<(String, String)>,
}

/// Streams the source into the queue; then, if the listing was complete, queues deletes for what is left of
/// `existing`. Dropping `tx` at the end closes the queue.
async fn produce(
    source: &dyn Source,
    plan: &Plan,
    cursor: Option<Value>,
    mut existing: ExistingDocs,
    tx: QueueSender,
    ctx: &SyncContext,
    (data, index): (&EsClient, &str),
) -> Result<Produced, SyncError> {
    let found = existing.len() as u64;
    let mut counters = Counters::default();
    let mut incomplete = Vec::new();
    let downloads_allowed = Arc::new(Semaphore::new(plan.concurrent_downloads));
    let mut downloads: JoinSet<Result<(), SyncError>> = JoinSet::new();
    let failed_downloads = Arc::new(AtomicU64::new(0));

    let mut stream = source.docs(plan.kind, cursor);
    loop {
        let event = tokio::select! {
            _ = ctx.stop.cancelled() => return Err(SyncError::Stopped),
            event = stream.next() => event,
        };
        let Some(event) = event else { break };
        let doc = match event.map_err(SyncError::Source)? {
            SourceEvent::Incomplete { part, reason } => {
                tracing::warn!(%part, %reason, "Part of the source listing failed; nothing will be deleted this sync");
                incomplete.push((part, reason));
                continue;
            }
            SourceEvent::Deleted { id } => {
                let mut probe = Map::new();
                probe.insert("_id".into(), Value::String(id));
                if let Some(id) = document::document_id(&probe) {
                    existing.take(id.as_str());
                    counters.deletes += 1;
                    tx.send(BulkOp::Delete { id })
                        .await
                        .map_err(SyncError::from)?;
                }
                continue;
            }
            SourceEvent::Doc(doc) => doc,
        };
        counters.docs_seen += 1;
        if plan.display_every > 0 && counters.docs_seen.is_multiple_of(plan.display_every) {
            counters.log_progress();
        }
        let Some((id, mut body)) = document::prepare(doc.doc, &plan.pipeline) else {
            counters.without_id += 1;
            tracing::warn!("The source sent a document without an id; skipping it");
            continue;
        };
        if !plan.rules.keeps(&body) {
            counters.filtered += 1;
            continue;
        }
        let stored = existing.take(id.as_str());
        let fingerprint = content::timestamp_fingerprint(content::body_timestamp(&body));
        match stored {
            Some(fp) if plan.kind == SyncKind::Incremental && fp != 0 && fp == fingerprint => {
                counters.unchanged += 1;
                continue;
            }
            Some(_) => counters.updates += 1,
            None => counters.creates += 1,
        }
        if content::body_timestamp(&body).is_none() {
            body.insert("_timestamp".into(), json!(time::format(chrono::Utc::now())));
        }
        // Reap finished downloads so their errors surface early and the set stays small.
        while let Some(done) = downloads.try_join_next() {
            done.map_err(|e| SyncError::Failed(format!("a download task failed: {e}")))??;
        }
        match doc.download {
            Some(download) if plan.extraction != Extraction::Off => {
                counters.downloads += 1;
                let permit = downloads_allowed
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|_| SyncError::Stopped)?;
                // Reserved before the download starts: when the budget is spent, downloads wait here.
                let listed = download
                    .listed_size
                    .unwrap_or(plan.max_download)
                    .min(plan.max_download);
                let need = download::expected_bytes(plan.extraction, &id, &body, listed);
                let held = tx.reserve(need).await?;
                let tx = tx.clone();
                let (max_bytes, extraction) = (plan.max_download, plan.extraction);
                let extractions = plan.extractions.clone();
                let failed = failed_downloads.clone();
                downloads.spawn(
                    async move {
                        let settings = ContentSettings {
                            extraction,
                            max_bytes,
                            extractions: &extractions,
                        };
                        let (op, held, ok) =
                            download::with_content(body, id, download, held, &tx, &settings)
                                .await?;
                        if !ok {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                        drop(permit);
                        tx.send_reserved(op, held).await.map_err(SyncError::from)
                    }
                    .in_current_span(),
                );
            }
            _ => {
                tx.send(BulkOp::Index { id, body })
                    .await
                    .map_err(SyncError::from)?;
            }
        }
    }
    while let Some(done) = downloads.join_next().await {
        done.map_err(|e| SyncError::Failed(format!("a download task failed: {e}")))??;
    }
    // Only a complete, non-delta listing implies deletes (and so needs the guard).
    let listed_everything = incomplete.is_empty() && !plan.changes_only;
    let mut held_back = None;
    let mut acceptance_used = false;
    if listed_everything {
        let held = HeldBack {
            would_delete: existing.len() as u64,
            found,
        };
        if plan.guard.trips(held.would_delete, held.found) {
            if plan.guard.accepted {
                tracing::warn!(
                    would_delete = held.would_delete,
                    found = held.found,
                    "Deleting past the delete guard: the connector's accept_large_deletion is set"
                );
                acceptance_used = true;
            } else {
                tracing::error!(
                    would_delete = held.would_delete,
                    found = held.found,
                    "{}",
                    plan.guard.describe(held)
                );
                held_back = Some(held);
            }
        }
    }
    if listed_everything && held_back.is_none() {
        // The map holds id hashes only: the ids to delete are read again from the index.
        let deletes = &mut counters.deletes;
        content::take_unlisted(data, index, &mut existing, |ids| {
            let tx = &tx;
            *deletes += ids.len() as u64;
            async move {
                if ctx.stop.is_cancelled() {
                    return Err(SyncError::Stopped);
                }
                for id in ids {
                    tx.send(BulkOp::Delete { id }).await?;
                }
                Ok::<(), SyncError>(())
            }
        })
        .await?;
    } else if held_back.is_none() {
        tracing::warn!(
            kept = existing.len(),
            "Listing incomplete: {} documents the source did not list are kept",
            existing.len()
        );
    }
    let failed_downloads = failed_downloads.load(Ordering::Relaxed);
    Ok(Produced {
        held_back,
        acceptance_used,
        counters,
        failed_downloads,
        incomplete,
    })
}
