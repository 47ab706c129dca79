#!/usr/bin/env python3
"""`moto_server` with moto's CloudFormation brought closer to real AWS.

Usage (same as moto_server): target/venv/bin/python tests/moto_server.py -H 127.0.0.1 -p PORT

`gen deploy` drives CloudFormation the way real AWS works: CreateChangeSet,
DescribeChangeSet, ExecuteChangeSet, DescribeStacks for the outputs,
DeleteStack. moto 5.2.5 diverges from AWS on that path in ways that would
make a correct deploy fail (or an incorrect one pass). The product must not
work around an emulator, so the workarounds live here, in-process, before
moto's server starts. Each one says which AWS behaviour it restores.

  1. Change sets: execution gives the stack the change set's template,
     parameters, description and outputs; new resources follow DependsOn; a
     resubmission without changes is a FAILED change set, not an error;
     parameter-only changes list the resources using them; CreateChangeSet
     checks Capabilities and template format, ExecuteChangeSet the change
     set's status; ListStackResources names resources of ignored types.
  2. Updates: a resource of a type moto cannot update keeps its resource.
  3. TemplateURL: a path-style URL at the emulator's own address.
  4. Models moto lacks: AWS::IAM::Group, AWS::SecretsManager::Secret,
     AWS::CloudTrail::Trail (an output names its Arn).
  5. Model fixes: IAM User Groups/Tags/update, IAM ManagedPolicy update and
     delete, ApiGateway Method (MOCK integrations), RestApi delete, DynamoDB
     Table PointInTimeRecoverySpecification (moto ignored it: PITR stayed
     DISABLED whatever the template said) and SSESpecification (moto read
     the API's `Enabled` where templates say `SSEEnabled`: no SSEDescription).
  6. Termination protection: UpdateTerminationProtection (moto lacked the call),
     and DeleteStack refuses a protected stack (moto kept the flag but deleted).
  7. Deleted stacks keep their record: ListStackResources and
     DescribeStackResources by the deleted stack's ID list what it had, those
     its DeletionPolicy kept DELETE_SKIPPED, the rest DELETE_COMPLETE (moto gave
     every row the stack's status, and listing re-created what was deleted).
  8. CloudFront in templates: AWS::CloudFront::Distribution and
     AWS::CloudFront::OriginAccessControl in moto's CloudFront backend, and
     AWS::CloudFront::ResponseHeadersPolicy (moto has no such API) as a minimal
     model here; moto ignored all three (Ref None, GetAtt and Outputs naming one
     HTTP 500). Ref and GetAtt Id give the Id, GetAtt DomainName the
     distribution's dXXXX.cloudfront.net; the template's DistributionConfig is
     turned into the API's shape (lists as Quantity/Items, Logging enabled,
     ViewerCertificate and IPV6Enabled names, a CallerReference); an update keeps
     the Id (and the CallerReference) and replaces the config; DeleteStack
     deletes them. GetDistribution then reports the origin's S3OriginConfig and
     OriginAccessControlId (moto dropped both).
  9. CloudFront's API: a distribution's Id is E + 13 characters and its domain
     d + 13 characters + .cloudfront.net (moto: 13 random characters each, so
     neither looked like CloudFront's); CreateInvalidation answers InProgress, GetInvalidation /
     ListInvalidations then Completed (moto: "COMPLETED", which no waiter
     accepts); a CallerReference already used returns its invalidation (same
     paths) or is InvalidationBatchAlreadyExists (other paths; moto made another);
     a path not starting with "/" is InvalidArgument; ListInvalidations of a
     distribution that does not exist is NoSuchDistribution (moto: an empty list).
 10. Nested stacks (AWS::CloudFormation::Stack): Fn::GetAtt <stack>.Outputs.<Name>
     gives the nested stack's output (moto had no attribute at all: HTTP 500);
     the resource's physical ID (Ref, ListStackResources) is the nested stack's
     ID, and DescribeStacks gives a nested stack its ParentId and RootId (moto:
     its name, and neither); a changed nested stack is updated in place (same
     ID, only its changed resources touched) where moto deleted and re-created
     it (which also failed on the resources DeletionPolicy Retain had kept);
     CreateChangeSet with IncludeNestedStacks makes a change set for each nested
     stack it modifies, named in the root's ResourceChange (ChangeSetId), with
     ParentChangeSetId/RootChangeSetId, executed and deleted with the root's
     (moto ignored the flag).

 11. Test hook, not AWS: with STACKGEN_MOTO_THROTTLE=N in its environment, the server
     answers the first N CloudFormation and S3 requests (all of them with
     N=all) as AWS throttles them: CloudFormation's query-protocol
     `Throttling` error (HTTP 400, Type Sender, "Rate exceeded"), S3's
     `SlowDown` (HTTP 503). STACKGEN_MOTO_THROTTLE_SERVICES (comma separated
     signing names, default "cloudformation,s3") narrows which. Requests are
     told apart by the service in their SigV4 credential scope. Each one
     throttled is logged to stderr as "throttled <service> #<n>".

Types moto still ignores (e.g. BucketPolicy, Alarm, MetricFilter, Stage,
Authorizer, GatewayResponse, Subscription, TopicPolicy) stay ignored.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import sys
import uuid
from typing import Any
from urllib.parse import urlparse

import moto.server
from moto.apigateway.models import Method, RestAPI, apigateway_backends
from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation import utils as cfn_utils
from moto.cloudformation.exceptions import CloudFormationError, ValidationError
from moto.cloudformation.models import Change, ChangeSet, CloudFormationBackend, Stack
from moto.cloudformation.responses import CloudFormationResponse
from moto.cloudfront import models as cloudfront_models
from moto.cloudfront.exceptions import CloudFrontException, NoSuchDistribution
from moto.cloudfront.models import CloudFrontBackend, cloudfront_backends
from moto.cloudtrail.models import cloudtrail_backends
from moto.core.common_models import CloudFormationModel
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.iam.models import IAMBackend, ManagedPolicy, User, iam_backends
from moto.secretsmanager.models import secretsmanager_backends
from moto.utilities.utils import get_partition

Json = dict[str, Any]


def _iam(account_id: str, region_name: str) -> IAMBackend:
    return iam_backends[account_id][get_partition(region_name)]


# ---------------------------------------------------------------------------
# 1. change sets


def _in_dependency_order(resources: Json) -> Json:
    """The same resources, each after the ones its DependsOn names. moto creates
    a change set's new resources in template order, resolving Ref/GetAtt lazily
    but ignoring DependsOn (e.g. an ApiGateway Deployment came before its
    Methods: "The REST API doesn't contain any methods"). AWS honours DependsOn."""
    ordered: Json = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in ordered or name not in resources or name in path:
            return
        deps = resources[name].get("DependsOn", [])
        for dep in [deps] if isinstance(deps, str) else deps:
            visit(dep, path + (name,))
        ordered[name] = resources[name]

    for name in resources:
        visit(name, ())
    return ordered


def _apply_change_set(self: ChangeSet) -> None:
    """ExecuteChangeSet makes the change set's template the stack's. moto only
    updated the resources: a stack created through a change set kept the empty
    template it was made with in REVIEW_IN_PROGRESS, so it had no Outputs and no
    Description, and its parameters stayed those of the first change set (so an
    unchanged resubmission after an update was not recognised)."""
    stack = self.stack
    resources = _in_dependency_order(self.template_dict.get("Resources", {}))
    stack.resource_map.update(dict(self.template_dict, Resources=resources), self.parameters)
    stack.template = self.template
    stack.template_dict = self.template_dict
    stack.parameters = self.parameters
    stack.description = self.template_dict.get("Description")
    if self.tags:
        stack.tags = self.tags
    stack.output_map = stack._create_output_map()
    # Exports, as create_stack registers them.
    backend = cfn_models.cloudformation_backends[stack.account_id][stack.region_name]
    for name in [n for n, e in backend.exports.items() if e.exporting_stack_id == stack.stack_id]:
        del backend.exports[name]
    for export in stack.exports:
        backend.exports[export.name] = export


def _change_set_diff(self: ChangeSet) -> list[Change]:
    """A change set lists, besides template changes, the resources that use a
    parameter whose value changed (a new code key Modifies its function). moto
    computed that for UpdateStack only, not for change sets."""
    resource_map = self.stack.resource_map
    names = resource_map.build_resource_diff(self.template_dict, self.parameters)
    old, new = resource_map._resource_json_map, self.template_dict["Resources"]
    return [
        Change(action, name, (old if action == "Remove" else new)[name]["Type"])
        for action in ("Add", "Modify", "Remove")
        for name in names[action]
    ]


_original_validate_different_update = CloudFormationResponse._validate_different_update


def _validate_different_update(self: CloudFormationResponse, *args: Any) -> None:
    """CreateChangeSet with the stack's own template and parameters succeeds;
    the change set then goes FAILED ("The submitted information didn't contain
    changes..."). moto answered a TemplateBody resubmission with UpdateStack's
    ValidationError "No updates are to be performed." (TemplateURL ones were fine)."""
    if self._get_action() != "CreateChangeSet":
        _original_validate_different_update(self, *args)


class InsufficientCapabilities(CloudFormationError):
    code = "InsufficientCapabilitiesException"


class InvalidChangeSetStatus(CloudFormationError):
    code = "InvalidChangeSetStatusException"


# The IAM types that need CAPABILITY_IAM, and the property that gives one a custom
# name (which needs CAPABILITY_NAMED_IAM).
_IAM_TYPES: dict[str, str | None] = {
    "AWS::IAM::AccessKey": None, "AWS::IAM::Group": "GroupName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName", "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::Policy": None, "AWS::IAM::Role": "RoleName", "AWS::IAM::User": "UserName",
    "AWS::IAM::UserToGroupAddition": None,
}


def _parse_template(body: str) -> Json:
    """A template that does not parse, or has no Resources, is a ValidationError
    ("Template format error: ...", HTTP 400). moto answered HTTP 500 (an HTML
    page), which SDKs retry as a server fault."""
    try:
        template = Stack.parse_template(body)
    except Exception as exc:  # noqa: BLE001 - YAML and JSON parse errors
        raise ValidationError(message=f"Template format error: not well-formed ({exc})") from exc
    if not isinstance(template, dict) or not template.get("Resources"):
        raise ValidationError(message="Template format error: At least one Resources member must be defined.")
    return template


_original_create_change_set = CloudFormationResponse.create_change_set


def _create_change_set(self: CloudFormationResponse) -> Any:
    """CreateChangeSet refuses a template with IAM resources unless Capabilities
    acknowledges them: CAPABILITY_NAMED_IAM when one has a custom name, else
    CAPABILITY_IAM (InsufficientCapabilitiesException). moto checked nothing."""
    body = self._get_param("TemplateBody")
    if self._get_param("TemplateURL"):
        body = self._get_stack_from_s3_url(self._get_param("TemplateURL"))
    if body is not None:
        iam = [r for r in _parse_template(body)["Resources"].values() if r.get("Type") in _IAM_TYPES]
        named = any(_IAM_TYPES[r["Type"]] in r.get("Properties", {}) for r in iam)
        needed = "CAPABILITY_NAMED_IAM" if named else "CAPABILITY_IAM" if iam else None
        given = self._get_param("Capabilities", [])
        if needed and needed not in given and "CAPABILITY_NAMED_IAM" not in given:
            raise InsufficientCapabilities(f"Requires capabilities : [{needed}]")
    return _original_create_change_set(self)


_original_execute_change_set = CloudFormationBackend.execute_change_set


def _execute_change_set(self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None) -> None:
    """Only an AVAILABLE change set can be executed (InvalidChangeSetStatus);
    moto executed a FAILED one (e.g. "didn't contain changes") as a no-op."""
    change_set = self.describe_change_set(change_set_name)
    if change_set is not None and change_set.execution_status != "AVAILABLE":
        raise InvalidChangeSetStatus(
            f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current status of "
            f"[{change_set.status}]")
    _original_execute_change_set(self, change_set_name, stack_name)


class _NotCreated:
    """A resource of a type moto ignores, as the stack lists it."""

    physical_resource_id = None

    def __init__(self, logical_id: str, resource_type: str) -> None:
        self.logical_resource_id = logical_id
        self.cf_resource_type = resource_type


def _stack_resources(self: Stack) -> list[Any]:
    """ListStackResources / DescribeStackResource(s) name every resource of the
    stack by logical id and type. moto listed a blank row for each one of a type
    it ignores, and DescribeStackResource(s) failed on them (HTTP 500)."""
    resource_map = self.resource_map
    resources = []
    for name, spec in resource_map._resource_json_map.items():
        condition = spec.get("Condition")
        if condition and not resource_map.lazy_condition_map[condition]:
            continue
        resources.append(resource_map[name] or _NotCreated(name, spec["Type"]))
    return resources


ChangeSet.apply = _apply_change_set  # type: ignore[method-assign]
ChangeSet.diff = _change_set_diff  # type: ignore[method-assign]
CloudFormationResponse._validate_different_update = _validate_different_update  # type: ignore[method-assign]
CloudFormationResponse.create_change_set = _create_change_set  # type: ignore[method-assign]
CloudFormationBackend.execute_change_set = _execute_change_set  # type: ignore[method-assign]
Stack.stack_resources = property(_stack_resources)  # type: ignore[method-assign,assignment]


# ---------------------------------------------------------------------------
# 2. updates of types moto cannot update

_original_parse_and_update_resource = parsing.parse_and_update_resource


def _parse_and_update_resource(logical_id: str, resource_json: Json, resources_map: Any,
                               account_id: str, region_name: str) -> Any:
    """A modified resource is updated (or replaced), never lost. For a type
    without an update handler (e.g. LogGroup, RestApi, Permission) moto stored
    None as the resource, so later Refs and Outputs naming it came out empty
    and DeleteStack left it behind. Keep the existing resource instead."""
    updated = _original_parse_and_update_resource(
        logical_id, resource_json, resources_map, account_id, region_name)
    return updated if updated is not None else resources_map[logical_id]


parsing.parse_and_update_resource = _parse_and_update_resource


# ---------------------------------------------------------------------------
# 3. TemplateURL

_original_get_stack_from_s3_url = cfn_utils.get_stack_from_s3_url


def _get_stack_from_s3_url(template_url: str, account_id: str, partition: str) -> str:
    """CloudFormation reads TemplateURL from S3, path-style
    (https://s3.<region>.amazonaws.com/<bucket>/<key>) or virtual-hosted. Here
    S3 is this server, e.g. http://127.0.0.1:PORT/<bucket>/<key>; moto reads
    only `localhost` URLs path-style and took "127" for the bucket. A missing
    object is a ValidationError ("S3 error: ..."); moto answered HTTP 500."""
    url = urlparse(template_url)
    try:
        ipaddress.ip_address(url.hostname or "")
        template_url = url._replace(netloc=f"localhost:{url.port or 80}").geturl()
    except ValueError:
        pass
    try:
        return _original_get_stack_from_s3_url(template_url, account_id, partition)
    except AttributeError as exc:  # moto's get_object gave None
        raise ValidationError(message="S3 error: The specified key does not exist.") from exc
    except Exception as exc:  # noqa: BLE001 - moto's S3 errors
        raise ValidationError(message=f"S3 error: {getattr(exc, 'message', exc)}") from exc


cfn_utils.get_stack_from_s3_url = _get_stack_from_s3_url
cfn_responses.get_stack_from_s3_url = _get_stack_from_s3_url  # type: ignore[attr-defined]
cfn_models.get_stack_from_s3_url = _get_stack_from_s3_url  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------
# 4. models moto lacks (it ignored these types: a Ref to one resolved to None)


class _Handle:
    """What the stack keeps of a resource that lives in a service backend.

    moto's model registry files each model class under the second part of its
    module name (moto.<service>....); the models below name their service."""

    def __init__(self, physical_id: str, account_id: str, region_name: str) -> None:
        self.physical_resource_id = physical_id
        self.account_id = account_id
        self.region_name = region_name

    def is_created(self) -> bool:
        return True


class Group(_Handle, CloudFormationModel):
    """AWS::IAM::Group: GroupName (or a generated name), Path, inline Policies,
    ManagedPolicyArns. Ref is the group name. A ManagedPolicy's `Groups: [Ref]`
    then attaches to it (moto: "Group None not found")."""

    __module__ = "moto.iam.stackgen_shim"

    _managed_policy_arns: set[str] = set()  # the template's ManagedPolicyArns, as last applied

    @staticmethod
    def cloudformation_name_type() -> str:
        return "GroupName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::IAM::Group"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return _iam(self.account_id, self.region_name).get_group(self.physical_resource_id).arn

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Json,  # type: ignore[override]
                                        account_id: str, region_name: str, **kwargs: Any) -> Group:
        props = cloudformation_json.get("Properties", {})
        _iam(account_id, region_name).create_group(resource_name, props.get("Path", "/"))
        group = cls(resource_name, account_id, region_name)
        group._set_policies(props)
        return group

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: Group, new_resource_name: str,  # type: ignore[override]
                                        cloudformation_json: Json, account_id: str, region_name: str) -> Group:
        props = cloudformation_json.get("Properties", {})
        if props.get("GroupName", original_resource.physical_resource_id) != original_resource.physical_resource_id:
            new = cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
            cls.delete_from_cloudformation_json(original_resource.physical_resource_id, {}, account_id, region_name)
            return new
        _iam(account_id, region_name).get_group(original_resource.physical_resource_id).path = props.get("Path", "/")
        original_resource._set_policies(props)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Json,  # type: ignore[override]
                                        account_id: str, region_name: str) -> None:
        """IAM deletes no group that has policies attached. CloudFormation deletes
        the ManagedPolicy resources naming the group first; moto deletes in no
        particular order, so detach whatever is still attached."""
        iam = _iam(account_id, region_name)
        group = iam.get_group(resource_name)
        for arn in list(group.managed_policies):
            iam.detach_group_policy(arn, resource_name)
        iam.delete_group(resource_name)

    def _set_policies(self, props: Json) -> None:
        iam = _iam(self.account_id, self.region_name)
        name = self.physical_resource_id
        group = iam.get_group(name)
        inline = {p["PolicyName"]: p["PolicyDocument"] for p in props.get("Policies", [])}
        for policy_name in set(group.policies) - set(inline):
            iam.delete_group_policy(name, policy_name)
        for policy_name, document in inline.items():
            iam.put_group_policy(name, policy_name, json.dumps(document))
        arns = set(props.get("ManagedPolicyArns", []))
        for arn in arns - set(group.managed_policies):
            iam.attach_group_policy(arn, name)
        # Only those the template once listed: a ManagedPolicy's Groups attach too.
        for arn in self._managed_policy_arns - arns:
            iam.detach_group_policy(arn, name)
        self._managed_policy_arns = arns


class Secret(_Handle, CloudFormationModel):
    """AWS::SecretsManager::Secret: Name (or a generated name), Description,
    KmsKeyId, Tags, and SecretString or a GenerateSecretString value. Ref is the
    ARN (moto: None, so an environment variable holding it disappeared)."""

    __module__ = "moto.secretsmanager.stackgen_shim"

    _value_spec: tuple[Any, Any] = (None, None)  # (SecretString, GenerateSecretString) of the value

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SecretsManager::Secret"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Id"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.physical_resource_id

    @staticmethod
    def _value(props: Json, account_id: str, region_name: str) -> str | None:
        spec = props.get("GenerateSecretString")
        if spec is None:
            return props.get("SecretString")
        password = json.loads(secretsmanager_backends[account_id][region_name].get_random_password(
            password_length=int(spec.get("PasswordLength", 32)),
            exclude_characters=spec.get("ExcludeCharacters", ""),
            exclude_numbers=spec.get("ExcludeNumbers", False),
            exclude_punctuation=spec.get("ExcludePunctuation", False),
            exclude_uppercase=spec.get("ExcludeUppercase", False),
            exclude_lowercase=spec.get("ExcludeLowercase", False),
            include_space=spec.get("IncludeSpace", False),
            require_each_included_type=spec.get("RequireEachIncludedType", True),
        ))["RandomPassword"]
        if "SecretStringTemplate" not in spec:
            return password
        value = json.loads(spec["SecretStringTemplate"])
        value[spec["GenerateStringKey"]] = password
        return json.dumps(value)

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Json,  # type: ignore[override]
                                        account_id: str, region_name: str, **kwargs: Any) -> Secret:
        props = cloudformation_json.get("Properties", {})
        created = secretsmanager_backends[account_id][region_name].create_secret(
            name=resource_name,
            secret_string=cls._value(props, account_id, region_name),
            secret_binary=None,
            description=props.get("Description"),
            tags=props.get("Tags"),
            kms_key_id=props.get("KmsKeyId"),
            client_request_token=None,
            replica_regions=[],
            force_overwrite=False,
        )
        secret = cls(json.loads(created)["ARN"], account_id, region_name)
        secret._value_spec = (props.get("SecretString"), props.get("GenerateSecretString"))
        return secret

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: Secret, new_resource_name: str,  # type: ignore[override]
                                        cloudformation_json: Json, account_id: str, region_name: str) -> Secret:
        props = cloudformation_json.get("Properties", {})
        backend = secretsmanager_backends[account_id][region_name]
        arn = original_resource.physical_resource_id
        if props.get("Name", backend.secrets[arn].name) != backend.secrets[arn].name:
            new = cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
            cls.delete_from_cloudformation_json(arn, {}, account_id, region_name)
            return new
        value_spec = (props.get("SecretString"), props.get("GenerateSecretString"))
        if value_spec != original_resource._value_spec:  # a new value only when its spec changed
            backend.update_secret(arn, secret_string=cls._value(props, account_id, region_name))
            original_resource._value_spec = value_spec
        secret = backend.secrets[arn]
        secret.description = props.get("Description")
        secret.kms_key_id = props.get("KmsKeyId")
        secret.tags = props.get("Tags") or None
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Json,  # type: ignore[override]
                                        account_id: str, region_name: str) -> None:
        """CloudFormation deletes a secret without a recovery window."""
        secretsmanager_backends[account_id][region_name].delete_secret(
            resource_name, recovery_window_in_days=None, force_delete_without_recovery=True)


class Trail(_Handle, CloudFormationModel):
    """AWS::CloudTrail::Trail through moto's CloudTrail: TrailName (or a
    generated name), bucket, prefix, topic, CloudWatch Logs, flags, Tags,
    (Advanced)EventSelectors, IsLogging. Ref is the name, GetAtt Arn the ARN
    (moto: an Output naming the Arn made DescribeStacks fail)."""

    __module__ = "moto.cloudtrail.stackgen_shim"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "TrailName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudTrail::Trail"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("Arn", "SnsTopicArn")

    def get_cfn_attribute(self, attribute_name: str) -> str | None:
        trail = cloudtrail_backends[self.account_id][self.region_name].get_trail(self.physical_resource_id)
        return trail.arn if attribute_name == "Arn" else trail.topic_arn

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Json,  # type: ignore[override]
                                        account_id: str, region_name: str, **kwargs: Any) -> Trail:
        props = cloudformation_json.get("Properties", {})
        cloudtrail_backends[account_id][region_name].create_trail(
            resource_name, props["S3BucketName"], props.get("S3KeyPrefix"), props.get("SnsTopicName"),
            props.get("IncludeGlobalServiceEvents", True), props.get("IsMultiRegionTrail", False),
            props.get("EnableLogFileValidation", False), props.get("IsOrganizationTrail", False),
            props.get("CloudWatchLogsLogGroupArn"), props.get("CloudWatchLogsRoleArn"),
            props.get("KMSKeyId"), props.get("Tags", []),
        )
        trail = cls(resource_name, account_id, region_name)
        trail._set_selectors_and_logging(props)
        return trail

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: Trail, new_resource_name: str,  # type: ignore[override]
                                        cloudformation_json: Json, account_id: str, region_name: str) -> Trail:
        props = cloudformation_json.get("Properties", {})
        name = original_resource.physical_resource_id
        if props.get("TrailName", name) != name:
            new = cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
            cls.delete_from_cloudformation_json(name, {}, account_id, region_name)
            return new
        cloudtrail_backends[account_id][region_name].update_trail(
            name, props["S3BucketName"], props.get("S3KeyPrefix"), props.get("SnsTopicName"),
            props.get("IncludeGlobalServiceEvents", True), props.get("IsMultiRegionTrail", False),
            props.get("EnableLogFileValidation", False), props.get("IsOrganizationTrail", False),
            props.get("CloudWatchLogsLogGroupArn"), props.get("CloudWatchLogsRoleArn"), props.get("KMSKeyId"),
        )
        original_resource._set_selectors_and_logging(props)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Json,  # type: ignore[override]
                                        account_id: str, region_name: str) -> None:
        cloudtrail_backends[account_id][region_name].delete_trail(resource_name)

    def _set_selectors_and_logging(self, props: Json) -> None:
        backend = cloudtrail_backends[self.account_id][self.region_name]
        selectors, advanced = props.get("EventSelectors", []), props.get("AdvancedEventSelectors", [])
        if selectors or advanced:
            backend.put_event_selectors(self.physical_resource_id, selectors, advanced)
        if props.get("IsLogging"):
            backend.start_logging(self.physical_resource_id)
        else:
            backend.stop_logging(self.physical_resource_id)


# get_model_list()/get_model_map() are lru_cached over CloudFormationModel's subclasses.
for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
    cached.cache_clear()


# ---------------------------------------------------------------------------
# 5. fixes to moto's models

_original_user_create = User.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
_original_user_delete = User.delete_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def _user_create(cls: type[User], resource_name: str, cloudformation_json: Json,
                 account_id: str, region_name: str, **kwargs: Any) -> User:
    """A user gets the template's Groups and Tags (moto kept UserName and Path only)."""
    user = _original_user_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    props = cloudformation_json.get("Properties", {})
    iam = _iam(account_id, region_name)
    for group_name in props.get("Groups", []):
        iam.add_user_to_group(group_name, user.name)
    iam.tag_user(user.name, props.get("Tags", []))
    return user


def _user_update(cls: type[User], original_resource: User, new_resource_name: str,
                 cloudformation_json: Json, account_id: str, region_name: str) -> User:
    """Only a new UserName replaces a user; Groups, Path and Tags update it in
    place. moto replaced a user whenever the template named it, and the new
    user's name was taken by the old one (EntityAlreadyExists)."""
    props = cloudformation_json.get("Properties", {})
    name = original_resource.name
    if props.get("UserName", name) != name:
        new = cls.create_from_cloudformation_json(props["UserName"], cloudformation_json, account_id, region_name)
        cls.delete_from_cloudformation_json(name, cloudformation_json, account_id, region_name)
        return new
    iam = _iam(account_id, region_name)
    original_resource.path = props.get("Path", "/")
    wanted = set(props.get("Groups", []))
    for group in iam.get_groups_for_user(name):
        if group.name not in wanted:
            iam.remove_user_from_group(group.name, name)
    for group_name in wanted:
        iam.add_user_to_group(group_name, name)
    iam.untag_user(name, [t["Key"] for t in iam.list_user_tags(name)])
    iam.tag_user(name, props.get("Tags", []))
    return original_resource


def _user_delete(cls: type[User], resource_name: str, cloudformation_json: Json,
                 account_id: str, region_name: str) -> None:
    """IAM deletes no user that is in a group; CloudFormation removes it first
    (moto deleted it and left it listed as a member)."""
    iam = _iam(account_id, region_name)
    for group in iam.get_groups_for_user(resource_name):
        iam.remove_user_from_group(group.name, resource_name)
    _original_user_delete(cls, resource_name, cloudformation_json, account_id, region_name)


User.create_from_cloudformation_json = classmethod(_user_create)  # type: ignore[method-assign,assignment]
User.update_from_cloudformation_json = classmethod(_user_update)  # type: ignore[method-assign,assignment]
User.delete_from_cloudformation_json = classmethod(_user_delete)  # type: ignore[method-assign,assignment]


_original_table_create = Table.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def _table_create(cls: type[Table], resource_name: str, cloudformation_json: Json,
                  account_id: str, region_name: str, **kwargs: Any) -> Table:
    """A table gets the template's encryption (its SSEEnabled is the API's Enabled) and
    point-in-time recovery (moto left it DISABLED)."""
    cloudformation_json = copy.deepcopy(cloudformation_json)
    props = cloudformation_json.setdefault("Properties", {})
    sse = props.get("SSESpecification")
    if sse is not None:
        props["SSESpecification"] = {k: v for k, v in sse.items() if k != "SSEEnabled"} | {"Enabled": sse.get("SSEEnabled") is True}
    table = _original_table_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    spec = props.get("PointInTimeRecoverySpecification")
    if spec:
        dynamodb_backends[account_id][region_name].update_continuous_backups(table.name, spec)
    return table


Table.create_from_cloudformation_json = classmethod(_table_create)  # type: ignore[method-assign,assignment]


def _attached_to(iam: IAMBackend, arn: str) -> list[Any]:
    return [e for entities in (iam.groups, iam.users, iam.roles)
            for e in entities.values() if arn in e.managed_policies]


def _policy_update(cls: type[ManagedPolicy], original_resource: ManagedPolicy, new_resource_name: str,
                   cloudformation_json: Json, account_id: str, region_name: str) -> ManagedPolicy:
    """A ManagedPolicy is updated, not forgotten (moto had no update handler):
    a new ManagedPolicyName, Path or Description replaces it; a new document
    becomes its default version; Groups, Users and Roles are re-attached."""
    props = cloudformation_json.get("Properties", {})
    old = original_resource
    if (props.get("ManagedPolicyName", old.name) != old.name or props.get("Path", "/") != old.path
            or props.get("Description", "") != old.description):
        new = cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
        cls.delete_from_cloudformation_json(old.arn, cloudformation_json, account_id, region_name)
        return new
    iam = _iam(account_id, region_name)
    document = json.dumps(props.get("PolicyDocument"))
    if document != next(v.document for v in old.versions if v.is_default):
        while len(old.versions) >= 5:  # IAM keeps 5 versions; CloudFormation drops the oldest
            iam.delete_policy_version(old.arn, next(v for v in old.versions if not v.is_default).version_id)
        iam.create_policy_version(old.arn, document, set_as_default=True)
    for entity in _attached_to(iam, old.arn):
        old.detach_from(entity)
    for group_name in props.get("Groups", []):
        iam.attach_group_policy(old.arn, group_name)
    for user_name in props.get("Users", []):
        iam.attach_user_policy(old.arn, user_name)
    for role_name in props.get("Roles", []):
        iam.attach_role_policy(old.arn, role_name)
    return old


def _policy_delete(cls: type[ManagedPolicy], resource_name: str, cloudformation_json: Json,
                   account_id: str, region_name: str) -> None:
    """DeleteStack deletes a stack's managed policies, detaching them first
    (moto left them, still attached, behind)."""
    iam = _iam(account_id, region_name)
    policy = iam.get_policy(resource_name)
    for entity in _attached_to(iam, resource_name):
        policy.detach_from(entity)
    iam.delete_policy(resource_name)


ManagedPolicy.update_from_cloudformation_json = classmethod(_policy_update)  # type: ignore[method-assign,assignment]
ManagedPolicy.delete_from_cloudformation_json = classmethod(_policy_delete)  # type: ignore[method-assign,assignment]


def _method_create(cls: type[Method], resource_name: str, cloudformation_json: Json,
                   account_id: str, region_name: str, **kwargs: Any) -> Method:
    """A Method with its whole Integration and responses. moto required
    Integration.IntegrationHttpMethod and Uri, which a MOCK integration (a CORS
    preflight) does not have (KeyError), and dropped templates and responses."""
    props = cloudformation_json["Properties"]
    api_id, resource_id, http_method = props["RestApiId"], props["ResourceId"], props["HttpMethod"]
    backend = apigateway_backends[account_id][region_name]
    method = backend.put_method(
        api_id, resource_id, http_method, props.get("AuthorizationType", "NONE"),
        api_key_required=props.get("ApiKeyRequired"), request_parameters=props.get("RequestParameters"),
        request_models=props.get("RequestModels"), operation_name=props.get("OperationName"),
        authorizer_id=props.get("AuthorizerId"), authorization_scopes=props.get("AuthorizationScopes"),
        request_validator_id=props.get("RequestValidatorId"),
    )
    method._cfn_location = (api_id, resource_id, http_method)  # type: ignore[attr-defined]
    for response in props.get("MethodResponses", []):
        backend.put_method_response(api_id, resource_id, http_method, str(response["StatusCode"]),
                                    response.get("ResponseModels"), response.get("ResponseParameters"))
    integration = props.get("Integration")
    if integration:
        backend.put_integration(
            api_id, resource_id, http_method, integration["Type"], integration.get("Uri"),
            integration.get("IntegrationHttpMethod"), credentials=integration.get("Credentials"),
            request_templates=integration.get("RequestTemplates"),
            passthrough_behavior=integration.get("PassthroughBehavior"),
            timeout_in_millis=integration.get("TimeoutInMillis"),
            request_parameters=integration.get("RequestParameters"),
            content_handling=integration.get("ContentHandling"),
            connection_type=integration.get("ConnectionType"),
        )
        for response in integration.get("IntegrationResponses", []):
            backend.put_integration_response(
                api_id, resource_id, http_method, str(response["StatusCode"]),
                response.get("SelectionPattern"), response.get("ResponseTemplates"),
                response.get("ResponseParameters"), response.get("ContentHandling"))
    return method


def _method_update(cls: type[Method], original_resource: Method, new_resource_name: str,
                   cloudformation_json: Json, account_id: str, region_name: str) -> Method:
    _method_delete(original_resource, account_id, region_name)
    return _method_create(cls, new_resource_name, cloudformation_json, account_id, region_name)


def _method_delete(self: Method, account_id: str, region_name: str) -> None:
    """Removing a Method from the template deletes it (moto kept it). Gone
    with its API already is fine: CloudFormation ignores NotFound on delete."""
    api_id, resource_id, http_method = self._cfn_location  # type: ignore[attr-defined]
    try:
        apigateway_backends[account_id][region_name].delete_method(api_id, resource_id, http_method)
    except Exception:  # noqa: BLE001 - NotFound of the API or resource
        pass


def _rest_api_delete(self: RestAPI, account_id: str, region_name: str) -> None:
    """DeleteStack deletes the RestApi (moto left it behind)."""
    apigateway_backends[account_id][region_name].apis.pop(self.id, None)


Method.create_from_cloudformation_json = classmethod(_method_create)  # type: ignore[method-assign,assignment]
Method.update_from_cloudformation_json = classmethod(_method_update)  # type: ignore[method-assign,assignment]
Method.delete = _method_delete  # type: ignore[attr-defined]
RestAPI.delete = _rest_api_delete  # type: ignore[attr-defined]


def _update_termination_protection(self: CloudFormationResponse) -> Any:
    """UpdateTerminationProtection sets the stack's flag (DescribeStacks reports it as
    EnableTerminationProtection); moto had no such call."""
    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    stack.enable_termination_protection = str(self._get_param("EnableTerminationProtection")).lower() == "true"
    return ActionResult({"StackId": stack.stack_id})


_original_delete_stack = CloudFormationBackend.delete_stack


def _delete_stack(self: CloudFormationBackend, name_or_stack_id: str) -> None:
    """DeleteStack of a stack with termination protection is a ValidationError (moto
    deleted it)."""
    stack = next((s for s in self.stacks.values()
                  if name_or_stack_id in (s.name, s.stack_id) and s.status != "DELETE_COMPLETE"), None)
    if stack is not None and getattr(stack, "enable_termination_protection", False):
        raise ValidationError(
            message=f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled")
    _original_delete_stack(self, name_or_stack_id)


CloudFormationResponse.update_termination_protection = _update_termination_protection  # type: ignore[attr-defined]
CloudFormationBackend.delete_stack = _delete_stack  # type: ignore[method-assign]


# ---------------------------------------------------------------------------
# 7. deleted stacks keep their record


class _Deleted:
    """A resource of a deleted stack, as CloudFormation lists it for 90 days."""

    def __init__(self, logical_id: str, resource_type: str, physical_id: str | None, status: str) -> None:
        self.logical_resource_id = logical_id
        self.cf_resource_type = resource_type
        self.physical_resource_id = physical_id
        self.resource_status = status


_original_stack_delete = Stack.delete
_live_stack_resources = Stack.stack_resources


def _stack_delete(self: Stack) -> None:
    """DeleteStack records what the stack had: AWS lists a deleted stack's resources
    (ListStackResources, DescribeStackResources by stack ID), DELETE_SKIPPED for those
    its DeletionPolicy Retain kept, DELETE_COMPLETE for the rest. Only resources that
    were made count (a REVIEW_IN_PROGRESS stack had none)."""
    resource_map = self.resource_map
    made = []
    for name, spec in resource_map._resource_json_map.items():
        if name not in resource_map._parsed_resources:
            continue
        resource = resource_map._parsed_resources[name]
        made.append((name, spec.get("Type", ""), getattr(resource, "physical_resource_id", None),
                     spec.get("DeletionPolicy")))
    _original_stack_delete(self)
    # moto keeps exactly the resources whose policy is Retain, like AWS.
    self._deleted_rows = [  # type: ignore[attr-defined]
        _Deleted(name, rtype, physical, "DELETE_SKIPPED" if policy == "Retain" else "DELETE_COMPLETE")
        for name, rtype, physical, policy in made
    ]


def _stack_resources_kept(self: Stack) -> list[Any]:
    """A deleted stack lists its record (above), not its resource map: reading that
    map would create again the resources the delete removed."""
    rows = getattr(self, "_deleted_rows", None)
    if rows is not None and self.status == "DELETE_COMPLETE":
        return rows
    return _live_stack_resources.fget(self)  # type: ignore[attr-defined]


def _list_stack_resources(self: CloudFormationResponse) -> ActionResult:
    """ListStackResources with each resource's own status where it has one (moto wrote
    CREATE_COMPLETE for every row)."""
    stack, resources = self.cloudformation_backend.list_stack_resources(self._get_param("StackName"))
    return ActionResult({"StackResourceSummaries": [
        {
            "ResourceStatus": getattr(resource, "resource_status", "CREATE_COMPLETE"),
            "LogicalResourceId": getattr(resource, "logical_resource_id", ""),
            "LastUpdatedTimestamp": stack.creation_time,
            "PhysicalResourceId": getattr(resource, "physical_resource_id", ""),
            "ResourceType": getattr(resource, "cf_resource_type", ""),
        }
        for resource in resources
    ]})


_original_resource_dto_init = cfn_responses.StackResourceDTO.__init__


def _resource_dto_init(self: Any, stack: Stack, resource: Any) -> None:
    """DescribeStackResources: a deleted stack's resource has its own status, not the
    stack's."""
    _original_resource_dto_init(self, stack, resource)
    status = getattr(resource, "resource_status", None)
    if status is not None:
        self.resource_status = status


Stack.delete = _stack_delete  # type: ignore[method-assign]
Stack.stack_resources = property(_stack_resources_kept)  # type: ignore[method-assign,assignment]
CloudFormationResponse.list_stack_resources = _list_stack_resources  # type: ignore[method-assign]
cfn_responses.StackResourceDTO.__init__ = _resource_dto_init  # type: ignore[method-assign]


# ---------------------------------------------------------------------------
# 8. CloudFront in templates


def _cloudfront(account_id: str, region_name: str) -> CloudFrontBackend:
    return cloudfront_backends[account_id][get_partition(region_name)]


def _items(values: list[Any] | None, convert: Any = None) -> Json:
    """A template's list as the CloudFront API has it: {Quantity, Items}."""
    values = [convert(v) if convert else v for v in values or []]
    return {"Quantity": len(values), "Items": values} if values else {"Quantity": 0}


def _api_cache_behavior(cfn: Json) -> Json:
    behavior = {k: v for k, v in cfn.items() if k not in (
        "AllowedMethods", "CachedMethods", "TrustedSigners", "TrustedKeyGroups",
        "FunctionAssociations", "LambdaFunctionAssociations")}
    methods = cfn.get("AllowedMethods", ["GET", "HEAD"])
    behavior["AllowedMethods"] = dict(_items(methods), CachedMethods=_items(cfn.get("CachedMethods", ["GET", "HEAD"])))
    behavior["TrustedSigners"] = dict(_items(cfn.get("TrustedSigners")), Enabled=bool(cfn.get("TrustedSigners")))
    behavior["TrustedKeyGroups"] = dict(_items(cfn.get("TrustedKeyGroups")), Enabled=bool(cfn.get("TrustedKeyGroups")))
    behavior["FunctionAssociations"] = _items(cfn.get("FunctionAssociations"))
    behavior["LambdaFunctionAssociations"] = _items(cfn.get("LambdaFunctionAssociations"))
    return behavior


def _api_origin(cfn: Json) -> Json:
    origin = {k: v for k, v in cfn.items() if k not in ("OriginCustomHeaders", "CustomOriginConfig")}
    origin["CustomHeaders"] = _items(cfn.get("OriginCustomHeaders"))
    if "CustomOriginConfig" in cfn:
        custom = dict(cfn["CustomOriginConfig"])
        custom["OriginSslProtocols"] = _items(custom.pop("OriginSSLProtocols", ["TLSv1.2"]))
        origin["CustomOriginConfig"] = custom
    return origin


def _api_distribution_config(cfn: Json, caller_reference: str) -> Json:
    """AWS::CloudFront::Distribution's DistributionConfig in the API's shape."""
    config = copy.deepcopy({k: v for k, v in cfn.items() if k not in (
        "Aliases", "Origins", "DefaultCacheBehavior", "CacheBehaviors", "CustomErrorResponses",
        "Logging", "ViewerCertificate", "IPV6Enabled", "Restrictions")})
    config["CallerReference"] = caller_reference
    config.setdefault("Comment", "")
    config["Aliases"] = _items(cfn.get("Aliases"))
    config["Origins"] = {"Quantity": len(cfn.get("Origins", [])),
                         "Items": [_api_origin(copy.deepcopy(o)) for o in cfn.get("Origins", [])]}
    config["DefaultCacheBehavior"] = _api_cache_behavior(copy.deepcopy(cfn.get("DefaultCacheBehavior", {})))
    behaviors = [_api_cache_behavior(copy.deepcopy(b)) for b in cfn.get("CacheBehaviors", [])]
    if behaviors:
        config["CacheBehaviors"] = {"Quantity": len(behaviors), "Items": behaviors}
    config["CustomErrorResponses"] = _items(copy.deepcopy(cfn.get("CustomErrorResponses")))
    if "Logging" in cfn:
        logging = cfn["Logging"]
        config["Logging"] = {"Enabled": True, "Bucket": logging.get("Bucket", ""),
                             "Prefix": logging.get("Prefix", ""),
                             "IncludeCookies": bool(logging.get("IncludeCookies", False))}
    certificate = cfn.get("ViewerCertificate", {"CloudFrontDefaultCertificate": True})
    config["ViewerCertificate"] = {
        "CloudFrontDefaultCertificate": bool(certificate.get("CloudFrontDefaultCertificate", False)),
        "ACMCertificateArn": certificate.get("AcmCertificateArn", ""),
        "IAMCertificateId": certificate.get("IamCertificateId", ""),
        "SSLSupportMethod": certificate.get("SslSupportMethod", ""),
        "MinimumProtocolVersion": certificate.get("MinimumProtocolVersion", "TLSv1"),
    }
    config["IsIPV6Enabled"] = bool(cfn.get("IPV6Enabled", False))
    geo = cfn.get("Restrictions", {}).get("GeoRestriction")
    if geo:
        config["Restrictions"] = {"GeoRestriction": dict(
            _items(geo.get("Locations")), RestrictionType=geo.get("RestrictionType", "none"))}
    return config


class Distribution(_Handle, CloudFormationModel):
    """AWS::CloudFront::Distribution in moto's CloudFront backend: DistributionConfig
    (in the API's shape, above) and Tags. Ref and GetAtt Id are the distribution's
    Id, GetAtt DomainName its dXXXX.cloudfront.net. CloudFormation updates a
    distribution in place (UpdateDistribution with its CallerReference), whatever
    changed in its config."""

    __module__ = "moto.cloudfront.stackgen_shim"

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudFront::Distribution"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("DomainName", "Id")

    def get_cfn_attribute(self, attribute_name: str) -> str:
        dist = _cloudfront(self.account_id, self.region_name).distributions[self.physical_resource_id]
        return dist.domain_name if attribute_name == "DomainName" else dist.distribution_id

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Json,  # type: ignore[override]
                                        account_id: str, region_name: str, **kwargs: Any) -> Distribution:
        props = cloudformation_json.get("Properties", {})
        config = _api_distribution_config(props["DistributionConfig"], f"stackgen-shim-{uuid.uuid4()}")
        dist, _, _ = _cloudfront(account_id, region_name).create_distribution(config, props.get("Tags", []))
        return cls(dist.distribution_id, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: Distribution, new_resource_name: str,  # type: ignore[override]
                                        cloudformation_json: Json, account_id: str, region_name: str) -> Distribution:
        props = cloudformation_json.get("Properties", {})
        backend = _cloudfront(account_id, region_name)
        dist = backend.distributions[original_resource.physical_resource_id]
        config = _api_distribution_config(props["DistributionConfig"], dist.distribution_config.caller_reference)
        backend.update_distribution(config, dist.distribution_id, if_match=True)
        dist.etag = cloudfront_models.random_id()  # a new version of the config
        old_tags = backend.tagger.list_tags_for_resource(dist.arn)["Tags"]
        backend.tagger.untag_resource_using_names(dist.arn, [t["Key"] for t in old_tags])
        backend.tagger.tag_resource(dist.arn, props.get("Tags", []))
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Json,  # type: ignore[override]
                                        account_id: str, region_name: str) -> None:
        """CloudFormation disables the distribution, then deletes it."""
        backend = _cloudfront(account_id, region_name)
        if resource_name in backend.distributions:
            backend.delete_distribution(resource_name, if_match=True)
        backend.invalidations.pop(resource_name, None)


