//! Elasticsearch REST compatibility media types (`application/vnd.elasticsearch+json; compatible-with=9`).
//! Owns the version check real ES performs on `Accept`/`Content-Type`, the rewrite to the plain types osmem
//! understands, and the vendor content type echoed on responses. It does not touch bodies.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};

use super::errors::EsError;

const VENDOR_JSON: &str = "application/vnd.elasticsearch+json";
const VENDOR_NDJSON: &str = "application/vnd.elasticsearch+x-ndjson";

/// What a request asked for, once validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Negotiated {
    /// The `compatible-with` version on `Accept`, if any: responses then carry the vendor type.
    pub(crate) accept_version: Option<u8>,
}

/// A media type header value reduced to what matters here.
#[derive(Debug, PartialEq, Eq)]
struct Parsed {
    essence: String,
    /// `Some(Err(raw))` when the parameter is present but not a number.
    compatible_with: Option<Result<u8, String>>,
}

fn parse(value: &str) -> Parsed {
    // ES parses a single media type; a list in Accept is read by its first entry.
    let first = value.split(',').next().unwrap_or("");
    let mut parts = first.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let compatible_with = parts.find_map(|param| {
        let (key, val) = param.split_once('=')?;
        if !key.trim().eq_ignore_ascii_case("compatible-with") {
            return None;
        }
        let val = val.trim().trim_matches('"');
        Some(val.parse::<u8>().map_err(|_| val.to_string()))
    });
    Parsed {
        essence,
        compatible_with,
    }
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Applies the same rules as Elasticsearch's `RestCompatibleVersionHelper`: the Accept version must be the
/// current major or the one before; with a body, the Content-Type version must be too, both must match, and
/// either both headers carry a version or neither does.
pub(crate) fn negotiate(
    headers: &HeaderMap,
    has_content: bool,
    current_major: u8,
) -> Result<Negotiated, EsError> {
    let previous_major = current_major.saturating_sub(1);
    let accept_raw = header_str(headers, header::ACCEPT);
    let content_raw = header_str(headers, header::CONTENT_TYPE);
    let version_of = |raw: Option<&str>| -> Result<Option<u8>, EsError> {
        match raw.map(parse).and_then(|p| p.compatible_with) {
            None => Ok(None),
            Some(Ok(v)) => Ok(Some(v)),
            Some(Err(bad)) => Err(media_error(format!(
                "Invalid compatible-with value [{bad}]"
            ))),
        }
    };
    let a_version = version_of(accept_raw)?;
    let c_version = version_of(content_raw)?;
    let accept_version = a_version.unwrap_or(current_major);
    let content_version = c_version.unwrap_or(current_major);
    let supported = |v: u8| v == current_major || v == previous_major;

    if !supported(accept_version) {
        return Err(media_error(format!(
            "Accept version must be either version {current_major} or {previous_major}, but found {accept_version}. Accept={}",
            accept_raw.unwrap_or("")
        )));
    }
    if has_content {
        if !supported(content_version) {
            return Err(media_error(format!(
                "Content-Type version must be either version {current_major} or {previous_major}, but found {content_version}. Content-Type={}",
                content_raw.unwrap_or("")
            )));
        }
        if content_version != accept_version {
            return Err(media_error(format!(
                "A compatible version is required on both Content-Type and Accept headers if either one has requested a compatible version and the compatible versions must match. Accept={}, Content-Type={}",
                accept_raw.unwrap_or(""),
                content_raw.unwrap_or("")
            )));
        }
        if a_version.is_some() != c_version.is_some() {
            return Err(media_error(format!(
                "A compatible version is required on both Content-Type and Accept headers if either one has requested a compatible version. Accept={}, Content-Type={}",
                accept_raw.unwrap_or(""),
                content_raw.unwrap_or("")
            )));
        }
    }
    Ok(Negotiated {
        accept_version: a_version,
    })
}

fn media_error(cause: String) -> EsError {
    EsError::new(
        StatusCode::BAD_REQUEST,
        "media_type_header_exception",
        "Invalid media-type value on headers [Content-Type, Accept]",
    )
    .with_caused_by("status_exception", cause)
}

/// The plain media type osmem understands for a vendor type, if the value is one.
fn plain_equivalent(value: &str) -> Option<&'static str> {
    match parse(value).essence.as_str() {
        VENDOR_JSON => Some("application/json"),
        VENDOR_NDJSON => Some("application/x-ndjson"),
        _ => None,
    }
}

