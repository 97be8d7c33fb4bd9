"""Starts moto_server with three fixes the twin needs to enforce IAM the way AWS does.

moto 5.x, as installed by `pip install "moto[server]"`, falls short in ways that would make the twin
either refuse every least-privilege grant or miss real mistakes:

1. IAM wildcards: moto turns a policy's `*` into a regex `.*` but leaves `?` and every other regex
   character as is. CDK and AWS name secrets as `secret:<name>-??????`, which then crashes moto
   ("multiple repeat"). Here `*` and `?` mean what IAM says and everything else is literal.
2. Resources: only SQS, S3, IAM and STS tell moto which resource a request touches; DynamoDB and
   Secrets Manager are checked against "*", so a grant on one table or secret never matches and every
   call is refused. Here they name the table (and index) or the secret's ARN, as AWS does.
3. Batch calls: moto checks an IAM action named after the call (sqs:SendMessageBatch), but AWS
   authorises SendMessageBatch, DeleteMessageBatch and ChangeMessageVisibilityBatch with the
   single-message actions (sqs:SendMessage, ...), which is what grants name.
   DynamoDB transactions likewise: AWS authorises each item with its own action (PutItem,
   UpdateItem, DeleteItem, ConditionCheckItem, GetItem) on its own table; there is no
   TransactWriteItems permission to grant.
4. Refusals: moto answers AccessDenied in XML even to JSON-protocol clients (SQS, DynamoDB, Secrets
   Manager), which the SDK cannot read. Here they get AWS's JSON error.
5. Event source mappings: moto's SQS invokes the mapped Lambda function itself on every SendMessage
   (through Docker, which is not here), receiving the messages and so spoiling their receive counts.
   The twin polls the queues itself, as Lambda's pollers do, so moto's own delivery is switched off.
6. DynamoDB transactions: moto takes no lock and its TransactWriteItems writes item by item, then
   rolls back whole tables, so concurrent transactions both pass a limit and undo others' writes.
   `dynamodb_serial.py` serializes DynamoDB as DynamoDB does.
7. EventBridge: moto hands an event put on a bus to every rule, scheduled and disabled ones too,
   and fails the whole PutEvents call (NotImplementedError) at a rule whose target is a Lambda
   function. Here only enabled rules with an event pattern take events, as on AWS, and what a
   function target gets (after its input transformation) goes to the twin's queue for that target
   (`twin-rule-<rule>-<target id>`, local/triggers/event-rules.ts), which the twin works.

These patches reach into moto's internals as moto 5.2.1 has them, so this launcher runs that version
and no other: before anything else it checks the moto installed, and says what to install (exit
status 3) or prints "moto 5.2.1" and goes on. `--check-version` stops there (.ci/run uses it).

Usage: python3 moto_server.py [moto_server options]   (same options as moto_server)
       python3 moto_server.py --check-version
"""

import re
import sys
from importlib import metadata

MOTO_VERSION = "5.2.1"
INSTALL = f'pip install "moto[server]=={MOTO_VERSION}" cfn-lint'


def _version_problem():
    """What is wrong with the moto installed for this Python, in words, or None."""
    try:
        installed = metadata.version("moto")
    except metadata.PackageNotFoundError:
        return f"moto is not installed for {sys.executable}."
    if installed != MOTO_VERSION:
        return (
            f"moto {installed} is installed; the twin's emulator needs moto {MOTO_VERSION} exactly"
            " (local/emulator/moto_server.py patches its internals)."
        )
    try:
        metadata.version("flask")
    except metadata.PackageNotFoundError:
        return f"moto {MOTO_VERSION} is installed without its server extras (Flask)."
    return None


if __name__ == "__main__":
    _problem = _version_problem()
    if _problem:
        print(f"{_problem}\nInstall it with: {INSTALL}", file=sys.stderr)
        sys.exit(3)
    # The twin waits for this line before it starts anything else; moto loads meanwhile.
    print(f"moto {MOTO_VERSION}", flush=True)
    if sys.argv[1:] == ["--check-version"]:
        sys.exit(0)

from moto.iam import access_control  # noqa: E402


def _iam_match(pattern, string):
    regex = "".join(
        ".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern
    )
    return re.match(f"^{regex}$", string)


access_control.IAMPolicyStatement._match = staticmethod(_iam_match)


_ACTIONS_AS_AWS_CHECKS_THEM = {
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}
_original_request_init = access_control.IAMRequestBase.__init__


def _request_init(self, *args, **kwargs):
    _original_request_init(self, *args, **kwargs)
    self._action = _ACTIONS_AS_AWS_CHECKS_THEM.get(self._action, self._action)


access_control.IAMRequestBase.__init__ = _request_init


from moto.core.authorization import ActionAuthenticatorMixin  # noqa: E402
from moto.core.exceptions import AccessDeniedError, JsonRESTError  # noqa: E402

_original_authorize = ActionAuthenticatorMixin._authenticate_and_authorize_action


