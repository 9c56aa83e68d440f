"""The core tier: the stack's customer-managed KMS key and the ops topic every alarm notifies.

Besides CloudWatch alarms, other AWS services may publish to the ops topic (the cost tier's budget and
anomaly subscription): `CoreArgs.publishers` names them, and each gets a statement in the topic policy and
one in the key policy, since the topic is encrypted with the platform key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.shared.arns import PARTITION
from components.shared.context import child, stateful
from components.shared.dashboard import Widget
from components.shared.iam import TopicPublisher, deny_insecure_transport, policy_json
from settings import PlatformSettings


@dataclass(frozen=True)
class CoreArgs:
    settings: PlatformSettings
    region: str
    account_id: pulumi.Output[str]
    publishers: Sequence[TopicPublisher] = ()
    """AWS services besides CloudWatch that publish to the ops topic (from the tiers that make them publish)."""


def _key_policy(
    region: str, account_id: pulumi.Output[str], publishers: Sequence[TopicPublisher] = ()
) -> pulumi.Output[str]:
    """Account root administers the key (so IAM policies can grant use); services get only what they need."""
    root = pulumi.Output.concat(f"arn:{PARTITION}:iam::", account_id, ":root")
    log_groups = pulumi.Output.concat(f"arn:{PARTITION}:logs:{region}:", account_id, ":log-group:*")
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
                "Sid": "CloudWatchLogsEncryptsThisAccountsLogGroups",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": [
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                "Resource": "*",
                "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
            },
            {
                # Alarms publish to the encrypted ops topic; CloudWatch needs the data key. aws:SourceAccount is
                # a key CloudWatch sends here (SNS Developer Guide, key management: event sources from AWS
                # services and encrypted topics).
                "Sid": "CloudWatchAlarmsPublishToEncryptedTopics",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
            *(publisher.key_statement(account_id) for publisher in publishers),
        ]
    )


class Core(pulumi.ComponentResource):
    """Customer-managed KMS key (rotating, aliased) and the encrypted ops SNS topic."""

    key: aws.kms.Key
    key_arn: pulumi.Output[str]
    key_alias: aws.kms.Alias
    ops_topic: aws.sns.Topic
    ops_topic_arn: pulumi.Output[str]
    account_id: pulumi.Output[str]

    def __init__(self, name: str, args: CoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("uba:core:Core", name, None, opts)
        settings = args.settings

        self.key = aws.kms.Key(
            "platform-key",
            description=f"{settings.prefix}: encrypts every bucket, stream, table, topic, queue and log group",
            enable_key_rotation=True,
            rotation_period_in_days=365,
            deletion_window_in_days=settings.kms_deletion_window_days,
            policy=_key_policy(args.region, args.account_id, args.publishers),
            opts=stateful(self, settings.protect_stateful),
        )
        self.key_arn = self.key.arn
        self.key_alias = aws.kms.Alias(
            "platform-key-alias",
            name=f"alias/{settings.prefix}",
            target_key_id=self.key.key_id,
            opts=child(self),
        )

        self.ops_topic = aws.sns.Topic(
            "ops-topic",
            name=f"{settings.prefix}-ops",
            display_name=f"{settings.prefix} operations alarms",
            kms_master_key_id=self.key.arn,
            opts=child(self),
        )
        self.ops_topic_arn = self.ops_topic.arn
        aws.sns.TopicPolicy(
            "ops-topic-policy",
            arn=self.ops_topic.arn,
            policy=policy_json(
                [
                    {
                        "Sid": "CloudWatchAlarmsOfThisAccountPublish",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudwatch.amazonaws.com"},
                        "Action": "sns:Publish",
                        "Resource": self.ops_topic.arn,
                        "Condition": {"StringEquals": {"aws:SourceAccount": args.account_id}},
                    },
                    *(publisher.topic_statement(self.ops_topic.arn, args.account_id) for publisher in args.publishers),
                    deny_insecure_transport([self.ops_topic.arn], "sns:Publish"),
                ]
            ),
            opts=child(self.ops_topic),
        )
        for index, email in enumerate(settings.ops_alarm_emails):
            aws.sns.TopicSubscription(
                f"ops-email-{index}",
                topic=self.ops_topic.arn,
                protocol="email",
                endpoint=email,
                opts=child(self.ops_topic),
            )

        self.account_id = args.account_id
        self.register_outputs(
            {"key_arn": self.key_arn, "key_alias": self.key_alias.name, "ops_topic_arn": self.ops_topic_arn}
        )

    def stack_outputs(self) -> Mapping[str, pulumi.Input[str]]:
        return {"kms_key_arn": self.key_arn, "ops_topic_arn": self.ops_topic_arn}

    def dashboard_widgets(self) -> Sequence[Widget]:
        return []  # the key and the topic have no metrics worth a widget; the alarm catalogue covers the topic

    def access_targets(self) -> Mapping[str, pulumi.Input[str]]:
        return {"account_id": self.account_id, "kms_key_arn": self.key_arn, "ops_topic_arn": self.ops_topic_arn}
