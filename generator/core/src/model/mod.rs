//! The validated model: what a manifest means once every name, limit and reference has been
//! checked. Constructs consume only this, so they never see an invalid value.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Diagnostic, did_you_mean_hint};
use crate::manifest::{self, Manifest, SourceMap};
use crate::naming::Naming;

mod alerts;
mod api;
mod audit;
mod bucket;
mod function;
mod key;
mod policy;
mod secret;
mod site;
mod stage;
mod table;
mod usage;

pub use alerts::{AlarmSpec, AlertsSpec, BillingSpec};
pub use api::{AUTHORIZER_KEY, ApiSpec, AuthSpec, HttpMethod, RouteKey, RouteSpec};
pub use audit::AuditSpec;
pub use bucket::{BucketName, BucketSpec, LOG_BUCKET_KEY, LogBucketSpec};
pub use function::{DynamodbTriggerSpec, FunctionSpec, S3TriggerSpec};
pub use key::Key;
pub use policy::{
    ConditionsSpec, GroupSpec, IamSpec, PolicySpec, PrincipalsSpec, ResourceRef, StatementSpec,
    UserSpec,
};
pub use secret::{SecretSource, SecretSpec};
pub use site::{CERTIFICATE_REGION, CustomDomain, HostingSpec, SITE_BUCKET_KEY, SiteSpec};
pub use stage::{StageSpec, stages};
pub use table::{IndexSpec, KeySpec, ProjectionSpec, TableSpec};
pub use usage::{BucketUsageSpec, FunctionUsageSpec, TableUsageSpec, UsageSpec};

/// Regions stackgen knows (commercial partition). An unknown one is refused with a suggestion.
pub const REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// CloudWatch Logs accepts only these retention periods (days).
pub const LOG_RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub project: Key,
    /// The stage this model is, when the manifest has stages.
    pub stage: Option<StageSpec>,
    /// Every physical name of the app comes from here.
    pub naming: Naming,
    pub description: String,
    pub region: String,
    pub tags: BTreeMap<String, String>,
    pub buckets: BTreeMap<Key, BucketSpec>,
    /// Present exactly when there is at least one bucket to log.
    pub log_bucket: Option<LogBucketSpec>,
    pub tables: BTreeMap<Key, TableSpec>,
    pub functions: BTreeMap<Key, FunctionSpec>,
    pub alerts: Option<AlertsSpec>,
    pub billing: Option<BillingSpec>,
    pub audit: Option<AuditSpec>,
    pub iam: IamSpec,
    pub secrets: BTreeMap<Key, SecretSpec>,
    pub auth: Option<AuthSpec>,
    pub api: Option<ApiSpec>,
    pub site: Option<SiteSpec>,
    pub usage: UsageSpec,
}

/// Checks everything that parsing could not and builds the model. All problems are reported
/// at once, in manifest order.
pub fn validate(manifest: &Manifest, source_map: &SourceMap) -> Result<Model, Vec<Diagnostic>> {
    validate_as(manifest, source_map, None)
}

/// [`validate`] for one stage: `manifest` is the base with the stage's overrides applied and
/// its names carry the stage.
pub fn validate_as(
    manifest: &Manifest,
    source_map: &SourceMap,
    stage: Option<&StageSpec>,
) -> Result<Model, Vec<Diagnostic>> {
    let mut v = Validator {
        source_map,
        diagnostics: Vec::new(),
        stage,
    };
    let model = v.model(manifest);
    if v.diagnostics.is_empty() {
        Ok(model)
    } else {
        v.diagnostics.sort_by_key(|d| d.position);
        Err(v.diagnostics)
    }
}

/// The keys the manifest declares, for checking references before the model exists.
pub(crate) struct Names {
    pub buckets: BTreeSet<String>,
    pub tables: BTreeSet<String>,
    /// Each table's index names.
    pub table_indexes: BTreeMap<String, BTreeSet<String>>,
    pub functions: BTreeSet<String>,
    pub policies: BTreeSet<String>,
    pub groups: BTreeSet<String>,
    pub secrets: BTreeSet<String>,
}