class OriginAccessControl(_Handle, CloudFormationModel):
    """AWS::CloudFront::OriginAccessControl in moto's CloudFront backend:
    OriginAccessControlConfig, updated in place. Ref and GetAtt Id are its Id. Its
    Name is unique in the account (moto took a second one)."""

    __module__ = "moto.cloudfront.stackgen_shim"

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudFront::OriginAccessControl"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Id"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.physical_resource_id

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Json,  # type: ignore[override]
                                        account_id: str, region_name: str, **kwargs: Any) -> OriginAccessControl:
        config = cloudformation_json.get("Properties", {})["OriginAccessControlConfig"]
        backend = _cloudfront(account_id, region_name)
        if any(c.name == config.get("Name") for c in backend.origin_access_controls.values()):
            raise ValidationError(message=f"OriginAccessControlAlreadyExists: {config.get('Name')}")
        control = backend.create_origin_access_control(dict(config))
        return cls(control.id, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: OriginAccessControl,  # type: ignore[override]
                                        new_resource_name: str, cloudformation_json: Json,
                                        account_id: str, region_name: str) -> OriginAccessControl:
        config = cloudformation_json.get("Properties", {})["OriginAccessControlConfig"]
        control = _cloudfront(account_id, region_name).get_origin_access_control(original_resource.physical_resource_id)
        control.update(dict(config))
        control.description = config.get("Description")  # absent: none any more
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Json,  # type: ignore[override]
                                        account_id: str, region_name: str) -> None:
        _cloudfront(account_id, region_name).origin_access_controls.pop(resource_name, None)


