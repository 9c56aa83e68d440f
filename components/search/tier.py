"""The search tier: the Flink job's search feed -> Firehose -> an OpenSearch Serverless collection or a domain.

Error and warning events and the alerts are searchable within seconds (README, "Log
search"). This file wires the parts and holds the tier contract and the alarms:
`network.py` (security groups in the warehouse VPC), `store.py` (the collection and its
policies, or the domain), `delivery.py` (Firehose and its dead-letter bucket), `admin.py`
(the search-admin function: index template at deploy time, a domain's daily retention).
The search feed's stream belongs to the streaming tier, whose Flink job writes it; the
platform hands it over.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

import pulumi
import pulumi_aws as aws

from components.search.admin import ADMIN_FUNCTION, admin_function, daily_sweep, grant_store, run_setup
from components.search.delivery import Delivery, delivery_role, search_delivery
from components.search.network import SearchNetwork, SearchVpc, build_network
from components.search.store import SearchPrincipals, SearchStore, domain_store, serverless_collection
from components.shared.alarms import AlarmSpec, metric_alarms
from components.shared.arns import PARTITION
from components.shared.context import StackContext
from components.shared.dashboard import MetricLine, Widget, lambda_widget, stream_widgets
from components.shared.functions import PythonFunction
from lambdas.search_admin import SecurityMappings
from settings import Persona, SearchSettings

ALARM_PERIOD_SECONDS = 300
# The share of a node's storage below which the domain's free-space alarm fires.
FREE_STORAGE_SHARE = 0.2


@dataclass(frozen=True)
class SearchArgs:
    settings: SearchSettings
    context: StackContext
    powertools_version: str
    feed_stream: aws.kinesis.Stream  # the streaming tier's search feed stream
    vpc: SearchVpc | None = None  # the warehouse VPC; required for a domain or a VPC-only collection
    staff: Mapping[Persona, Sequence[str]] = field(default_factory=dict)  # IAM user names per group


class Search(pulumi.ComponentResource):
    """Log search. Other tiers (access, dashboard) read the typed attributes."""

    store: SearchStore
    delivery: Delivery
    admin: PythonFunction
    network: SearchNetwork | None
    alarms: list[aws.cloudwatch.MetricAlarm]
    setup: aws.lambda_.Invocation
    sweep: aws.scheduler.Schedule | None = None

    def __init__(self, name: str, args: SearchArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("uba:search:Search", name, None, opts)
        settings, context = args.settings, args.context
        self._feed_stream_name = args.feed_stream.name
        self._bizuser_search = settings.bizuser_search
        self.network = None
        if settings.in_vpc:
            if args.vpc is None:
                raise ValueError("search: a domain or a VPC-only collection needs the warehouse VPC (SearchArgs.vpc)")
            self.network = build_network(self, context, args.vpc, list(settings.network.allowed_cidrs))

        firehose = delivery_role(self, context, settings)
        readers = self._users(args, ("op", "dev", *(("bizUser",) if settings.bizuser_search else ())))
        admins = self._users(args, ("admin",))
        security = None
        if settings.mode == "domain":
            # The function's role is named before it exists (its environment carries these mappings).
            manager = context.account_id.apply(partial(_role_arn, context.name(f"{ADMIN_FUNCTION}-role")))
            people = pulumi.Output.all(
                firehose[0].arn, pulumi.Output.all(*readers), pulumi.Output.all(*admins), manager
            )
            security = people.apply(lambda v: SecurityMappings((v[0],), tuple(v[1]), tuple(v[2]), (v[3],)).to_json())
        self.admin = admin_function(self, context, settings, args.powertools_version, self.network, security)
        principals = SearchPrincipals(firehose[0].arn, self.admin.role.arn, readers, admins)
        if settings.mode == "serverless":
            self.store = serverless_collection(self, context, settings, self.network, principals)
        else:
            assert self.network is not None  # settings put a domain in the VPC
            self.store = domain_store(self, context, settings, self.network, principals)
        store_grants = grant_store(self.admin, self.store)
        self.delivery = search_delivery(self, context, settings, args.feed_stream, self.store, self.network, firehose)
        self.setup = run_setup(self, self.admin, self.store, settings, security, [store_grants, *self.store.ready])
        if settings.mode == "domain":
            self.sweep = daily_sweep(self, context, self.admin, self.store)
        self.alarms = metric_alarms(self, context, _alarm_specs(args, self.delivery, self.admin, self.store))
        self.register_outputs(dict(self.stack_outputs()))

    @staticmethod
    def _users(args: SearchArgs, personas: Sequence[Persona]) -> list[pulumi.Output[str]]:
        names = sorted({user for persona in personas for user in args.staff.get(persona, ())})
        return [args.context.account_id.apply(partial(_user_arn, user)) for user in names]

    # --- the tier contract -------------------------------------------------------------------------------

    def stack_outputs(self) -> Mapping[str, pulumi.Input[str]]:
        return {
            "search_endpoint": self.store.endpoint,
            "search_dashboards_endpoint": self.store.dashboards_endpoint,
            "search_signing_service": self.store.service,
            "search_dead_letter_bucket": self.delivery.dead_letters.name,
        }

    def dashboard_widgets(self) -> Sequence[Widget]:
        family = self.delivery.destination
        on_stream = ["DeliveryStreamName", self.delivery.stream.name]

        def firehose(*metrics: str) -> list[MetricLine]:
            return [["AWS/Firehose", metric, *on_stream] for metric in metrics]

        return [
            *stream_widgets("search feed", self._feed_stream_name),
            Widget("Search: documents read and indexed", firehose("IncomingRecords", f"DeliveryTo{family}.Records")),
            Widget("Search: share of documents indexed (min)", firehose(f"DeliveryTo{family}.Success"), "Minimum"),
            Widget("Search: age of the oldest document not yet indexed (s)",
                   firehose(f"DeliveryTo{family}.DataFreshness"), "Maximum"),
            lambda_widget(self.admin.function_name, "Search admin Lambda (setup, retention sweep)"),
        ]  # fmt: skip

    def access_targets(self) -> Mapping[str, pulumi.Input[str]]:
        store_field = "search_collection_arn" if self.store.service == "aoss" else "search_domain_arn"
        return {
            store_field: self.store.arn,
            "search_delivery_stream_arn": self.delivery.stream.arn,
            "search_dead_letter_bucket_arn": self.delivery.dead_letters.arn,
            "search_admin_function_arn": self.admin.arn,
            **({"bizuser_search_arn": self.store.arn} if self._bizuser_search else {}),
        }


def _user_arn(user: str, account: str) -> str:
    return f"arn:{PARTITION}:iam::{account}:user/{user}"


def _role_arn(role: str, account: str) -> str:
    return f"arn:{PARTITION}:iam::{account}:role/{role}"


def _alarm_specs(args: SearchArgs, delivery: Delivery, admin: PythonFunction, store: SearchStore) -> list[AlarmSpec]:
    family, settings = delivery.destination, args.settings
    on_stream = {"DeliveryStreamName": delivery.name}
    specs = [
        AlarmSpec("search-indexing-errors",
                  "Firehose could not index some search documents: they are in the search dead-letter bucket "
                  "with OpenSearch's reason", "AWS/Firehose", f"DeliveryTo{family}.Success", on_stream, "Minimum",
                  period=ALARM_PERIOD_SECONDS, threshold=1, comparison="LessThanThreshold"),
        AlarmSpec("search-backlog",
                  f"Search documents wait more than {settings.alarms.freshness_seconds} s to be indexed",
                  "AWS/Firehose", f"DeliveryTo{family}.DataFreshness", on_stream, "Maximum",
                  period=ALARM_PERIOD_SECONDS, threshold=settings.alarms.freshness_seconds,
                  comparison="GreaterThanThreshold"),
        AlarmSpec("search-admin-errors",
                  "The search-admin function failed (index template at deploy time, or the retention sweep)",
                  "AWS/Lambda", "Errors", {"FunctionName": admin.name}, "Sum", period=ALARM_PERIOD_SECONDS,
                  threshold=1, comparison="GreaterThanOrEqualToThreshold"),
    ]  # fmt: skip
    if store.service == "es":
        on_domain: dict[str, pulumi.Input[str]] = {"DomainName": store.name, "ClientId": args.context.account_id}
        free_mb = settings.domain.volume_gb * 1024 * FREE_STORAGE_SHARE
        specs += [
            AlarmSpec("search-domain-red", "The search domain is red: at least one primary shard is unassigned",
                      "AWS/ES", "ClusterStatus.red", on_domain, "Maximum", period=60, threshold=1,
                      comparison="GreaterThanOrEqualToThreshold"),
            AlarmSpec("search-domain-storage",
                      f"A search node has less than {FREE_STORAGE_SHARE:.0%} of its storage free: shorten "
                      "search.retention_days or grow search.domain.volume_gb",
                      "AWS/ES", "FreeStorageSpace", on_domain, "Minimum", period=ALARM_PERIOD_SECONDS,
                      threshold=free_mb, comparison="LessThanThreshold"),
        ]  # fmt: skip
    return specs
