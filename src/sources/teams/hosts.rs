//! Where the Teams source may send the tenant's secrets and tokens. `graph_url` and `login_url` come from the
//! connector document, which anyone with Kibana access can edit, and they receive the client secret, the user's
//! password and bearer tokens; so they may only name Microsoft's own endpoints (global, US Government, China,
//! always https), or hosts the operator lists in config.yml (`graph.allowed_hosts`) or sets with `OVERRIDE_URL`.
//! Download URLs carry a pre-authentication token and come out of Graph answers; they are followed only to the
//! SharePoint/OneDrive domains of the cloud in use (https) or operator-allowed hosts. Next links are checked in
//! `graph/paths.rs` (same origin as `graph_url`, since they carry the bearer token).

use url::Url;

use crate::config::AllowedHost;

/// One Microsoft cloud: its Graph host, its identity platform hosts and the domains its SharePoint and OneDrive
/// download URLs are under (`contoso.sharepoint.com`, `contoso-my.sharepoint.com`, ...).
struct Cloud {
    graph: &'static str,
    login: &'static [&'static str],
    downloads: &'static [&'static str],
}

/// Microsoft Graph national cloud deployments (learn.microsoft.com/graph/deployments) and the identity platform
/// hosts of each (learn.microsoft.com/entra/identity-platform/authentication-national-cloud; China also answers on
/// the older `login.partner.microsoftonline.cn`).
const CLOUDS: [Cloud; 4] = [
    Cloud {
        graph: "graph.microsoft.com",
        login: &["login.microsoftonline.com"],
        downloads: &["sharepoint.com"],
    },
    // US Government L4 (GCC High).
    Cloud {
        graph: "graph.microsoft.us",
        login: &["login.microsoftonline.us"],
        downloads: &["sharepoint.us"],
    },
    // US Government L5 (DoD).
    Cloud {
        graph: "dod-graph.microsoft.us",
        login: &["login.microsoftonline.us"],
        downloads: &["sharepoint-mil.us"],
    },
    // China, operated by 21Vianet.
    Cloud {
        graph: "microsoftgraph.chinacloudapi.cn",
        login: &["login.chinacloudapi.cn", "login.partner.microsoftonline.cn"],
        downloads: &["sharepoint.cn"],
    },
];

/// Which connector setting a URL came from; each has its own Microsoft endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Graph,
    Login,
}

impl Endpoint {
    fn key(self) -> &'static str {
        match self {
            Endpoint::Graph => "graph_url",
            Endpoint::Login => "login_url",
        }
    }

    fn microsoft_hosts(self) -> Vec<&'static str> {
        let mut hosts: Vec<&'static str> = match self {
            Endpoint::Graph => CLOUDS.iter().map(|c| c.graph).collect(),
            Endpoint::Login => CLOUDS
                .iter()
                .flat_map(|c| c.login.iter().copied())
                .collect(),
        };
        hosts.dedup();
        hosts
    }
}

/// Checks a connector's `graph_url` or `login_url` (already trimmed, without a trailing `/`): an http(s) URL
/// without user info, query or fragment, on one of Microsoft's hosts for that setting (https, default port) or
/// on a host `allowed` admits. The error names the setting and shows only the URL's origin.
pub fn check_endpoint(
    endpoint: Endpoint,
    text: &str,
    allowed: &[AllowedHost],
) -> Result<Url, String> {
    let key = endpoint.key();
    let url = Url::parse(text)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| format!("Configuration field `{key}` is not an http(s) URL: `{text}`"))?;
    let origin = url.origin().ascii_serialization();
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(format!(
            "Configuration field `{key}` (on {origin}) must not carry user info, a query or a fragment"
        ));
    }
    let microsoft = endpoint.microsoft_hosts();
    let on_microsoft = url.scheme() == "https"
        && url.port().is_none()
        && url.host_str().is_some_and(|h| microsoft.contains(&h));
    if on_microsoft || allowed.iter().any(|a| a.matches(&url)) {
        return Ok(url);
    }
    let listed: Vec<String> = microsoft.iter().map(|h| format!("https://{h}")).collect();
    Err(format!(
        "Configuration field `{key}` names {origin}, which is not a Microsoft endpoint for it ({}); this service \
         sends the tenant's credentials there, so another host must be allowed by the operator in config.yml \
         (graph.allowed_hosts)",
        listed.join(", ")
    ))
}