def _response_headers_policies(account_id: str, region_name: str) -> dict[str, ResponseHeadersPolicy]:
    """The account's response headers policies by Id. moto has no such API; the stacks'
    resources are what there is of them, kept on the CloudFront backend so that
    /moto-api/reset forgets them with the rest."""
    backend = _cloudfront(account_id, region_name)
    return backend.__dict__.setdefault("stackgen_response_headers_policies", {})  # type: ignore[no-any-return]


class ResponseHeadersPolicy(_Handle, CloudFormationModel):
    """AWS::CloudFront::ResponseHeadersPolicy, a minimal model (moto has none):
    its ResponseHeadersPolicyConfig as resolved (e.g. a CSP's Fn::Sub), an Id (a
    UUID, as AWS gives) and LastModifiedTime. Ref and GetAtt Id are the Id; an
    update keeps it (AWS updates a policy in place, even its Name). Its Name is
    unique in the account."""

    __module__ = "moto.cloudfront.stackgen_shim"

    config: Json = {}
    last_modified_time = ""

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudFront::ResponseHeadersPolicy"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("Id", "LastModifiedTime")

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.physical_resource_id if attribute_name == "Id" else self.last_modified_time

    def _set(self, cloudformation_json: Json) -> None:
        self.config = copy.deepcopy(cloudformation_json.get("Properties", {})["ResponseHeadersPolicyConfig"])
        self.last_modified_time = utcnow().isoformat()

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Json,  # type: ignore[override]
                                        account_id: str, region_name: str, **kwargs: Any) -> ResponseHeadersPolicy:
        policies = _response_headers_policies(account_id, region_name)
        name = cloudformation_json.get("Properties", {}).get("ResponseHeadersPolicyConfig", {}).get("Name")
        if any(p.config.get("Name") == name for p in policies.values()):
            raise ValidationError(message=f"ResponseHeadersPolicyAlreadyExists: {name}")
        policy = cls(str(uuid.uuid4()), account_id, region_name)
        policy._set(cloudformation_json)
        policies[policy.physical_resource_id] = policy
        return policy

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: ResponseHeadersPolicy,  # type: ignore[override]
                                        new_resource_name: str, cloudformation_json: Json,
                                        account_id: str, region_name: str) -> ResponseHeadersPolicy:
        original_resource._set(cloudformation_json)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Json,  # type: ignore[override]
                                        account_id: str, region_name: str) -> None:
        _response_headers_policies(account_id, region_name).pop(resource_name, None)


