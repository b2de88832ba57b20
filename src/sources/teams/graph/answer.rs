//! What a 2xx must be to count: a JSON object, and for a listing page a `value` array with a next link not
//! followed before (ARCHITECTURE.md, "Completeness of a listing"). Anything else is a failure the client retries.
//! Also the lenient readers the Graph answer structs (here and in the crawl) are built with: a field of an
//! unexpected type reads as absent, never fails the item, as indexing a `Value` did.

use std::collections::HashSet;

use serde::de::{DeserializeOwned, Deserializer};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

/// The fields of `T` read from a Graph item; anything but a JSON object has none (`T::default()`).
pub(in crate::sources::teams) fn fields<T: DeserializeOwned + Default>(item: &Value) -> T {
    if item.is_object() {
        T::deserialize(item).unwrap_or_default()
    } else {
        T::default()
    }
}

/// A string field; any other type (or null) reads as absent.
pub(in crate::sources::teams) fn lenient_str<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        _ => None,
    })
}

/// A whole non-negative number; any other type reads as absent.
pub(in crate::sources::teams) fn lenient_u64<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<u64>, D::Error> {
    Ok(Value::deserialize(d)?.as_u64())
}

/// A nested object read with [`fields`]: anything but an object reads as an empty one.
pub(in crate::sources::teams) fn lenient_fields<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    Ok(fields(&Value::deserialize(d)?))
}

/// A listing page's items as Graph sent them: each item's JSON text, parsed into a [`Value`] only when the crawl
/// reaches it. A crawl task holds its page while it hands the items on one by one (waiting whenever the engine is
/// busy), and some twenty tasks do so at once: as parsed trees those pages were 7 MiB of a full sync's peak on the
/// fixture's `large` tenant, as text 0.5 MiB.
#[derive(Debug, Default)]
pub struct Items(Vec<Box<RawValue>>);

impl Items {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl IntoIterator for Items {
    type Item = Value;
    type IntoIter = std::iter::Map<std::vec::IntoIter<Box<RawValue>>, fn(Box<RawValue>) -> Value>;

    /// Each item, parsed as it is reached; its text is freed as soon as it is parsed.
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter().map(|raw| item(&raw))
    }
}

/// An item's tree. Its text was checked as JSON with the page, so this cannot fail; if it ever did, the item
/// reads as `null`, which every reader skips as it skips any item that is not an object.
fn item(raw: &RawValue) -> Value {
    serde_json::from_str(raw.get()).unwrap_or(Value::Null)
}

/// A listing page: its `value` (kept as text) and `@odata.nextLink`, of whatever type they are (checked in
/// [`listing_page`]).
#[derive(Deserialize)]
struct Page<'a> {
    #[serde(default, borrow, deserialize_with = "present_raw")]
    value: Option<&'a RawValue>,
    #[serde(default, rename = "@odata.nextLink")]
    next_link: Option<Value>,
}

/// A field kept as its text, null included (absent is `None`).
fn present_raw<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// Where a listing is: the next URL, every URL followed so far (a repeated next link is a loop), pages read.
pub(super) struct Paging {
    pub(super) next: Option<String>,
    pub(super) followed: HashSet<String>,
    pub(super) pages: usize,
}

/// A body as a JSON object, or why not (every Graph answer the crawl reads is an object).
pub(super) fn json_object(body: &[u8]) -> Result<Value, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err("an empty answer".into());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err("an answer that is not a JSON object".into()),
        Err(e) => Err(format!("unreadable JSON ({e})")),
    }
}

