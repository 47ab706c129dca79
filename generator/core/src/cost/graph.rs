//! A template read as a graph: which manifest key a resource stands for, and what its
//! references say — which function writes into a log group, which alarms notify a topic, which
//! bucket a trail selector covers, which secrets a function's role may read. Never a name
//! pattern: the only table is the logical IDs the constructs give each manifest key (`ids`).

use std::collections::BTreeMap;

use crate::cfn::{Intrinsic, LogicalId, Resource, Template, Value};
use crate::constructs::{ids, secrets};
use crate::model::{Key, Model};

/// What a resource stands for in the manifest (the key its usage assumptions are under).
/// The order is the order resources of one type are priced in: manifest keys, not IDs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Subject<'a> {
    Function(&'a Key),
    Bucket(&'a Key),
    Table(&'a Key),
    LogBucket,
    /// The hosted site's bucket.
    SiteBucket,
    Secret(&'a Key),
    /// `audit`: the trail.
    Trail,
    /// `api`: its stage.
    Api,
}

/// The logical ID of each resource that stands for a manifest key, built once from the model
/// and the constructs' `ids`.
pub(super) struct Index<'a>(BTreeMap<LogicalId, Subject<'a>>);

impl<'a> Index<'a> {
    pub fn new(model: &'a Model) -> Index<'a> {
        let mut subjects = BTreeMap::new();
        for key in model.functions.keys() {
            subjects.insert(ids::function(key), Subject::Function(key));
        }
        for key in model.buckets.keys() {
            subjects.insert(ids::bucket(key), Subject::Bucket(key));
        }
        for key in model.tables.keys() {
            subjects.insert(ids::table(key), Subject::Table(key));
        }
        subjects.insert(ids::log_bucket(), Subject::LogBucket);
        subjects.insert(ids::site_bucket(), Subject::SiteBucket);
        for key in model.secrets.keys() {
            subjects.insert(secrets::id(key), Subject::Secret(key));
        }
        Index(subjects)
    }
}

/// One template and the references between its resources that pricing follows.
pub(super) struct Graph<'a> {
    pub template: &'a Template,
    index: &'a Index<'a>,
    /// Log group → what writes into it: a function (its `LoggingConfig.LogGroup`), the trail
    /// (`CloudWatchLogsLogGroupArn`), the API stage (`AccessLogSetting.DestinationArn`).
    writers: BTreeMap<&'a LogicalId, Subject<'a>>,
    /// Topic → one entry per alarm whose actions name it: does that alarm watch the bill?
    publishers: BTreeMap<&'a LogicalId, Vec<bool>>,
    /// Topic → its email subscriptions.
    emails: BTreeMap<&'a LogicalId, usize>,
}

impl<'a> Graph<'a> {
    pub fn new(template: &'a Template, index: &'a Index<'a>) -> Graph<'a> {
        let mut graph = Graph {
            template,
            index,
            writers: BTreeMap::new(),
            publishers: BTreeMap::new(),
            emails: BTreeMap::new(),
        };
        for (id, resource) in &template.resources {
            graph.follow(id, resource);
        }
        graph
    }

    /// Records the references of one resource that pricing needs.
    fn follow(&mut self, id: &'a LogicalId, resource: &'a Resource) {
        let writer = |path: &[&str], subject: Option<Subject<'a>>| {
            Some((reference(at(resource, path))?, subject?))
        };
        let wrote = match resource.resource_type {
            "AWS::Lambda::Function" => writer(
                &["LoggingConfig", "LogGroup"],
                self.index.0.get(id).copied(),
            ),
            "AWS::CloudTrail::Trail" => {
                writer(&["CloudWatchLogsLogGroupArn"], Some(Subject::Trail))
            }
            "AWS::ApiGateway::Stage" => {
                writer(&["AccessLogSetting", "DestinationArn"], Some(Subject::Api))
            }
            "AWS::CloudWatch::Alarm" => {
                let billing = text(at(resource, &["Namespace"])) == Some("AWS/Billing");
                for actions in ["AlarmActions", "OKActions"] {
                    for topic in list(at(resource, &[actions]))
                        .iter()
                        .filter_map(|a| reference(Some(a)))
                    {
                        self.publishers.entry(topic).or_default().push(billing);
                    }
                }
                None
            }
            "AWS::SNS::Subscription" => {
                if text(at(resource, &["Protocol"])) == Some("email")
                    && let Some(topic) = reference(at(resource, &["TopicArn"]))
                {
                    *self.emails.entry(topic).or_default() += 1;
                }
                None
            }
            _ => None,
        };
        if let Some((group, subject)) = wrote {
            self.writers.insert(group, subject);
        }
    }

    /// What the resource stands for: its own manifest key, or (a log group) its writer's.
    pub fn subject(&self, id: &LogicalId) -> Option<Subject<'a>> {
        self.index
            .0
            .get(id)
            .or_else(|| self.writers.get(id))
            .copied()
    }

    /// The template's resources of one type, in the order of the manifest keys they stand
    /// for (then by logical ID).
    pub fn of_type(&self, resource_type: &str) -> Vec<(&'a LogicalId, &'a Resource)> {
        let mut resources: Vec<_> = self
            .template
            .resources
            .iter()
            .filter(|(_, r)| r.resource_type == resource_type)
            .collect();
        resources.sort_by_key(|(id, _)| self.subject(id));
        resources
    }

    /// One entry per alarm whose actions name the topic: does that alarm watch the bill?
    pub fn alarms_notifying(&self, topic: &LogicalId) -> &[bool] {
        self.publishers.get(topic).map_or(&[], Vec::as_slice)
    }

    pub fn email_subscriptions(&self, topic: &LogicalId) -> usize {
        self.emails.get(topic).copied().unwrap_or(0)
    }

    /// How many secrets a function's execution role lets it read: the resources of the
    /// `secretsmanager:GetSecretValue` statements of the role's own policies.
    pub fn secrets_read_by(&self, function: &Resource) -> usize {
        let Some(role) =
            reference(at(function, &["Role"])).and_then(|role| self.template.resources.get(role))
        else {
            return 0;
        };
        list(at(role, &["Policies"]))
            .iter()
            .flat_map(|policy| list(field(field(Some(policy), "PolicyDocument"), "Statement")))
            .filter(|s| {
                text(field(Some(s), "Effect")) == Some("Allow")
                    && list(field(Some(s), "Action"))
                        .iter()
                        .any(|a| text(Some(a)) == Some("secretsmanager:GetSecretValue"))
            })
            .map(|s| list(field(Some(s), "Resource")).len())
            .sum()
    }

    /// The bucket whose objects an ARN prefix covers (`arn:…:s3:::<its BucketName>/`). Bucket
    /// ARNs are built from the name, not a reference (that is what avoids cycles), so the
    /// selector is matched against each bucket's own `BucketName` property.
    pub fn bucket_with_objects(&self, arn_prefix: &Value) -> Option<&'a LogicalId> {
        let prefix = rendered(arn_prefix)?;
        self.of_type("AWS::S3::Bucket")
            .into_iter()
            .find(|(_, bucket)| {
                at(bucket, &["BucketName"])
                    .and_then(rendered)
                    .is_some_and(|name| prefix == format!("arn:${{AWS::Partition}}:s3:::{name}/"))
            })
            .map(|(id, _)| id)
    }
}