/// Where download URLs (`@microsoft.graph.downloadUrl`) may point: https on the SharePoint/OneDrive domains of
/// the Graph cloud in use (any subdomain), or a host the operator allows.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadHosts {
    domains: &'static [&'static str],
    allowed: Vec<AllowedHost>,
}

impl Default for DownloadHosts {
    /// The global cloud's (graph.microsoft.com), nothing else.
    fn default() -> Self {
        DownloadHosts {
            domains: CLOUDS[0].downloads,
            allowed: Vec::new(),
        }
    }
}

impl DownloadHosts {
    /// For the cloud whose Graph is at `graph` (none when that is not Microsoft's: then only `allowed`).
    pub fn for_graph(graph: &Url, allowed: &[AllowedHost]) -> DownloadHosts {
        let microsoft = graph.scheme() == "https" && graph.port().is_none();
        let domains = CLOUDS
            .iter()
            .find(|c| microsoft && graph.host_str() == Some(c.graph))
            .map_or(&[][..], |c| c.downloads);
        DownloadHosts {
            domains,
            allowed: allowed.to_vec(),
        }
    }

    pub fn allows(&self, url: &Url) -> bool {
        let on_domain = url.scheme() == "https"
            && url.port().is_none()
            && url.host_str().is_some_and(|host| {
                self.domains.iter().any(|d| {
                    host.strip_suffix(d)
                        .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.'))
                })
            });
        on_domain || self.allowed.iter().any(|a| a.matches(url))
    }
}

