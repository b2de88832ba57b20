//! A source that exists only in this crate's unit tests: its configuration's `titles` field (comma-separated)
//! becomes one document per title. It is registered in `sources::REGISTRY` exactly as Teams is — one folder,
//! one registry line — and its test runs it through the real service (admin API, scheduler, executor, engine,
//! bulk sink) against the Elasticsearch stand-in, which proves that nothing else names a source.

use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::{self, BoxStream, StreamExt};
use serde_json::{json, Map, Value};

use crate::config::Config;
use crate::net::Outbound;
use crate::source::{
    Source, SourceDoc, SourceError, SourceEvent, SourceFactory, SourceInfo, SyncKind,
};

pub const SOURCE: SourceInfo = SourceInfo {
    service_type: "echo",
    display_name: "Echo (unit tests only)",
    default_configuration,
    features,
    schema_migrations: Vec::new,
    factory,
};

fn default_configuration() -> Value {
    json!({"titles": {
        "default_value": null, "depends_on": [], "display": "text", "label": "Titles", "options": [],
        "order": 1, "required": true, "sensitive": false, "tooltip": null, "type": "str",
        "ui_restrictions": [], "validations": [], "value": ""
    }})
}

fn features() -> Value {
    json!({"sync_rules": {"basic": {"enabled": true}, "advanced": {"enabled": false}}})
}

fn factory(_config: &Config, _outbound: &Outbound) -> Result<Arc<dyn SourceFactory>, SourceError> {
    Ok(Arc::new(EchoFactory))
}

struct EchoFactory;

impl SourceFactory for EchoFactory {
    fn create(
        &self,
        _service_type: &str,
        values: &Map<String, Value>,
    ) -> Result<Box<dyn Source>, SourceError> {
        let titles = values.get("titles").and_then(Value::as_str).unwrap_or("");
        let titles: Vec<String> = titles
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect();
        if titles.is_empty() {
            return Err(SourceError::configuration("`titles` lists no title"));
        }
        Ok(Box::new(Echo { titles }))
    }
}

struct Echo {
    titles: Vec<String>,
}

#[async_trait]
impl Source for Echo {
    async fn ping(&self) -> Result<(), SourceError> {
        Ok(())
    }

    fn docs(
        &self,
        _kind: SyncKind,
        _cursor: Option<Value>,
    ) -> BoxStream<'_, Result<SourceEvent, SourceError>> {
        stream::iter(self.titles.iter().map(|title| {
            let doc = json!({"_id": format!("echo-{title}"), "title": title,
                             "_timestamp": "2026-01-01T00:00:00+00:00"});
            Ok(SourceEvent::Doc(SourceDoc {
                doc: doc.as_object().cloned().unwrap_or_default(),
                download: None,
            }))
        }))
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;
    use tokio_util::sync::CancellationToken;

    use crate::admin::{self, NewConnector};
    use crate::config::{self, Environment};
    use crate::es::{EsClient, JobType};
    use crate::net::Outbound;
    use crate::service::{self, ServiceAction};
    use crate::sources::REGISTRY;

    /// The whole service runs the echo source by its registry line alone: `admin` creates the connector with
    /// the echo defaults, the scheduler prepares it, the executor runs its job, the engine indexes its documents.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_second_source_is_one_folder_and_one_registry_line() {
        let es = ftest::standin::StandIn::start(Default::default())
            .expect("start the stand-in (cargo build -p ftest --bins; make es-install)");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.yml");
        let yaml = format!(
            "elasticsearch:\n  host: {}\n  username: elastic\n  password: changeme\n\
             service:\n  idling: 0.2\n\
             connectors:\n  - connector_id: echo-1\n    service_type: echo\n",
            es.url
        );
        std::fs::write(&path, yaml).unwrap();
        let env = Environment {
            vars: Default::default(),
            cwd: dir.path().into(),
        };
        let mut config = config::load_with(&path, &env).unwrap();
        config
            .validate_for_service(&REGISTRY.service_types())
            .unwrap();
        let es_client = EsClient::new(&config.elasticsearch, &Outbound::default()).unwrap();
        let values = json!({"titles": "alpha, beta,gamma"});
        admin::create_connector(
            &es_client,
            &NewConnector {
                connector_id: Some("echo-1".into()),
                name: Some("echo".into()),
                index_name: "search-echo".into(),
                service_type: "echo".into(),
                values: values.as_object().cloned().unwrap(),
                update_config: false,
                mint_api_key: false,
            },
        )
        .await
        .unwrap();
        let job_id = admin::start_job(&es_client, "echo-1", JobType::Full)
            .await
            .unwrap();

        let stop = CancellationToken::new();
        let actions = [ServiceAction::Schedule, ServiceAction::SyncContent];
        let service = {
            let (config, stop) = (config.clone(), stop.clone());
            tokio::spawn(async move { service::run(&config, &actions, REGISTRY, stop).await })
        };
        let mut status = String::new();
        for _ in 0..150 {
            let job = admin::view_job(&es_client, &job_id).await.unwrap();
            status = job["status"].as_str().unwrap_or_default().to_string();
            if matches!(status.as_str(), "completed" | "error" | "canceled") {
                assert_eq!(status, "completed", "{job}");
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        stop.cancel();
        service.await.unwrap().unwrap();
        assert_eq!(status, "completed");

        let found = es_client
            .call(
                elasticsearch::http::Method::Post,
                "/search-echo/_search",
                &[("size", "10")],
                Some(&json!({"query": {"match_all": {}}, "sort": [{"_id": "asc"}]})),
            )
            .await
            .unwrap();
        let ids: Vec<&str> = found["hits"]["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["echo-alpha", "echo-beta", "echo-gamma"]);
    }
}
