//! The service loops (scheduler, job executor, runner lifecycle, cleanup) against the real Elasticsearch stand-in,
//! in both protocol modes: the same scenarios run with `feature_use_connectors_api: true` (the `_connector` APIs)
//! and `false` (direct writes to the system indices). A small engine defined here stands in for the sync engine.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{configured_teams, connector_doc, wait_for, Harness, Mode, Service, CID};

use async_trait::async_trait;
use chrono::Utc;
use elastic_ingest::es::JobType;
use elastic_ingest::service::{cleanup, ServiceAction};
use elastic_ingest::source::{ErrorKind, SourceError};
use elastic_ingest::sync::{SyncContext, SyncEngine, SyncError, SyncOutcome};
use serde_json::{json, Map, Value};

/// What the test engine does with a job.
#[derive(Clone)]
enum Behaviour {
    /// Reports `indexed` documents of 1 KiB and `deleted` deletions, then completes.
    Quick {
        indexed: u64,
        deleted: u64,
    },
    /// Keeps "indexing" until told to stop.
    UntilStopped,
    Fail(&'static str),
}

struct TestEngine(Behaviour, Duration);

impl TestEngine {
    fn new(b: Behaviour) -> Self {
        TestEngine(b, Duration::ZERO)
    }
}

#[async_trait]
impl SyncEngine for TestEngine {
    async fn check(
        &self,
        _service_type: &str,
        configuration: &Map<String, Value>,
    ) -> Result<(), SourceError> {
        // A slow check stands for a slow source (token fetch, ping): it makes scheduler passes long.
        tokio::time::sleep(self.1).await;
        match configuration["tenant_id"]["value"].as_str() {
            Some("rejected-tenant") => Err(SourceError::new(
                ErrorKind::Auth,
                "the tenant rejected the credentials",
            )),
            _ => Ok(()),
        }
    }

