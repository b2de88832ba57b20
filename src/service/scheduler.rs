//! The `schedule` loop (spec §5.1): every `service.idling` seconds, for each supported connector — prepare its
//! document (default configuration, schema repair, `service_type`, `features`), check in, validate its
//! configuration and an edited filtering draft, write `connected`/`error`, and create the scheduled jobs that
//! fell due.
//!
//! Occurrences are never lost: pass *n* schedules the occurrences in `(start of pass n-1, start of pass n]`, so
//! consecutive windows tile time (the reference measured from the end of a pass and dropped occurrences that
//! fell inside it). Several occurrences inside one window make one job. `last_*_scheduled_at` records the
//! occurrence a job was created for and is updated with OCC before the job is created, so two service instances
//! never create a job for the same occurrence.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{supported_connectors, Context, ServiceError};
use crate::cron::CronSchedule;
use crate::es::configuration;
use crate::es::protocol::ValidationState;
use crate::es::store::occ_retry;
use crate::es::{time, Connector, ConnectorStatus, EsError, JobType, TriggerMethod};
use crate::sync::{check_configuration, rules};

/// Upper bound on occurrences walked inside one window (a per-second schedule over a long pause).
const MAX_OCCURRENCES_PER_WINDOW: usize = 100_000;

pub async fn run(ctx: Arc<Context>, shutdown: CancellationToken) -> Result<(), ServiceError> {
    let mut window_start = ctx.clock.now();
    let checked_in: Arc<Mutex<HashSet<String>>> = Arc::default();
    let mut budget = ctx.error_budget();
    loop {
        let pass_start = ctx.clock.now();
        if let Err(e) = poll(&ctx, window_start, pass_start, &checked_in).await {
            tracing::error!("Scheduler poll failed: {e}");
            if !budget.spend(tokio::time::Instant::now()) {
                return Err(ServiceError::TooManyErrors("schedule", e.to_string()));
            }
        }
        window_start = pass_start;
        if ctx.idle(&shutdown).await {
            return Ok(());
        }
    }
}

/// One pass over the supported connectors, `max_concurrent_scheduling_tasks` at a time; a connector that finds
/// the pool full is handled next pass.
async fn poll(
    ctx: &Arc<Context>,
    window_start: DateTime<Utc>,
    pass_start: DateTime<Utc>,
    checked_in: &Arc<Mutex<HashSet<String>>>,
) -> Result<(), EsError> {
    let connectors = supported_connectors(ctx).await?;
    let pool = Arc::new(Semaphore::new(
        ctx.config.service.max_concurrent_scheduling_tasks.max(1),
    ));
    let mut tasks = JoinSet::new();
    for connector in connectors {
        let Ok(permit) = pool.clone().try_acquire_owned() else {
            tracing::debug!(connector_id = %connector.id, "Scheduling pool full; next pass");
            continue;
        };
        let ctx = ctx.clone();
        let checked_in = checked_in.clone();
        tasks.spawn(async move {
            let id = connector.id.clone();
            if let Err(e) = handle(&ctx, connector, window_start, pass_start, &checked_in).await {
                tracing::error!(connector_id = %id, "Scheduling failed for the connector: {e}");
            }
            drop(permit);
        });
    }
    while let Some(done) = tasks.join_next().await {
        if let Err(e) = done {
            tracing::error!("A scheduling task panicked: {e}");
        }
    }
    Ok(())
}

async fn handle(
    ctx: &Context,
    connector: Connector,
    window_start: DateTime<Utc>,
    pass_start: DateTime<Utc>,
    checked_in: &Mutex<HashSet<String>>,
) -> Result<(), EsError> {
    let id = connector.id.clone();
    let Some(connector) = occ_retry(|| prepare(ctx, &id)).await? else {
        return Ok(());
    };
    let first_sight = crate::lock::lock(checked_in).insert(id.clone());
    let heartbeat =
        chrono::Duration::from_std(ctx.config.service.heartbeat.get()).unwrap_or_default();
    let stale = connector
        .doc
        .last_seen
        .is_none_or(|seen| ctx.clock.now() - seen >= heartbeat);
    if first_sight || stale {
        ctx.protocol.check_in(&id, ctx.clock.now()).await?;
    }
    // A null (or absent) status is the reference's `UNSET`, which it validates like any configured connector;
    // only `created` and `needs_configuration` wait for the user.
    if let Some(status) = connector.doc.status.filter(|s| s.awaits_user()) {
        tracing::debug!(connector_id = %id, status = status.as_str(), "Waiting for the connector to be configured");
        return Ok(());
    }
    match check(ctx, &connector).await? {
        Err(message) => {
            tracing::warn!(connector_id = %id, "Connector configuration is not usable: {message}");
            set_status(ctx, &connector, ConnectorStatus::Error, Some(&message)).await?;
            return Ok(());
        }
        Ok(()) => {
            let warning = connector.doc.sync_warning().map(str::to_string);
            set_status(
                ctx,
                &connector,
                ConnectorStatus::Connected,
                warning.as_deref(),
            )
            .await?
        }
    }
    if connector.doc.dls_enabled() {
        schedule_job(ctx, &id, JobType::AccessControl, window_start, pass_start).await?;
    }
    if connector.doc.incremental_sync_enabled() {
        schedule_job(ctx, &id, JobType::Incremental, window_start, pass_start).await?;
    }
    schedule_job(ctx, &id, JobType::Full, window_start, pass_start).await
}

