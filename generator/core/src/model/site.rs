//! The website in the validated model: its page title and the local development server's
//! port; it signs users in with `auth:`.

use super::{AuthSpec, Validator};
use crate::diag::Diagnostic;
use crate::manifest;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteSpec {
    pub title: String,
    pub port: u16,
}

impl Validator<'_> {
    /// The website; its title defaults to the project's `name`.
    pub(super) fn site(
        &mut self,
        site: &manifest::Site,
        name: &str,
        auth: Option<&AuthSpec>,
    ) -> SiteSpec {
        if auth.is_none() {
            self.key_error(
                Diagnostic::new("site", "a site without sign-in")
                    .hint("add `auth:` (the site signs users in with it)"),
            );
        }
        let title = site.title.clone().unwrap_or_else(|| name.to_owned());
        if title.is_empty()
            || title.len() > 80
            || title.contains(['<', '>', '&', '"', '\'', '{', '}'])
        {
            self.error(
                Diagnostic::new(
                    "site.title",
                    format!("`{title}` cannot be a page title here"),
                )
                .expected("1 to 80 characters without < > & \" ' { }"),
            );
        }
        if site.port < 1024 {
            self.error(
                Diagnostic::new("site.port", format!("port {}", site.port))
                    .expected("1024 to 65535"),
            );
        }
        SiteSpec {
            title,
            port: site.port,
        }
    }
}