for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
    cached.cache_clear()


_original_origin_init = cloudfront_models.Origin.__init__


def _origin_init(self: Any, origin: Json) -> None:
    """An origin keeps its S3OriginConfig and OriginAccessControlId, which
    GetDistribution reports (moto kept only the identity, under a name its
    serializer does not read)."""
    _original_origin_init(self, origin)
    if "S3OriginConfig" in origin:
        self.s3_origin_config = {"OriginAccessIdentity": origin["S3OriginConfig"].get("OriginAccessIdentity", "")}
    self.origin_access_control_id = origin.get("OriginAccessControlId", "")


cloudfront_models.Origin.__init__ = _origin_init  # type: ignore[method-assign]


# ---------------------------------------------------------------------------
# 9. CloudFront's API: distribution ids, invalidations

_original_distribution_init = cloudfront_models.Distribution.__init__


def _distribution_init(self: Any, account_id: str, region_name: str, config: Json) -> None:
    """A distribution's Id is `E` and 13 upper-case letters and digits, its domain
    `d` and 13 lower-case ones, .cloudfront.net (moto left out the E and the d)."""
    _original_distribution_init(self, account_id, region_name, config)
    self.distribution_id = self.id = "E" + cloudfront_models.random_id(length=13)
    self.arn = f"arn:{get_partition(region_name)}:cloudfront::{account_id}:distribution/{self.distribution_id}"
    self.domain_name = "d" + cloudfront_models.random_id(uppercase=False, length=13) + ".cloudfront.net"