/// Brings the connector document in line with its source (OCC-protected); `None` if this service does not
/// handle it.
async fn prepare(ctx: &Context, id: &str) -> Result<Option<Connector>, EsError> {
    let store = ctx.protocol.store();
    let Some(connector) = store.get_connector(id).await? else {
        return Ok(None);
    };
    let configured = ctx.config.connectors.iter().find(|c| c.connector_id == id);
    let service_type = match configured {
        Some(c) => c.service_type.clone(),
        None => connector.doc.service_type.clone().unwrap_or_default(),
    };
    let Some(source) = ctx.sources.find(&service_type) else {
        if configured.is_some() {
            tracing::error!(connector_id = %id, "Unknown service type `{service_type}`; not handling the connector");
        }
        return Ok(None);
    };
    let mut update = Map::new();
    let defaults = source.defaults();
    let stored = connector.doc.configuration();
    if stored.is_empty() {
        update.insert("configuration".into(), Value::Object(defaults));
        update.insert("status".into(), json!(ConnectorStatus::NeedsConfiguration));
    } else if let Some(repaired) =
        configuration::repair(&stored, &defaults, &(source.schema_migrations)())
    {
        update.insert("configuration".into(), Value::Object(repaired));
    }
    if configured.is_some() {
        if connector.doc.service_type.is_none() {
            update.insert("service_type".into(), json!(service_type));
        }
        let features = (source.features)();
        if connector.doc.features != features {
            update.insert("features".into(), features);
        }
    }
    if update.is_empty() {
        return Ok(Some(connector));
    }
    tracing::info!(connector_id = %id, fields = ?update.keys().collect::<Vec<_>>(), "Preparing the connector");
    store
        .update_connector(id, Value::Object(update), connector.occ())
        .await?;
    store.get_connector(id).await
}

/// Whether the connector can sync: its configuration is complete and valid, the source accepts it, and an
/// edited filtering draft is validated (and activated when valid). `Ok(Err(message))` is a connector problem.
async fn check(ctx: &Context, connector: &Connector) -> Result<Result<(), String>, EsError> {
    let service_type = connector.doc.service_type.clone().unwrap_or_default();
    let stored = connector.doc.configuration();
    if let Err(e) =
        check_configuration(&ctx.sources, ctx.engine.as_ref(), &service_type, &stored).await
    {
        return Ok(Err(e.to_string()));
    }
    if let Some(message) = invalid_schedule(connector) {
        return Ok(Err(message));
    }
    if connector.doc.sync_rules_enabled() {
        validate_edited_draft(ctx, &connector.id).await?;
    }
    Ok(Ok(()))
}

/// The first enabled schedule whose cron expression does not parse, as a connector error message.
fn invalid_schedule(connector: &Connector) -> Option<String> {
    let scheduling = connector.doc.scheduling.as_ref()?;
    [JobType::Full, JobType::Incremental, JobType::AccessControl]
        .into_iter()
        .filter_map(|t| Some((t, scheduling.for_job_type(t)?)))
        .filter(|(_, spec)| spec.enabled == Some(true))
        .find_map(|(t, spec)| {
            let interval = spec.interval.as_deref().unwrap_or_default();
            CronSchedule::parse(interval)
                .err()
                .map(|e| format!("Invalid {} sync schedule: {e}", t.as_str()))
        })
}

