"""What the edge tier keeps in us-east-1, where CloudFront's own pieces live.

CloudFront is global, but the certificates it serves come from ACM in us-east-1, web ACLs of
CLOUDFRONT scope are created in us-east-1, and CloudFront publishes its metrics (the
distribution's error rates, its functions' errors) to CloudWatch in us-east-1 only. A CloudWatch
alarm watches metrics of its own region and notifies topics of its own region, and a KMS key
encrypts only in its own region: so alarms on CloudFront's metrics notify a relay topic here,
encrypted with a key of its own here, subscribed by the stack's ops alarm emails.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.shared.alarms import ElsewhereAlarms
from components.shared.arns import PARTITION
from components.shared.context import StackContext, child, stateful
from components.shared.iam import deny_insecure_transport, policy_json

REGION = "us-east-1"


def us_east_1_provider(parent: pulumi.Resource, tags: Mapping[str, str]) -> aws.Provider:
    """An AWS provider for us-east-1 carrying the stack's default tags, like the program's own provider."""
    return aws.Provider(
        "us-east-1", region=REGION, default_tags=aws.ProviderDefaultTagsArgs(tags=dict(tags)), opts=child(parent)
    )


@dataclass(frozen=True)
class AlarmRelay:
    key: aws.kms.Key
    topic: aws.sns.Topic
    elsewhere: ElsewhereAlarms


def alarm_relay(
    parent: pulumi.Resource,
    context: StackContext,
    provider: aws.Provider,
    emails: Sequence[str],
    deletion_window_days: int,
) -> AlarmRelay:
    """A KMS-encrypted topic in us-east-1 for alarms on CloudFront's metrics, reaching the ops alarm emails."""
    on_us_east_1 = {"provider": provider}
    key = aws.kms.Key(
        "edge-alarms-key",
        description=f"{context.prefix}: encrypts the us-east-1 topic of the edge tier's CloudFront alarms",
        enable_key_rotation=True,
        rotation_period_in_days=365,
        deletion_window_in_days=deletion_window_days,
        policy=_key_policy(context.account_id),
        opts=stateful(parent, context.protect_stateful, **on_us_east_1),
    )
    topic = aws.sns.Topic(
        "edge-alarms-topic",
        name=context.name("edge-alarms"),
        display_name=f"{context.prefix} edge alarms (us-east-1)",
        kms_master_key_id=key.arn,
        opts=child(parent, **on_us_east_1),
    )
    aws.sns.TopicPolicy(
        "edge-alarms-topic-policy",
        arn=topic.arn,
        policy=policy_json(
            [
                {
                    "Sid": "CloudWatchAlarmsOfThisAccountPublish",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": "sns:Publish",
                    "Resource": topic.arn,
                    "Condition": {"StringEquals": {"aws:SourceAccount": context.account_id}},
                },
                deny_insecure_transport([topic.arn], "sns:Publish"),
            ]
        ),
        opts=child(topic, **on_us_east_1),
    )
    for index, email in enumerate(emails):
        aws.sns.TopicSubscription(
            f"edge-alarms-email-{index}",
            topic=topic.arn,
            protocol="email",
            endpoint=email,
            opts=child(topic, **on_us_east_1),
        )
    return AlarmRelay(key, topic, ElsewhereAlarms(provider=provider, topic_arn=topic.arn))


def _key_policy(account_id: pulumi.Output[str]) -> pulumi.Output[str]:
    """The account administers the key through IAM; CloudWatch alarms of this account may publish with it."""
    root = pulumi.Output.concat(f"arn:{PARTITION}:iam::", account_id, ":root")
    return policy_json(
        [
            {
                "Sid": "AccountAdministersKeyThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchAlarmsPublishToEncryptedTopics",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
        ]
    )
