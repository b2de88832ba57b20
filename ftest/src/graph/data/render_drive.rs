//! The JSON of drives and drive items (OneDrive and SharePoint document libraries): facets (`file`,
//! `folder`, `package`, `root`), `parentReference` with the path, folder sizes, download URLs.

use serde_json::{json, Value};

use super::render::Ctx;
use super::time::seconds;
use super::{Drive, Item, ItemKind};

impl Ctx<'_> {
    pub fn drive(&self, d: &Drive) -> Value {
        let owner = if d.drive_type == "business" {
            json!({"user": {"email": self.ds.user(&d.owner.0).and_then(|u| u.mail.clone()), "id": d.owner.0, "displayName": d.owner.1}})
        } else {
            json!({"group": {"displayName": d.owner.1}})
        };
        json!({
            "createdDateTime": seconds(d.created_ms),
            "description": "",
            "id": d.id,
            "lastModifiedDateTime": seconds(d.created_ms),
            "name": d.name,
            "webUrl": d.web_url,
            "driveType": d.drive_type,
            "createdBy": {"user": {"displayName": "System Account"}},
            "lastModifiedBy": {"user": {"displayName": "System Account"}},
            "owner": owner,
            "quota": {"deleted": 0, "remaining": 1_099_511_627_776_u64 - 52_428_800, "state": "normal", "total": 1_099_511_627_776_u64, "used": 52_428_800},
        })
    }

    /// Size of a folder: the sum of everything under it (as OneDrive reports).
    fn folder_size(&self, id: &str) -> u64 {
        self.ds
            .drives
            .descendants(id)
            .iter()
            .filter(|i| !i.is_folder())
            .map(|i| i.size)
            .sum()
    }

    /// `/drives/{id}/root:/a/b` for the item's parent.
    fn parent_path(&self, item: &Item) -> Option<String> {
        let mut names = Vec::new();
        let mut cursor = item.parent_id.clone();
        while let Some(id) = cursor {
            let parent = self.ds.drives.items.get(&id)?;
            if parent.parent_id.is_some() {
                names.push(parent.name.clone());
            }
            cursor = parent.parent_id.clone();
        }
        names.reverse();
        let mut path = format!("/drives/{}/root:", item.drive_id);
        for n in names {
            path.push('/');
            path.push_str(&n);
        }
        Some(path)
    }

    pub fn item(&self, i: &Item) -> Value {
        let drive_type = self
            .ds
            .drives
            .drives
            .get(&i.drive_id)
            .map(|d| d.drive_type)
            .unwrap_or("business");
        let by = json!({"user": {
            "email": self.ds.user(&i.created_by.0).and_then(|u| u.mail.clone()),
            "id": if i.created_by.0.is_empty() { None } else { Some(&i.created_by.0) },
            "displayName": i.created_by.1,
        }});
        let mut parent = json!({"driveType": drive_type, "driveId": i.drive_id});
        if let Some(pid) = &i.parent_id {
            parent["id"] = json!(pid);
            if let Some(p) = self.ds.drives.items.get(pid) {
                parent["name"] = json!(if p.parent_id.is_none() {
                    "root"
                } else {
                    p.name.as_str()
                });
            }
            parent["path"] = json!(self.parent_path(i));
        }
        let size = match i.kind {
            ItemKind::Folder => self.folder_size(&i.id),
            _ => i.size,
        };
        let mut v = json!({
            "createdDateTime": seconds(i.created_ms),
            "eTag": format!("\"{{{}}},1\"", i.etag_guid),
            "id": i.id,
            "lastModifiedDateTime": seconds(i.modified_ms),
            "name": i.name,
            "webUrl": i.web_url,
            "cTag": format!("\"c:{{{}}},1\"", i.etag_guid),
            "size": size,
            "createdBy": by,
            "lastModifiedBy": by,
            "parentReference": parent,
            "fileSystemInfo": {
                "createdDateTime": seconds(i.created_ms),
                "lastModifiedDateTime": seconds(i.modified_ms),
            },
        });
        match &i.kind {
            ItemKind::Folder => {
                let count = self.ds.drives.children.get(&i.id).map_or(0, Vec::len);
                v["folder"] = json!({"childCount": count});
                if i.parent_id.is_none() {
                    v["root"] = json!({});
                }
            }
            ItemKind::File { mime, .. } => {
                v["@microsoft.graph.downloadUrl"] =
                    json!(format!("{}/_download/{}", self.base, i.id));
                v["file"] = json!({
                    "mimeType": mime,
                    "hashes": {"quickXorHash": format!("{}=", &i.etag_guid.replace('-', "")[..27])},
                });
                v["shared"] = json!({"scope": "users"});
            }
            ItemKind::Package(kind) => {
                v["package"] = json!({"type": kind});
            }
        }
        v
    }
}
