//! Log output: human-readable lines by default, ECS JSON lines (for Filebeat) with `--filebeat`.
//! The level comes from the CLI, else `service.log_level`, else INFO; `elasticsearch.log_level` sets the level of
//! the Elasticsearch client library. Nothing here ever formats a secret: secrets are `Secret` values that print `***`.

use std::fmt;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    /// One ECS-style JSON object per line.
    Ecs,
}

/// Chooses the level: CLI first, then `service.log_level`, then INFO.
pub fn choose_level(cli: Option<LevelFilter>, service: Option<LevelFilter>) -> LevelFilter {
    cli.or(service).unwrap_or(LevelFilter::INFO)
}

/// The filter: our level everywhere, the ES client library at its own level, chatty HTTP internals at WARN.
pub fn filter(level: LevelFilter, es_client_level: LevelFilter) -> EnvFilter {
    let noisy = ["hyper", "hyper_util", "reqwest", "rustls", "h2"];
    let mut directives = vec![
        level.to_string().to_lowercase(),
        format!(
            "elasticsearch={}",
            es_client_level.to_string().to_lowercase()
        ),
    ];
    let quiet = if level > LevelFilter::WARN {
        LevelFilter::WARN
    } else {
        level
    };
    directives.extend(
        noisy
            .iter()
            .map(|t| format!("{t}={}", quiet.to_string().to_lowercase())),
    );
    EnvFilter::new(directives.join(","))
}

/// Installs the global subscriber, writing to stderr. Call once.
pub fn init(level: LevelFilter, es_client_level: LevelFilter, format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter(level, es_client_level));
    let result = match format {
        LogFormat::Human => builder.with_target(false).try_init(),
        LogFormat::Ecs => builder.event_format(EcsFormat).try_init(),
    };
    // A second init (tests) keeps the first subscriber; nothing to report.
    let _ = result;
}

/// Formats events as ECS JSON: `@timestamp`, `log.level`, `message`, `log.logger`, `ecs.version`, plus the
/// event's own fields under their names.
pub struct EcsFormat;

impl<S, N> FormatEvent<S, N> for EcsFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        writeln!(writer, "{}", ecs_line(event, chrono::Utc::now()))
    }
}

fn ecs_line(event: &Event<'_>, now: chrono::DateTime<chrono::Utc>) -> String {
    let meta = event.metadata();
    let mut fields = FieldMap(Map::new());
    event.record(&mut fields);
    let mut obj = Map::new();
    obj.insert(
        "@timestamp".into(),
        now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            .into(),
    );
    obj.insert(
        "log.level".into(),
        meta.level().as_str().to_lowercase().into(),
    );
    obj.insert(
        "message".into(),
        fields
            .0
            .remove("message")
            .unwrap_or(Value::String(String::new())),
    );
    obj.insert("log.logger".into(), meta.target().into());
    obj.insert("ecs.version".into(), "1.6.0".into());
    obj.insert("service.type".into(), "connectors-rust".into());
    for (k, v) in fields.0 {
        obj.entry(k).or_insert(v);
    }
    Value::Object(obj).to_string()
}

struct FieldMap(Map<String, Value>);

impl Visit for FieldMap {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn level_precedence() {
        assert_eq!(
            choose_level(Some(LevelFilter::DEBUG), Some(LevelFilter::ERROR)),
            LevelFilter::DEBUG
        );
        assert_eq!(
            choose_level(None, Some(LevelFilter::ERROR)),
            LevelFilter::ERROR
        );
        assert_eq!(choose_level(None, None), LevelFilter::INFO);
    }

    #[test]
    fn filter_keeps_http_internals_quiet() {
        let f = filter(LevelFilter::DEBUG, LevelFilter::INFO).to_string();
        assert!(
            f.contains("debug") && f.contains("elasticsearch=info") && f.contains("hyper=warn"),
            "{f}"
        );
    }

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn ecs_lines_are_json_with_ecs_keys() {
        let buf = Buf::default();
        let writer = buf.clone();
        let layer = tracing_subscriber::fmt::layer()
            .event_format(EcsFormat)
            .with_writer(move || writer.clone());
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(
                connector_id = "abc",
                attempts = 3,
                "Elasticsearch is not reachable"
            );
        });
        let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["log.level"], "warn");
        assert_eq!(v["message"], "Elasticsearch is not reachable");
        assert_eq!(v["connector_id"], "abc");
        assert_eq!(v["attempts"], 3);
        assert_eq!(v["ecs.version"], "1.6.0");
        assert!(v["@timestamp"].as_str().unwrap().ends_with('Z'));
    }
}