cloudfront_models.Distribution.__init__ = _distribution_init  # type: ignore[method-assign]


class InvalidationBatchAlreadyExists(CloudFrontException):
    code = "InvalidationBatchAlreadyExists"


class InvalidArgument(CloudFrontException):
    code = "InvalidArgument"


_original_invalidation_init = cloudfront_models.Invalidation.__init__


def _invalidation_init(self: Any, distribution: Any, paths: list[str], caller_ref: str) -> None:
    """A new invalidation is InProgress (moto: "COMPLETED", a status CloudFront
    never reports; its statuses are InProgress and Completed)."""
    _original_invalidation_init(self, distribution, paths, caller_ref)
    self.status = "InProgress"


_original_create_invalidation = CloudFrontBackend.create_invalidation


def _create_invalidation(self: CloudFrontBackend, dist_id: str, paths: list[str], caller_ref: str) -> Any:
    """CreateInvalidation: every path starts with "/" (InvalidArgument); a
    CallerReference already used for the distribution returns that invalidation
    when the paths are the same and is InvalidationBatchAlreadyExists when they
    differ. moto took any path and made a new invalidation each time."""
    self.get_distribution(dist_id)
    bad = [p for p in paths if not str(p).startswith("/")]
    if not paths or bad:
        raise InvalidArgument(f"Your request contains one or more invalid invalidation paths: {bad or paths}")
    for invalidation in self.invalidations.get(dist_id, []):
        if invalidation.caller_ref == caller_ref:
            if sorted(invalidation.paths) == sorted(paths):
                return invalidation
            raise InvalidationBatchAlreadyExists(
                f"Invalidation batch specified ({caller_ref}) already exists with different paths")
    return _original_create_invalidation(self, dist_id, paths, caller_ref)


