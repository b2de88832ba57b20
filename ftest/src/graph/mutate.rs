//! `POST /_fixture/mutate`: deterministic changes between two syncs, applied the way Graph shows them —
//! new and edited messages get fresh `lastModifiedDateTime`s, deleted chat and channel messages are
//! soft-deleted (`deletedDateTime` set, body and attachments emptied), deleted files and channels vanish
//! (a channel with everything under it), cancelled events get `isCancelled`. Each mutation draws from its
//! own random stream (seed + mutation number) and advances the data set's clock, so the same sequence of
//! mutations on the same seed gives the same result.

use serde::Deserialize;
use serde_json::{json, Value};

use super::data::generate::{Generator, Privacy};
use super::data::time::MINUTE_MS;
use super::data::words;
use super::data::{Corpus, Dataset, Sender};
use super::expected::{self, is_message_doc, Mode};
use super::rng::Rng;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MutationRequest {
    pub add_chat_messages: usize,
    pub edit_chat_messages: usize,
    pub delete_chat_messages: usize,
    pub add_channel_messages: usize,
    pub edit_channel_messages: usize,
    pub delete_channel_messages: usize,
    pub add_files: usize,
    pub delete_files: usize,
    pub add_channels: usize,
    pub delete_channels: usize,
    /// Whole teams (every channel, message and file under them) — e.g. to trip the service's delete guard.
    pub delete_teams: usize,
    pub cancel_events: usize,
}

