//! Builds a [`Dataset`] from a seed and a size. Same seed, size, identity options and corpus → the same
//! data, id for id. Every id is unique across the whole data set (message ids are unique creation times).

use std::collections::HashSet;

use base64::Engine;

mod calendar;
mod chats;
mod files;
mod teams;

pub use files::{BIG_FILE_SIZE, MAX_FILE_SIZE};
pub use teams::Privacy;

use super::super::rng::Rng;
use super::time::{DATA_START_MS, DAY_MS, HOUR_MS, MUTATION_START_MS};
use super::words::{self, slug, url_segment};
use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataSize {
    Small,
    Medium,
    Large,
}

impl std::str::FromStr for DataSize {
    type Err = String;
    fn from_str(s: &str) -> Result<DataSize, String> {
        match s.to_ascii_lowercase().as_str() {
            "small" => Ok(DataSize::Small),
            "medium" => Ok(DataSize::Medium),
            "large" => Ok(DataSize::Large),
            other => Err(format!(
                "unknown data size [{other}]: small, medium or large"
            )),
        }
    }
}

impl std::fmt::Display for DataSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DataSize::Small => "small",
            DataSize::Medium => "medium",
            DataSize::Large => "large",
        })
    }
}

/// How many of each thing a size holds; ranges are inclusive and drawn per parent.
#[derive(Debug, Clone, Copy)]
struct Profile {
    licensed_users: usize,
    unlicensed_users: usize,
    my_chats: usize,
    other_chats: usize,
    messages_per_chat: (usize, usize),
    events_per_user: (usize, usize),
    teams: usize,
    channels_per_team: (usize, usize),
    posts_per_channel: (usize, usize),
    replies_per_post: (usize, usize),
    files_per_channel: (usize, usize),
    /// Share of ordinary drive files that serve a corpus file; the others are generated (see `files.rs`).
    corpus_share: f64,
    /// The largest ordinary generated file (`small` keeps them small: the test suite syncs it many times).
    largest_generated: u64,
    /// Share of generated files listed with a wrong size.
    lying_share: f64,
}

impl Profile {
    /// This profile with `other`'s drive-file draws.
    fn with_files_of(self, other: &Profile) -> Profile {
        Profile {
            corpus_share: other.corpus_share,
            largest_generated: other.largest_generated,
            lying_share: other.lying_share,
            ..self
        }
    }
}

fn profile(size: DataSize) -> Profile {
    match size {
        DataSize::Small => Profile {
            licensed_users: 8,
            unlicensed_users: 2,
            my_chats: 6,
            other_chats: 2,
            messages_per_chat: (8, 16),
            events_per_user: (3, 6),
            teams: 2,
            channels_per_team: (2, 4),
            posts_per_channel: (5, 9),
            replies_per_post: (0, 2),
            files_per_channel: (3, 6),
            corpus_share: 0.75,
            largest_generated: 1_000_000,
            lying_share: 0.0,
        },
        DataSize::Medium => Profile {
            licensed_users: 34,
            unlicensed_users: 6,
            my_chats: 30,
            other_chats: 12,
            messages_per_chat: (15, 70),
            events_per_user: (5, 55),
            teams: 6,
            channels_per_team: (3, 6),
            posts_per_channel: (8, 25),
            replies_per_post: (0, 3),
            files_per_channel: (4, 12),
            corpus_share: 0.2,
            largest_generated: MAX_FILE_SIZE,
            lying_share: 0.03,
        },
        DataSize::Large => Profile {
            licensed_users: 135,
            unlicensed_users: 15,
            my_chats: 120,
            other_chats: 60,
            messages_per_chat: (20, 120),
            events_per_user: (10, 60),
            teams: 12,
            channels_per_team: (4, 10),
            posts_per_channel: (10, 40),
            replies_per_post: (0, 4),
            files_per_channel: (6, 20),
            corpus_share: 0.2,
            largest_generated: MAX_FILE_SIZE,
            lying_share: 0.03,
        },
    }
}

/// Who the fixture's tenant is: from the command line.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The `--tenant-id` value; its letters name the SharePoint host.
    pub tenant: String,
    /// The delegated user's sign-in name (`adele@fixture.test`); its domain is the mail domain.
    pub username: String,
}

pub fn generate(seed: u64, size: DataSize, identity: &Identity, corpus: &Corpus) -> Dataset {
    generate_with(seed, size, false, identity, corpus)
}

