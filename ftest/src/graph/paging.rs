//! OData query options (`$top`, `$skiptoken`, `$skip`, `$expand`, `$filter`, `$select`) and paging. Listings are
//! ordered by each object's sequence number (creation order; newest first for messages); a skiptoken is
//! the last sequence number of the page, so pages stay consistent while objects come and go, as Graph's
//! do. Events page with `$skip` offsets, as Outlook does.

use base64::Engine;
use serde_json::{json, Value};

use super::errors::GraphError;

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub top: Option<usize>,
    pub skiptoken: Option<u64>,
    pub skip: usize,
    pub expand: Vec<String>,
    pub filter: Option<String>,
    /// `$select`: the properties asked for; `None` is all of them.
    pub select: Option<Vec<String>>,
    /// The query string as received (still percent-encoded), to build next links from.
    pub raw: String,
}

impl ListQuery {
    pub fn parse(raw: Option<&str>) -> Result<ListQuery, GraphError> {
        let raw = raw.unwrap_or_default();
        let mut q = ListQuery {
            raw: raw.to_string(),
            ..ListQuery::default()
        };
        for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
            match key.as_ref() {
                "$top" => {
                    let top: i64 = value.trim().parse().map_err(|_| {
                        GraphError::bad_request(format!(
                            "Invalid value '{value}' for $top query option."
                        ))
                    })?;
                    if top < 1 {
                        return Err(GraphError::bad_request(format!(
                            "Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive."
                        )));
                    }
                    q.top = Some(top as usize);
                }
                "$skiptoken" => q.skiptoken = Some(decode_token(&value)?),
                "$skip" => {
                    q.skip = value.trim().parse().map_err(|_| {
                        GraphError::bad_request(format!(
                            "Invalid value '{value}' for $skip query option."
                        ))
                    })?
                }
                "$expand" => q
                    .expand
                    .extend(value.split(',').map(|s| s.trim().to_string())),
                "$filter" => q.filter = Some(value.to_string()),
                "$select" => {
                    q.select = Some(
                        value
                            .split(',')
                            .map(str::trim)
                            .filter(|p| !p.is_empty())
                            .map(str::to_string)
                            .collect(),
                    )
                }
                _ => {}
            }
        }
        Ok(q)
    }

    pub fn expands(&self, what: &str) -> bool {
        self.expand.iter().any(|e| e.eq_ignore_ascii_case(what))
    }

    /// The page size: `$top` if given (capped at `max`, or refused above it when `strict`), else `default`.
    pub fn page_size(&self, default: usize, max: usize, strict: bool) -> Result<usize, GraphError> {
        match self.top {
            None => Ok(default),
            Some(top) if top > max && strict => Err(GraphError::bad_request(format!(
                "Invalid page size specified: '{top}'. Must be between 1 and {max} inclusive."
            ))),
            Some(top) => Ok(top.min(max)),
        }
    }

    /// `$filter=name eq '<name>'` (the only filter OneDrive children support here): the decoded name.
    pub fn name_filter(&self) -> Result<Option<String>, GraphError> {
        let Some(filter) = &self.filter else {
            return Ok(None);
        };
        let invalid = || {
            GraphError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "invalidRequest",
                format!("Invalid filter clause: {filter}"),
            )
        };
        let rest = filter.trim();
        let rest = rest
            .strip_prefix("name")
            .map(str::trim_start)
            .and_then(|r| r.strip_prefix("eq"))
            .map(str::trim)
            .ok_or_else(invalid)?;
        let inner = rest
            .strip_prefix('\'')
            .and_then(|r| r.strip_suffix('\''))
            .ok_or_else(invalid)?;
        // Inside an OData string literal a quote is written twice; a lone quote ends the literal.
        let mut out = String::new();
        let mut chars = inner.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                } else {
                    return Err(invalid());
                }
            }
            out.push(c);
        }
        Ok(Some(out))
    }

    /// Refuses `$filter` on endpoints that do not support one here.
    pub fn no_filter(&self) -> Result<(), GraphError> {
        match &self.filter {
            None => Ok(()),
            Some(f) => Err(GraphError::bad_request(format!(
                "Unsupported query: the fixture does not implement $filter '{f}' on this endpoint."
            ))),
        }
    }
}

