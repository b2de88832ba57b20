//! Where Graph requests go: a path or next link → the URL, the path part for messages and classification, and
//! the host rules — a Graph link (it carries the token) only to `graph_url`'s origin, a download URL only to the
//! cloud's SharePoint/OneDrive hosts or `graph.allowed_hosts` — held for redirects too.

use super::GraphError;
use crate::source::ErrorKind;
use crate::sources::teams::hosts::DownloadHosts;

/// What a URL out of a Graph answer is used for, which decides the hosts it may point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Destination {
    /// A Graph request (a next link): it carries the bearer token, so only `graph_url`'s own origin.
    Graph,
    /// A pre-authenticated download URL, requested without the token: the cloud's SharePoint/OneDrive hosts or
    /// operator-allowed ones.
    Download,
}

/// The Graph base URL and the hosts each [`Destination`] may reach.
#[derive(Debug, Clone)]
pub(super) struct Endpoints {
    /// `https://graph.microsoft.com/v1.0`, or a national cloud's / the fixture's.
    base_url: String,
    /// `base_url`'s origin: the only one Graph requests (and so the token) go to.
    graph_origin: url::Origin,
    download_hosts: DownloadHosts,
}

impl Endpoints {
    pub(super) fn new(
        base_url: &str,
        download_hosts: DownloadHosts,
    ) -> Result<Endpoints, GraphError> {
        let graph_origin = url::Url::parse(base_url)
            .map_err(|e| GraphError::Failed {
                path: base_url.to_string(),
                reason: format!("not a URL: {e}"),
                kind: ErrorKind::Configuration,
            })?
            .origin();
        Ok(Endpoints {
            base_url: base_url.to_string(),
            graph_origin,
            download_hosts,
        })
    }

    /// `path` (`/teams?$top=999`) or an absolute `@odata.nextLink` → the URL to request.
    pub(super) fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
            path_or_url.to_string()
        } else {
            format!("{}{}", self.base_url.trim_end_matches('/'), path_or_url)
        }
    }

    /// The path part of a URL for messages and classification (never the host or a token).
    pub(super) fn path_of<'a>(&self, url: &'a str) -> &'a str {
        let base = self.base_url.trim_end_matches('/');
        url.strip_prefix(base).unwrap_or(url)
    }

    fn allows(&self, url: &url::Url, destination: Destination) -> bool {
        match destination {
            Destination::Graph => url.origin() == self.graph_origin,
            Destination::Download => self.download_hosts.allows(url),
        }
    }

    /// Redirects are held to the same rule as the URLs themselves, or a redirect would be a way around it.
    pub(super) fn redirect_policy(&self, destination: Destination) -> reqwest::redirect::Policy {
        let endpoints = self.clone();
        reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 10 || !endpoints.allows(attempt.url(), destination) {
                attempt.stop()
            } else {
                attempt.follow()
            }
        })
    }

    /// Refuses a URL from a Graph answer that points where `destination` may not go. Only the origin is named in
    /// the error (a download URL's query is a credential).
    pub(super) fn check_host(&self, url: &str, destination: Destination) -> Result<(), GraphError> {
        let parsed = url::Url::parse(url).ok();
        if parsed.as_ref().is_some_and(|u| self.allows(u, destination)) {
            return Ok(());
        }
        let origin = parsed.map_or_else(
            || "an unreadable URL".into(),
            |u| u.origin().ascii_serialization(),
        );
        Err(match destination {
            Destination::Graph => GraphError::ForeignHost {
                what: "a Graph link",
                origin,
                rule: "Graph requests carry the access token and go only to the host of graph_url",
            },
            Destination::Download => GraphError::ForeignHost {
                what: "a download URL",
                origin,
                rule: "downloads come only from the SharePoint/OneDrive hosts of the Graph cloud in use or from \
                       graph.allowed_hosts",
            },
        })
    }
}

/// A download URL carries a pre-authentication token in its query: report only its path.
pub(super) fn download_label(url: &str) -> String {
    let without_query = url.split('?').next().unwrap_or(url);
    format!("download {without_query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_labels_drop_the_query() {
        assert_eq!(
            download_label("https://x.sharepoint.com/_layouts/download.aspx?tempauth=SECRET"),
            "download https://x.sharepoint.com/_layouts/download.aspx"
        );
    }
}