/// [`generate`]; with `heavy_files`, every data set draws its ordinary drive files as `large` does (sizes to
/// 12 MiB, some listed wrongly; `small` otherwise keeps them under 1 MB), so a benchmark compares data sets of
/// different sizes with the same files. Ids and counts are the same either way; file names, sizes and contents
/// are not.
pub fn generate_with(
    seed: u64,
    size: DataSize,
    heavy_files: bool,
    identity: &Identity,
    corpus: &Corpus,
) -> Dataset {
    let mut rng = Rng::derive(seed, "dataset");
    let domain = identity
        .username
        .split_once('@')
        .map(|(_, d)| d.to_string())
        .unwrap_or_else(|| "fixture.test".to_string());
    let label = match slug(&identity.tenant) {
        s if s.is_empty() => "fixture".to_string(),
        s => s,
    };
    let tenant = Tenant {
        id: rng.guid(),
        name: label,
        domain,
    };
    let ds = Dataset {
        tenant,
        users: Vec::new(),
        chats: Vec::new(),
        teams: Vec::new(),
        drives: Drives::default(),
        me: 0,
        next_seq: 0,
        clock_ms: MUTATION_START_MS,
        message_ids: HashSet::new(),
        mutations: 0,
        seed,
    };
    let mut g = Generator {
        ds,
        rng,
        corpus_len: corpus.files.len().max(1),
        extensions: corpus.files.iter().map(|f| f.extension.clone()).collect(),
        mimes: corpus.files.iter().map(|f| f.mime.clone()).collect(),
        sizes: corpus.files.iter().map(|f| f.bytes.len() as u64).collect(),
        p: if heavy_files {
            profile(size).with_files_of(&profile(DataSize::Large))
        } else {
            profile(size)
        },
        one_on_one_pairs: HashSet::new(),
        big_file_done: false,
        files: Rng::derive(seed, "files"),
        pending_specials: Vec::new(),
    };
    g.users(&identity.username);
    g.chats();
    g.events();
    g.teams();
    g.ds
}

pub struct Generator {
    pub ds: Dataset,
    pub rng: Rng,
    corpus_len: usize,
    extensions: Vec<String>,
    mimes: Vec<String>,
    sizes: Vec<u64>,
    p: Profile,
    one_on_one_pairs: HashSet<(String, String)>,
    big_file_done: bool,
    /// What the drive files hold (generated or corpus, sizes, formats) is drawn from this stream, so the rest of
    /// the data set (every id, message and count) is what the main stream alone makes.
    files: Rng,
    /// Edge-case files still to place in the next channel file slots: (name stem, content).
    pending_specials: Vec<(&'static str, Content)>,
}

const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

impl Generator {
    /// A generator that continues an existing data set (used by mutations).
    pub fn resume(ds: Dataset, corpus: &Corpus, rng: Rng) -> Generator {
        let ds_seed = ds.seed;
        Generator {
            ds,
            rng,
            corpus_len: corpus.files.len().max(1),
            extensions: corpus.files.iter().map(|f| f.extension.clone()).collect(),
            mimes: corpus.files.iter().map(|f| f.mime.clone()).collect(),
            sizes: corpus.files.iter().map(|f| f.bytes.len() as u64).collect(),
            p: profile(DataSize::Small),
            one_on_one_pairs: HashSet::new(),
            big_file_done: true,
            files: Rng::derive(ds_seed, "mutation files"),
            pending_specials: Vec::new(),
        }
    }

    // ---- ids -------------------------------------------------------------------------------------

    fn item_id(&mut self) -> String {
        format!("01{}", self.rng.chars(BASE32, 32))
    }

    fn drive_id(&mut self) -> String {
        format!("b!{}", self.rng.chars(B64URL, 64))
    }

    fn event_id(&mut self) -> String {
        format!("AAMkAG{}=", self.rng.chars(B64URL, 146))
    }

    fn channel_id(&mut self) -> String {
        format!("19:{}@thread.tacv2", self.rng.hex(32))
    }

    fn time_in_2024(&mut self, before_end_days: i64) -> i64 {
        let span = (366 - before_end_days).max(1) * DAY_MS;
        DATA_START_MS + self.rng.below(span as u64) as i64
    }

    // ---- users and drives ------------------------------------------------------------------------

