//! `graph.allowed_hosts`: hosts beyond Microsoft's own that the operator lets the Teams source reach (a Graph
//! gateway, a test fixture). An entry is parsed once, at load, so a typo stops the start naming the key instead of
//! silently refusing every request later. The connector document (editable by anyone with Kibana access) can only
//! pick among these and Microsoft's endpoints; widening that set takes access to the service's own config file.

use std::fmt;

use url::Url;

/// One `graph.allowed_hosts` entry: `host` or `host:port` (https), `scheme://host[:port]` (http or https), each
/// host optionally `*.domain` for every subdomain of `domain` (not `domain` itself).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct AllowedHost {
    scheme: String,
    /// Lower case, as `url` normalises hosts; bracketed for IPv6.
    host: String,
    subdomains: bool,
    port: u16,
    /// As written, for messages and serialisation.
    text: String,
}

impl AllowedHost {
    pub fn parse(text: &str) -> Result<AllowedHost, String> {
        let text = text.trim();
        let (scheme, rest) = match text.split_once("://") {
            Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
            None => ("https".to_string(), text),
        };
        if scheme != "https" && scheme != "http" {
            return Err(format!(
                "`{text}`: the scheme must be https or http, not `{scheme}`"
            ));
        }
        let (subdomains, rest) = match rest.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        // A path, query or user info would suggest the entry restricts more than it does: refuse rather than guess.
        if authority.is_empty() || authority.contains(['/', '?', '#', '@', '*']) {
            return Err(format!(
                "`{text}` is not a host, host:port or scheme://host[:port] (a leading `*.` allows subdomains)"
            ));
        }
        let url = Url::parse(&format!("{scheme}://{authority}"))
            .map_err(|e| format!("`{text}` is not a host: {e}"))?;
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            return Err(format!("`{text}` names no host"));
        };
        Ok(AllowedHost {
            scheme,
            host: host.to_string(),
            subdomains,
            port,
            text: text.to_string(),
        })
    }

    /// Whether `url` is on this entry's scheme, host (or a subdomain, for `*.`) and port.
    pub fn matches(&self, url: &Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        let host_ok = if self.subdomains {
            host.strip_suffix(self.host.as_str())
                .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.'))
        } else {
            host == self.host
        };
        host_ok && url.scheme() == self.scheme && url.port_or_known_default() == Some(self.port)
    }
}

impl fmt::Display for AllowedHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl TryFrom<String> for AllowedHost {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        AllowedHost::parse(&text)
    }
}

impl From<AllowedHost> for String {
    fn from(host: AllowedHost) -> String {
        host.text
    }
}

impl std::str::FromStr for AllowedHost {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        AllowedHost::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(entry: &str, url: &str) -> bool {
        AllowedHost::parse(entry)
            .unwrap()
            .matches(&Url::parse(url).unwrap())
    }

    #[test]
    fn a_bare_host_means_https_on_its_default_port() {
        assert!(allows("gw.corp.example", "https://gw.corp.example/v1.0"));
        assert!(allows("GW.corp.example", "https://gw.corp.example:443/x"));
        assert!(!allows("gw.corp.example", "http://gw.corp.example/v1.0"));
        assert!(!allows("gw.corp.example", "https://gw.corp.example:8443/"));
        assert!(!allows("gw.corp.example", "https://gw.corp.example.evil/"));
        assert!(allows(
            "gw.corp.example:8443",
            "https://gw.corp.example:8443/"
        ));
    }

    #[test]
    fn an_origin_names_scheme_and_port() {
        assert!(allows(
            "http://127.0.0.1:41234",
            "http://127.0.0.1:41234/v1.0/users"
        ));
        assert!(!allows("http://127.0.0.1:41234", "http://127.0.0.1:41235/"));
        assert!(!allows(
            "http://127.0.0.1:41234",
            "https://127.0.0.1:41234/"
        ));
        assert!(allows("http://[::1]:8080/", "http://[::1]:8080/x"));
    }

    #[test]
    fn a_wildcard_allows_subdomains_only() {
        assert!(allows(
            "*.files.corp.example",
            "https://a.b.files.corp.example/d"
        ));
        assert!(!allows(
            "*.files.corp.example",
            "https://files.corp.example/d"
        ));
        assert!(!allows(
            "*.files.corp.example",
            "https://evilfiles.corp.example/d"
        ));
    }

    #[test]
    fn malformed_entries_are_refused() {
        for bad in [
            "",
            "ftp://host",
            "https://host/path",
            "https://user@host",
            "host?x=1",
            "*",
            "a.*.example",
            "http://:80",
        ] {
            assert!(AllowedHost::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
