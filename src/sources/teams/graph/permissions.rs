//! The 403 table: which Graph permission an endpoint needs, named in [`GraphError::Forbidden`](super::GraphError).

/// The Graph permission an endpoint needs (application permission names; delegated ones match without `.All`
/// where Microsoft defines them so).
pub fn permission_for(path: &str) -> &'static str {
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let has = |s: &str| segments.contains(&s);
    if has("chats") && has("messages") {
        "Chat.Read.All (application) or Chat.Read (delegated)"
    } else if has("channels") && has("messages") {
        "ChannelMessage.Read.All"
    } else if has("tabs") {
        "TeamsTab.Read.All"
    } else if has("chats") {
        "Chat.ReadBasic.All (application) or Chat.ReadBasic (delegated)"
    } else if has("filesFolder") || has("drive") || has("drives") || has("items") {
        "Files.Read.All"
    } else if has("channels") {
        "Channel.ReadBasic.All"
    } else if has("teams") {
        "Team.ReadBasic.All"
    } else if has("events") {
        "Calendars.Read"
    } else {
        "User.Read.All"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_named() {
        assert_eq!(
            permission_for("/teams/1/channels/2/messages"),
            "ChannelMessage.Read.All"
        );
        assert!(permission_for("/chats/1/messages").starts_with("Chat.Read.All"));
        assert_eq!(permission_for("/chats/1/tabs"), "TeamsTab.Read.All");
        assert_eq!(permission_for("/teams/1/channels"), "Channel.ReadBasic.All");
        assert_eq!(permission_for("/teams?$top=999"), "Team.ReadBasic.All");
        assert_eq!(permission_for("/users/1/events"), "Calendars.Read");
        assert_eq!(
            permission_for("/drives/1/items/2/children"),
            "Files.Read.All"
        );
        assert_eq!(permission_for("/users"), "User.Read.All");
    }
}