    fn users(&mut self, username: &str) {
        let domain = self.ds.tenant.domain.clone();
        for i in 0..self.p.licensed_users {
            let nf = words::FIRST_NAMES.len();
            let first = words::FIRST_NAMES[i % nf];
            let last = words::LAST_NAMES[(i / nf + i % nf) % words::LAST_NAMES.len()];
            let upn = if i == 0 {
                username.to_string()
            } else {
                format!("{}.{}@{domain}", slug(first), slug(last))
            };
            let created = DATA_START_MS - self.rng.range(30, 900) as i64 * DAY_MS;
            let id = self.rng.guid();
            let seq = self.ds.take_seq();
            let user = User {
                seq,
                id,
                display_name: format!("{first} {last}"),
                given_name: Some(first.to_string()),
                surname: Some(last.to_string()),
                mail: Some(upn.clone()),
                user_principal_name: upn,
                job_title: Some(self.rng.pick(words::JOB_TITLES).to_string()),
                office_location: Some(self.rng.pick(words::OFFICES).to_string()),
                mobile_phone: self
                    .rng
                    .chance(0.4)
                    .then(|| format!("+1 425 555 {:04}", self.rng.below(10_000))),
                business_phones: vec![format!("+1 206 555 {:04}", self.rng.below(10_000))],
                created_ms: created,
                drive_id: None,
                events: Vec::new(),
            };
            self.ds.users.push(user);
            let idx = self.ds.users.len() - 1;
            self.personal_drive(idx);
        }
        for i in 0..self.p.unlicensed_users {
            let (name, alias) = words::UNLICENSED[i % words::UNLICENSED.len()];
            let alias = if i >= words::UNLICENSED.len() {
                format!("{alias}-{i}")
            } else {
                alias.to_string()
            };
            let id = self.rng.guid();
            let seq = self.ds.take_seq();
            self.ds.users.push(User {
                seq,
                id,
                display_name: name.to_string(),
                given_name: None,
                surname: None,
                user_principal_name: format!("{alias}@{domain}"),
                mail: None,
                job_title: None,
                office_location: None,
                mobile_phone: None,
                business_phones: Vec::new(),
                created_ms: DATA_START_MS - 100 * DAY_MS,
                drive_id: None,
                events: Vec::new(),
            });
        }
        // Real /users listings are not grouped by licence: interleave the unlicensed accounts.
        let me_id = self.ds.users[0].id.clone();
        let mut order: Vec<usize> = (0..self.ds.users.len()).collect();
        for i in (1..order.len()).rev() {
            let j = self.rng.below(i as u64 + 1) as usize;
            order.swap(i, j);
        }
        let mut seqs: Vec<u64> = self.ds.users.iter().map(|u| u.seq).collect();
        seqs.sort_unstable();
        let old = std::mem::take(&mut self.ds.users);
        for (seq, idx) in seqs.into_iter().zip(order) {
            let mut user = old[idx].clone();
            user.seq = seq;
            self.ds.users.push(user);
        }
        self.ds.me = self
            .ds
            .users
            .iter()
            .position(|u| u.id == me_id)
            .unwrap_or(0);
    }

    fn personal_drive(&mut self, user_idx: usize) {
        let user = &self.ds.users[user_idx];
        let owner = (user.id.clone(), user.display_name.clone());
        let personal = user.user_principal_name.replace(['@', '.'], "_");
        let web_url = format!(
            "https://{}-my.sharepoint.com/personal/{personal}/Documents",
            self.ds.tenant.name
        );
        let created = user.created_ms + DAY_MS;
        let drive_id = self.drive_id();
        let root_id = self.item_id();
        self.ds.drives.drives.insert(
            drive_id.clone(),
            Drive {
                id: drive_id.clone(),
                drive_type: "business",
                name: "OneDrive".into(),
                web_url: web_url.clone(),
                created_ms: created,
                owner: owner.clone(),
                root_id: root_id.clone(),
            },
        );
        let root = Item {
            seq: self.ds.take_seq(),
            id: root_id.clone(),
            drive_id: drive_id.clone(),
            parent_id: None,
            name: "root".into(),
            created_ms: created,
            modified_ms: created,
            web_url: web_url.clone(),
            kind: ItemKind::Folder,
            size: 0,
            created_by: owner.clone(),
            etag_guid: self.rng.guid().to_uppercase(),
        };
        self.ds.drives.add_item(root);
        for name in ["Attachments", "Microsoft Teams Chat Files", "Recordings"] {
            self.folder(&drive_id, &root_id, name, created, &owner);
        }
        if self.rng.chance(0.5) {
            let corpus = self.corpus_content();
            let content = self.file_content(corpus);
            let stem = self.rng.pick(words::FILE_STEMS).to_string();
            self.file(
                &drive_id,
                &root_id,
                &stem,
                content,
                created + HOUR_MS,
                &owner,
            );
        }
        self.ds.users[user_idx].drive_id = Some(drive_id);
    }

