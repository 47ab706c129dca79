//! IAM in the validated model: managed policies, groups, users, and the typed statements they
//! (and bucket policies) are made of.

use std::collections::{BTreeMap, BTreeSet};

use super::{Key, KeyKind, Names, Validator};
use crate::diag::{Diagnostic, did_you_mean_hint};
use crate::manifest::{self, Effect};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IamSpec {
    pub policies: BTreeMap<Key, PolicySpec>,
    pub groups: BTreeMap<Key, GroupSpec>,
    /// By IAM user name.
    pub users: BTreeMap<String, UserSpec>,
}

impl IamSpec {
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty() && self.groups.is_empty() && self.users.is_empty()
    }

    /// Whether any group requires MFA (then the shared require-MFA policy exists).
    pub fn requires_mfa(&self) -> bool {
        self.groups.values().any(|g| g.require_mfa)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicySpec {
    pub description: Option<String>,
    pub statements: Vec<StatementSpec>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupSpec {
    pub require_mfa: bool,
    pub policies: BTreeSet<Key>,
    pub statements: Vec<StatementSpec>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserSpec {
    pub groups: BTreeSet<Key>,
    pub statements: Vec<StatementSpec>,
}

/// A checked statement. Its manifest path is kept for size errors found after synthesis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementSpec {
    pub sid: Option<String>,
    pub effect: Effect,
    /// Only in resource policies.
    pub principals: Option<PrincipalsSpec>,
    pub actions: Vec<String>,
    pub resources: Vec<ResourceRef>,
    pub conditions: ConditionsSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PrincipalsSpec {
    pub aws: Vec<String>,
    pub service: Vec<String>,
}

/// What a statement's resource names, resolved against the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResourceRef {
    /// `*`
    Any,
    /// `bucket:<key>`: the bucket itself.
    Bucket(Key),
    /// `bucket:<key>/<pattern>`: objects (pattern such as `*` or `videos/*`).
    BucketObjects(Key, String),
    /// `function:<key>`
    Function(Key),
    /// `table:<key>`: the table.
    Table(Key),
    /// `table:<key>/index/<name>` or `table:<key>/index/*`: its global secondary indexes.
    TableIndex(Key, String),
    /// A literal ARN, as written.
    Arn(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConditionsSpec {
    pub mfa: bool,
    pub source_ip: Vec<String>,
    /// `aws:CurrentTime` bounds, as written (validated ISO 8601 UTC).
    pub after: Option<String>,
    pub before: Option<String>,
    pub secure_transport: bool,
    /// (operator, key, values)
    pub raw: Vec<(String, String, Vec<String>)>,
}

impl ConditionsSpec {
    pub fn is_empty(&self) -> bool {
        self == &ConditionsSpec::default()
    }
}

/// DynamoDB actions on a table's stream (`.../table/<name>/stream/<label>`).
const DYNAMODB_STREAM_ACTIONS: &[&str] = &["DescribeStream", "GetRecords", "GetShardIterator"];

/// DynamoDB actions about the account rather than one table (resource `*`).
const DYNAMODB_ACCOUNT_ACTIONS: &[&str] = &[
    "DescribeEndpoints",
    "DescribeLimits",
    "DescribeReservedCapacity",
    "DescribeReservedCapacityOfferings",
    "ListBackups",
    "ListContributorInsights",
    "ListExports",
    "ListGlobalTables",
    "ListImports",
    "ListStreams",
    "ListTables",
    "PurchaseReservedCapacityOfferings",
];

/// Where statements are used: decides what is allowed in them.
#[derive(Clone, Copy)]
pub(super) enum Place<'a> {
    /// An identity policy (managed, group, user): no principals.
    Identity,
    /// The policy of this bucket: principals required, resources must be this bucket.
    BucketPolicy(&'a str),
}

impl Validator<'_> {
    pub(super) fn iam(&mut self, iam: &manifest::Iam, names: &Names) -> IamSpec {
        let mut spec = IamSpec::default();
        for (key, p) in &iam.policies {
            let path = format!("iam.policies.{key}");
            let k = self.key(&path, key, KeyKind::Policy);
            if p.statements.is_empty() {
                self.error(
                    Diagnostic::new(format!("{path}.statements"), "no statements")
                        .expected("at least one statement"),
                );
            }
            let statements = self.statements(
                &format!("{path}.statements"),
                &p.statements,
                names,
                Place::Identity,
            );
            spec.policies.insert(
                k,
                PolicySpec {
                    description: p.description.clone(),
                    statements,
                },
            );
        }
        for (key, g) in &iam.groups {
            let path = format!("iam.groups.{key}");
            let k = self.key(&path, key, KeyKind::Group);
            let policies = self.policy_refs(&format!("{path}.policies"), &g.policies, names);
            let statements = self.statements(
                &format!("{path}.statements"),
                &g.statements,
                names,
                Place::Identity,
            );
            if !g.require_mfa && g.policies.is_empty() && g.statements.is_empty() {
                self.key_error(
                    Diagnostic::new(&path, "the group grants nothing")
                        .hint("attach `policies`, write `statements`, or set `require_mfa: true`"),
                );
            }
            spec.groups.insert(
                k,
                GroupSpec {
                    require_mfa: g.require_mfa,
                    policies,
                    statements,
                },
            );
        }
        for (name, u) in &iam.users {
            let path = format!("iam.users.{name}");
            let valid = !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
            if !valid {
                self.key_error(
                    Diagnostic::new(&path, format!("`{name}` is not a valid IAM user name"))
                        .expected("1 to 64 letters, digits and + = , . @ _ -"),
                );
            }
            let mut groups = BTreeSet::new();
            for (i, group) in u.groups.iter().enumerate() {
                let gpath = format!("{path}.groups[{i}]");
                if names.groups.contains(group) {
                    groups.extend(Key::parse(group).ok());
                } else {
                    self.error(
                        Diagnostic::new(&gpath, format!("no group `{group}` is declared"))
                            .expected("the key of a group under `iam.groups`")
                            .maybe_hint(did_you_mean_hint(
                                group,
                                names.groups.iter().map(String::as_str),
                            )),
                    );
                }
            }
            let statements = self.statements(
                &format!("{path}.statements"),
                &u.statements,
                names,
                Place::Identity,
            );
            if u.groups.is_empty() && u.statements.is_empty() {
                self.key_error(
                    Diagnostic::new(&path, "the user has no permissions")
                        .hint("add the user to `groups` (members inherit the group's permissions)"),
                );
            }
            spec.users
                .insert(name.clone(), UserSpec { groups, statements });
        }
        spec
    }

    pub(super) fn policy_refs(
        &mut self,
        path: &str,
        keys: &[String],
        names: &Names,
    ) -> BTreeSet<Key> {
        let declared = names.policies.clone();
        self.key_refs(
            path,
            keys,
            &declared,
            ("policy", "managed policy", "iam.policies"),
        )
    }

    pub(super) fn statements(
        &mut self,
        path: &str,
        statements: &[manifest::Statement],
        names: &Names,
        place: Place,
    ) -> Vec<StatementSpec> {
        let mut sids = BTreeSet::new();
        statements
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let spath = format!("{path}[{i}]");
                if let Some(sid) = &s.sid {
                    if sid.is_empty() || !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
                        self.error(
                            Diagnostic::new(
                                format!("{spath}.sid"),
                                format!("`{sid}` is not a valid statement id"),
                            )
                            .expected("letters and digits only"),
                        );
                    }
                    if !sids.insert(sid.clone()) {
                        self.error(Diagnostic::new(
                            format!("{spath}.sid"),
                            format!("statement id `{sid}` is used twice in this policy"),
                        ));
                    }
                }
                self.statement(&spath, s, names, place)
            })
            .collect()
    }

    fn statement(
        &mut self,
        path: &str,
        s: &manifest::Statement,
        names: &Names,
        place: Place,
    ) -> StatementSpec {
        match (place, &s.principals) {
            (Place::Identity, Some(_)) => self.error(
                Diagnostic::new(format!("{path}.principals"), "principals in an identity policy")
                    .hint("an identity policy applies to whoever holds it; `principals` belong in a bucket's `policy`"),
            ),
            (Place::BucketPolicy(_), None) => self.key_error(
                Diagnostic::new(path, "a bucket policy statement without `principals`")
                    .hint("say who it is about, e.g. `principals: { service: [cloudfront.amazonaws.com] }`"),
            ),
            _ => {}
        }
        if s.actions.is_empty() {
            self.error(
                Diagnostic::new(format!("{path}.actions"), "no actions")
                    .expected("at least one action, e.g. `s3:GetObject`"),
            );
        }
        for (i, action) in s.actions.iter().enumerate() {
            self.action(&format!("{path}.actions[{i}]"), action);
        }
        if s.resources.is_empty() {
            self.error(
                Diagnostic::new(format!("{path}.resources"), "no resources")
                    .expected("at least one resource, e.g. `bucket:upload/*`"),
            );
        }
        let resources: Vec<ResourceRef> = s
            .resources
            .iter()
            .enumerate()
            .filter_map(|(i, r)| self.resource(&format!("{path}.resources[{i}]"), r, names, place))
            .collect();
        self.scopes(path, &s.actions, &resources);
        let principals = s.principals.as_ref().map(|p| {
            if p.aws.is_empty() && p.service.is_empty() {
                self.error(
                    Diagnostic::new(format!("{path}.principals"), "no principals")
                        .expected("`aws` ARNs or `service` principals"),
                );
            }
            for (i, service) in p.service.iter().enumerate() {
                if !service.ends_with(".amazonaws.com") || service.contains(char::is_whitespace) {
                    self.error(
                        Diagnostic::new(
                            format!("{path}.principals.service[{i}]"),
                            format!("`{service}` is not a service principal"),
                        )
                        .expected("a name such as `cloudfront.amazonaws.com`"),
                    );
                }
            }
            for (i, aws) in p.aws.iter().enumerate() {
                let is_account = aws.len() == 12 && aws.chars().all(|c| c.is_ascii_digit());
                if !(aws == "*" || is_account || aws.starts_with("arn:")) {
                    self.error(
                        Diagnostic::new(
                            format!("{path}.principals.aws[{i}]"),
                            format!("`{aws}` is not an AWS principal"),
                        )
                        .expected("an account id, an IAM ARN, or `*`"),
                    );
                }
            }
            PrincipalsSpec {
                aws: p.aws.clone(),
                service: p.service.clone(),
            }
        });
        StatementSpec {
            sid: s.sid.clone(),
            effect: s.effect,
            principals,
            actions: s.actions.clone(),
            resources,
            conditions: self.conditions(&format!("{path}.conditions"), &s.conditions),
        }
    }

    fn action(&mut self, path: &str, action: &str) {
        if let Err(problem) = crate::iam_catalog::check_action(action) {
            self.error(
                Diagnostic::new(path, problem.message())
                    .expected("`service:Action`, e.g. `s3:GetObject` or `s3:Get*`")
                    .maybe_hint(problem.suggestion().map(|s| format!("did you mean `{s}`?"))),
            );
        }
    }

    fn resource(
        &mut self,
        path: &str,
        text: &str,
        names: &Names,
        place: Place,
    ) -> Option<ResourceRef> {
        let resolved = if text == "*" {
            Some(ResourceRef::Any)
        } else if text.starts_with("arn:") {
            let parts = text.splitn(6, ':').count();
            if parts < 6 {
                self.error(
                    Diagnostic::new(path, format!("`{text}` is not an ARN"))
                        .expected("arn:<partition>:<service>:<region>:<account>:<resource>"),
                );
                return None;
            }
            Some(ResourceRef::Arn(text.to_owned()))
        } else if let Some(rest) = text.strip_prefix("bucket:") {
            let (key, objects) = match rest.split_once('/') {
                Some((key, pattern)) => (key, Some(pattern)),
                None => (rest, None),
            };
            if !names.buckets.contains(key) {
                self.error(
                    Diagnostic::new(path, format!("no bucket `{key}` is declared"))
                        .expected("`bucket:<key>` or `bucket:<key>/<prefix>*` with a key under `buckets:`")
                        .maybe_hint(did_you_mean_hint(key, names.buckets.iter().map(String::as_str))),
                );
                return None;
            }
            let key = Key::parse(key).ok()?;
            match objects {
                Some("") => {
                    self.error(
                        Diagnostic::new(path, format!("`{text}` names no objects")).hint(format!(
                            "`bucket:{key}/*` for every object, `bucket:{key}` for the bucket"
                        )),
                    );
                    None
                }
                Some(pattern) => Some(ResourceRef::BucketObjects(key, pattern.to_owned())),
                None => Some(ResourceRef::Bucket(key)),
            }
        } else if let Some(rest) = text.strip_prefix("table:") {
            let (key, sub) = match rest.split_once('/') {
                Some((key, sub)) => (key, Some(sub)),
                None => (rest, None),
            };
            if !names.tables.contains(key) {
                self.error(
                    Diagnostic::new(path, format!("no table `{key}` is declared"))
                        .expected(
                            "`table:<key>` or `table:<key>/index/*` with a key under `tables:`",
                        )
                        .maybe_hint(did_you_mean_hint(
                            key,
                            names.tables.iter().map(String::as_str),
                        )),
                );
                return None;
            }
            let key = Key::parse(key).ok()?;
            match sub.map(|s| (s, s.strip_prefix("index/"))) {
                None => Some(ResourceRef::Table(key)),
                Some((_, Some(index)))
                    if index == "*"
                        || names
                            .table_indexes
                            .get(key.as_str())
                            .is_some_and(|declared| declared.contains(index)) =>
                {
                    Some(ResourceRef::TableIndex(key, index.to_owned()))
                }
                Some((_, Some(index))) => {
                    let declared = names.table_indexes.get(key.as_str());
                    self.error(
                        Diagnostic::new(path, format!("table `{key}` has no index `{index}`"))
                            .expected(format!(
                                "`table:{key}/index/*` or the name of one of its `indexes`"
                            ))
                            .maybe_hint(declared.and_then(|d| {
                                did_you_mean_hint(index, d.iter().map(String::as_str))
                            })),
                    );
                    None
                }
                Some((other, None)) => {
                    self.error(
                        Diagnostic::new(path, format!("`{text}` names no part of a table"))
                            .expected(format!("`table:{key}` (the table) or `table:{key}/index/*` (its indexes)"))
                            .hint(format!("`{other}` is not `index/<name>`; a function's stream access comes with its `dynamodb` trigger")),
                    );
                    None
                }
            }
        } else if let Some(key) = text.strip_prefix("function:") {
            if !names.functions.contains(key) {
                self.error(
                    Diagnostic::new(path, format!("no function `{key}` is declared"))
                        .expected("`function:<key>` with a key under `functions:`")
                        .maybe_hint(did_you_mean_hint(
                            key,
                            names.functions.iter().map(String::as_str),
                        )),
                );
                return None;
            }
            Some(ResourceRef::Function(Key::parse(key).ok()?))
        } else {
            self.error(
                Diagnostic::new(
                    path,
                    format!("`{text}` is not a resource stackgen understands"),
                )
                .expected("`bucket:<key>`, `bucket:<key>/*`, `table:<key>`, `function:<key>`, an ARN, or `*`")
                .maybe_hint(
                    did_you_mean_hint(
                        text.split(':').next().unwrap_or(text),
                        ["bucket", "table", "function", "arn"],
                    )
                    .map(|_| "write the kind, a colon, then the key: `bucket:upload/*`".to_owned()),
                ),
            );
            None
        };
        if let (Place::BucketPolicy(own), Some(r)) = (place, &resolved) {
            let own_bucket = matches!(r, ResourceRef::Bucket(k) | ResourceRef::BucketObjects(k, _) if k.as_str() == own);
            if !own_bucket {
                self.error(
                    Diagnostic::new(
                        path,
                        format!("a policy of bucket `{own}` can only be about that bucket"),
                    )
                    .expected(format!("`bucket:{own}` or `bucket:{own}/<prefix>*`")),
                );
            }
        }
        resolved
    }

    /// S3 object actions need object resources and bucket actions bucket resources: granting
    /// `s3:GetObject` on a bucket ARN silently grants nothing.
    fn scopes(&mut self, path: &str, actions: &[String], resources: &[ResourceRef]) {
        use crate::iam_catalog::{S3Scope, s3_action_scope};
        let has = |f: fn(&ResourceRef) -> bool| resources.iter().any(f);
        let any_or_arn = has(|r| matches!(r, ResourceRef::Any | ResourceRef::Arn(_)));
        if any_or_arn {
            return;
        }
        self.table_scopes(path, actions, resources);
        for (i, action) in actions.iter().enumerate() {
            let Some(scope) = s3_action_scope(action) else {
                continue;
            };
            let fits = match scope {
                S3Scope::Object => has(|r| matches!(r, ResourceRef::BucketObjects(..))),
                S3Scope::Bucket => has(|r| matches!(r, ResourceRef::Bucket(_))),
                S3Scope::Account => false,
            };
            if !fits {
                let wanted = match scope {
                    S3Scope::Object => "objects: `bucket:<key>/*`",
                    S3Scope::Bucket => "the bucket itself: `bucket:<key>`",
                    S3Scope::Account => "`*` (it is not about one bucket)",
                };
                self.error(
                    Diagnostic::new(format!("{path}.actions[{i}]"), format!("`{action}` does not apply to any of the statement's resources"))
                        .expected(format!("a resource for {wanted}"))
                        .hint("S3 object actions take object ARNs (`bucket:upload/*`), bucket actions the bucket (`bucket:upload`)"),
                );
            }
        }
    }

    /// DynamoDB's counterpart of the S3 check: item actions need the table, only Query and
    /// Scan apply to an index, and stream or account actions to neither.
    fn table_scopes(&mut self, path: &str, actions: &[String], resources: &[ResourceRef]) {
        let on_table = resources.iter().any(|r| matches!(r, ResourceRef::Table(_)));
        let on_index = resources
            .iter()
            .any(|r| matches!(r, ResourceRef::TableIndex(..)));
        if !on_table && !on_index {
            return;
        }
        for (i, action) in actions.iter().enumerate() {
            let Some(name) = action
                .split_once(':')
                .filter(|(service, _)| service.eq_ignore_ascii_case("dynamodb"))
                .map(|(_, name)| name)
                .filter(|name| !name.contains(['*', '?']))
            else {
                continue;
            };
            let is = |list: &[&str]| list.iter().any(|a| a.eq_ignore_ascii_case(name));
            let problem = if is(DYNAMODB_STREAM_ACTIONS) {
                Some((
                    "a table's stream",
                    "stream actions take the stream's ARN; a `dynamodb` trigger grants them on its own",
                ))
            } else if is(DYNAMODB_ACCOUNT_ACTIONS) {
                Some((
                    "`*` (it is not about one table)",
                    "this action lists or describes the account's tables",
                ))
            } else if is(&["Query", "Scan"]) || on_table {
                None
            } else {
                Some((
                    "the table itself: `table:<key>`",
                    "only Query and Scan read an index (`table:<key>/index/*`); item actions take the table",
                ))
            };
            if let Some((wanted, hint)) = problem {
                self.error(
                    Diagnostic::new(
                        format!("{path}.actions[{i}]"),
                        format!("`{action}` does not apply to any of the statement's resources"),
                    )
                    .expected(format!("a resource for {wanted}"))
                    .hint(hint),
                );
            }
        }
    }

    fn conditions(&mut self, path: &str, c: &manifest::Conditions) -> ConditionsSpec {
        use crate::iam_catalog as catalog;
        for (i, cidr) in c.source_ip.iter().enumerate() {
            if let Err(problem) = catalog::parse_cidr(cidr) {
                self.error(
                    Diagnostic::new(format!("{path}.source_ip[{i}]"), problem.message())
                        .expected("an IP range in CIDR notation, e.g. `203.0.113.0/24`")
                        .maybe_hint(problem.suggestion().map(|s| format!("did you mean `{s}`?"))),
                );
            }
        }
        let (mut after, mut before) = (None, None);
        if let Some(window) = &c.time {
            for (field, value, slot) in [
                ("after", &window.after, &mut after),
                ("before", &window.before, &mut before),
            ] {
                if let Some(text) = value {
                    match catalog::check_iso8601_utc(text) {
                        Ok(seconds) => *slot = Some(seconds),
                        Err(problem) => self.error(
                            Diagnostic::new(format!("{path}.time.{field}"), problem.message())
                                .expected("a UTC time such as `2026-01-31T18:00:00Z`")
                                .maybe_hint(
                                    problem.suggestion().map(|s| format!("did you mean `{s}`?")),
                                ),
                        ),
                    }
                }
            }
            if window.after.is_none() && window.before.is_none() {
                self.error(
                    Diagnostic::new(format!("{path}.time"), "an empty time window")
                        .expected("`after`, `before` or both"),
                );
            }
            if let (Some(a), Some(b)) = (after, before)
                && a >= b
            {
                self.error(
                    Diagnostic::new(
                        format!("{path}.time.after"),
                        "the window starts after it ends",
                    )
                    .expected("`after` earlier than `before`"),
                );
            }
        }
        let mut raw = Vec::new();
        for (i, r) in c.raw.iter().enumerate() {
            let rpath = format!("{path}.raw[{i}]");
            if let Err(problem) = catalog::check_condition_operator(&r.operator) {
                self.error(
                    Diagnostic::new(format!("{rpath}.operator"), problem.message())
                        .expected("an IAM condition operator such as `StringEquals`, `ArnLike`, `IpAddress`")
                        .maybe_hint(problem.suggestion().map(|s| format!("did you mean `{s}`?"))),
                );
            }
            if let Err(problem) = catalog::check_condition_key(&r.key) {
                self.error(
                    Diagnostic::new(format!("{rpath}.key"), problem.message())
                        .expected("a global key such as `aws:RequestedRegion` or a service key such as `s3:prefix`")
                        .maybe_hint(problem.suggestion().map(|s| format!("did you mean `{s}`?"))),
                );
            }
            if r.values.is_empty() {
                self.error(
                    Diagnostic::new(format!("{rpath}.values"), "no values")
                        .expected("at least one value"),
                );
            }
            raw.push((r.operator.clone(), r.key.clone(), r.values.clone()));
        }
        ConditionsSpec {
            mfa: c.mfa,
            source_ip: c.source_ip.clone(),
            after: c.time.as_ref().and_then(|t| t.after.clone()),
            before: c.time.as_ref().and_then(|t| t.before.clone()),
            secure_transport: c.secure_transport,
            raw,
        }
    }
}
