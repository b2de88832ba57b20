//! Which proxy a request goes through, by curl's rules: `https://` URLs use `HTTPS_PROXY`, `http://` URLs use
//! `HTTP_PROXY`, either falls back to `ALL_PROXY`, and a host matched by `NO_PROXY` is reached directly. One
//! decision function for every client, so Graph (per request) and Elasticsearch (one host, decided when the
//! client is built) follow the same rules.

use std::net::IpAddr;

use url::{Host, Url};

use crate::config::ProxyEnv;

#[derive(Clone, Default)]
pub struct ProxyRules {
    https: Option<Url>,
    http: Option<Url>,
    bypass: NoProxy,
}

/// Proxy URLs may carry credentials: debug output says only which proxies are set.
impl std::fmt::Debug for ProxyRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyRules")
            .field("https", &self.https.is_some())
            .field("http", &self.http.is_some())
            .finish_non_exhaustive()
    }
}

impl ProxyRules {
    pub fn new(env: &ProxyEnv) -> ProxyRules {
        // `config` validated these URLs; one that still does not parse is treated as unset.
        let parse = |v: Option<&crate::secret::Secret>| v.and_then(|s| Url::parse(s.expose()).ok());
        let all = parse(env.all.as_ref());
        ProxyRules {
            https: parse(env.https.as_ref()).or_else(|| all.clone()),
            http: parse(env.http.as_ref()).or(all),
            bypass: NoProxy::parse(&env.no_proxy),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.https.is_none() && self.http.is_none()
    }

    /// The proxy for `url` (credentials included: never log it), or `None` to connect directly.
    pub fn proxy_for(&self, url: &Url) -> Option<&Url> {
        let proxy = match url.scheme() {
            "https" => self.https.as_ref(),
            "http" => self.http.as_ref(),
            _ => None,
        }?;
        match url.host() {
            Some(host) if self.bypass.matches(&host) => None,
            _ => Some(proxy),
        }
    }
}

/// `NO_PROXY`: comma-separated entries; `*` matches every host; an IP address or CIDR range matches hosts given
/// as addresses in it; any other entry is a domain that matches itself and its subdomains (`corp.example`,
/// `.corp.example` and `*.corp.example` are the same). A `:port` suffix is ignored. Names are not resolved.
#[derive(Clone, Debug, Default)]
struct NoProxy {
    everything: bool,
    networks: Vec<(IpAddr, u8)>,
    domains: Vec<String>,
}

impl NoProxy {
    fn parse(list: &str) -> NoProxy {
        let mut rules = NoProxy::default();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if entry == "*" {
                rules.everything = true;
            } else if let Some(network) = network(entry) {
                rules.networks.push(network);
            } else {
                let domain = entry.trim_start_matches('*').trim_start_matches('.');
                let domain = match domain.rsplit_once(':') {
                    Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
                    _ => domain,
                };
                rules.domains.push(domain.to_ascii_lowercase());
            }
        }
        rules
    }

    fn matches(&self, host: &Host<&str>) -> bool {
        if self.everything {
            return true;
        }
        match host {
            Host::Domain(name) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                self.domains.iter().any(|d| {
                    name == *d
                        || name
                            .strip_suffix(d.as_str())
                            .is_some_and(|rest| rest.ends_with('.'))
                })
            }
            Host::Ipv4(ip) => self.contains(IpAddr::V4(*ip)),
            Host::Ipv6(ip) => self.contains(IpAddr::V6(*ip)),
        }
    }

    fn contains(&self, ip: IpAddr) -> bool {
        self.networks
            .iter()
            .any(|(net, prefix)| in_network(ip, *net, *prefix))
    }
}

/// `10.0.0.0/8`, `192.168.1.7`, `::1`, `[::1]`, `fd00::/8` → (address, prefix length).
fn network(entry: &str) -> Option<(IpAddr, u8)> {
    let (addr, prefix) = match entry.split_once('/') {
        Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
        None => (entry, None),
    };
    let addr: IpAddr = addr
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = prefix.unwrap_or(max);
    (prefix <= max).then_some((addr, prefix))
}

fn in_network(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    let (ip, net, bits) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128, 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    let shift = bits - u32::from(prefix);
    // A shift of 128 would overflow: prefix 0 matches every address of the family.
    shift >= 128 || (ip >> shift) == (net >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn rules(https: Option<&str>, http: Option<&str>, all: Option<&str>, no: &str) -> ProxyRules {
        ProxyRules::new(&ProxyEnv {
            https: https.map(Secret::new),
            http: http.map(Secret::new),
            all: all.map(Secret::new),
            no_proxy: no.into(),
        })
    }

    fn via(r: &ProxyRules, url: &str) -> Option<String> {
        r.proxy_for(&Url::parse(url).unwrap())
            .map(|u| u.to_string())
    }

    #[test]
    fn scheme_picks_the_proxy_and_all_proxy_fills_in() {
        let r = rules(Some("http://s:1"), None, Some("http://a:3"), "");
        assert_eq!(
            via(&r, "https://graph.microsoft.com/v1.0").as_deref(),
            Some("http://s:1/")
        );
        assert_eq!(
            via(&r, "http://es.internal:9200").as_deref(),
            Some("http://a:3/")
        );
        let r = rules(Some("http://s:1"), None, None, "");
        assert_eq!(via(&r, "http://es.internal:9200"), None);
        assert!(rules(None, None, None, "").is_empty());
    }

    #[test]
    fn no_proxy_entries() {
        let r = rules(
            Some("http://p:1"),
            Some("http://p:1"),
            None,
            " corp.example, .internal,*.lan, localhost:9200, 10.0.0.0/8, 192.168.1.7, [::1], fd00::/8 ",
        );
        for direct in [
            "https://corp.example/",
            "https://a.b.corp.example/",
            "http://es.internal:9200",
            "http://internal/",
            "http://x.lan/",
            "http://LOCALHOST:9201",
            "http://10.1.2.3/",
            "http://192.168.1.7:9200",
            "http://[::1]:9200",
            "http://[fd12::1]/",
        ] {
            assert_eq!(via(&r, direct), None, "{direct}");
        }
        for proxied in [
            "https://notcorp.example/",
            "https://corp.example.com/",
            "http://11.0.0.1/",
            "http://192.168.1.8/",
            "http://[::2]/",
            "https://graph.microsoft.com/",
        ] {
            assert!(via(&r, proxied).is_some(), "{proxied}");
        }
        let everything = rules(Some("http://p:1"), None, None, "*");
        assert_eq!(via(&everything, "https://graph.microsoft.com/"), None);
        let zero = rules(None, Some("http://p:1"), None, "0.0.0.0/0");
        assert_eq!(via(&zero, "http://203.0.113.9/"), None);
        assert!(via(&zero, "http://[::1]/").is_some());
    }

    #[test]
    fn debug_output_has_no_credentials() {
        let r = rules(Some("http://user:hunter2@p:1"), None, None, "");
        assert!(!format!("{r:?}").contains("hunter2"));
    }
}