impl ListQuery {
    /// An item as Graph answers it under `$select`: the selected properties, plus what Graph always sends — `id`
    /// and the `@odata.*` annotations (the item's own, and those of a selected property such as
    /// `members@odata.context`). Anything else is left out, instance annotations like
    /// `@microsoft.graph.downloadUrl` included unless named. Without `$select`, the item as it is.
    pub fn selected(&self, item: Value) -> Value {
        let (Some(select), Value::Object(map)) = (&self.select, &item) else {
            return item;
        };
        let wanted = |key: &str| {
            let property = key.split_once("@odata.").map_or(key, |(p, _)| p);
            key == "id" || property.is_empty() || select.iter().any(|s| s == property)
        };
        Value::Object(
            map.iter()
                .filter(|(k, _)| wanted(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }

    /// Refuses `$select` on endpoints whose Graph documentation says it is not supported ("other OData query
    /// parameters are not currently supported"), so a client that sends it there is caught here.
    pub fn no_select(&self) -> Result<(), GraphError> {
        match &self.select {
            None => Ok(()),
            Some(_) => Err(GraphError::bad_request(
                "Unsupported query: $select is not supported on this endpoint.",
            )),
        }
    }
}

fn decode_token(token: &str) -> Result<u64, GraphError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("seq:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| GraphError::bad_request("Invalid skip token."))
}

fn encode_token(seq: u64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("seq:{seq}"))
}

/// One page of `items` (already in listing order) after the skiptoken; returns the page and, when more
/// remain, the skiptoken for the next page.
pub fn page<T>(
    items: Vec<T>,
    seq: impl Fn(&T) -> u64,
    descending: bool,
    size: usize,
    token: Option<u64>,
) -> (Vec<T>, Option<String>) {
    let mut rest: Vec<T> = match token {
        None => items,
        Some(t) => items
            .into_iter()
            .filter(|i| if descending { seq(i) < t } else { seq(i) > t })
            .collect(),
    };
    let more = rest.len() > size;
    rest.truncate(size);
    let next = if more {
        rest.last().map(|i| encode_token(seq(i)))
    } else {
        None
    };
    (rest, next)
}

/// `query` (as received) without its `$select` option.
pub fn without_select(query: &str) -> String {
    let parts: Vec<&str> = query
        .split('&')
        .filter(|p| {
            let key = p.split('=').next().unwrap_or_default();
            !key.eq_ignore_ascii_case("$select") && !key.eq_ignore_ascii_case("%24select")
        })
        .collect();
    parts.join("&")
}

/// `base + path + ?query` with `param=value` replacing any earlier `param`.
pub fn next_link(base: &str, path: &str, raw_query: &str, param: &str, value: &str) -> String {
    let encoded_param = param.replace('$', "%24");
    let mut parts: Vec<&str> = raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let key = p.split('=').next().unwrap_or_default();
            key != param && key != encoded_param
        })
        .collect();
    let tail = format!("{param}={value}");
    parts.push(&tail);
    format!("{base}{path}?{}", parts.join("&"))
}

/// `{"@odata.context", "value", "@odata.nextLink"?}`.
pub fn listing(context: String, value: Vec<Value>, next: Option<String>) -> Value {
    let mut v = json!({"@odata.context": context, "value": value});
    if let Some(next) = next {
        v["@odata.nextLink"] = json!(next);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_in_order_and_resume_after_token() {
        let items: Vec<u64> = (1..=5).collect();
        let (first, next) = page(items.clone(), |i| *i, false, 2, None);
        assert_eq!(first, vec![1, 2]);
        let token = decode_token(&next.unwrap()).unwrap();
        let (second, _) = page(items.clone(), |i| *i, false, 2, Some(token));
        assert_eq!(second, vec![3, 4]);
        let desc: Vec<u64> = (1..=5).rev().collect();
        let (first, next) = page(desc.clone(), |i| *i, true, 3, None);
        assert_eq!(first, vec![5, 4, 3]);
        let (second, last) = page(
            desc,
            |i| *i,
            true,
            3,
            Some(decode_token(&next.unwrap()).unwrap()),
        );
        assert_eq!(second, vec![2, 1]);
        assert!(last.is_none());
    }

    #[test]
    fn name_filter_unescapes_quotes() {
        let q =
            ListQuery::parse(Some("$filter=name%20eq%20%27Adele%27%27s%20notes.docx%27")).unwrap();
        assert_eq!(
            q.name_filter().unwrap().as_deref(),
            Some("Adele's notes.docx")
        );
        let bad = ListQuery::parse(Some("$filter=size%20gt%201")).unwrap();
        assert!(bad.name_filter().is_err());
    }

    #[test]
    fn select_keeps_the_named_properties_id_and_odata_annotations() {
        let item = json!({
            "id": "i1", "name": "a.txt", "size": 3, "webUrl": "https://x/a.txt",
            "@odata.etag": "W/1", "@microsoft.graph.downloadUrl": "https://x/d",
            "members@odata.context": "m", "members": [], "parentReference": {"driveId": "d"},
        });
        let q =
            ListQuery::parse(Some("$top=5&$select=name,%40microsoft.graph.downloadUrl")).unwrap();
        assert_eq!(
            q.selected(item.clone()),
            json!({"id": "i1", "name": "a.txt", "@odata.etag": "W/1", "@microsoft.graph.downloadUrl": "https://x/d"})
        );
        // A property not named is gone, annotations of another property with it; the download URL too.
        let q = ListQuery::parse(Some("$select=members,size")).unwrap();
        assert_eq!(
            q.selected(item.clone()),
            json!({"id": "i1", "size": 3, "@odata.etag": "W/1", "members@odata.context": "m", "members": []})
        );
        // No `$select`: everything; where Graph does not support it, refused.
        let all = ListQuery::parse(Some("$top=5")).unwrap();
        assert_eq!(all.selected(item.clone()), item);
        assert!(all.no_select().is_ok());
        assert!(q.no_select().is_err());
        assert_eq!(without_select("$top=5&$select=id,name&x=1"), "$top=5&x=1");
        assert_eq!(without_select("%24select=id"), "");
    }

    #[test]
    fn next_link_replaces_the_token() {
        let link = next_link(
            "http://h",
            "/v1.0/users",
            "$top=2&$skiptoken=abc",
            "$skiptoken",
            "xyz",
        );
        assert_eq!(link, "http://h/v1.0/users?$top=2&$skiptoken=xyz");
    }
}