/// Validates an edited DEFAULT draft and writes the result (OCC-retried, as the reference does). The connector is
/// re-read first: the check-in moments before changed its version, so writing against the copy this pass started
/// with would be refused with a 409 in direct-index mode; and a draft edited again since is the one validated.
async fn validate_edited_draft(ctx: &Context, connector_id: &str) -> Result<(), EsError> {
    occ_retry(|| async {
        let Some(connector) = ctx.protocol.store().get_connector(connector_id).await? else {
            return Ok(());
        };
        let Some(draft) = connector.doc.default_filtering().map(|f| &f["draft"]) else {
            return Ok(());
        };
        if draft["validation"]["state"] != json!(ValidationState::Edited) {
            return Ok(());
        }
        let result = rules::validate(draft);
        tracing::info!(connector_id = %connector.id, state = ?result.state, "Validated the edited sync rules draft");
        ctx.protocol
            .write_filtering_validation(&connector, &result)
            .await
    })
    .await
}

/// Writes `status`/`error` only when they change (the reference rewrote them on every poll).
async fn set_status(
    ctx: &Context,
    connector: &Connector,
    status: ConnectorStatus,
    error: Option<&str>,
) -> Result<(), EsError> {
    if connector.doc.status == Some(status) && connector.doc.error.as_deref() == error {
        return Ok(());
    }
    let doc = json!({"status": status, "error": error});
    ctx.protocol
        .store()
        .update_connector(&connector.id, doc, None)
        .await
}

/// The latest occurrence of `schedule` in `(after, until]`.
pub fn latest_occurrence(
    schedule: &CronSchedule,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let mut latest = None;
    let mut cursor = after;
    for _ in 0..MAX_OCCURRENCES_PER_WINDOW {
        match schedule.next_after(cursor) {
            Some(t) if t <= until => {
                latest = Some(t);
                cursor = t;
            }
            _ => break,
        }
    }
    latest
}

/// Creates a scheduled job of `job_type` if an occurrence fell in `(window_start, pass_start]` and no job was
/// created for it yet (OCC-protected against other instances).
async fn schedule_job(
    ctx: &Context,
    id: &str,
    job_type: JobType,
    window_start: DateTime<Utc>,
    pass_start: DateTime<Utc>,
) -> Result<(), EsError> {
    occ_retry(|| async {
        let store = ctx.protocol.store();
        let Some(connector) = store.get_connector(id).await? else {
            return Ok(());
        };
        let Some(spec) = connector.doc.scheduling.as_ref().and_then(|s| s.for_job_type(job_type)) else {
            return Ok(());
        };
        if spec.enabled != Some(true) {
            return Ok(());
        }
        let interval = spec.interval.clone().unwrap_or_default();
        // An unparsable expression was already reported on the connector by `check`.
        let Ok(schedule) = CronSchedule::parse(&interval) else {
            return Ok(());
        };
        let Some(due) = latest_occurrence(&schedule, window_start, pass_start) else {
            return Ok(());
        };
        if connector.doc.scheduled_at(job_type).is_some_and(|done| done >= due) {
            return Ok(());
        }
        let doc = json!({ job_type.scheduled_at_field(): time::format(due) });
        store.update_connector(id, doc, connector.occ()).await?;
        let job_id = ctx
            .protocol
            .create_job(&connector, job_type, TriggerMethod::Scheduled, ctx.clock.now())
            .await?;
        tracing::info!(connector_id = %id, %job_id, job_type = job_type.as_str(), occurrence = %due, "Scheduled a sync job");
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, h, m, s).unwrap()
    }

    #[test]
    fn windows_tile_time_so_no_occurrence_is_lost() {
        let every_minute = CronSchedule::parse("0 * * * * ?").unwrap();
        // A pass that started at 10:00:59.5 and ran past 10:01:00 must not lose 10:01:00: the next window starts
        // where the previous pass started.
        let first = latest_occurrence(&every_minute, at(10, 0, 30), at(10, 0, 59));
        assert_eq!(first, None);
        let second = latest_occurrence(&every_minute, at(10, 0, 59), at(10, 1, 29));
        assert_eq!(second, Some(at(10, 1, 0)));
        // Several occurrences in one window make one job, for the latest.
        let every_5s = CronSchedule::parse("*/5 * * * * ?").unwrap();
        assert_eq!(
            latest_occurrence(&every_5s, at(10, 0, 0), at(10, 0, 12)),
            Some(at(10, 0, 10))
        );
        // The window is open at its start and closed at its end.
        assert_eq!(
            latest_occurrence(&every_5s, at(10, 0, 5), at(10, 0, 9)),
            None
        );
        assert_eq!(
            latest_occurrence(&every_5s, at(10, 0, 4), at(10, 0, 5)),
            Some(at(10, 0, 5))
        );
    }
}
