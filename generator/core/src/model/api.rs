//! The API and its sign-in, validated: routes parsed into methods and path segments,
//! functions resolved, Auth0 settings checked.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::{Key, Validator};
use crate::diag::{Diagnostic, did_you_mean_hint};
use crate::manifest;

/// The function key the generated authorizer takes.
pub const AUTHORIZER_KEY: &str = "authorizer";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthSpec {
    pub domain: String,
    pub client_id: String,
    pub audience: String,
    pub cache_ttl_seconds: u32,
}

impl AuthSpec {
    /// Auth0's issuer: exactly `https://<domain>/`, trailing slash included.
    pub fn issuer(&self) -> String {
        format!("https://{}/", self.domain)
    }

    pub fn jwks_url(&self) -> String {
        format!("https://{}/.well-known/jwks.json", self.domain)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Any,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Head => "HEAD",
            HttpMethod::Any => "ANY",
        }
    }

    const ALL: [HttpMethod; 7] = [
        HttpMethod::Get,
        HttpMethod::Post,
        HttpMethod::Put,
        HttpMethod::Patch,
        HttpMethod::Delete,
        HttpMethod::Head,
        HttpMethod::Any,
    ];
}

/// `GET /videos/{id}`: a method and the path's segments.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RouteKey {
    pub path: Vec<String>,
    pub method: HttpMethod,
}

impl RouteKey {
    pub fn path_text(&self) -> String {
        format!("/{}", self.path.join("/"))
    }
}

impl fmt::Display for RouteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method.as_str(), self.path_text())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteSpec {
    pub function: Key,
    /// Guarded by the authorizer.
    pub protected: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiSpec {
    pub routes: BTreeMap<RouteKey, RouteSpec>,
    pub cors_origin: Option<String>,
    pub stage: String,
    pub rate_limit: u32,
    pub burst_limit: u32,
}

impl ApiSpec {
    /// Every resource path (prefix) the routes need, parents first.
    pub fn resource_paths(&self) -> BTreeSet<Vec<String>> {
        let mut paths = BTreeSet::new();
        for key in self.routes.keys() {
            for end in 1..=key.path.len() {
                paths.insert(key.path[..end].to_vec());
            }
        }
        paths
    }