/// A listing page as Graph's contract for collections has it: a JSON object with a `value` array, and an optional
/// `@odata.nextLink` string not followed before. Returns the items and the next link.
pub(super) fn listing_page(
    body: &[u8],
    followed: &HashSet<String>,
) -> Result<(Items, Option<String>), String> {
    let is_object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let page = serde_json::from_slice::<Page>(body);
    if !is_object || page.is_err() {
        // Not an object, or not even JSON: the reason every other answer gets.
        json_object(body)?;
    }
    let page = page.map_err(|e| format!("an unreadable listing page ({e})"))?;
    let next = match page.next_link {
        None => None,
        Some(Value::String(link)) if link.is_empty() => None,
        Some(Value::String(link)) if followed.contains(&link) => {
            return Err("a next link that was already followed (the listing would loop)".into())
        }
        Some(Value::String(link)) => Some(link),
        Some(_) => return Err("an @odata.nextLink that is not a string".into()),
    };
    match page.value {
        Some(value) => match serde_json::from_str::<Vec<Box<RawValue>>>(value.get()) {
            Ok(items) => Ok((Items(items), next)),
            Err(_) => Err("a listing page whose `value` is not an array".into()),
        },
        None => Err("a listing page without `value`".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_pages_prove_themselves() {
        let followed = HashSet::from(["https://g/v1.0/teams".to_string()]);
        let page = |v: Value| {
            listing_page(v.to_string().as_bytes(), &followed)
                .map(|(items, next)| (items.into_iter().collect::<Vec<_>>(), next))
        };
        assert_eq!(
            page(serde_json::json!({"value": [1], "@odata.nextLink": "https://g/v1.0/teams?p=2"})),
            Ok((
                vec![serde_json::json!(1)],
                Some("https://g/v1.0/teams?p=2".into())
            ))
        );
        assert_eq!(page(serde_json::json!({"value": []})), Ok((vec![], None)));
        assert!(page(serde_json::json!({}))
            .unwrap_err()
            .contains("without `value`"));
        assert!(page(serde_json::json!({"@odata.context": "x"})).is_err());
        assert!(page(serde_json::json!({"value": {}}))
            .unwrap_err()
            .contains("not an array"));
        assert!(page(serde_json::json!({"value": null}))
            .unwrap_err()
            .contains("not an array"));
        assert_eq!(
            page(serde_json::json!({"value": [], "@odata.nextLink": null})),
            Ok((vec![], None))
        );
        assert!(
            page(serde_json::json!({"value": [], "@odata.nextLink": "https://g/v1.0/teams"}))
                .unwrap_err()
                .contains("already followed")
        );
        assert!(page(serde_json::json!({"value": [], "@odata.nextLink": 3})).is_err());
        // The body itself, as every answer: empty, not an object, unreadable.
        let raw = |body: &[u8]| listing_page(body, &followed).map(|_| ()).unwrap_err();
        assert!(raw(b"").contains("empty"));
        assert!(raw(b" \n").contains("empty"));
        assert!(raw(b"[]").contains("not a JSON object"));
        assert!(raw(b"[[], null]").contains("not a JSON object"));
        assert!(raw(b"{\"value\": [{\"id\": 1}").contains("unreadable JSON"));
        assert!(raw(b"{\"value\": [], \"value\": []}").contains("unreadable listing page"));
        assert!(json_object(b"").unwrap_err().contains("empty"));
        assert!(json_object(b"  \n").is_err());
        assert!(json_object(b"[]")
            .unwrap_err()
            .contains("not a JSON object"));
        assert!(json_object(b"{\"value\": [")
            .unwrap_err()
            .contains("unreadable"));
    }

    #[test]
    fn items_read_as_the_trees_graph_sent() {
        let items = serde_json::json!([
            {"id": "1", "body": {"content": "<p>café \"q\"</p>"}, "replies": [{"id": "2", "n": 1.5}]},
            {"id": "3", "attachments": [], "deleted": null},
            "not an object",
            7
        ]);
        let body = serde_json::json!({"value": items, "@odata.nextLink": "https://g/v1.0/next"})
            .to_string();
        let (page, next) = listing_page(body.as_bytes(), &HashSet::new()).unwrap();
        assert_eq!(next.as_deref(), Some("https://g/v1.0/next"));
        assert_eq!(page.len(), 4);
        let expected = items.as_array().unwrap();
        assert_eq!(&page.into_iter().collect::<Vec<_>>(), expected);
    }
}