    /// The folder under a drive's root named like `name`.
    pub fn root_folder(&self, drive_id: &str, name: &str) -> Option<String> {
        let drive = self.ds.drives.drives.get(drive_id)?;
        self.ds
            .drives
            .child_named(&drive.root_id, name)
            .map(|i| i.id.clone())
    }

    pub fn folder(
        &mut self,
        drive_id: &str,
        parent_id: &str,
        name: &str,
        created: i64,
        by: &(String, String),
    ) -> String {
        let id = self.item_id();
        let parent_url = self.ds.drives.items[parent_id].web_url.clone();
        let item = Item {
            seq: self.ds.take_seq(),
            id: id.clone(),
            drive_id: drive_id.to_string(),
            parent_id: Some(parent_id.to_string()),
            name: name.to_string(),
            created_ms: created,
            modified_ms: created,
            web_url: format!("{parent_url}/{}", url_segment(name)),
            kind: ItemKind::Folder,
            size: 0,
            created_by: by.clone(),
            etag_guid: self.rng.guid().to_uppercase(),
        };
        self.ds.drives.add_item(item);
        id
    }

    /// A corpus-backed content, cycling through the files.
    pub fn corpus_content(&mut self) -> Content {
        Content::Corpus(self.rng.below(self.corpus_len as u64) as usize)
    }

    /// Adds a file named `stem` + the content's extension (made unique within the folder); returns its id.
    pub fn file(
        &mut self,
        drive_id: &str,
        parent_id: &str,
        stem: &str,
        content: Content,
        created: i64,
        by: &(String, String),
    ) -> String {
        let (extension, mime, size) = match content {
            Content::Corpus(i) => (
                self.extensions
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| "txt".into()),
                self.mimes
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| "text/plain".into()),
                self.sizes.get(i).copied().unwrap_or(0),
            ),
            Content::Empty => ("txt".into(), "text/plain".into(), 0),
            Content::Generated { kind, listed, .. } => {
                (kind.extension().into(), kind.mime().into(), listed)
            }
        };
        let mut name = if extension.is_empty() {
            stem.to_string()
        } else {
            format!("{stem}.{extension}")
        };
        let mut n = 1;
        while self.ds.drives.child_named(parent_id, &name).is_some() {
            n += 1;
            name = if extension.is_empty() {
                format!("{stem} ({n})")
            } else {
                format!("{stem} ({n}).{extension}")
            };
        }
        let id = self.item_id();
        let parent_url = self.ds.drives.items[parent_id].web_url.clone();
        let modified = created + self.rng.below(30 * DAY_MS as u64) as i64;
        let item = Item {
            seq: self.ds.take_seq(),
            id: id.clone(),
            drive_id: drive_id.to_string(),
            parent_id: Some(parent_id.to_string()),
            name: name.clone(),
            created_ms: created,
            modified_ms: modified,
            web_url: format!("{parent_url}/{}", url_segment(&name)),
            kind: ItemKind::File { content, mime },
            size,
            created_by: by.clone(),
            etag_guid: self.rng.guid().to_uppercase(),
        };
        self.ds.drives.add_item(item);
        id
    }
}