_TRANSACTION_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def _authorize_transaction(self, iam_request_cls):
    for item in (getattr(self, "params", None) or {}).get("TransactItems") or []:
        for operation, spec in item.items():
            action = _TRANSACTION_ITEM_ACTIONS.get(operation, operation)
            table = f"arn:aws:dynamodb:{self.region}:{self.current_account}:table/{spec.get('TableName')}"
            self._get_action = lambda action=action: action
            try:
                _original_authorize(self, iam_request_cls, table)
            finally:
                del self._get_action


def _authorize(self, iam_request_cls, resource="*"):
    try:
        if self._get_action() in ("TransactWriteItems", "TransactGetItems"):
            return _authorize_transaction(self, iam_request_cls)
        return _original_authorize(self, iam_request_cls, resource)
    except AccessDeniedError as error:
        if not self.headers.get("X-Amz-Target"):
            raise
        denied = JsonRESTError("AccessDeniedException", error.message)
        denied.code = 403
        raise denied from error


ActionAuthenticatorMixin._authenticate_and_authorize_action = _authorize


from moto.dynamodb.responses import DynamoHandler  # noqa: E402


def _dynamodb_resource(self):
    params = getattr(self, "params", None) or {}
    table = params.get("TableName")
    if not table:
        # Batch and transaction calls name their tables inside; AWS checks each, we check the first.
        items = params.get("RequestItems") or {}
        table = next(iter(items), None)
    if not table:
        for item in params.get("TransactItems") or []:
            for op in item.values():
                if isinstance(op, dict) and op.get("TableName"):
                    table = op["TableName"]
                    break
            if table:
                break
    if not table:
        return "*"
    arn = f"arn:aws:dynamodb:{self.region}:{self.current_account}:table/{table}"
    index = params.get("IndexName")
    return f"{arn}/index/{index}" if index else arn


DynamoHandler._determine_resource = _dynamodb_resource


# 6. DynamoDB: one lock, transactions that check before they write (a module of its own).
import dynamodb_serial  # noqa: E402,F401

from moto.secretsmanager.responses import SecretsManagerResponse  # noqa: E402


def _secret_resource(self):
    secret_id = self._get_param("SecretId")
    if not secret_id:
        return "*"
    try:
        return self.backend.describe_secret(secret_id).arn
    except Exception:  # an unknown secret: AWS answers by policy on the name it was asked for
        return f"arn:aws:secretsmanager:{self.region}:{self.current_account}:secret:{secret_id}"


SecretsManagerResponse._determine_resource = _secret_resource


from moto.sqs.models import Queue  # noqa: E402

Queue.lambda_event_source_mappings = property(lambda self: {}, lambda self, value: None)


# S3 requests are checked like any other (signature, then policy), with two repairs:
# - moto rebuilds the canonical request from a decoded query string, so a signed ListObjectsV2
#   with `prefix=logs/…` never matches: the query is re-encoded as SigV4 encodes it;
# - a presigned URL (query-string auth, no Authorization header) crashed the check (a 500): it is
#   checked as S3 checks it: its SigV4 query signature over method, path, query and signed headers
#   (so another key, another method, a longer expiry or a zeroed signature is refused), its expiry
#   (at most 7 days), then the signing key's policy. A request that carries both a presigned query
#   and an Authorization header is refused as S3 refuses it (400 InvalidArgument), not a 500.
import datetime  # noqa: E402
import hashlib  # noqa: E402
import hmac  # noqa: E402
from urllib.parse import parse_qsl, quote, unquote, urlparse  # noqa: E402

from moto.core.authorization import ActionAuthenticatorMixin  # noqa: E402
from moto.iam import access_control  # noqa: E402

_create_aws_request = access_control.IAMRequestBase._create_aws_request


def _create_aws_request_encoded(self):
    request = _create_aws_request(self)
    parts = urlparse(request.url)
    if parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs)
        request.url = f"{parts.path}?{query}"
    return request


access_control.IAMRequestBase._create_aws_request = _create_aws_request_encoded

_authenticate_s3 = ActionAuthenticatorMixin._authenticate_and_authorize_s3_action


from moto.s3.exceptions import S3ClientError  # noqa: E402

_SIGV4_UNRESERVED = "-_.~"
_PRESIGN_MAX_SECONDS = 7 * 24 * 3600


def _hmac(key, text):
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