    async fn run(&self, ctx: SyncContext) -> Result<SyncOutcome, SyncError> {
        match &self.0 {
            Behaviour::Quick { indexed, deleted } => {
                for _ in 0..*indexed {
                    ctx.stats.add_indexed(1024);
                }
                for _ in 0..*deleted {
                    ctx.stats.add_deleted();
                }
                Ok(SyncOutcome::default())
            }
            Behaviour::UntilStopped => loop {
                ctx.stats.add_indexed(1024);
                tokio::select! {
                    _ = ctx.stop.cancelled() => return Err(SyncError::Stopped),
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
            },
            Behaviour::Fail(message) => Err(SyncError::Failed(message.to_string())),
        }
    }
}

fn spawn(h: &Harness, behaviour: Behaviour, actions: &[ServiceAction]) -> Service {
    h.spawn_with(Arc::new(TestEngine::new(behaviour)), actions)
}

const WAIT: Duration = Duration::from_secs(15);

async fn fresh_connector_is_prepared_and_checked_in(mode: Mode) {
    let h = Harness::start(mode).await;
    let mut doc = connector_doc("created", json!({}));
    doc["features"] = Value::Null;
    doc["service_type"] = Value::Null;
    h.put_connector(doc).await;
    let svc = spawn(&h, Behaviour::Fail("unused"), &[ServiceAction::Schedule]);
    let c = wait_for(WAIT, "needs_configuration", || async {
        let c = h.connector().await;
        (c["status"] == "needs_configuration" && !c["last_seen"].is_null()).then_some(c)
    })
    .await;
    svc.stop().await;
    assert_eq!(
        c["configuration"],
        elastic_ingest::sources::teams::default_configuration()
    );
    assert_eq!(c["service_type"], "microsoft_teams");
    assert_eq!(c["features"], elastic_ingest::sources::teams::features());
}

async fn configuration_checks_set_connected_or_error(mode: Mode) {
    let h = Harness::start(mode).await;
    h.put_connector(connector_doc("configured", configured_teams()))
        .await;
    let svc = spawn(&h, Behaviour::Fail("unused"), &[ServiceAction::Schedule]);
    wait_for(WAIT, "connected", || async {
        (h.connector().await["status"] == "connected").then_some(())
    })
    .await;

    let mut bad = configured_teams();
    bad["tenant_id"]["value"] = json!("");
    h.put_connector(connector_doc("connected", bad)).await;
    let c = wait_for(WAIT, "error", || async {
        let c = h.connector().await;
        (c["status"] == "error").then_some(c)
    })
    .await;
    assert_eq!(c["error"], "'Tenant ID' cannot be empty.");

    let mut rejected = configured_teams();
    rejected["tenant_id"]["value"] = json!("rejected-tenant");
    h.put_connector(connector_doc("connected", rejected)).await;
    let c = wait_for(WAIT, "source check error", || async {
        let c = h.connector().await;
        (c["error"] == "the tenant rejected the credentials").then_some(c)
    })
    .await;
    assert_eq!(c["status"], "error");
    svc.stop().await;
}

async fn completed_sync_records_counts(mode: Mode) {
    let h = Harness::start(mode).await;
    h.put_connector(connector_doc("connected", configured_teams()))
        .await;
    let job_id = h.create_job(JobType::Full).await;
    let svc = spawn(
        &h,
        Behaviour::Quick {
            indexed: 3,
            deleted: 1,
        },
        &[ServiceAction::SyncContent],
    );
    let job = wait_for(WAIT, "completed", || async {
        let j = h.job(&job_id).await;
        (j["status"] == "completed").then_some(j)
    })
    .await;
    svc.stop().await;
    assert_eq!(job["indexed_document_count"], 3);
    assert_eq!(job["deleted_document_count"], 1);
    assert_eq!(job["indexed_document_volume"], 0, "3 KiB rounds to 0 MiB");
    assert!(job["error"].is_null());
    assert!(job["completed_at"].is_string() && job["started_at"].is_string());
    assert!(job["worker_hostname"]
        .as_str()
        .is_some_and(|h| !h.is_empty()));
    assert_eq!(job["connector"]["index_name"], "search-teams");
    let c = h.connector().await;
    assert_eq!(c["last_sync_status"], "completed");
    assert_eq!(c["status"], "connected");
    assert_eq!(c["last_indexed_document_count"], 3);
    assert_eq!(c["last_deleted_document_count"], 1);
    assert!(c["last_synced"].is_string());
}

async fn failed_sync_marks_job_and_connector(mode: Mode) {
    let h = Harness::start(mode).await;
    h.put_connector(connector_doc("connected", configured_teams()))
        .await;
    let job_id = h.create_job(JobType::Full).await;
    let svc = spawn(
        &h,
        Behaviour::Fail("Graph said no"),
        &[ServiceAction::SyncContent],
    );
    let job = wait_for(WAIT, "error", || async {
        let j = h.job(&job_id).await;
        (j["status"] == "error").then_some(j)
    })
    .await;
    svc.stop().await;
    assert_eq!(job["error"], "Graph said no");
    let c = h.connector().await;
    assert_eq!(
        (c["status"].clone(), c["error"].clone()),
        (json!("error"), json!("Graph said no"))
    );
    assert_eq!(c["last_sync_status"], "error");
    assert_eq!(c["last_sync_error"], "Graph said no");
}

/// An on-demand job for a connector whose configuration is incomplete fails before the engine runs.
async fn job_with_invalid_configuration_fails(mode: Mode) {
    let h = Harness::start(mode).await;
    let mut incomplete = configured_teams();
    incomplete["client_id"]["value"] = json!("");
    h.put_connector(connector_doc("connected", incomplete))
        .await;
    let job_id = h.create_job(JobType::Full).await;
    let svc = spawn(
        &h,
        Behaviour::Quick {
            indexed: 5,
            deleted: 0,
        },
        &[ServiceAction::SyncContent],
    );
    let job = wait_for(WAIT, "error", || async {
        let j = h.job(&job_id).await;
        (j["status"] == "error").then_some(j)
    })
    .await;
    svc.stop().await;
    assert_eq!(job["error"], "'Client ID' cannot be empty.");
    assert_eq!(job["indexed_document_count"], 0, "the engine never ran");
}

async fn cancel_mid_sync(mode: Mode) {
    let h = Harness::start(mode).await;
    h.put_connector(connector_doc("connected", configured_teams()))
        .await;
    let job_id = h.create_job(JobType::Full).await;
    let svc = spawn(&h, Behaviour::UntilStopped, &[ServiceAction::SyncContent]);
    wait_for(WAIT, "in_progress with progress reported", || async {
        let j = h.job(&job_id).await;
        (j["status"] == "in_progress" && j["indexed_document_count"].as_u64() > Some(0))
            .then_some(())
    })
    .await;
    h.request_cancel(mode, &job_id).await;
    let job = wait_for(Duration::from_secs(5), "canceled within 5 s", || async {
        let j = h.job(&job_id).await;
        (j["status"] == "canceled").then_some(j)
    })
    .await;
    svc.stop().await;
    assert!(job["canceled_at"].is_string() && job["completed_at"].is_string());
    let c = h.connector().await;
    assert_eq!(c["last_sync_status"], "canceled");
    assert_eq!(c["status"], "connected");
}

async fn shutdown_suspends_and_restart_resumes(mode: Mode) {
    let h = Harness::start(mode).await;
    h.put_connector(connector_doc("connected", configured_teams()))
        .await;
    let job_id = h.create_job(JobType::Full).await;
    let svc = spawn(&h, Behaviour::UntilStopped, &[ServiceAction::SyncContent]);
    wait_for(WAIT, "in_progress", || async {
        (h.job(&job_id).await["status"] == "in_progress").then_some(())
    })
    .await;
    svc.stop().await;
    let job = h.job(&job_id).await;
    assert_eq!(job["status"], "suspended");
    assert!(job["completed_at"].is_null());
    let c = h.connector().await;
    assert_eq!(c["last_sync_status"], "suspended");
    assert_eq!(c["status"], "connected");

    let svc = spawn(
        &h,
        Behaviour::Quick {
            indexed: 1,
            deleted: 0,
        },
        &[ServiceAction::SyncContent],
    );
    wait_for(WAIT, "resumed to completed", || async {
        (h.job(&job_id).await["status"] == "completed").then_some(())
    })
    .await;
    svc.stop().await;
}

async fn deleted_connector_ends_running_job_in_error(mode: Mode) {
    let h = Harness::start(mode).await;
    h.put_connector(connector_doc("connected", configured_teams()))
        .await;
    let job_id = h.create_job(JobType::Full).await;
    let svc = spawn(&h, Behaviour::UntilStopped, &[ServiceAction::SyncContent]);
    wait_for(WAIT, "in_progress", || async {
        (h.job(&job_id).await["status"] == "in_progress").then_some(())
    })
    .await;
    let (status, _) = h
        .send(
            reqwest::Method::DELETE,
            &format!("/.elastic-connectors/_doc/{CID}?refresh=true"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let job = wait_for(WAIT, "error", || async {
        let j = h.job(&job_id).await;
        (j["status"] == "error").then_some(j)
    })
    .await;
    svc.stop().await;
    assert!(
        job["error"].as_str().unwrap().contains("was deleted"),
        "{job}"
    );
}

async fn schedule_creates_one_job_per_occurrence_across_two_instances(mode: Mode) {
    let h = Harness::start(mode).await;
    let mut doc = connector_doc("connected", configured_teams());
    doc["scheduling"]["full"] = json!({"enabled": true, "interval": "*/2 * * * * ?"});
    h.put_connector(doc).await;
    let started = Utc::now();
    let a = spawn(&h, Behaviour::Fail("unused"), &[ServiceAction::Schedule]);
    let b = spawn(&h, Behaviour::Fail("unused"), &[ServiceAction::Schedule]);
    tokio::time::sleep(Duration::from_millis(6500)).await;
    a.stop().await;
    b.stop().await;
    let ended = Utc::now();
    let jobs = h.jobs().await;
    let scheduled: Vec<_> = jobs
        .iter()
        .filter(|(_, j)| j["trigger_method"] == "scheduled")
        .collect();
    // Even seconds in (started, ended]: the most jobs there can be without duplicates; the first and last
    // occurrence may fall outside the windows the two instances covered.
    let occurrences = (started.timestamp() + 1..=ended.timestamp())
        .filter(|s| s % 2 == 0)
        .count();
    assert!(
        scheduled.len() <= occurrences && scheduled.len() + 2 >= occurrences,
        "{} scheduled jobs for {occurrences} occurrences",
        scheduled.len()
    );
    assert!(scheduled
        .iter()
        .all(|(_, j)| j["job_type"] == "full" && j["status"] == "pending"));
    assert!(h.connector().await["last_sync_scheduled_at"].is_string());
}

/// Passes that take longer than the gap between them must not swallow the occurrences that fall inside them
/// (the reference lost those). Every pass here lasts ~2.3 s and the schedule fires every 3 s, so each window holds at
/// most one occurrence and every occurrence must become a job.
async fn slow_passes_lose_no_occurrence(mode: Mode) {
    let h = Harness::start(mode).await;
    let mut doc = connector_doc("connected", configured_teams());
    doc["scheduling"]["full"] = json!({"enabled": true, "interval": "*/3 * * * * ?"});
    h.put_connector(doc).await;
    let started = Utc::now();
    let svc = h.spawn_with(
        Arc::new(TestEngine(
            Behaviour::Fail("unused"),
            Duration::from_secs(2),
        )),
        &[ServiceAction::Schedule],
    );
    tokio::time::sleep(Duration::from_secs(11)).await;
    let stopping = Utc::now();
    svc.stop().await;
    let scheduled = h
        .jobs()
        .await
        .into_iter()
        .filter(|(_, j)| j["trigger_method"] == "scheduled")
        .count();
    // Occurrences after the first pass started and before the last completed pass began: each must have a job.
    let covered = (started.timestamp() + 1..=stopping.timestamp() - 3)
        .filter(|s| s % 3 == 0)
        .count();
    let at_most = (started.timestamp() + 1..=stopping.timestamp())
        .filter(|s| s % 3 == 0)
        .count();
    assert!(
        scheduled >= covered && scheduled <= at_most,
        "{scheduled} jobs; expected between {covered} and {at_most}"
    );
}

async fn edited_filtering_draft_is_validated(mode: Mode) {
    let h = Harness::start(mode).await;
    let rule = |id: &str, value: &str| {
        json!({"id": id, "policy": "exclude", "field": "title", "rule": "contains", "value": value, "order": 1,
               "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"})
    };
    let mut doc = connector_doc("connected", configured_teams());
    doc["filtering"][0]["draft"] = json!({"rules": [rule("r1", "secret"), rule("r2", "secret")],
        "advanced_snippet": {"value": {}}, "validation": {"state": "edited", "errors": []}});
    h.put_connector(doc.clone()).await;
    let svc = spawn(&h, Behaviour::Fail("unused"), &[ServiceAction::Schedule]);
    let c = wait_for(WAIT, "invalid draft", || async {
        let c = h.connector().await;
        (c["filtering"][0]["draft"]["validation"]["state"] == "invalid").then_some(c)
    })
    .await;
    assert_eq!(
        c["filtering"][0]["draft"]["validation"]["errors"][0]["ids"],
        json!(["r1", "r2"])
    );
    assert_eq!(
        c["filtering"][0]["active"]["rules"],
        json!([]),
        "an invalid draft is not activated"
    );

    doc["filtering"][0]["draft"]["rules"] = json!([rule("r1", "secret")]);
    h.put_connector(doc).await;
    let c = wait_for(WAIT, "valid, activated draft", || async {
        let c = h.connector().await;
        (c["filtering"][0]["active"]["rules"]
            .as_array()
            .is_some_and(|r| r.len() == 1))
        .then_some(c)
    })
    .await;
    svc.stop().await;
    assert_eq!(c["filtering"][0]["draft"]["validation"]["state"], "valid");
    assert_eq!(c["filtering"][0]["active"]["rules"][0]["id"], "r1");
    // The check-in just before a validation changes the connector's version: the result is written against a
    // fresh copy, never refused as a conflict (which used to cost a pass and an error in the loop's budget).
    let conflicts: Vec<Value> =
        h.es.requests()
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r["status"] == 409)
            .collect();
    assert!(conflicts.is_empty(), "{conflicts:?}");
}

async fn access_control_jobs_end_in_error(mode: Mode) {
    let h = Harness::start(mode).await;
    let mut doc = connector_doc("connected", configured_teams());
    // Even a connector whose features claim DLS: the Teams source has none, so nothing may be crawled.
    doc["features"]["document_level_security"]["enabled"] = json!(true);
    h.put_connector(doc).await;
    let job_id = h.create_job(JobType::AccessControl).await;
    let svc = spawn(
        &h,
        Behaviour::Quick {
            indexed: 5,
            deleted: 0,
        },
        &[ServiceAction::SyncAccessControl],
    );
    let job = wait_for(WAIT, "a terminal job", || async {
        let j = h.job(&job_id).await;
        (j["status"] == "error").then_some(j)
    })
    .await;
    svc.stop().await;
    let error = job["error"].as_str().unwrap();
    assert!(
        error.starts_with("UnsupportedJobType: access control syncs are not available for Microsoft Teams connectors"),
        "{error}"
    );
    assert_eq!(job["indexed_document_count"], 0, "the engine never ran");
    let (status, _) = h
        .send(
            reqwest::Method::HEAD,
            "/.search-acl-filter-search-teams",
            None,
        )
        .await;
    assert_eq!(status, 404, "no access-control index is created");
    let c = h.connector().await;
    assert_eq!(c["last_access_control_sync_status"], "error");
    assert_eq!(c["last_access_control_sync_error"], error);
}

async fn a_connector_without_status_is_validated(mode: Mode) {
    let h = Harness::start(mode).await;
    h.put_connector(connector_doc("connected", configured_teams()))
        .await;
    let mut doc = h.connector().await;
    doc["status"] = Value::Null;
    h.put_connector(doc).await;
    let svc = spawn(&h, Behaviour::Fail("unused"), &[ServiceAction::Schedule]);
    wait_for(WAIT, "connected", || async {
        (h.connector().await["status"] == "connected").then_some(())
    })
    .await;
    svc.stop().await;
}

async fn invalid_schedule_is_a_connector_error(mode: Mode) {
    let h = Harness::start(mode).await;
    let mut doc = connector_doc("connected", configured_teams());
    doc["scheduling"]["full"] = json!({"enabled": true, "interval": "0 60 * * * ?"});
    h.put_connector(doc).await;
    let svc = spawn(&h, Behaviour::Fail("unused"), &[ServiceAction::Schedule]);
    let c = wait_for(WAIT, "error", || async {
        let c = h.connector().await;
        (c["status"] == "error").then_some(c)
    })
    .await;
    // Several more passes: the status stays `error` (no flapping back to `connected`) and no job is created.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let again = h.connector().await;
    svc.stop().await;
    let message = c["error"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("Invalid full sync schedule:") && message.contains("minute 60"),
        "{message}"
    );
    assert_eq!(again["status"], "error");
    assert!(h.jobs().await.is_empty());
}

async fn cleanup_fails_orphaned_and_idle_jobs(mode: Mode) {
    let h = Harness::start(mode).await;
    h.put_connector(connector_doc("connected", configured_teams()))
        .await;
    let long_ago = (Utc::now() - chrono::Duration::minutes(10)).to_rfc3339();
    let recent = Utc::now().to_rfc3339();
    let job = |cid: &str, status: &str, last_seen: &str| {
        json!({"connector": {"id": cid, "index_name": "search-teams", "service_type": "microsoft_teams"},
               "job_type": "full", "trigger_method": "on_demand", "status": status,
               "created_at": last_seen, "last_seen": last_seen, "indexed_document_count": 7})
    };
    for (id, body) in [
        ("orphan", job("gone-connector", "in_progress", &recent)),
        ("idle", job(CID, "in_progress", &long_ago)),
        ("fresh", job(CID, "in_progress", &recent)),
        ("waiting", job(CID, "pending", &long_ago)),
    ] {
        let (s, b) = h
            .send(
                reqwest::Method::PUT,
                &format!("/.elastic-connectors-sync-jobs/_doc/{id}?refresh=true"),
                Some(body),
            )
            .await;
        assert!(s < 300, "{b}");
    }
    cleanup::clean(&h.context_with(Arc::new(TestEngine::new(Behaviour::Fail("unused")))))
        .await
        .unwrap();
    for (id, want) in [
        ("orphan", "error"),
        ("idle", "error"),
        ("fresh", "in_progress"),
        ("waiting", "pending"),
    ] {
        let j = h.job(id).await;
        assert_eq!(j["status"], want, "{id}");
        if want == "error" {
            assert_eq!(j["error"], cleanup::STALE_JOB_MESSAGE);
        }
    }
    let c = h.connector().await;
    assert_eq!(c["last_sync_status"], "error");
    assert_eq!(c["last_sync_error"], cleanup::STALE_JOB_MESSAGE);
    assert_eq!(c["last_indexed_document_count"], 7);
}

macro_rules! both_modes {
    ($($name:ident),* $(,)?) => {
        mod api {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Mode::Api).await })*
        }
        mod direct {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Mode::Direct).await })*
        }
    };
}

both_modes!(
    fresh_connector_is_prepared_and_checked_in,
    configuration_checks_set_connected_or_error,
    completed_sync_records_counts,
    failed_sync_marks_job_and_connector,
    job_with_invalid_configuration_fails,
    cancel_mid_sync,
    shutdown_suspends_and_restart_resumes,
    deleted_connector_ends_running_job_in_error,
    schedule_creates_one_job_per_occurrence_across_two_instances,
    slow_passes_lose_no_occurrence,
    edited_filtering_draft_is_validated,
    invalid_schedule_is_a_connector_error,
    cleanup_fails_orphaned_and_idle_jobs,
    access_control_jobs_end_in_error,
    a_connector_without_status_is_validated,
);