/// `tenant_id` goes into the token URL's path (`{login_url}/{tenant}/oauth2/v2.0/token`): only a GUID or a domain
/// name (`contoso.onmicrosoft.com`; one label such as `organizations` too) may, so the value cannot redirect the
/// request to another path, query or host.
pub fn check_tenant_id(tenant: &str) -> Result<(), String> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let domain = tenant.len() <= 253 && tenant.split('.').all(label_ok);
    // A GUID is also a valid single label, so the domain rule covers both forms.
    if domain {
        Ok(())
    } else {
        Err(format!(
            "Configuration field `tenant_id` must be the tenant's ID (a GUID) or one of its domain names (like \
             contoso.onmicrosoft.com), not `{}`",
            tenant.escape_debug()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(entries: &[&str]) -> Vec<AllowedHost> {
        entries
            .iter()
            .map(|e| AllowedHost::parse(e).unwrap())
            .collect()
    }

    #[test]
    fn microsoft_endpoints_of_every_cloud_are_accepted() {
        for graph in [
            "https://graph.microsoft.com/v1.0",
            "https://graph.microsoft.us/v1.0",
            "https://dod-graph.microsoft.us/beta",
            "https://microsoftgraph.chinacloudapi.cn/v1.0",
        ] {
            assert!(
                check_endpoint(Endpoint::Graph, graph, &[]).is_ok(),
                "{graph}"
            );
        }
        for login in [
            "https://login.microsoftonline.com",
            "https://login.microsoftonline.us",
            "https://login.chinacloudapi.cn",
            "https://login.partner.microsoftonline.cn",
        ] {
            assert!(
                check_endpoint(Endpoint::Login, login, &[]).is_ok(),
                "{login}"
            );
        }
    }

    #[test]
    fn other_hosts_need_the_operator() {
        let e = check_endpoint(Endpoint::Login, "https://login.evil.example", &[]).unwrap_err();
        assert!(
            e.starts_with("Configuration field `login_url` names https://login.evil.example,")
                && e.contains("graph.allowed_hosts"),
            "{e}"
        );
        // Microsoft's hosts only over https, on the default port, and each for its own setting.
        for (endpoint, url) in [
            (Endpoint::Graph, "http://graph.microsoft.com/v1.0"),
            (Endpoint::Graph, "https://graph.microsoft.com:8443/v1.0"),
            (Endpoint::Graph, "https://login.microsoftonline.com"),
            (
                Endpoint::Graph,
                "https://graph.microsoft.com.evil.example/v1.0",
            ),
            (Endpoint::Login, "https://graph.microsoft.com"),
        ] {
            assert!(check_endpoint(endpoint, url, &[]).is_err(), "{url}");
        }
        let fixture = allowed(&["http://127.0.0.1:41234"]);
        assert!(check_endpoint(Endpoint::Graph, "http://127.0.0.1:41234/v1.0", &fixture).is_ok());
        assert!(check_endpoint(Endpoint::Login, "http://127.0.0.1:41234", &fixture).is_ok());
        assert!(check_endpoint(Endpoint::Login, "http://127.0.0.1:41235", &fixture).is_err());
    }

    #[test]
    fn endpoint_urls_carry_no_credentials_or_query() {
        for url in [
            "https://user:pw@graph.microsoft.com/v1.0",
            "https://graph.microsoft.com/v1.0?x=1",
            "https://graph.microsoft.com/v1.0#f",
        ] {
            let e = check_endpoint(Endpoint::Graph, url, &[]).unwrap_err();
            assert!(e.contains("must not carry") && !e.contains("pw"), "{e}");
        }
        assert!(check_endpoint(Endpoint::Graph, "graph.example", &[])
            .unwrap_err()
            .contains("`graph_url` is not an http(s) URL"));
    }

    #[test]
    fn downloads_follow_the_cloud_in_use() {
        let url = |u: &str| Url::parse(u).unwrap();
        let global = DownloadHosts::for_graph(&url("https://graph.microsoft.com/v1.0"), &[]);
        assert_eq!(global, DownloadHosts::default());
        assert!(global.allows(&url(
            "https://contoso-my.sharepoint.com/personal/a/_layouts/15/download.aspx?tempauth=x"
        )));
        for refused in [
            "http://contoso.sharepoint.com/a",
            "https://sharepoint.com/a",
            "https://contoso.sharepoint.com.evil.example/a",
            "https://evilsharepoint.com/a",
            "https://contoso.sharepoint.us/a",
            "https://contoso.sharepoint.com:8443/a",
        ] {
            assert!(!global.allows(&url(refused)), "{refused}");
        }
        let dod = DownloadHosts::for_graph(&url("https://dod-graph.microsoft.us/v1.0"), &[]);
        assert!(dod.allows(&url("https://army.sharepoint-mil.us/a")));
        assert!(!dod.allows(&url("https://contoso.sharepoint.com/a")));
        let china =
            DownloadHosts::for_graph(&url("https://microsoftgraph.chinacloudapi.cn/v1.0"), &[]);
        assert!(china.allows(&url("https://contoso.sharepoint.cn/a")));
        // A Graph the operator allowed has no SharePoint of its own: only the allowed hosts serve downloads.
        let fixture = allowed(&["http://127.0.0.1:41234"]);
        let local = DownloadHosts::for_graph(&url("http://127.0.0.1:41234/v1.0"), &fixture);
        assert!(local.allows(&url("http://127.0.0.1:41234/_download/1")));
        assert!(!local.allows(&url("https://contoso.sharepoint.com/a")));
        assert!(!local.allows(&url("http://127.0.0.1:9/_download/1")));
    }

    #[test]
    fn tenant_ids_are_guids_or_domain_names() {
        for ok in [
            "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "contoso.onmicrosoft.com",
            "fixture.test",
            "organizations",
        ] {
            assert!(check_tenant_id(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "contoso.com/../common",
            "a/b",
            "t?x=1",
            "evil.example#",
            "user@contoso.com",
            "-contoso.com",
            "contoso..com",
            "contoso.com:443",
            "ten ant",
            "%2e%2e",
        ] {
            let e = check_tenant_id(bad).unwrap_err();
            assert!(e.starts_with("Configuration field `tenant_id`"), "{e}");
        }
    }
}