class _PresignedS3Request(access_control.S3IAMRequest):
    """The URL as S3 checks it: the signature is recomputed from the request and the signing key."""

    uri = ""

    def check_signature(self):
        parts = urlparse(self.uri)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query = dict(pairs)
        signed = query.get("X-Amz-SignedHeaders", "host").split(";")
        headers = {name.lower(): value for name, value in self._headers.items()}
        canonical_query = "&".join(
            sorted(
                f"{quote(k, safe=_SIGV4_UNRESERVED)}={quote(v, safe=_SIGV4_UNRESERVED)}"
                for k, v in pairs
                if k != "X-Amz-Signature"
            )
        )
        canonical_headers = "".join(f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in signed)
        canonical_request = "\n".join(
            [
                self._method,
                quote(unquote(parts.path), safe="/" + _SIGV4_UNRESERVED),
                canonical_query,
                canonical_headers,
                ";".join(signed),
                query.get("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"),
            ]
        )
        scope = query["X-Amz-Credential"].split("/", 1)[1]
        date, region, service, _ = scope.split("/")
        string_to_sign = "\n".join(
            [
                "AWS4-HMAC-SHA256",
                query["X-Amz-Date"],
                scope,
                hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
            ]
        )
        key = self._access_key.create_credentials().secret_key
        signing_key = _hmac(_hmac(_hmac(_hmac(f"AWS4{key}".encode("utf-8"), date), region), service), "aws4_request")
        expected = hmac.new(signing_key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, query.get("X-Amz-Signature", "")):
            self._raise_signature_does_not_match()


def _authenticate_s3_presigned(self, bucket_name=None, key_name=None):
    query = dict(parse_qsl(urlparse(self.uri).query))
    presigned = "X-Amz-Credential" in query or "X-Amz-Signature" in query
    if presigned and "Authorization" in self.headers:
        # S3's own answer; clients that forward Authorization across the API's 302 get it.
        raise S3ClientError(
            "InvalidArgument",
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query"
            " string parameter or the Authorization header should be specified",
        )
    if not presigned:
        return _authenticate_s3(self, bucket_name, key_name)
    if query.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" or not all(
        name in query for name in ("X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-Signature")
    ):
        raise S3ClientError(
            "AuthorizationQueryParametersError",
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential,"
            " X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
        )
    try:
        seconds = int(query["X-Amz-Expires"])
        signed_at = datetime.datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc
        )
    except ValueError:
        seconds, signed_at = -1, None
    if not 0 < seconds <= _PRESIGN_MAX_SECONDS or signed_at is None:
        raise S3ClientError(
            "AuthorizationQueryParametersError",
            "X-Amz-Expires must be a whole number of seconds from 1 to 604800, and X-Amz-Date a date.",
        )
    if datetime.datetime.now(datetime.timezone.utc) > signed_at + datetime.timedelta(seconds=seconds):
        raise access_control.S3AccessDeniedError()
    # The check reads the credential from an Authorization header: give it one, from the query.
    from werkzeug.datastructures import Headers

    self.headers = Headers(self.headers)
    self.headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={query['X-Amz-Credential']}, SignedHeaders=host, Signature=-"
    )
    if "X-Amz-Security-Token" in query:
        self.headers["X-Amz-Security-Token"] = query["X-Amz-Security-Token"]
    arn = f"{bucket_name or '*'}/{key_name}" if key_name else (bucket_name or "*")
    uri = self.uri

    class _ThisRequest(_PresignedS3Request):
        pass

    _ThisRequest.uri = uri
    self._authenticate_and_authorize_action(_ThisRequest, f"arn:aws:s3:::{arn}")


ActionAuthenticatorMixin._authenticate_and_authorize_s3_action = _authenticate_s3_presigned


import copy  # noqa: E402

from moto.events import models as events_models  # noqa: E402

_original_send_to_targets = events_models.Rule.send_to_targets


def _twin_queue_name(rule_name, target_id):
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"twin-rule-{rule_name}-{target_id}")[:80]


def _send_to_targets(self, original_event, transform_input=True):
    if self.state != "ENABLED" or not self.event_pattern.get_pattern():
        return
    rule = copy.copy(self)
    rule.targets = [
        dict(target, Arn=f"arn:aws:sqs:{self.region_name}:{self.account_id}:{_twin_queue_name(self.name, target['Id'])}")
        if target["Arn"].split(":")[2:3] == ["lambda"]
        else target
        for target in self.targets
    ]
    _original_send_to_targets(rule, original_event, transform_input)


events_models.Rule.send_to_targets = _send_to_targets

import os  # noqa: E402
import threading  # noqa: E402


def _exit_with_parent():
    """The twin holds our stdin open; when it ends, however it ends, we end too."""
    sys.stdin.read()
    os._exit(0)


def _warm_up():
    """moto imports a service's code on its first request, and CloudFormation's and SSM's pull in
    most of moto (EC2's alone takes seconds): the twin's deploy would wait for it. Imported here, in
    the background, it is done while the twin synthesizes."""
    from moto import backends

    for service in ("cloudformation", "ssm", "s3", "lambda", "sqs", "dynamodb", "secretsmanager", "events"):
        try:
            backends.get_backend(service)
        except Exception:  # a request for it imports it again, and says what is wrong
            pass


from moto.server import main  # noqa: E402

if __name__ == "__main__":
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    threading.Thread(target=_warm_up, daemon=True).start()
    sys.exit(main(sys.argv[1:]))