/// Applies `req` to `ds` and reports what changed for a connector crawling in `mode`.
pub fn apply(ds: &mut Dataset, corpus: &Corpus, req: &MutationRequest, mode: Mode) -> Value {
    let before = expected::expected(ds, mode);
    ds.mutations += 1;
    let rng = Rng::derive(ds.seed, &format!("mutation-{}", ds.mutations));
    let mut g = Generator::resume(std::mem::take(ds), corpus, rng);
    // Removals and edits first, so they only touch objects that existed before this mutation.
    let mut applied = serde_json::Map::new();
    let mut record = |name: &str, n: usize| {
        applied.insert(name.to_string(), json!(n));
    };
    record("delete_teams", delete_teams(&mut g, req.delete_teams));
    record(
        "delete_channels",
        delete_channels(&mut g, req.delete_channels, mode),
    );
    record("delete_files", delete_files(&mut g, req.delete_files, mode));
    record(
        "delete_chat_messages",
        change_chat_messages(&mut g, req.delete_chat_messages, mode, Change::Delete),
    );
    record(
        "edit_chat_messages",
        change_chat_messages(&mut g, req.edit_chat_messages, mode, Change::Edit),
    );
    record(
        "delete_channel_messages",
        change_channel_messages(&mut g, req.delete_channel_messages, mode, Change::Delete),
    );
    record(
        "edit_channel_messages",
        change_channel_messages(&mut g, req.edit_channel_messages, mode, Change::Edit),
    );
    record("cancel_events", cancel_events(&mut g, req.cancel_events));
    record(
        "add_chat_messages",
        add_chat_messages(&mut g, req.add_chat_messages, mode),
    );
    record(
        "add_channel_messages",
        add_channel_messages(&mut g, req.add_channel_messages, mode),
    );
    record("add_files", add_files(&mut g, req.add_files, mode));
    record("add_channels", add_channels(&mut g, req.add_channels));
    *ds = g.ds;
    let after = expected::expected(ds, mode);
    let (changed, added, deleted) = expected::diff(&before, &after);
    json!({
        "applied": applied,
        "changed_ids": changed,
        "added_ids": added,
        "deleted_ids": deleted,
        "expected_total": after.len(),
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Change {
    Edit,
    Delete,
}

/// Picks up to `n` distinct elements of `items`, deterministically.
fn choose<T: Clone>(rng: &mut Rng, items: &[T], n: usize) -> Vec<T> {
    let mut pool: Vec<T> = items.to_vec();
    let mut out = Vec::new();
    while out.len() < n && !pool.is_empty() {
        let i = rng.below(pool.len() as u64) as usize;
        out.push(pool.swap_remove(i));
    }
    out
}

fn chat_indexes(ds: &Dataset, mode: Mode) -> Vec<usize> {
    let crawled: Vec<String> = expected::crawled_chats(ds, mode)
        .iter()
        .map(|c| c.id.clone())
        .collect();
    (0..ds.chats.len())
        .filter(|&i| crawled.contains(&ds.chats[i].id))
        .collect()
}

/// (team index, channel index) of the channels a connector in `mode` sees.
fn channel_indexes(ds: &Dataset, mode: Mode) -> Vec<(usize, usize)> {
    let me = ds.me().id.clone();
    let mut out = Vec::new();
    for (t, team) in ds.teams.iter().enumerate() {
        for (c, ch) in team.channels.iter().enumerate() {
            if mode == Mode::App || ch.visible_to(&me) {
                out.push((t, c));
            }
        }
    }
    out
}

fn new_body(g: &mut Generator, label: &str) -> String {
    format!(
        "<p>{label}: {}</p>",
        words::escape(&words::sentence(&mut g.rng))
    )
}

fn add_chat_messages(g: &mut Generator, n: usize, mode: Mode) -> usize {
    let chats = chat_indexes(&g.ds, mode);
    if chats.is_empty() {
        return 0;
    }
    for _ in 0..n {
        let c = *g.rng.pick(&chats);
        let members: Vec<(String, String)> = g.ds.chats[c]
            .members
            .iter()
            .filter_map(|m| m.display_name.clone().map(|n| (m.user_id.clone(), n)))
            .collect();
        let (id, name) = g.rng.pick(&members).clone();
        let t = g.ds.tick(MINUTE_MS);
        let mut m = g.blank_message(t, Sender::User { id, name });
        m.body = new_body(g, "New message");
        g.ds.chats[c].last_updated_ms = m.modified_ms;
        g.ds.chats[c].messages.push(m);
    }
    n
}

fn change_chat_messages(g: &mut Generator, n: usize, mode: Mode, change: Change) -> usize {
    let mut candidates = Vec::new();
    for c in chat_indexes(&g.ds, mode) {
        for (m, msg) in g.ds.chats[c].messages.iter().enumerate() {
            if is_message_doc(msg) {
                candidates.push((c, m));
            }
        }
    }
    let picked = choose(&mut g.rng, &candidates, n);
    for &(c, m) in &picked {
        let t = g.ds.tick(MINUTE_MS);
        let body = new_body(g, "Edited");
        let msg = &mut g.ds.chats[c].messages[m];
        apply_change(msg, change, t, body);
        g.ds.chats[c].last_updated_ms = t;
    }
    picked.len()
}

fn apply_change(msg: &mut super::data::Message, change: Change, t: i64, body: String) {
    msg.modified_ms = t;
    match change {
        Change::Edit => {
            msg.edited_ms = Some(t);
            msg.body = body;
        }
        Change::Delete => {
            msg.deleted_ms = Some(t);
            msg.body.clear();
            msg.attachments.clear();
            msg.mentions.clear();
            msg.reactions.clear();
        }
    }
}

fn posters(g: &Generator, t: usize, c: usize) -> Vec<usize> {
    let ch = &g.ds.teams[t].channels[c];
    (0..g.ds.users.len())
        .filter(|&i| g.ds.users[i].has_mailbox())
        .filter(|&i| ch.visible_to(&g.ds.users[i].id))
        .collect()
}

fn add_channel_messages(g: &mut Generator, n: usize, mode: Mode) -> usize {
    let channels = channel_indexes(&g.ds, mode);
    if channels.is_empty() {
        return 0;
    }
    for _ in 0..n {
        let (t, c) = *g.rng.pick(&channels);
        let people = posters(g, t, c);
        if people.is_empty() {
            continue;
        }
        let author = *g.rng.pick(&people);
        let (id, name) = (
            g.ds.users[author].id.clone(),
            g.ds.users[author].display_name.clone(),
        );
        let time = g.ds.tick(MINUTE_MS);
        let mut m = g.blank_message(time, Sender::User { id, name });
        m.body = new_body(g, "New post");
        g.ds.teams[t].channels[c].messages.push(m);
    }
    n
}

fn change_channel_messages(g: &mut Generator, n: usize, mode: Mode, change: Change) -> usize {
    // (team, channel, post, reply index or usize::MAX for the post itself)
    let mut candidates = Vec::new();
    for (t, c) in channel_indexes(&g.ds, mode) {
        for (p, post) in g.ds.teams[t].channels[c].messages.iter().enumerate() {
            if is_message_doc(post) {
                candidates.push((t, c, p, usize::MAX));
            }
            for (r, reply) in post.replies.iter().enumerate() {
                if is_message_doc(reply) {
                    candidates.push((t, c, p, r));
                }
            }
        }
    }
    let picked = choose(&mut g.rng, &candidates, n);
    for &(t, c, p, r) in &picked {
        let time = g.ds.tick(MINUTE_MS);
        let body = new_body(g, "Edited");
        let post = &mut g.ds.teams[t].channels[c].messages[p];
        let msg = if r == usize::MAX {
            post
        } else {
            &mut post.replies[r]
        };
        apply_change(msg, change, time, body);
    }
    picked.len()
}

fn add_files(g: &mut Generator, n: usize, mode: Mode) -> usize {
    let channels = channel_indexes(&g.ds, mode);
    if channels.is_empty() {
        return 0;
    }
    for _ in 0..n {
        let (t, c) = *g.rng.pick(&channels);
        let (drive, folder) = {
            let ch = &g.ds.teams[t].channels[c];
            (ch.drive_id.clone(), ch.folder_id.clone())
        };
        let people = posters(g, t, c);
        let by = people
            .first()
            .map(|&u| (g.ds.users[u].id.clone(), g.ds.users[u].display_name.clone()))
            .unwrap_or_default();
        let time = g.ds.tick(MINUTE_MS);
        let content = g.corpus_content();
        let stem = format!("Added {}", g.rng.pick(words::FILE_STEMS));
        g.file(&drive, &folder, &stem, content, time, &by);
    }
    n
}

fn delete_files(g: &mut Generator, n: usize, mode: Mode) -> usize {
    let mut files = Vec::new();
    for (t, c) in channel_indexes(&g.ds, mode) {
        let folder = &g.ds.teams[t].channels[c].folder_id;
        files.extend(
            g.ds.drives
                .descendants(folder)
                .into_iter()
                .filter(|i| i.is_file())
                .map(|i| i.id.clone()),
        );
    }
    let picked = choose(&mut g.rng, &files, n);
    for id in &picked {
        g.ds.drives.remove_tree(id);
    }
    picked.len()
}

fn add_channels(g: &mut Generator, n: usize) -> usize {
    if g.ds.teams.is_empty() {
        return 0;
    }
    for k in 0..n {
        let t = g.rng.below(g.ds.teams.len() as u64) as usize;
        let Some(library) = g.ds.teams[t]
            .channels
            .iter()
            .find(|c| c.membership_type == "standard")
            .map(|c| c.drive_id.clone())
        else {
            continue;
        };
        let name = format!("New channel {}-{}", g.ds.mutations, k + 1);
        let time = g.ds.tick(MINUTE_MS);
        let channel = g.channel(t, &name, Privacy::Standard, &library, time);
        g.ds.teams[t].channels.push(channel);
    }
    n
}

fn delete_teams(g: &mut Generator, n: usize) -> usize {
    let candidates: Vec<String> = g.ds.teams.iter().map(|t| t.id.clone()).collect();
    let picked = choose(&mut g.rng, &candidates, n);
    for team_id in &picked {
        let Some(pos) = g.ds.teams.iter().position(|t| &t.id == team_id) else {
            continue;
        };
        let team = g.ds.teams.remove(pos);
        for channel in &team.channels {
            g.ds.drives.remove_tree(&channel.folder_id);
            if let Some(drive) = g.ds.drives.drives.remove(&channel.drive_id) {
                g.ds.drives.remove_tree(&drive.root_id);
            }
        }
    }
    picked.len()
}

fn delete_channels(g: &mut Generator, n: usize, mode: Mode) -> usize {
    // Teams never deletes a team's General channel.
    let candidates: Vec<(String, String)> = channel_indexes(&g.ds, mode)
        .into_iter()
        .filter(|&(t, c)| g.ds.teams[t].channels[c].display_name != "General")
        .map(|(t, c)| {
            (
                g.ds.teams[t].id.clone(),
                g.ds.teams[t].channels[c].id.clone(),
            )
        })
        .collect();
    let picked = choose(&mut g.rng, &candidates, n);
    for (team_id, channel_id) in &picked {
        let Some(team) = g.ds.teams.iter_mut().find(|t| &t.id == team_id) else {
            continue;
        };
        let Some(pos) = team.channels.iter().position(|c| &c.id == channel_id) else {
            continue;
        };
        let channel = team.channels.remove(pos);
        g.ds.drives.remove_tree(&channel.folder_id);
        if channel.membership_type == "private" {
            if let Some(drive) = g.ds.drives.drives.remove(&channel.drive_id) {
                g.ds.drives.remove_tree(&drive.root_id);
            }
        }
    }
    picked.len()
}

fn cancel_events(g: &mut Generator, n: usize) -> usize {
    let mut candidates = Vec::new();
    for (u, user) in g.ds.users.iter().enumerate() {
        if !user.has_mailbox() {
            continue;
        }
        for (e, event) in user.events.iter().enumerate() {
            if !event.is_cancelled {
                candidates.push((u, e));
            }
        }
    }
    let picked = choose(&mut g.rng, &candidates, n);
    for &(u, e) in &picked {
        let t = g.ds.tick(MINUTE_MS);
        let event = &mut g.ds.users[u].events[e];
        event.is_cancelled = true;
        event.subject = format!("Canceled: {}", event.subject);
        event.modified_ms = t;
    }
    picked.len()
}
