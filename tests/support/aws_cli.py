"""Run the README's shell commands as written, with `aws` and `pulumi` answered by moto and a recorder.

`fake_clis()` starts a small HTTP server in the test process (which holds moto's `mock_aws`) and
writes two executables, `aws` and `pulumi`, that forward their arguments to it. bash then does the
quoting, variables, here-documents and command substitution itself; the server turns each
`aws <service> <operation> --param value ...` into the boto3 call the AWS CLI would make, resolving
parameter names and types from botocore's service model (the same model the CLI uses), so a
misspelt option or a malformed JSON value fails as it would for a user. `--query` (JMESPath),
`--output text|json`, `--region`, `file://` values and space-separated lists are supported; the
CLI's shorthand syntax (`Key=value,...`) is not, and is refused with a message.

`pulumi` is not a cloud call: the recorder keeps each command line and checks what the README's
commands promise, that `pulumi login s3://<bucket>?region=<r>` names a bucket that exists in that
region and `--secrets-provider awskms://<key>?region=<r>` a key that exists there.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import botocore.session
import jmespath
from botocore.exceptions import ClientError, ParamValidationError
from botocore.model import Shape

CLI_SERVICES = {"s3api": "s3"}  # the CLI's command name -> botocore's service name
GLOBAL_OPTIONS = ("--region", "--query", "--output")
_CLIENT = """#!{python}
import json, os, sys, urllib.request
request = {{"tool": "{tool}", "argv": sys.argv[1:], "cwd": os.getcwd(), "region": os.environ.get("AWS_REGION")}}
with urllib.request.urlopen("{url}", data=json.dumps(request).encode()) as response:
    answer = json.load(response)
sys.stdout.write(answer["stdout"])
sys.stderr.write(answer["stderr"])
sys.exit(answer["code"])
"""


@dataclass
class Answer:
    stdout: str = ""
    stderr: str = ""
    code: int = 0


@dataclass
class FakeClis:
    """The directory holding `aws` and `pulumi`, and what `pulumi` was asked to do."""

    bin_dir: Path
    pulumi_calls: list[list[str]] = field(default_factory=list)

    def run(self, script: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run a shell script (as a user would paste it) with these `aws` and `pulumi` first on the PATH."""
        environment = {**os.environ, **(env or {}), "PATH": f"{self.bin_dir}{os.pathsep}{os.environ['PATH']}"}
        return subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=cwd,
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )


def _value(raw: str, cwd: str) -> str:
    if raw.startswith("file://"):
        path = Path(raw.removeprefix("file://"))
        return (path if path.is_absolute() else Path(cwd) / path).read_text()
    return raw


def _convert(flag: str, values: list[str], shape: Shape, cwd: str) -> Any:
    text = [_value(v, cwd) for v in values]
    nested = shape.type_name == "list" and shape.member.type_name in ("structure", "map", "list")
    if shape.type_name in ("structure", "map") or nested or (shape.type_name == "list" and text[0].startswith("[")):
        try:
            return json.loads(text[0])
        except json.JSONDecodeError as error:
            raise ValueError(f"{flag}: not JSON ({error}); the shorthand syntax is not supported here") from None
    if shape.type_name == "list":
        return text
    if shape.type_name == "boolean":
        return text[0].lower() == "true"
    if shape.type_name in ("integer", "long"):
        return int(text[0])
    if shape.type_name == "blob":
        return text[0].encode()
    return text[0]