def _completed(backend: CloudFrontBackend, dist_id: str) -> None:
    for invalidation in backend.invalidations.get(dist_id, []):
        invalidation.status = "Completed"


_original_get_invalidation = CloudFrontBackend.get_invalidation
_original_list_invalidations = CloudFrontBackend.list_invalidations


def _get_invalidation(self: CloudFrontBackend, dist_id: str, id: str) -> Any:  # noqa: A002 - moto's name
    """GetInvalidation: Completed once it is read back (moto is synchronous)."""
    _completed(self, dist_id)
    return _original_get_invalidation(self, dist_id, id)


def _list_invalidations(self: CloudFrontBackend, dist_id: str, **kwargs: Any) -> Any:
    """ListInvalidations of a distribution that does not exist is
    NoSuchDistribution (moto: an empty list); those listed are Completed."""
    if dist_id not in self.distributions:
        raise NoSuchDistribution
    _completed(self, dist_id)
    return _original_list_invalidations(self, dist_id=dist_id, **kwargs)


cloudfront_models.Invalidation.__init__ = _invalidation_init  # type: ignore[method-assign]
CloudFrontBackend.create_invalidation = _create_invalidation  # type: ignore[method-assign]
CloudFrontBackend.get_invalidation = _get_invalidation  # type: ignore[method-assign]
CloudFrontBackend.list_invalidations = _list_invalidations  # type: ignore[method-assign]



