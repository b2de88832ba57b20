//! The checks a loaded [`Config`] must pass: value ranges every file must respect (checked by `load_with`),
//! and what running the service needs on top (`Config::validate_for_service`). Each failure is a one-line
//! [`ConfigError::Invalid`] naming the key.

use super::{parse_log_level, Config, ConfigError};

/// The placeholder value the reference's example config ships with.
const PLACEHOLDER: &str = "changeme";

/// Beyond this the exponential start-up wait grows absurdly fast and its arithmetic stops being meaningful.
const MAX_BACKOFF_MULTIPLIER: f64 = 10.0;

/// Downloads are held in memory while they are encoded or extracted: 1 GiB is far past any sensible setting.
const MAX_FILE_DOWNLOAD_SIZE: u64 = 1 << 30;

impl Config {
    fn invalid(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.clone(),
            key: key.into(),
            message: message.into(),
        }
    }

    /// Counts, sizes and rates the service allocates, multiplies or sleeps by: each within a range that cannot
    /// overflow, abort on allocation, or make a semaphore panic, else a one-line error naming the key. (Durations
    /// are bounded where they are read: see `lenient::Seconds`.)
    fn check_ranges(&self) -> Result<(), ConfigError> {
        let es = &self.elasticsearch;
        let b = &es.bulk;
        let m = &b.error_monitor;
        let s = &self.service;
        let counts: [(&str, u64, u64, u64); 13] = [
            (
                "elasticsearch.max_retries",
                u64::from(es.max_retries),
                0,
                1_000,
            ),
            (
                "elasticsearch.bulk.queue_max_size",
                b.queue_max_size as u64,
                1,
                1_000_000,
            ),
            (
                "elasticsearch.bulk.chunk_size",
                b.chunk_size as u64,
                1,
                100_000,
            ),
            (
                "elasticsearch.bulk.max_concurrency",
                b.max_concurrency as u64,
                0,
                1_000,
            ),
            (
                "elasticsearch.bulk.concurrent_downloads",
                b.concurrent_downloads as u64,
                0,
                1_000,
            ),
            (
                "elasticsearch.bulk.max_retries",
                u64::from(b.max_retries),
                0,
                1_000,
            ),
            (
                "elasticsearch.bulk.error_monitor.error_window_size",
                m.error_window_size as u64,
                0,
                1_000_000,
            ),
            (
                "elasticsearch.bulk.error_monitor.error_queue_size",
                m.error_queue_size as u64,
                0,
                10_000,
            ),
            (
                "service.max_concurrent_content_syncs",
                s.max_concurrent_content_syncs as u64,
                0,
                1_000,
            ),
            (
                "service.max_concurrent_access_control_syncs",
                s.max_concurrent_access_control_syncs as u64,
                0,
                1_000,
            ),
            (
                "service.max_concurrent_scheduling_tasks",
                s.max_concurrent_scheduling_tasks as u64,
                0,
                1_000,
            ),
            (
                "service.max_file_download_size",
                s.max_file_download_size,
                0,
                MAX_FILE_DOWNLOAD_SIZE,
            ),
            (
                "service.preflight_max_attempts",
                u64::from(s.preflight_max_attempts),
                0,
                1_000_000,
            ),
        ];
        for (key, value, min, max) in counts {
            if !(min..=max).contains(&value) {
                return Err(self.invalid(
                    key,
                    format!("must be a whole number from {min} to {max}, got {value}"),
                ));
            }
        }
        let sizes: [(&str, f64, f64); 4] = [
            (
                "elasticsearch.bulk.queue_max_mem_size",
                b.queue_max_mem_size,
                16_384.0,
            ),
            (
                "elasticsearch.bulk.chunk_max_mem_size",
                b.chunk_max_mem_size,
                1_024.0,
            ),
            (
                "elasticsearch.bulk.max_text_document_size",
                b.max_text_document_size,
                1_024.0,
            ),
            (
                "elasticsearch.bulk.error_monitor.max_error_rate",
                m.max_error_rate,
                1.0,
            ),
        ];
        for (key, value, max) in sizes {
            if !(0.0..=max).contains(&value) {
                return Err(self.invalid(
                    key,
                    format!("must be a number from 0 to {max}, got {value}"),
                ));
            }
        }
        Ok(())
    }

    /// Value ranges that no file may break, whatever the action.
    pub(super) fn check_values(&self) -> Result<(), ConfigError> {
        let es = &self.elasticsearch;
        match url::Url::parse(&es.host) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            Ok(u) => {
                return Err(self.invalid(
                    "elasticsearch.host",
                    format!(
                        "expected an http:// or https:// URL, got scheme `{}`",
                        u.scheme()
                    ),
                ))
            }
            Err(e) => {
                return Err(self.invalid(
                    "elasticsearch.host",
                    format!("`{}` is not a URL: {e}", es.host),
                ))
            }
        }
        if self.service.fips_mode {
            return Err(self.invalid(
                "service.fips_mode",
                "true is not supported: this build's TLS and crypto libraries are not FIPS 140 validated, so it cannot guarantee FIPS mode; set it to false or run a FIPS-validated deployment",
            ));
        }
        let share = self.service.delete_guard_share;
        if !(share.is_finite() && share > 0.0) {
            return Err(self.invalid(
                "service.delete_guard_share",
                "must be a number greater than 0 (0.5 = half of the index; 1 or more turns the guard off)",
            ));
        }
        if !(1.0..=MAX_BACKOFF_MULTIPLIER).contains(&es.backoff_multiplier) {
            return Err(self.invalid(
                "elasticsearch.backoff_multiplier",
                format!("must be a number from 1 to {MAX_BACKOFF_MULTIPLIER}"),
            ));
        }
        self.check_ranges()?;
        if es.request_timeout.get().is_zero() {
            return Err(self.invalid("elasticsearch.request_timeout", "must be greater than 0"));
        }
        if parse_log_level(&es.log_level).is_none() {
            return Err(self.invalid(
                "elasticsearch.log_level",
                format!(
                    "unknown log level `{}` (expected DEBUG, INFO, WARNING, ERROR or CRITICAL)",
                    es.log_level
                ),
            ));
        }
        if let Some(level) = &self.service.log_level {
            if parse_log_level(level).is_none() {
                return Err(self.invalid("service.log_level", format!("unknown log level `{level}` (expected DEBUG, INFO, WARNING, ERROR or CRITICAL)")));
            }
        }
        let b = &es.bulk;
        let at_least_one = [
            ("elasticsearch.bulk.queue_max_size", b.queue_max_size),
            ("elasticsearch.bulk.chunk_size", b.chunk_size),
            ("elasticsearch.bulk.max_concurrency", b.max_concurrency),
            (
                "elasticsearch.bulk.concurrent_downloads",
                b.concurrent_downloads,
            ),
            (
                "service.max_concurrent_content_syncs",
                self.service.max_concurrent_content_syncs,
            ),
            (
                "service.max_concurrent_access_control_syncs",
                self.service.max_concurrent_access_control_syncs,
            ),
            (
                "service.max_concurrent_scheduling_tasks",
                self.service.max_concurrent_scheduling_tasks,
            ),
            (
                "service.preflight_max_attempts",
                self.service.preflight_max_attempts as usize,
            ),
        ];
        for (key, v) in at_least_one {
            if v == 0 {
                return Err(self.invalid(key, "must be at least 1"));
            }
        }
        for (key, v) in [
            (
                "elasticsearch.bulk.queue_max_mem_size",
                b.queue_max_mem_size,
            ),
            (
                "elasticsearch.bulk.chunk_max_mem_size",
                b.chunk_max_mem_size,
            ),
        ] {
            if v <= 0.0 || !v.is_finite() {
                return Err(self.invalid(key, "must be a number of MiB greater than 0"));
            }
        }
        if b.max_text_document_size < 0.0 || !b.max_text_document_size.is_finite() {
            return Err(self.invalid(
                "elasticsearch.bulk.max_text_document_size",
                "must be ≥ 0 (0 disables the limit)",
            ));
        }
        if !(0.0..=1.0).contains(&b.error_monitor.max_error_rate) {
            return Err(self.invalid(
                "elasticsearch.bulk.error_monitor.max_error_rate",
                "must be between 0 and 1",
            ));
        }
        for (key, v) in [
            ("service.idling", self.service.idling),
            ("service.heartbeat", self.service.heartbeat),
        ] {
            if v.get().is_zero() {
                return Err(self.invalid(key, "must be greater than 0"));
            }
        }
        Ok(())
    }

    /// What running the service needs beyond a well-formed file: something to serve, no placeholders, and
    /// service types this binary implements (`known`).
    pub fn validate_for_service(&mut self, known: &[&str]) -> Result<(), ConfigError> {
        let list = known.join(", ");
        if self.service.worker_mode {
            if self.service.service_types.is_empty() {
                return Err(self.invalid(
                    "service.service_types",
                    "must list at least one service type when service.worker_mode is true",
                ));
            }
            for (i, t) in self.service.service_types.iter().enumerate() {
                if !known.contains(&t.as_str()) {
                    return Err(self.invalid(
                        &format!("service.service_types[{i}]"),
                        format!("unknown service type `{t}` (this service implements: {list})"),
                    ));
                }
            }
        } else if !self.service.service_types.is_empty() {
            self.warnings
                .push("service.service_types: ignored because service.worker_mode is false".into());
        }
        if self.connectors.is_empty() && !self.service.worker_mode {
            return Err(self.invalid("connectors", "no connector configured: add an entry with connector_id and service_type (the id comes from Kibana or the connectors CLI)"));
        }
        for (i, c) in self.connectors.iter().enumerate() {
            if c.connector_id == PLACEHOLDER {
                return Err(self.invalid(
                    &format!("connectors[{i}].connector_id"),
                    "still the placeholder `changeme`: put the connector's id here",
                ));
            }
            if c.service_type == PLACEHOLDER {
                return Err(self.invalid(
                    &format!("connectors[{i}].service_type"),
                    format!("still the placeholder `changeme`: use one of {list}"),
                ));
            }
            if c.service_type.is_empty() {
                return Err(self.invalid(
                    &format!("connectors[{i}].service_type"),
                    format!("missing: use one of {list}"),
                ));
            }
            if !known.contains(&c.service_type.as_str()) {
                return Err(self.invalid(
                    &format!("connectors[{i}].service_type"),
                    format!(
                        "unknown service type `{}` (this service implements: {list})",
                        c.service_type
                    ),
                ));
            }
        }
        Ok(())
    }
}
