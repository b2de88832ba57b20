//! Log output: human-readable lines by default, ECS JSON lines (for Filebeat) with `--filebeat`, both on stderr
//! like the reference (Python's `logging.StreamHandler`). The level comes from the CLI, else `service.log_level`,
//! else INFO; `elasticsearch.log_level` sets the level of the Elasticsearch client library. Nothing here ever
//! formats a secret: secrets are `Secret` values that print `***`.
//!
//! ECS lines are what ecs-logging's `StdlibFormatter` writes for the reference: `@timestamp`, `log.level`
//! (Python's level names), `message` and `ecs.version` as top-level dotted keys, everything else nested
//! (`log.logger`, `service.type`, `labels.*`, `error.*`). Field placement is one table, [`ECS_FIELDS`]: the ids the
//! reference sends as `labels.connector_id` / `labels.sync_job_id` / `labels.index_name`, `error` as
//! `error.message`; any other event or span field becomes a `labels.*` string, so no field of ours can collide
//! with an ECS object field (`host`, `error`, `event`, `url`, ...).
//!
//! Spans carry context: the job runner enters a span with the job's ids around the whole job, so every line of a
//! sync names its connector and job — in human lines as `sync_job{connector_id=… sync_job_id=… index_name=…}:`,
//! in ECS lines as labels.

use std::fmt;
use std::io::IsTerminal;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, Layer};

/// The ECS version of the lines (the one ecs-logging-python writes).
pub const ECS_VERSION: &str = "1.6.0";
/// `service.type` of every ECS line (the reference writes `connectors-python`).
pub const SERVICE_TYPE: &str = "connectors-rust";

/// Where an event or span field goes in an ECS line, by field name. Fields not listed become `labels.<name>`.
/// Values are written as strings: ECS maps `labels.*`, `error.message` and `error.type` as keywords.
pub const ECS_FIELDS: &[(&str, &str)] = &[
    ("connector_id", "labels.connector_id"),
    ("sync_job_id", "labels.sync_job_id"),
    // Lines outside a job's span name the job `job_id`.
    ("job_id", "labels.sync_job_id"),
    ("index_name", "labels.index_name"),
    ("error", "error.message"),
    ("error_type", "error.type"),
];
/// The ECS object that holds every field not in [`ECS_FIELDS`].
const OTHER_FIELDS: &str = "labels";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines; ANSI colours only when `colour` is set (see [`colour_wanted`]).
    Human { colour: bool },
    /// One ECS JSON object per line.
    Ecs,
}

/// Chooses the level: CLI first, then `service.log_level`, then INFO.
pub fn choose_level(cli: Option<LevelFilter>, service: Option<LevelFilter>) -> LevelFilter {
    cli.or(service).unwrap_or(LevelFilter::INFO)
}

