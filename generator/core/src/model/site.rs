//! The website in the validated model: its page title, the local development server's port,
//! and, when hosted, how CloudFront serves it; it signs users in with `auth:`.

use super::{AuthSpec, Validator};
use crate::diag::Diagnostic;
use crate::manifest::{self, PriceClass};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteSpec {
    pub title: String,
    pub port: u16,
    /// `None`: the site stays local (`hosting: false`).
    pub hosting: Option<HostingSpec>,
}

/// A site served by CloudFront from a private bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostingSpec {
    /// The custom domain and its certificate (ACM, us-east-1); `None`: `*.cloudfront.net`.
    pub domain: Option<CustomDomain>,
    pub price_class: PriceClass,
    /// Unknown paths answer `index.html` instead of 404.
    pub spa: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomDomain {
    pub name: String,
    pub certificate_arn: String,
}

/// The bucket key of the hosted site's bucket (its name is `<prefix>-site-<account>-<region>`).
pub const SITE_BUCKET_KEY: &str = "site";

/// CloudFront uses only certificates in this region.
pub const CERTIFICATE_REGION: &str = "us-east-1";

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
        let hosting = if site.hosting {
            Some(self.hosting(site))
        } else {
            self.not_hosted(site);
            None
        };
        SiteSpec {
            title,
            port: site.port,
            hosting,
        }
    }

    fn hosting(&mut self, site: &manifest::Site) -> HostingSpec {
        let domain = match (&site.domain, &site.certificate_arn) {
            (Some(domain), Some(arn)) => {
                self.domain(domain);
                self.certificate_arn(arn);
                Some(CustomDomain {
                    name: domain.clone(),
                    certificate_arn: arn.clone(),
                })
            }
            (Some(domain), None) => {
                self.error(
                    Diagnostic::new(
                        "site.domain",
                        format!("`{domain}` without a certificate"),
                    )
                    .expected("`certificate_arn:` too: CloudFront serves a domain over HTTPS only with its certificate")
                    .hint("request a certificate for it in ACM in us-east-1 (N. Virginia) and put its ARN in `site.certificate_arn`"),
                );
                None
            }
            (None, Some(_)) => {
                self.error(
                    Diagnostic::new("site.certificate_arn", "a certificate without a domain")
                        .expected("`site.domain:`, the name the certificate is for")
                        .hint("add `domain:`, or remove `certificate_arn:` to serve the site on its *.cloudfront.net name"),
                );
                None
            }
            (None, None) => None,
        };
        HostingSpec {
            domain,
            price_class: site.price_class,
            spa: site.spa,
        }
    }

    /// Hosting settings on a site that is not hosted would be silently ignored: refused.
    fn not_hosted(&mut self, site: &manifest::Site) {
        let set = [
            ("domain", site.domain.is_some()),
            ("certificate_arn", site.certificate_arn.is_some()),
            ("price_class", site.price_class != PriceClass::default()),
            ("spa", site.spa),
        ];
        for (field, _) in set.iter().filter(|(_, is_set)| *is_set) {
            self.error(
                Diagnostic::new(
                    format!("site.{field}"),
                    "a hosting setting of a site that is not hosted",
                )
                .hint("remove it, or remove `hosting: false` to host the site on CloudFront"),
            );
        }
    }

    fn domain(&mut self, domain: &str) {
        let labels: Vec<&str> = domain.split('.').collect();
        let valid = domain.len() <= 253
            && labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            });
        if !valid {
            self.error(
                Diagnostic::new("site.domain", format!("`{domain}` is not a domain name"))
                    .expected("a lowercase host name without scheme, path or port, e.g. `www.example.com`"),
            );
        }
    }

    fn certificate_arn(&mut self, arn: &str) {
        // arn:aws:acm:<region>:<account>:certificate/<id>
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let shaped = parts.len() == 6
            && parts[0] == "arn"
            && parts[1].starts_with("aws")
            && parts[2] == "acm"
            && parts[4].len() == 12
            && parts[4].chars().all(|c| c.is_ascii_digit())
            && parts[5]
                .strip_prefix("certificate/")
                .is_some_and(|id| !id.is_empty());
        if !shaped {
            self.error(
                Diagnostic::new(
                    "site.certificate_arn",
                    format!("`{arn}` is not an ACM certificate ARN"),
                )
                .expected("arn:aws:acm:us-east-1:<account id>:certificate/<id>"),
            );
        } else if parts[3] != CERTIFICATE_REGION {
            self.error(
                Diagnostic::new(
                    "site.certificate_arn",
                    format!("a certificate in {}", parts[3]),
                )
                .expected(format!("a certificate in {CERTIFICATE_REGION}: CloudFront uses only certificates from there, whatever the app's region"))
                .hint("request or import the certificate in ACM in us-east-1 (N. Virginia) and use that ARN"),
            );
        }
    }
}
