//! OneDrive and document libraries: `/users/{id}/drive`, `/drives/{id}`, root and folder children (with
//! `$filter=name eq '...'`), single items, `/content` (a redirect to the download URL, as Graph does) and
//! the unauthenticated download URL itself, which streams the bytes (generated files written as they are sent).

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use futures::{Stream, StreamExt};
use serde_json::json;

use super::users::signed_in;
use super::{list_query, GraphResult, Shared};
use crate::graph::auth::{Caller, TokenKind};
use crate::graph::data::render::Ctx;
use crate::graph::data::synth::Writer;
use crate::graph::data::{Content, Dataset, Drive, Item, ItemKind};
use crate::graph::errors::GraphError;
use crate::graph::paging::{listing, next_link, page};

/// Children: OneDrive's default page is 200; larger `$top` values are capped here.
const CHILDREN_PAGE: (usize, usize) = (200, 1000);

fn access_denied() -> GraphError {
    GraphError::new(StatusCode::FORBIDDEN, "accessDenied", "Access denied")
}

/// Delegated tokens may read their own OneDrive and the libraries of channels they can see; app tokens
/// read everything.
fn check_drive(ds: &Dataset, caller: &Caller, drive: &Drive) -> Result<(), GraphError> {
    let TokenKind::Delegated { user_id } = &caller.kind else {
        return Ok(());
    };
    if drive.drive_type == "business" {
        return if &drive.owner.0 == user_id {
            Ok(())
        } else {
            Err(access_denied())
        };
    }
    let hidden = ds
        .teams
        .iter()
        .flat_map(|t| &t.channels)
        .any(|c| c.drive_id == drive.id && !c.visible_to(user_id));
    if hidden {
        Err(access_denied())
    } else {
        Ok(())
    }
}

fn drive_of<'a>(ds: &'a Dataset, caller: &Caller, id: &str) -> Result<&'a Drive, GraphError> {
    let drive = ds.drives.drives.get(id).ok_or_else(|| {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "itemNotFound",
            "The provided drive id appears to be malformed, or does not represent a valid drive.",
        )
    })?;
    check_drive(ds, caller, drive)?;
    Ok(drive)
}

fn item_of<'a>(ds: &'a Dataset, drive: &Drive, id: &str) -> Result<&'a Item, GraphError> {
    let id = if id == "root" { &drive.root_id } else { id };
    ds.drives
        .items
        .get(id)
        .filter(|i| i.drive_id == drive.id)
        .ok_or_else(GraphError::item_not_found)
}

fn render_drive(s: &Shared, headers: &HeaderMap, ds: &Dataset, drive: &Drive) -> GraphResult {
    let base = s.base(headers);
    let ctx = Ctx { base: &base, ds };
    let mut v = ctx.drive(drive);
    v["@odata.context"] = json!(ctx.context("drives/$entity"));
    Ok(Json(v))
}

pub async fn my_drive(
    State(s): State<Shared>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
) -> GraphResult {
    let ds = s.data();
    let user = signed_in(&ds, &caller)?;
    let id = user.id.clone();
    user_drive_of(&s, &ds, &caller, &id, &headers)
}

pub async fn user_drive(
    State(s): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(user): Path<String>,
    headers: HeaderMap,
) -> GraphResult {
    let ds = s.data();
    user_drive_of(&s, &ds, &caller, &user, &headers)
}

fn user_drive_of(
    s: &Shared,
    ds: &Dataset,
    caller: &Caller,
    user: &str,
    headers: &HeaderMap,
) -> GraphResult {
    let u = ds
        .user(user)
        .ok_or_else(|| GraphError::new(StatusCode::NOT_FOUND, "itemNotFound", "Item not found"))?;
    let drive_id = u.drive_id.as_deref().ok_or_else(|| {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            "User's mysite not found.",
        )
    })?;
    let drive = drive_of(ds, caller, drive_id)?;
    render_drive(s, headers, ds, drive)
}