/// Colours only for a person at a terminal: never when stderr is a file, a pipe or `docker logs`, nor when
/// `NO_COLOR` is set (<https://no-color.org>).
pub fn colour_wanted(no_color: bool) -> bool {
    !no_color && std::io::stderr().is_terminal()
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

/// The subscriber for `format`, writing through `writer`. [`init`] installs it on stderr; tests capture lines.
pub fn subscriber<W>(
    filter: EnvFilter,
    format: LogFormat,
    writer: W,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let registry = tracing_subscriber::registry().with(filter);
    match format {
        LogFormat::Human { colour } => Box::new(
            registry.with(
                tracing_subscriber::fmt::layer()
                    .with_writer(writer)
                    .with_target(false)
                    .with_ansi(colour),
            ),
        ),
        LogFormat::Ecs => Box::new(
            registry.with(SpanFieldsLayer).with(
                tracing_subscriber::fmt::layer()
                    .with_writer(writer)
                    .with_ansi(false)
                    .event_format(EcsFormat),
            ),
        ),
    }
}

/// Installs the global subscriber, writing to stderr. Call once.
pub fn init(level: LevelFilter, es_client_level: LevelFilter, format: LogFormat) {
    let subscriber = subscriber(filter(level, es_client_level), format, std::io::stderr);
    // A second init (tests) keeps the first subscriber; nothing to report.
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// One ECS line for an error that happens before logging is set up (a bad config file with `--filebeat`).
pub fn ecs_error_line(message: &str) -> String {
    EcsLine {
        level: Level::ERROR,
        message: message.to_string(),
        logger: env!("CARGO_CRATE_NAME"),
        origin: None,
        fields: Vec::new(),
    }
    .render(chrono::Utc::now())
}

/// Python's level names, lowercased, as ecs-logging writes them. Python has no TRACE: it is written as `debug`,
/// so consumers of the reference's lines see only names they know.
fn level_name(level: Level) -> &'static str {
    match level {
        Level::TRACE | Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warning",
        Level::ERROR => "error",
    }
}

/// An ECS line before rendering.
struct EcsLine<'a> {
    level: Level,
    message: String,
    logger: &'a str,
    /// Source file and line of the event.
    origin: Option<(&'a str, u32)>,
    /// Span fields (outermost first), then the event's: a later value for the same name wins.
    fields: Vec<(String, Value)>,
}

impl EcsLine<'_> {
    fn render(self, now: chrono::DateTime<chrono::Utc>) -> String {
        let mut rest = Map::new();
        insert_path(&mut rest, "log.logger", self.logger.into());
        if let Some((file, line)) = self.origin {
            insert_path(&mut rest, "log.origin.file.name", file.into());
            insert_path(&mut rest, "log.origin.file.line", line.into());
        }
        insert_path(&mut rest, "process.pid", std::process::id().into());
        insert_path(&mut rest, "service.type", SERVICE_TYPE.into());
        insert_path(
            &mut rest,
            "service.version",
            env!("CARGO_PKG_VERSION").into(),
        );
        // The reference's Filebeat setup names daily indices after it (it uses local time; this is UTC like
        // `@timestamp`).
        insert_path(
            &mut rest,
            "labels.index_date",
            now.format("%Y.%m.%d").to_string().into(),
        );
        for (name, value) in self.fields {
            insert_path(&mut rest, &ecs_path(&name), as_keyword(value));
        }
        // The four keys ECS logging requires come first, dotted, in this order; then the nested rest.
        let head = [
            (
                "@timestamp",
                Value::from(now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            ),
            ("log.level", level_name(self.level).into()),
            ("message", self.message.into()),
            ("ecs.version", ECS_VERSION.into()),
        ];
        let mut line = String::from("{");
        for (i, (key, value)) in head.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            line.push_str(&format!("{}:{value}", Value::from(*key)));
        }
        let rest = Value::Object(rest).to_string();
        line.push(',');
        line.push_str(&rest[1..]);
        line
    }
}

/// The ECS path of a field: from [`ECS_FIELDS`], else a label.
fn ecs_path(name: &str) -> String {
    ECS_FIELDS
        .iter()
        .find(|(field, _)| *field == name)
        .map(|(_, path)| path.to_string())
        .unwrap_or_else(|| format!("{OTHER_FIELDS}.{name}"))
}

/// Labels and error texts are keywords: numbers and booleans are written as their text.
fn as_keyword(value: Value) -> Value {
    match value {
        Value::String(s) => Value::String(s),
        other => Value::String(other.to_string()),
    }
}

/// Inserts `value` at a dotted path, creating the objects on the way (a leaf in the way is replaced: the table's
/// paths never nest under one another, so this only happens if a field name is reused with another meaning).
fn insert_path(root: &mut Map<String, Value>, path: &str, value: Value) {
    let mut node = root;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            node.insert(part.to_string(), value);
            return;
        }
        let child = node
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !child.is_object() {
            *child = Value::Object(Map::new());
        }
        let Value::Object(map) = child else { return };
        node = map;
    }
}

/// Formats events as ECS JSON lines, with the fields of the spans they happen in.
pub struct EcsFormat;

impl<S, N> FormatEvent<S, N> for EcsFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Vec::new();
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                if let Some(SpanFields(recorded)) = span.extensions().get::<SpanFields>() {
                    fields.extend(recorded.iter().cloned());
                }
            }
        }
        let mut own = FieldList::default();
        event.record(&mut own);
        let mut message = String::new();
        for (name, value) in own.0 {
            match (name.as_str(), value) {
                ("message", Value::String(text)) => message = text,
                (_, value) => fields.push((name, value)),
            }
        }
        let meta = event.metadata();
        let line = EcsLine {
            level: *meta.level(),
            message,
            logger: meta.target(),
            origin: meta.file().zip(meta.line()),
            fields,
        };
        writeln!(writer, "{}", line.render(chrono::Utc::now()))
    }
}

/// A span's fields as recorded, kept in the span's extensions for [`EcsFormat`].
struct SpanFields(Vec<(String, Value)>);

