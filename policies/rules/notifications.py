"""AWS services that notify a topic may publish to it: its topic policy and its key's policy both let them.

An alarm, a budget, an anomaly subscription, an EventBridge rule and an S3 event notification each
publish to SNS as their service's principal. SNS refuses the message unless the topic policy allows
that principal `sns:Publish`; on a topic encrypted with a customer-managed key, KMS refuses it too
unless the key policy lets the principal use the key (`kms:GenerateDataKey*` and `kms:Decrypt`; SNS
Developer Guide, key management). The AWS-managed key `alias/aws/sns` admits no service at all.
Either way the notification is dropped without an error anyone sees, so the pack checks both halves
for every notifier and topic the stack creates. Topics outside the stack are not judged.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator
from typing import Any, Final

from pulumi_policy import PolicyResource, ReportViolation, StackValidationArgs, StackValidationPolicy

from .common import MANDATORY, UNKNOWN, as_list, document, label_of, lookup, of_type, plain, refers_to, statements

TOPIC: Final = "aws:sns/topic:Topic"
TOPIC_POLICY: Final = "aws:sns/topicPolicy:TopicPolicy"
KEY: Final = "aws:kms/key:Key"
ALIAS: Final = "aws:kms/alias:Alias"
AWS_MANAGED_SNS_KEY: Final = "alias/aws/sns"

# A reference to a topic: the property it is in, and its value (an ARN, or UNKNOWN during a first preview).
TopicRef = tuple[str, Any]


def _alarm(resource: PolicyResource) -> Iterator[TopicRef]:
    for prop in ("alarmActions", "okActions", "insufficientDataActions"):
        for arn in as_list(plain(lookup(resource.props, prop))):
            yield prop, arn


def _budget(resource: PolicyResource) -> Iterator[TopicRef]:
    for notification in as_list(plain(lookup(resource.props, "notifications"))):
        if isinstance(notification, dict):
            for arn in as_list(notification.get("subscriberSnsTopicArns")):
                yield "notifications", arn


def _anomaly_subscription(resource: PolicyResource) -> Iterator[TopicRef]:
    for subscriber in as_list(plain(lookup(resource.props, "subscribers"))):
        if isinstance(subscriber, dict) and subscriber.get("type") == "SNS":
            yield "subscribers", subscriber.get("address")


def _event_target(resource: PolicyResource) -> Iterator[TopicRef]:
    yield "arn", plain(lookup(resource.props, "arn"))


def _bucket_notification(resource: PolicyResource) -> Iterator[TopicRef]:
    for topic in as_list(plain(lookup(resource.props, "topics"))):
        if isinstance(topic, dict):
            yield "topics", topic.get("topicArn")


# Resource type -> (the service principal it publishes as, the topics it names).
NOTIFIERS: Final[dict[str, tuple[str, Callable[[PolicyResource], Iterator[TopicRef]]]]] = {
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("cloudwatch.amazonaws.com", _alarm),
    "aws:budgets/budget:Budget": ("budgets.amazonaws.com", _budget),
    "aws:costexplorer/anomalySubscription:AnomalySubscription": ("costalerts.amazonaws.com", _anomaly_subscription),
    "aws:cloudwatch/eventTarget:EventTarget": ("events.amazonaws.com", _event_target),
    "aws:s3/bucketNotification:BucketNotification": ("s3.amazonaws.com", _bucket_notification),
}


def _identities(resource: PolicyResource, *props: str) -> list[Any]:
    return [lookup(resource.props, prop) for prop in props]


def _topics_named(args: StackValidationArgs, notifier: PolicyResource, prop: str, value: Any) -> list[PolicyResource]:
    """The stack's topics a notifier's property value names (by ARN, or through the engine's dependency record)."""
    if (isinstance(value, str) and not value.startswith("arn:aws")) or value is None:
        return []
    if isinstance(value, str) and ":sns:" not in value:
        return []  # an alarm may also act on Auto Scaling or EC2: not a topic
    topics = of_type(args, TOPIC)
    if isinstance(value, str):
        return [t for t in topics if value in _identities(t, "arn", "id")]
    return [t for t in topics if refers_to(notifier, prop, t, [])]


def _allows(doc: dict[str, Any], service: str, actions: tuple[str, ...]) -> bool:
    """Whether an Allow statement names the service principal (or `*`) for every one of the actions."""
    for statement in statements(doc):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        services = as_list(principal.get("Service")) if isinstance(principal, dict) else []
        if principal != "*" and service not in services:
            continue
        granted = [str(a).lower() for a in as_list(statement.get("Action"))]
        if all(any(fnmatch.fnmatchcase(action.lower(), g) for g in granted) for action in actions):
            return True
    return False


def _topic_problem(args: StackValidationArgs, topic: PolicyResource, service: str) -> str | None:
    arns = _identities(topic, "arn", "id")
    policies = [p for p in of_type(args, TOPIC_POLICY) if refers_to(p, "arn", topic, arns)]
    if not policies:
        return (
            f"the topic has no aws.sns.TopicPolicy, and its default policy admits only the account's own principals, "
            f"not {service}"
        )
    docs = [document(lookup(p.props, "policy")) for p in policies]
    if any(doc is UNKNOWN for doc in docs):
        return None  # computed during the update; judged on the next preview
    if any(isinstance(doc, dict) and _allows(doc, service, ("sns:Publish",)) for doc in docs):
        return None
    return f"the topic's policy does not let {service} call sns:Publish"


def _key_of(args: StackValidationArgs, topic: PolicyResource) -> PolicyResource | str | None:
    """The stack's key that encrypts the topic; `alias/aws/sns` as text; None when unencrypted or not ours."""
    key_id = lookup(topic.props, "kmsMasterKeyId")
    if key_id in (None, ""):
        return None
    if isinstance(key_id, str) and key_id.endswith(AWS_MANAGED_SNS_KEY):
        return AWS_MANAGED_SNS_KEY
    for key in of_type(args, KEY):
        if refers_to(topic, "kmsMasterKeyId", key, _identities(key, "arn", "id", "keyId")):
            return key
    for alias in of_type(args, ALIAS):
        if refers_to(topic, "kmsMasterKeyId", alias, _identities(alias, "arn", "name", "id")):
            target = lookup(alias.props, "targetKeyId")
            for key in of_type(args, KEY):
                if refers_to(alias, "targetKeyId", key, _identities(key, "arn", "id", "keyId")) or target in (
                    _identities(key, "arn", "id", "keyId")
                ):
                    return key
    return None


def _key_problem(args: StackValidationArgs, topic: PolicyResource, service: str) -> str | None:
    key = _key_of(args, topic)
    if key is None:
        return None
    if key == AWS_MANAGED_SNS_KEY:
        return (
            f"the topic is encrypted with the AWS-managed key {AWS_MANAGED_SNS_KEY}, whose policy no one can change "
            f"and which admits no AWS service: encrypt it with the platform key (context.kms_key_arn)"
        )
    assert isinstance(key, PolicyResource)
    doc = document(lookup(key.props, "policy"))
    if doc is UNKNOWN or doc is None:
        return None  # unknown until deployed, or AWS's default key policy (judged by the KMS rules, not here)
    if isinstance(doc, dict) and _allows(doc, service, ("kms:GenerateDataKey", "kms:Decrypt")):
        return None
    return (
        f"the topic is encrypted with KMS key {label_of(key)}, whose policy does not let {service} use it "
        f"(kms:GenerateDataKey* and kms:Decrypt)"
    )


def check_topic_publishers(args: StackValidationArgs, report: ReportViolation) -> None:
    reported: set[tuple[str, str]] = set()
    for type_token, (service, topic_refs) in NOTIFIERS.items():
        for notifier in of_type(args, type_token):
            for prop, value in topic_refs(notifier):
                for topic in _topics_named(args, notifier, prop, value):
                    if (notifier.urn, topic.urn) in reported:
                        continue
                    problems = [
                        p for p in (_topic_problem(args, topic, service), _key_problem(args, topic, service)) if p
                    ]
                    if problems:
                        reported.add((notifier.urn, topic.urn))
                        report(
                            f"{notifier.resource_type} {label_of(notifier)} notifies SNS topic {label_of(topic)} as "
                            f"{service}, but {'; and '.join(problems)}. AWS drops such a notification without an "
                            f"error: allow {service} in the topic policy and the key policy, pinned to this account "
                            f"with aws:SourceAccount (components.shared.iam.TopicPublisher, passed to the core tier "
                            f"in CoreArgs.publishers, does both for the ops topic).",
                            notifier.urn,
                        )


POLICIES: Final = [
    StackValidationPolicy(
        name="sns-topic-publishers-allowed",
        description="AWS services that notify a topic of the stack are allowed to publish by its topic and key policy.",
        enforcement_level=MANDATORY,
        validate=check_topic_publishers,
    ),
]