def _split(argv: list[str]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """`--flag value [value...]` pairs, and the CLI's global options apart."""
    params: dict[str, list[str]] = {}
    options: dict[str, str] = {}
    flag = None
    for word in argv:
        if word.startswith("--"):
            flag = word
            params.setdefault(flag, [])
        elif flag is None:
            raise ValueError(f"unexpected argument {word!r}")
        else:
            params[flag].append(word)
    for option in GLOBAL_OPTIONS:
        if option in params:
            options[option] = params.pop(option)[0]
    return params, options


def _operation(command: str, operation: str) -> tuple[str, str, dict[str, tuple[str, Shape]]]:
    """(service, operation name, input members by `--flag`) as the AWS CLI resolves `aws <command> <operation>`."""
    service = CLI_SERVICES.get(command, command)
    model = botocore.session.get_session().get_service_model(service)
    names = {botocore.xform_name(name, "-"): name for name in model.operation_names}
    if operation not in names:
        raise LookupError(f"aws: invalid choice: {operation!r} for {command}")
    operation_model = model.operation_model(names[operation])
    members = operation_model.input_shape.members if operation_model.input_shape else {}
    return service, names[operation], {f"--{botocore.xform_name(m, '-')}": (m, members[m]) for m in members}


def command_problem(argv: list[str]) -> str | None:
    """Why the AWS CLI would refuse this command line's operation or options (values unchecked), or None."""
    try:
        _, _, by_flag = _operation(argv[0], argv[1])
        params, _ = _split(argv[2:])
    except (LookupError, ValueError, IndexError) as error:
        return str(error)
    unknown = sorted(set(params) - set(by_flag))
    return f"aws: Unknown options: {', '.join(unknown)}" if unknown else None


def aws(argv: list[str], cwd: str, region: str | None) -> Answer:
    """What the AWS CLI would print for this command line, answered by whatever boto3 reaches (moto here)."""
    problem = command_problem(argv)
    if problem is not None:
        return Answer(stderr=problem + "\n", code=252)
    command, operation, *rest = argv
    try:
        service, name, by_flag = _operation(command, operation)
        params, options = _split(rest)
        kwargs = {by_flag[f][0]: _convert(f, v, by_flag[f][1], cwd) for f, v in params.items()}
        client = boto3.client(service, region_name=options.get("--region") or region or "us-east-1")
        result = getattr(client, botocore.xform_name(name))(**kwargs)
    except (ClientError, ParamValidationError, ValueError) as error:
        return Answer(stderr=f"aws {command} {operation}: {error}\n", code=254)
    result.pop("ResponseMetadata", None)
    if "--query" in options:
        result = jmespath.search(options["--query"], result)
    if options.get("--output") == "text":
        shown = "\t".join(map(str, result)) if isinstance(result, list) else ("" if result is None else str(result))
        return Answer(stdout=shown + "\n")
    return Answer(stdout=json.dumps(result, default=str, indent=4) + "\n")


def pulumi(argv: list[str], region: str | None, calls: list[list[str]]) -> Answer:
    calls.append(argv)
    if argv[:1] == ["login"] and argv[1:] and argv[1].startswith("s3://"):
        url = urlparse(argv[1])
        bucket_region = parse_qs(url.query).get("region", [region])[0]
        location = boto3.client("s3", region_name=bucket_region).get_bucket_location(Bucket=url.netloc)
        if (location.get("LocationConstraint") or "us-east-1") != bucket_region:
            return Answer(stderr=f"pulumi login: bucket {url.netloc} is not in {bucket_region}\n", code=1)
    if "--secrets-provider" in argv:
        provider = urlparse(argv[argv.index("--secrets-provider") + 1])
        key_region = parse_qs(provider.query).get("region", [region])[0]
        key_id = f"{provider.netloc}{provider.path}"
        try:
            boto3.client("kms", region_name=key_region).describe_key(KeyId=key_id)
        except ClientError as error:
            return Answer(stderr=f"pulumi: secrets provider {key_id}: {error}\n", code=1)
    return Answer(stdout=f"(recorded) pulumi {' '.join(argv)}\n")


@contextlib.contextmanager
def fake_clis(bin_dir: Path) -> Iterator[FakeClis]:
    """`aws` and `pulumi` in `bin_dir`, answered in this process (run it inside moto's `mock_aws`)."""
    clis = FakeClis(bin_dir)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if request["tool"] == "aws":
                answer = aws(request["argv"], request["cwd"], request["region"])
            else:
                answer = pulumi(request["argv"], request["region"], clis.pulumi_calls)
            body = json.dumps(answer.__dict__).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # a free port, never a fixed one
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    bin_dir.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    for tool in ("aws", "pulumi"):
        script = bin_dir / tool
        script.write_text(_CLIENT.format(python=sys.executable, tool=tool, url=url))
        script.chmod(0o755)
    try:
        yield clis
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