/// Records span fields structurally (the fmt layer keeps only their formatted text).
struct SpanFieldsLayer;

impl<S> Layer<S> for SpanFieldsLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = FieldList::default();
        attrs.record(&mut fields);
        span.extensions_mut().insert(SpanFields(fields.0));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = FieldList::default();
        values.record(&mut fields);
        let mut extensions = span.extensions_mut();
        match extensions.get_mut::<SpanFields>() {
            Some(SpanFields(recorded)) => recorded.extend(fields.0),
            None => extensions.insert(SpanFields(fields.0)),
        }
    }
}

#[derive(Default)]
struct FieldList(Vec<(String, Value)>);

impl Visit for FieldList {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().into(), value.into()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.push((field.name().into(), value.into()));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.push((field.name().into(), value.into()));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.push((field.name().into(), value.into()));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.push((field.name().into(), value.into()));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.push((field.name().into(), value.to_string().into()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .push((field.name().into(), format!("{value:?}").into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

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
            crate::lock::lock(&self.0).extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn capture(format: LogFormat, emit: impl FnOnce()) -> String {
        let buf = Buf::default();
        let writer = buf.clone();
        let subscriber = subscriber(EnvFilter::new("debug"), format, move || writer.clone());
        tracing::subscriber::with_default(subscriber, emit);
        let out = crate::lock::lock(&buf.0).clone();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn ecs_lines_put_ids_in_labels_and_errors_in_error() {
        let out = capture(LogFormat::Ecs, || {
            let span = tracing::error_span!("sync_job", connector_id = "abc", sync_job_id = "j1");
            let _entered = span.enter();
            tracing::warn!(
                attempts = 3,
                host = "http://es:9200",
                error = "connection refused",
                "Elasticsearch is not reachable"
            );
        });
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        assert!(
            out.starts_with(r#"{"@timestamp":"#),
            "required keys first: {out}"
        );
        assert_eq!(v["log.level"], "warning");
        assert_eq!(v["message"], "Elasticsearch is not reachable");
        assert_eq!(v["ecs.version"], ECS_VERSION);
        assert_eq!(v["labels"]["connector_id"], "abc");
        assert_eq!(v["labels"]["sync_job_id"], "j1");
        assert_eq!(v["labels"]["attempts"], "3");
        assert_eq!(v["labels"]["host"], "http://es:9200");
        assert_eq!(v["error"]["message"], "connection refused");
        assert_eq!(v["service"]["type"], SERVICE_TYPE);
        assert_eq!(v["service"]["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(v["log"]["logger"], module_path!());
        assert!(v.get("host").is_none() && v.get("connector_id").is_none());
        assert!(v["@timestamp"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn job_id_outside_a_span_is_the_sync_job_label() {
        let out = capture(LogFormat::Ecs, || {
            tracing::info!(job_id = "j2", status = 403u16, "Failing a job");
        });
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["labels"]["sync_job_id"], "j2");
        assert_eq!(v["labels"]["status"], "403");
        assert_eq!(v["log.level"], "info");
    }

    #[test]
    fn human_lines_show_span_fields_and_no_colour_unless_asked() {
        let emit = || {
            let span = tracing::error_span!("sync_job", connector_id = "abc");
            let _entered = span.enter();
            tracing::info!(seen = 5, "Sync finished");
        };
        let plain = capture(LogFormat::Human { colour: false }, emit);
        assert!(!plain.contains('\x1b'), "{plain:?}");
        assert!(
            plain.contains("sync_job{connector_id=\"abc\"}: Sync finished seen=5"),
            "{plain}"
        );
        let coloured = capture(LogFormat::Human { colour: true }, emit);
        assert!(coloured.contains("\x1b["), "{coloured:?}");
    }

    #[test]
    fn startup_errors_are_one_ecs_line() {
        let line = ecs_error_line("config error: /etc/config.yml: service.idling: invalid type");
        assert!(!line.contains('\n'));
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["log.level"], "error");
        assert_eq!(
            v["message"],
            "config error: /etc/config.yml: service.idling: invalid type"
        );
        assert_eq!(v["service"]["type"], SERVICE_TYPE);
    }

    #[test]
    fn table_paths_never_nest_under_each_other() {
        for (_, a) in ECS_FIELDS {
            for (_, b) in ECS_FIELDS {
                assert!(!b.starts_with(&format!("{a}.")), "{a} and {b}");
            }
        }
    }
}