# ---------------------------------------------------------------------------
# 10. nested stacks


def _stack_get_cfn_attribute(self: Stack, attribute_name: str) -> Any:
    """Fn::GetAtt of a nested stack: `Outputs.<Name>` is that output's value (AWS's
    documented attribute; a name the nested stack does not output is a
    ValidationError). moto's Stack had no get_cfn_attribute (HTTP 500)."""
    if attribute_name.startswith("Outputs."):
        name = attribute_name[len("Outputs."):]
        if name not in (self.template_dict.get("Outputs") or {}):
            raise ValidationError(message=f"Template error: stack {self.name} has no output {name}")
        return self.output_map[name].value
    raise ValidationError(message=f"Template error: resource {self.name} has no attribute {attribute_name}")


_original_stack_create = Stack.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def _nested_stack_create(cls: type[Stack], resource_name: str, cloudformation_json: Json,
                         account_id: str, region_name: str, **kwargs: Any) -> Stack:
    """A nested stack knows its parent and root (DescribeStacks' ParentId and
    RootId: the root is the parent's root when the parent is itself nested)."""
    nested = _original_stack_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    parent_id = kwargs.get("StackId")
    if parent_id:
        backend = cfn_models.cloudformation_backends[account_id][region_name]
        parent = backend.stacks.get(parent_id)
        nested.parent_id = parent_id  # type: ignore[attr-defined]
        nested.root_id = getattr(parent, "root_id", None) or parent_id  # type: ignore[attr-defined]
    return nested