/// A conversation member id as Teams spells them: base64 of the thread and user ids.
pub fn membership_id(chat_id: &str, user_id: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("0##{chat_id}##{user_id}"))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::graph::expected::{expected, Mode};

    /// The identity every generator test uses (also `files.rs`'s tests).
    pub(super) fn identity() -> Identity {
        Identity {
            tenant: "fixture-tenant".into(),
            username: "adele@fixture.test".into(),
        }
    }

    /// Every id a connector could use as a document id, or that Graph treats as a key.
    fn all_ids(ds: &Dataset) -> Vec<String> {
        let mut ids = Vec::new();
        for u in &ds.users {
            ids.push(u.id.clone());
            ids.extend(u.events.iter().map(|e| e.id.clone()));
        }
        for c in &ds.chats {
            ids.push(c.id.clone());
            ids.extend(c.tabs.iter().map(|t| t.id.clone()));
            ids.extend(c.members.iter().map(|m| m.id.clone()));
            for m in &c.messages {
                ids.push(m.id.clone());
                if let Some(EventDetail::CallRecording { call_id, .. }) = &m.event {
                    ids.push(call_id.clone());
                }
            }
        }
        for t in &ds.teams {
            ids.push(t.id.clone());
            for ch in &t.channels {
                ids.push(ch.id.clone());
                ids.extend(ch.tabs.iter().map(|t| t.id.clone()));
                let mut calls = HashSet::new();
                for m in ch
                    .messages
                    .iter()
                    .chain(ch.messages.iter().flat_map(|m| &m.replies))
                {
                    ids.push(m.id.clone());
                    if let Some(call) = m.event.as_ref().and_then(EventDetail::call_id) {
                        calls.insert(call.to_string());
                    }
                }
                ids.extend(calls);
            }
        }
        ids.extend(ds.drives.drives.keys().cloned());
        ids.extend(ds.drives.items.keys().cloned());
        ids.sort();
        ids
    }

    #[test]
    fn ids_are_unique_and_sizes_in_range() {
        let corpus = Corpus::builtin();
        for (size, lo, hi) in [
            (DataSize::Small, 150, 300),
            (DataSize::Medium, 2_000, 4_000),
            (DataSize::Large, 15_000, 40_000),
        ] {
            let ds = generate(1, size, &identity(), &corpus);
            let ids = all_ids(&ds);
            let unique: HashSet<&String> = ids.iter().collect();
            assert_eq!(unique.len(), ids.len(), "{size}: duplicate ids");
            let docs = expected(&ds, Mode::Delegated).len();
            assert!((lo..=hi).contains(&docs), "{size}: {docs} documents");
        }
    }

    #[test]
    fn same_seed_same_data_other_seed_other_data() {
        let corpus = Corpus::builtin();
        let a = generate(5, DataSize::Small, &identity(), &corpus);
        let b = generate(5, DataSize::Small, &identity(), &corpus);
        let c = generate(6, DataSize::Small, &identity(), &corpus);
        assert!(all_ids(&a) == all_ids(&b), "same seed, different ids");
        assert!(
            format!("{:?}", a.chats) == format!("{:?}", b.chats),
            "same seed, different chats"
        );
        assert!(
            format!("{:?}", a.teams) == format!("{:?}", b.teams),
            "same seed, different teams"
        );
        assert!(all_ids(&a) != all_ids(&c), "other seed, same ids");
    }

    #[test]
    fn every_edge_case_is_present_in_small() {
        let ds = generate(1, DataSize::Small, &identity(), &Corpus::builtin());
        let me = ds.me();
        assert_eq!(me.user_principal_name, "adele@fixture.test");
        assert!(me.has_mailbox());
        assert!(ds.users.iter().any(|u| u.mail.is_none()));
        let my_chats: Vec<&Chat> = ds.chats.iter().filter(|c| c.has_member(&me.id)).collect();
        for kind in [ChatType::OneOnOne, ChatType::Group, ChatType::Meeting] {
            assert!(my_chats.iter().any(|c| c.chat_type == kind), "{kind:?}");
        }
        let messages: Vec<&Message> = my_chats.iter().flat_map(|c| &c.messages).collect();
        assert!(messages.iter().any(|m| m.deleted_ms.is_some()));
        assert!(messages
            .iter()
            .any(|m| m.message_type == "systemEventMessage"));
        assert!(messages
            .iter()
            .any(|m| m.message_type == "unknownFutureValue"));
        assert!(messages
            .iter()
            .any(|m| m.attachments.iter().any(|a| a.content_type == "reference")));
        assert!(messages
            .iter()
            .any(|m| matches!(&m.event, Some(EventDetail::CallEnded { .. }))));
        assert!(messages.iter().any(|m| matches!(&m.event, Some(EventDetail::CallRecording { url, .. }) if url.contains(".sharepoint.com"))));
        assert!(messages.iter().any(|m| matches!(&m.event, Some(EventDetail::CallRecording { url, .. }) if !url.contains(".sharepoint.com"))));
        let patterns: HashSet<&str> = me
            .events
            .iter()
            .filter_map(|e| e.recurrence.as_ref().map(|r| r.pattern_type))
            .collect();
        assert_eq!(patterns.len(), 6, "{patterns:?}");
        assert!(me.events.iter().any(|e| e.is_cancelled));
        let channels: Vec<&Channel> = ds.teams.iter().flat_map(|t| &t.channels).collect();
        assert!(channels
            .iter()
            .any(|c| c.membership_type == "private" && c.visible_to(&me.id)));
        assert!(channels.iter().any(|c| !c.visible_to(&me.id)));
        let files: Vec<&Item> = ds.drives.items.values().filter(|i| i.is_file()).collect();
        assert!(files.iter().any(|i| i.size == 0));
        assert!(files.iter().any(|i| i.size > 10 * 1024 * 1024));
    }
}