pub async fn drive(
    State(s): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> GraphResult {
    let ds = s.data();
    let drive = drive_of(&ds, &caller, &id)?;
    render_drive(&s, &headers, &ds, drive)
}

pub async fn root(
    State(s): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(drive): Path<String>,
    headers: HeaderMap,
) -> GraphResult {
    single(&s, &caller, &drive, "root", &headers)
}

pub async fn item(
    State(s): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path((drive, item)): Path<(String, String)>,
    headers: HeaderMap,
) -> GraphResult {
    single(&s, &caller, &drive, &item, &headers)
}

fn single(
    s: &Shared,
    caller: &Caller,
    drive: &str,
    item: &str,
    headers: &HeaderMap,
) -> GraphResult {
    let base = s.base(headers);
    let ds = s.data();
    let drive = drive_of(&ds, caller, drive)?;
    let item = item_of(&ds, drive, item)?;
    let ctx = Ctx {
        base: &base,
        ds: &ds,
    };
    let mut v = ctx.item(item);
    v["@odata.context"] = json!(ctx.context(&format!("drives('{}')/items/$entity", drive.id)));
    Ok(Json(v))
}

pub async fn root_children(
    State(s): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(drive): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> GraphResult {
    children_of(&s, &caller, &drive, "root", raw, &headers)
}

pub async fn children(
    State(s): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path((drive, item)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> GraphResult {
    children_of(&s, &caller, &drive, &item, raw, &headers)
}

fn children_of(
    s: &Shared,
    caller: &Caller,
    drive: &str,
    item: &str,
    raw: Option<String>,
    headers: &HeaderMap,
) -> GraphResult {
    let q = list_query(raw)?;
    let name = q.name_filter()?;
    let size = q.page_size(CHILDREN_PAGE.0, CHILDREN_PAGE.1, false)?;
    let base = s.base(headers);
    let ds = s.data();
    let drive = drive_of(&ds, caller, drive)?;
    let folder = item_of(&ds, drive, item)?;
    if !folder.is_folder() {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "invalidRequest",
            "The item is not a folder.",
        ));
    }
    let lower = name.as_ref().map(|n| n.to_lowercase());
    let matching: Vec<&Item> = ds
        .drives
        .children_of(&folder.id)
        .filter(|i| lower.as_ref().is_none_or(|n| &i.name.to_lowercase() == n))
        .collect();
    let (items, next) = page(matching, |i| i.seq, false, size, q.skiptoken);
    let path = format!("/v1.0/drives/{}/items/{item}/children", drive.id);
    let next = next.map(|t| next_link(&base, &path, &q.raw, "$skiptoken", &t));
    let ctx = Ctx {
        base: &base,
        ds: &ds,
    };
    Ok(Json(listing(
        ctx.context(&format!(
            "drives('{}')/items('{}')/children",
            drive.id, folder.id
        )),
        items.into_iter().map(|i| q.selected(ctx.item(i))).collect(),
        next,
    )))
}

/// Graph answers `/content` with a 302 to the pre-authenticated download URL.
pub async fn content(
    State(s): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path((drive, item)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let base = s.base(&headers);
    let ds = s.data();
    let drive = drive_of(&ds, &caller, &drive)?;
    let item = item_of(&ds, drive, &item)?;
    if !item.is_file() {
        return Err(GraphError::item_not_found());
    }
    let location = format!("{base}/_download/{}", item.id);
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// The download URL: no authentication (it is pre-authenticated), bytes streamed. The length is the bytes'
/// (which, for a few generated files, is not what the listing said); the bytes sent are counted.
pub async fn download(
    State(s): State<Shared>,
    Path(item): Path<String>,
) -> Result<Response, GraphError> {
    let (content, mime, name) = {
        let ds = s.data();
        let item = ds
            .drives
            .items
            .get(&item)
            .ok_or_else(GraphError::item_not_found)?;
        match &item.kind {
            ItemKind::File { content, mime } => (*content, mime.clone(), item.name.clone()),
            _ => return Err(GraphError::item_not_found()),
        }
    };
    let (body, length) = match content {
        Content::Empty => (Body::empty(), 0),
        Content::Corpus(i) => match s.corpus.files.get(i) {
            Some(file) => {
                let bytes = Bytes::from(file.bytes.to_vec());
                let len = bytes.len() as u64;
                (counted(&s, futures::stream::iter([bytes])), len)
            }
            None => (Body::empty(), 0),
        },
        Content::Generated {
            kind, size, seed, ..
        } => {
            let writer = Writer::new(kind, size, seed);
            let chunks = futures::stream::unfold(writer, |mut w| async move {
                w.next_chunk().map(|chunk| (chunk, w))
            });
            (counted(&s, chunks), size)
        }
    };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&mime) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"",
        ascii.replace('"', "_")
    )) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// A body of `chunks`, each counted in the fixture's downloaded bytes as it is handed to the connection (a
/// client that stops reading early is not charged for what it never took).
fn counted(s: &Shared, chunks: impl Stream<Item = Bytes> + Send + 'static) -> Body {
    let state = s.clone();
    Body::from_stream(chunks.map(move |chunk| {
        state.counters().downloaded(chunk.len() as u64);
        Ok::<Bytes, std::io::Error>(chunk)
    }))
}