def _nested_stack_update(cls: type[Stack], original_resource: Stack, new_resource_name: str,
                         cloudformation_json: Json, account_id: str, region_name: str) -> Stack:
    """A nested stack whose TemplateURL or Parameters changed is updated in place, like
    UpdateStack: same stack ID, only its changed resources updated, added or removed,
    the rest untouched. moto deleted the nested stack and created another, which
    replaced every resource in it and failed on the first one its DeletionPolicy
    Retain had kept ("The specified log group already exists").

    A parameter counts as changed when its value, the one passed or else the
    template's Default, differs from before (AWS resolves Defaults the same way)."""
    stack = original_resource
    properties = cloudformation_json["Properties"]
    body = cfn_utils.get_stack_from_s3_url(properties["TemplateURL"], account_id=account_id,
                                           partition=get_partition(region_name))
    template = _parse_template(body)

    def values(declared: Json, passed: Json) -> Json:
        found = {k: v["Default"] for k, v in (declared or {}).items() if "Default" in v}
        found.update({k: v for k, v in passed.items() if k in (declared or {})})
        return found

    before = values(stack.template_dict.get("Parameters", {}), stack.resource_map.input_parameters)
    after = values(template.get("Parameters", {}), properties.get("Parameters", {}))
    stack.resource_map.input_parameters = before
    resources = _in_dependency_order(template.get("Resources", {}))
    stack.resource_map.update(dict(template, Resources=resources), after)
    stack.template = body
    stack.template_dict = template
    stack.parameters = after
    stack.description = template.get("Description")
    stack.output_map = stack._create_output_map()
    stack.status = "UPDATE_COMPLETE"
    stack._add_stack_event("UPDATE_COMPLETE")
    return stack


def _nested_stack_url(root_change_set: ChangeSet, properties: Json) -> str | None:
    """The TemplateURL a nested stack resource gets from the root's change set: a literal,
    or a Ref to a root parameter (the change set's value, else the parameter's Default)."""
    url = properties.get("TemplateURL")
    if isinstance(url, dict) and set(url) == {"Ref"}:
        name = url["Ref"]
        declared = root_change_set.template_dict.get("Parameters", {}).get(name, {})
        url = root_change_set.parameters.get(name, declared.get("Default"))
    return url if isinstance(url, str) else None


def _nested_change_sets(backend: CloudFormationBackend, root_change_set: ChangeSet) -> None:
    """IncludeNestedStacks: for each existing nested stack the root's change set modifies,
    a change set of that nested stack (its new template and parameters), named after the
    root's and its logical ID, with ParentChangeSetId and RootChangeSetId; the root's
    ResourceChange row names it in ChangeSetId. moto accepted the flag and made none.
    A nested stack the change set adds gets none here (AWS makes one for the new stack);
    nor does one whose new parameters name a resource the root does not have yet."""
    root = root_change_set.stack
    root_change_set.include_nested_stacks = True  # type: ignore[attr-defined]
    resources = root_change_set.template_dict.get("Resources", {})
    for change in root_change_set.changes:
        if change.resource_type != "AWS::CloudFormation::Stack" or change.action != "Modify":
            continue
        nested = root.resource_map._parsed_resources.get(change.logical_resource_id)
        properties = resources.get(change.logical_resource_id, {}).get("Properties", {})
        url = _nested_stack_url(root_change_set, properties)
        if not isinstance(nested, Stack) or url is None:
            continue
        try:
            passed = parsing.clean_json(copy.deepcopy(properties.get("Parameters", {})), root.resource_map)
            body = cfn_utils.get_stack_from_s3_url(url, account_id=root.account_id,
                                                   partition=get_partition(root.region_name))
        except Exception:  # noqa: BLE001 - a value the root cannot give yet: no child change set
            continue
        template = _parse_template(body)
        declared = template.get("Parameters", {})
        parameters = {k: str(v) for k, v in passed.items() if k in declared}
        child_id, _ = backend.create_change_set(
            stack_name=nested.name,
            change_set_name=f"{root_change_set.change_set_name}-{change.logical_resource_id}"[:128],
            template=body, parameters=parameters, description=root_change_set.description,
            change_set_type="UPDATE")
        child = backend.change_sets[child_id]
        child.parent_change_set_id = root_change_set.change_set_id  # type: ignore[attr-defined]
        child.root_change_set_id = getattr(  # type: ignore[attr-defined]
            root_change_set, "root_change_set_id", root_change_set.change_set_id)
        change.change_set_id = child_id  # type: ignore[attr-defined]
        root_change_set.nested_change_set_ids = [  # type: ignore[attr-defined]
            *getattr(root_change_set, "nested_change_set_ids", []), child_id]


_plain_create_change_set = CloudFormationResponse.create_change_set


def _create_change_set_with_nested(self: CloudFormationResponse) -> Any:
    result = _plain_create_change_set(self)
    if str(self._get_param("IncludeNestedStacks", "false")).lower() == "true":
        backend = self.cloudformation_backend
        _nested_change_sets(backend, backend.change_sets[result.result["Id"]])
    return result


_plain_execute_change_set = CloudFormationBackend.execute_change_set


def _execute_with_nested(self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None) -> None:
    """Executing the root's change set carries out its nested stacks' (EXECUTE_COMPLETE)."""
    _plain_execute_change_set(self, change_set_name, stack_name)
    root = self.describe_change_set(change_set_name)
    for child_id in getattr(root, "nested_change_set_ids", []):
        if child_id in self.change_sets:
            self.change_sets[child_id].execution_status = "EXECUTE_COMPLETE"


_plain_delete_change_set = CloudFormationBackend.delete_change_set


def _delete_with_nested(self: CloudFormationBackend, change_set_name: str) -> None:
    """Deleting the root's change set deletes its nested stacks' change sets too."""
    root = self.describe_change_set(change_set_name)
    for child_id in getattr(root, "nested_change_set_ids", []):
        self.change_sets.pop(child_id, None)
    _plain_delete_change_set(self, change_set_name)


CloudFormationResponse.create_change_set = _create_change_set_with_nested  # type: ignore[method-assign]
CloudFormationBackend.execute_change_set = _execute_with_nested  # type: ignore[method-assign]
CloudFormationBackend.delete_change_set = _delete_with_nested  # type: ignore[method-assign]
Stack.get_cfn_attribute = _stack_get_cfn_attribute  # type: ignore[attr-defined]
Stack.physical_resource_id = property(lambda self: self.stack_id)  # type: ignore[method-assign,assignment]
Stack.create_from_cloudformation_json = classmethod(_nested_stack_create)  # type: ignore[method-assign,assignment]
Stack.update_from_cloudformation_json = classmethod(_nested_stack_update)  # type: ignore[method-assign,assignment]


# ---------------------------------------------------------------------------
# 11. throttling on demand (a test hook)

_THROTTLE_XML = {
    "cloudformation": (
        "400 Bad Request",
        "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><Error>"
        "<Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
        "<RequestId>throttled</RequestId></ErrorResponse>",
    ),
    "s3": (
        "503 Slow Down",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code>"
        "<Message>Please reduce your request rate.</Message><RequestId>throttled</RequestId></Error>",
    ),
}


def _throttling(app: Any, limit: float, services: set[str]) -> Any:
    """`app`, answering the first `limit` requests to `services` with their throttling error."""
    count = 0

    def throttled(environ: Json, start_response: Any) -> Any:
        nonlocal count
        scope = environ.get("HTTP_AUTHORIZATION", "").split("Credential=", 1)[-1].split(",", 1)[0]
        parts = scope.split("/")
        service = parts[3] if len(parts) > 3 else ""
        if service in services and service in _THROTTLE_XML and count < limit:
            count += 1
            print(f"throttled {service} #{count}", file=sys.stderr, flush=True)
            status, body = _THROTTLE_XML[service]
            data = body.encode()
            start_response(status, [("Content-Type", "text/xml"), ("Content-Length", str(len(data)))])
            return [data]
        return app(environ, start_response)

    return throttled


def _install_throttling() -> None:
    import os

    from moto.moto_server import werkzeug_app

    setting = os.environ.get("STACKGEN_MOTO_THROTTLE")
    if not setting:
        return
    limit = float("inf") if setting == "all" else int(setting)
    services = set(os.environ.get("STACKGEN_MOTO_THROTTLE_SERVICES", "cloudformation,s3").split(","))
    dispatch = werkzeug_app.DomainDispatcherApplication.__call__

    def call(self: Any, environ: Json, start_response: Any) -> Any:
        if not hasattr(self, "_stackgen_throttled"):
            self._stackgen_throttled = _throttling(  # type: ignore[attr-defined]
                lambda e, r: dispatch(self, e, r), limit, services)
        return self._stackgen_throttled(environ, start_response)  # type: ignore[attr-defined]

    werkzeug_app.DomainDispatcherApplication.__call__ = call  # type: ignore[method-assign]


if __name__ == "__main__":
    _install_throttling()
    moto.server.main(sys.argv[1:])