/// The value at a path of map keys under a resource's properties.
pub(super) fn at<'v>(resource: &'v Resource, path: &[&str]) -> Option<&'v Value> {
    let (first, rest) = path.split_first()?;
    rest.iter()
        .try_fold(resource.properties.get(*first)?, |v, key| {
            field(Some(v), key)
        })
}

/// A key of a map value (plain or in written order).
pub(super) fn field<'v>(value: Option<&'v Value>, key: &str) -> Option<&'v Value> {
    match value? {
        Value::Map(map) => map.get(key),
        Value::Ordered(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
        _ => None,
    }
}

/// The items of a list value; a single value is a list of one (as IAM writes them).
pub(super) fn list(value: Option<&Value>) -> &[Value] {
    match value {
        Some(Value::List(items)) => items,
        Some(one) => std::slice::from_ref(one),
        None => &[],
    }
}

pub(super) fn text(value: Option<&Value>) -> Option<&str> {
    match value? {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

pub(super) fn int(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Int(i) => Some(*i),
        _ => None,
    }
}

/// The resource a `Ref` or `Fn::GetAtt` names.
pub(super) fn reference(value: Option<&Value>) -> Option<&LogicalId> {
    match value? {
        Value::Intrinsic(intrinsic) => match intrinsic.as_ref() {
            Intrinsic::Ref(id) | Intrinsic::GetAtt(id, _) => Some(id),
            _ => None,
        },
        _ => None,
    }
}

/// A string or a `Fn::Sub` as CloudFormation reads it.
fn rendered(value: &Value) -> Option<String> {
    match value {
        Value::Str(s) => Some(s.clone()),
        Value::Intrinsic(intrinsic) => match intrinsic.as_ref() {
            Intrinsic::Sub(sub) => Some(sub.render()),
            _ => None,
        },
        _ => None,
    }
}