/// Rewrites vendor `Accept`/`Content-Type` values to plain JSON/NDJSON for the upstream request.
pub(crate) fn rewrite_for_upstream(headers: &mut HeaderMap) {
    for name in [header::ACCEPT, header::CONTENT_TYPE] {
        let replacement = headers
            .get(&name)
            .and_then(|v| v.to_str().ok())
            .and_then(plain_equivalent);
        if let Some(plain) = replacement {
            headers.insert(name, HeaderValue::from_static(plain));
        }
    }
}

/// The content type to answer with: a JSON (or NDJSON) response to a request that asked for a compatible
/// version is labelled with the vendor type and version, formatted the way ES formats it (no space).
pub(crate) fn response_content_type(
    negotiated: Negotiated,
    upstream: Option<&HeaderValue>,
) -> Option<HeaderValue> {
    let version = negotiated.accept_version?;
    let essence = parse(upstream.and_then(|v| v.to_str().ok()).unwrap_or("")).essence;
    let vendor = match essence.as_str() {
        "application/json" | VENDOR_JSON => VENDOR_JSON,
        "application/x-ndjson" | VENDOR_NDJSON => VENDOR_NDJSON,
        _ => return None,
    };
    HeaderValue::from_str(&format!("{vendor};compatible-with={version}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(accept: Option<&str>, content_type: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(a) = accept {
            h.insert(header::ACCEPT, HeaderValue::from_str(a).unwrap());
        }
        if let Some(c) = content_type {
            h.insert(header::CONTENT_TYPE, HeaderValue::from_str(c).unwrap());
        }
        h
    }

    const V8: &str = "application/vnd.elasticsearch+json; compatible-with=8";
    const V9: &str = "application/vnd.elasticsearch+json;compatible-with=9";
    const V7: &str = "application/vnd.elasticsearch+json; compatible-with=7";

    #[test]
    fn current_and_previous_major_are_accepted() {
        assert_eq!(
            negotiate(&headers(Some(V8), Some(V8)), true, 9)
                .unwrap()
                .accept_version,
            Some(8)
        );
        assert_eq!(
            negotiate(&headers(Some(V9), Some(V9)), true, 9)
                .unwrap()
                .accept_version,
            Some(9)
        );
        assert_eq!(
            negotiate(&headers(None, Some("application/json")), true, 9)
                .unwrap()
                .accept_version,
            None
        );
    }

    #[test]
    fn older_major_is_rejected_with_the_es_reason() {
        let err = negotiate(&headers(Some(V7), None), false, 9).unwrap_err();
        let body = err.body();
        assert_eq!(body["error"]["type"], "media_type_header_exception");
        let cause = body["error"]["caused_by"]["reason"].as_str().unwrap();
        assert!(
            cause.starts_with("Accept version must be either version 9 or 8, but found 7."),
            "{cause}"
        );
    }

    #[test]
    fn versions_must_match_and_be_on_both_headers_when_there_is_a_body() {
        assert!(negotiate(&headers(Some(V8), Some(V9)), true, 9).is_err());
        assert!(negotiate(&headers(Some(V9), Some("application/json")), true, 9).is_err());
        // Without a body the Content-Type is irrelevant.
        assert!(negotiate(&headers(Some(V9), Some("application/json")), false, 9).is_ok());
    }

    #[test]
    fn vendor_types_are_rewritten_for_osmem() {
        let mut h = headers(
            Some(V9),
            Some("application/vnd.elasticsearch+x-ndjson; compatible-with=9"),
        );
        rewrite_for_upstream(&mut h);
        assert_eq!(h[header::ACCEPT], "application/json");
        assert_eq!(h[header::CONTENT_TYPE], "application/x-ndjson");
    }

    #[test]
    fn response_type_echoes_the_requested_version() {
        let upstream = HeaderValue::from_static("application/json; charset=UTF-8");
        let ct = response_content_type(
            Negotiated {
                accept_version: Some(8),
            },
            Some(&upstream),
        )
        .unwrap();
        assert_eq!(ct, "application/vnd.elasticsearch+json;compatible-with=8");
        assert!(response_content_type(
            Negotiated {
                accept_version: None
            },
            Some(&upstream)
        )
        .is_none());
        let text = HeaderValue::from_static("text/plain");
        assert!(response_content_type(
            Negotiated {
                accept_version: Some(9)
            },
            Some(&text)
        )
        .is_none());
    }
}