    /// Functions that answer API routes (they get HTTP glue code).
    pub fn functions(&self) -> BTreeSet<&Key> {
        self.routes.values().map(|r| &r.function).collect()
    }
}

/// The generated authorizer as a function like any other (role, log group, alarms, cost).
pub(super) fn authorizer_function(auth: &AuthSpec, alarm: super::AlarmSpec) -> super::FunctionSpec {
    super::FunctionSpec {
        description: Some("Checks Auth0 access tokens (RS256, JWKS) for the API".to_owned()),
        memory_mb: 256,
        timeout_seconds: 10,
        architecture: crate::manifest::Architecture::X86_64,
        environment: BTreeMap::from([
            ("AUTH_AUDIENCE".to_owned(), auth.audience.clone()),
            ("AUTH_ISSUER".to_owned(), auth.issuer()),
            ("AUTH_JWKS_URL".to_owned(), auth.jwks_url()),
        ]),
        log_retention_days: 30,
        reads: BTreeSet::new(),
        writes: BTreeSet::new(),
        table_reads: BTreeSet::new(),
        table_writes: BTreeSet::new(),
        s3_triggers: Vec::new(),
        dynamodb_triggers: Vec::new(),
        policies: BTreeSet::new(),
        alarm,
        secrets: BTreeSet::new(),
    }
}

impl Validator<'_> {
    pub(super) fn auth(&mut self, auth: &manifest::Auth) -> AuthSpec {
        let domain = auth.domain.trim_end_matches('/');
        let host_like = !domain.is_empty()
            && domain.contains('.')
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if !host_like {
            let hint = domain
                .strip_prefix("https://")
                .or_else(|| domain.strip_prefix("http://"))
                .map(|rest| format!("write the host only: `{}`", rest.trim_end_matches('/')))
                .unwrap_or_else(|| {
                    "the tenant domain from the Auth0 dashboard, e.g. `dev-abc123.us.auth0.com`"
                        .to_owned()
                });
            self.error(
                Diagnostic::new("auth.domain", format!("`{}` is not a domain", auth.domain))
                    .expected("a host name without scheme or path")
                    .hint(hint),
            );
        }
        if auth.client_id.is_empty()
            || !auth
                .client_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            self.error(
                Diagnostic::new(
                    "auth.client_id",
                    format!("`{}` is not an Auth0 client id", auth.client_id),
                )
                .expected("letters, digits, `_` and `-` (Applications → your SPA → Client ID)"),
            );
        }
        if auth.audience.trim().is_empty() || auth.audience.contains(char::is_whitespace) {
            self.error(
                Diagnostic::new("auth.audience", "an empty or spaced audience")
                    .expected("the API identifier from Auth0 (APIs → your API → Identifier), e.g. `https://api.example.com`"),
            );
        }
        if auth.cache_ttl_seconds > 3600 {
            self.error(
                Diagnostic::new(
                    "auth.cache_ttl_seconds",
                    format!("{} seconds", auth.cache_ttl_seconds),
                )
                .expected("0 to 3600 (API Gateway's limit)"),
            );
        }
        AuthSpec {
            domain: domain.to_owned(),
            client_id: auth.client_id.clone(),
            audience: auth.audience.clone(),
            cache_ttl_seconds: auth.cache_ttl_seconds,
        }
    }

    pub(super) fn api(
        &mut self,
        api: &manifest::Api,
        functions: &BTreeSet<String>,
        has_auth: bool,
    ) -> ApiSpec {
        let mut routes = BTreeMap::new();
        if api.routes.is_empty() {
            self.key_error(
                Diagnostic::new("api.routes", "no routes")
                    .expected("at least one route, e.g. `GET /hello: {function: hello}`"),
            );
        }
        for (text, route) in &api.routes {
            let path = format!("api.routes.{text}");
            let Some(key) = self.route_key(&path, text) else {
                continue;
            };
            if !functions.contains(&route.function) {
                self.error(
                    Diagnostic::new(
                        format!("{path}.function"),
                        format!("no function `{}` is declared", route.function),
                    )
                    .expected("the key of a function under `functions:`")
                    .maybe_hint(did_you_mean_hint(
                        &route.function,
                        functions.iter().map(String::as_str),
                    )),
                );
                continue;
            }
            let Ok(function) = Key::parse(&route.function) else {
                continue;
            };
            routes.insert(
                key,
                RouteSpec {
                    function,
                    protected: has_auth && !route.public,
                },
            );
        }
        // API Gateway allows one variable segment per level: `/{id}` and `/{name}` clash.
        let mut variables: BTreeMap<Vec<String>, &str> = BTreeMap::new();
        for key in routes.keys() {
            for (depth, segment) in key.path.iter().enumerate() {
                if segment.starts_with('{') {
                    let parent = key.path[..depth].to_vec();
                    if let Some(other) = variables.insert(parent.clone(), segment)
                        && other != segment
                    {
                        self.key_error(
                            Diagnostic::new(format!("api.routes.{key}"), format!("`{segment}` and `{other}` name the same path level of /{}", parent.join("/")))
                                .hint("use one variable name per level (API Gateway allows a single variable sibling)"),
                        );
                    }
                }
            }
        }
        if let Some(origin) = &api.cors_origin {
            let valid = (origin.starts_with("https://") || origin.starts_with("http://"))
                && !origin
                    .trim_start_matches("https://")
                    .trim_start_matches("http://")
                    .contains('/')
                && !origin.contains(char::is_whitespace);
            if !valid {
                self.error(
                    Diagnostic::new("api.cors_origin", format!("`{origin}` is not an origin"))
                        .expected("scheme://host[:port], without path or trailing slash, e.g. `https://www.example.com`"),
                );
            }
        }
        if api.stage.is_empty()
            || !api
                .stage
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            self.error(
                Diagnostic::new("api.stage", format!("`{}` is not a stage name", api.stage))
                    .expected("letters, digits, `-` and `_`"),
            );
        }
        if api.burst_limit < api.rate_limit {
            self.error(
                Diagnostic::new(
                    "api.burst_limit",
                    format!(
                        "a burst of {} below the rate of {}",
                        api.burst_limit, api.rate_limit
                    ),
                )
                .expected("burst_limit ≥ rate_limit"),
            );
        }
        ApiSpec {
            routes,
            cors_origin: api.cors_origin.clone(),
            stage: api.stage.clone(),
            rate_limit: api.rate_limit,
            burst_limit: api.burst_limit,
        }
    }

    fn route_key(&mut self, path: &str, text: &str) -> Option<RouteKey> {
        let bad = |v: &mut Self, message: String| {
            v.key_error(
                Diagnostic::new(path, message)
                    .expected("`METHOD /path`, e.g. `GET /user-profile` or `POST /videos/{id}`"),
            );
            None
        };
        let Some((method_text, route_path)) = text.split_once(' ') else {
            return bad(self, format!("`{text}` has no method"));
        };
        let Some(method) = HttpMethod::ALL
            .into_iter()
            .find(|m| m.as_str() == method_text)
        else {
            let hint = did_you_mean_hint(
                &method_text.to_ascii_uppercase(),
                HttpMethod::ALL.iter().map(|m| m.as_str()),
            );
            self.key_error(
                Diagnostic::new(path, format!("unknown method `{method_text}`"))
                    .expected("GET, POST, PUT, PATCH, DELETE, HEAD or ANY")
                    .maybe_hint(hint),
            );
            return None;
        };
        let Some(rest) = route_path.strip_prefix('/') else {
            return bad(self, format!("`{route_path}` does not start with `/`"));
        };
        let segments: Vec<String> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').map(str::to_owned).collect()
        };
        for (i, segment) in segments.iter().enumerate() {
            let variable = segment.starts_with('{') && segment.ends_with('}') && segment.len() > 2;
            let greedy = segment.ends_with("+}");
            let plain = !segment.is_empty()
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
            if !(plain || variable) {
                return bad(self, format!("path segment `{segment}` is not valid"));
            }
            if greedy && i + 1 != segments.len() {
                return bad(
                    self,
                    format!("`{segment}` (greedy) must be the last segment"),
                );
            }
        }
        if segments.is_empty() {
            return bad(self, "the root path `/` cannot be a route here".to_owned());
        }
        Some(RouteKey {
            path: segments,
            method,
        })
    }
}