#[derive(Clone, Copy)]
enum KeyKind {
    Project,
    Bucket,
    Table,
    Function,
    Policy,
    Group,
    Secret,
    Stage,
}

impl KeyKind {
    fn noun(self) -> &'static str {
        match self {
            KeyKind::Project => "project name",
            KeyKind::Bucket => "bucket key",
            KeyKind::Table => "table key",
            KeyKind::Function => "function key",
            KeyKind::Policy => "policy key",
            KeyKind::Group => "group key",
            KeyKind::Secret => "secret key",
            KeyKind::Stage => "stage key",
        }
    }
}

struct Validator<'a> {
    source_map: &'a SourceMap,
    diagnostics: Vec<Diagnostic>,
    /// The stage being validated, when the manifest has stages.
    stage: Option<&'a StageSpec>,
}

impl Validator<'_> {
    /// Reports a problem with the value at `path`.
    fn error(&mut self, diagnostic: Diagnostic) {
        let position = self.source_map.value(&diagnostic.path);
        self.diagnostics.push(diagnostic.at(position));
    }

    /// The two paths, earlier position in the file first.
    fn in_file_order(&self, a: String, b: String) -> (String, String) {
        if self.source_map.value(&a) <= self.source_map.value(&b) {
            (a, b)
        } else {
            (b, a)
        }
    }

    /// Reports a problem with the key (name) of the entry at `path`.
    fn key_error(&mut self, diagnostic: Diagnostic) {
        let position = self.source_map.key(&diagnostic.path);
        self.diagnostics.push(diagnostic.at(position));
    }

    /// A project name (the value at `path`) or a bucket/function key (the key of the entry at
    /// `path`): both become parts of AWS physical names.
    fn key(&mut self, path: &str, text: &str, what: KeyKind) -> Key {
        Key::parse(text).unwrap_or_else(|bad| {
            let mut suggestion = bad
                .to_ascii_lowercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "-");
            while suggestion.contains("--") {
                suggestion = suggestion.replace("--", "-");
            }
            let hint = match Key::parse(suggestion.trim_matches('-')) {
                Ok(key) => format!("try `{key}`"),
                Err(_) => "start with a letter, e.g. `my-app`".to_owned(),
            };
            let diagnostic =
                Diagnostic::new(path, format!("`{bad}` is not a valid {}", what.noun()))
                    .expected(
                        "lowercase letters, digits and single hyphens, starting with a letter",
                    )
                    .hint(hint);
            match what {
                KeyKind::Project => self.error(diagnostic),
                KeyKind::Bucket
                | KeyKind::Table
                | KeyKind::Function
                | KeyKind::Policy
                | KeyKind::Group
                | KeyKind::Secret
                | KeyKind::Stage => self.key_error(diagnostic),
            }
            Key(bad)
        })
    }

    fn model(&mut self, m: &Manifest) -> Model {
        let project = self.key("name", &m.name, KeyKind::Project);
        if !(3..=24).contains(&m.name.len()) {
            self.error(
                Diagnostic::new(
                    "name",
                    format!("`{}` is {} characters long", m.name, m.name.len()),
                )
                .expected("3 to 24 characters")
                .hint("the name prefixes every physical name, which AWS limits in length"),
            );
        }
        if !REGIONS.contains(&m.region.as_str()) {
            self.error(
                Diagnostic::new("region", format!("unknown region `{}`", m.region))
                    .expected("an AWS region code such as `us-east-1` or `eu-west-1`")
                    .maybe_hint(did_you_mean_hint(&m.region, REGIONS.iter().copied())),
            );
        }
        self.tags(&m.tags);
        let default_iam = manifest::Iam::default();
        let raw_iam = m.iam.as_ref().unwrap_or(&default_iam);
        let names = Names {
            buckets: m.buckets.keys().cloned().collect(),
            tables: m.tables.keys().cloned().collect(),
            table_indexes: m
                .tables
                .iter()
                .map(|(k, t)| (k.clone(), t.indexes.keys().cloned().collect()))
                .collect(),
            functions: m.functions.keys().cloned().collect(),
            policies: raw_iam.policies.keys().cloned().collect(),
            groups: raw_iam.groups.keys().cloned().collect(),
            secrets: m.secrets.keys().cloned().collect(),
        };
        let buckets = self.buckets(&m.buckets, &names);
        let tables = self.tables(&m.tables);
        // The hosted site's bucket and distribution log into it too.
        let hosted = m.site.as_ref().is_some_and(|s| s.hosting);
        let log_bucket = self.log_bucket(
            &m.log_bucket,
            !buckets.is_empty() || m.audit.is_some() || hosted,
        );
        let default_alarm = self.default_alarm(m.alerts.as_ref());
        let mut functions =
            self.functions(&m.functions, &m.buckets, &tables, &names, default_alarm);
        let auth = m.auth.as_ref().map(|a| self.auth(a));
        if let Some(auth) = &auth {
            if m.functions.contains_key(api::AUTHORIZER_KEY) {
                self.key_error(
                    Diagnostic::new(
                        format!("functions.{}", api::AUTHORIZER_KEY),
                        "`authorizer` is the generated JWT authorizer's key when `auth:` is set",
                    )
                    .hint("rename this function"),
                );
            }
            functions.insert(
                Key::parse_generated(api::AUTHORIZER_KEY),
                api::authorizer_function(auth, default_alarm),
            );
        }
        let alerts = self.alerts(m.alerts.as_ref());
        let billing = m.billing.as_ref().map(|b| self.billing(b, alerts.as_ref()));
        let audit = m.audit.as_ref().map(|a| self.audit(a, &m.buckets));
        let iam = self.iam(raw_iam, &names);
        let usage = self.usage(&m.usage, &functions, &m.buckets, &tables);
        let api = m
            .api
            .as_ref()
            .map(|a| self.api(a, &names.functions, auth.is_some()));
        let secrets = self.secrets(&m.secrets);
        let site = m
            .site
            .as_ref()
            .map(|site| self.site(site, &m.name, auth.as_ref()));
        if site.as_ref().is_some_and(|s| s.hosting.is_some())
            && m.buckets.contains_key(site::SITE_BUCKET_KEY)
        {
            self.key_error(
                Diagnostic::new(
                    format!("buckets.{}", site::SITE_BUCKET_KEY),
                    "the bucket key `site` is reserved for the hosted website's bucket",
                )
                .hint("choose another key (the site's bucket comes with `site:`), or set `site.hosting: false`"),
            );
        }
        let nothing = m.buckets.is_empty()
            && m.tables.is_empty()
            && m.functions.is_empty()
            && m.alerts.is_none()
            && m.audit.is_none()
            && m.api.is_none()
            && m.secrets.is_empty()
            && !hosted
            && iam.is_empty();
        if nothing {
            // CloudFormation refuses a template without resources.
            self.error(
                Diagnostic::new("", "nothing to deploy")
                    .expected("at least one of `buckets`, `tables`, `functions`, `alerts`, `audit` or `iam`")
                    .hint("`gen new <dir>` starts from a complete example"),
            );
        }
        let model = Model {
            description: m
                .description
                .clone()
                .unwrap_or_else(|| format!("{} (generated by stackgen)", m.name)),
            naming: match self.stage {
                Some(stage) if !stage.keep_names => Naming::for_stage(&project, &stage.key),
                _ => Naming::new(&project),
            },
            stage: self.stage.cloned(),
            project,
            region: m.region.clone(),
            tags: m.tags.clone(),
            buckets,
            log_bucket,
            tables,
            functions,
            alerts,
            billing,
            audit,
            iam,
            secrets,
            auth,
            api,
            site,
            usage,
        };
        for problem in model.naming.problems(&model) {
            self.key_error(
                Diagnostic::new(&problem.path, problem.error.to_string())
                    .expected(problem.error.expected())
                    .hint(problem.hint),
            );
        }
        model
    }

    /// References to declared keys; each unknown one is an error with a suggestion.
    /// `what` is (noun, the declared thing, the manifest section declaring them).
    fn key_refs(
        &mut self,
        path: &str,
        keys: &[String],
        declared: &BTreeSet<String>,
        (noun, thing, section): (&str, &str, &str),
    ) -> BTreeSet<Key> {
        let mut out = BTreeSet::new();
        for (i, key) in keys.iter().enumerate() {
            if declared.contains(key) {
                out.extend(Key::parse(key).ok());
            } else {
                let hint = did_you_mean_hint(key, declared.iter().map(String::as_str))
                    .unwrap_or_else(|| format!("declare it under `{section}`"));
                self.error(
                    Diagnostic::new(
                        format!("{path}[{i}]"),
                        format!("no {noun} `{key}` is declared"),
                    )
                    .expected(format!("the key of a {thing} under `{section}`"))
                    .hint(hint),
                );
            }
        }
        out
    }

    fn retention(&mut self, path: &str, days: u32) {
        if !LOG_RETENTION_DAYS.contains(&days) {
            let nearest = LOG_RETENTION_DAYS
                .iter()
                .min_by_key(|d| d.abs_diff(days))
                .copied()
                .unwrap_or(30);
            self.error(
                Diagnostic::new(path, format!("{days} days is not a retention CloudWatch Logs offers"))
                    .expected("one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653")
                    .hint(format!("the nearest is {nearest}")),
            );
        }
    }

    fn tags(&mut self, tags: &BTreeMap<String, String>) {
        if tags.len() > 50 {
            self.error(
                Diagnostic::new("tags", format!("{} tags", tags.len())).expected("at most 50 tags"),
            );
        }
        let allowed = |c: char| c.is_alphanumeric() || " _.:/=+-@".contains(c);
        for (key, value) in tags {
            let path = format!("tags.{key}");
            if key.is_empty() || key.len() > 128 || !key.chars().all(allowed) {
                self.key_error(
                    Diagnostic::new(&path, format!("tag key `{key}` is not valid"))
                        .expected("1 to 128 letters, digits, spaces and _ . : / = + - @"),
                );
            } else if key.to_ascii_lowercase().starts_with("aws:") {
                self.key_error(
                    Diagnostic::new(
                        &path,
                        format!("tag key `{key}` uses the reserved `aws:` prefix"),
                    )
                    .hint("AWS sets `aws:` tags itself; choose another prefix"),
                );
            }
            if value.len() > 256 || !value.chars().all(allowed) {
                self.error(
                    Diagnostic::new(&path, format!("tag value `{value}` is not valid"))
                        .expected("at most 256 letters, digits, spaces and _ . : / = + - @"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{S3Event, parse};

    pub(super) fn check(text: &str) -> Result<Model, Vec<Diagnostic>> {
        let (m, map) = parse(text).expect("parses");
        validate(&m, &map)
    }

    pub(super) const BASE: &str = "name: demo\nregion: us-east-1\nbuckets:\n  upload: {}\n";

    #[test]
    fn names_must_suit_aws() {
        let errs = check(&BASE.replace("name: demo", "name: Demo_App")).unwrap_err();
        assert_eq!(errs[0].path, "name");
        assert_eq!(errs[0].hint.as_deref(), Some("try `demo-app`"));
        let errs = check(&BASE.replace("us-east-1", "us-eats-1")).unwrap_err();
        assert_eq!(errs[0].hint.as_deref(), Some("did you mean `us-east-1`?"));
    }

    #[test]
    fn an_empty_app_is_refused() {
        let errs = check("name: demo\nregion: us-east-1\n").unwrap_err();
        assert_eq!(errs[0].message, "nothing to deploy");
    }

    #[test]
    fn valid_manifest_builds_model() {
        let model = check(&format!("{BASE}functions:\n  t:\n    reads: [upload]\n    triggers: [{{s3: {{bucket: upload, suffix: .mp4}}}}]\n")).unwrap();
        let f = &model.functions[&Key("t".into())];
        assert_eq!(f.reads.len(), 1);
        assert_eq!(f.s3_triggers[0].events, BTreeSet::from([S3Event::Created]));
        assert!(model.log_bucket.is_some());
    }
}
