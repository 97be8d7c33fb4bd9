"""Patch 6 of moto_server.py (which imports this after its version check): DynamoDB as DynamoDB serializes.

moto serves requests on many threads but takes no lock, and its TransactWriteItems writes item
after item, then "rolls back" by putting back a copy of every table it took before: a write another
request made meanwhile is undone, and two transactions both pass a condition that only one may pass
(a count limit). Here every DynamoDB item read and write holds one lock, and a transaction checks
all its conditions before it writes anything, as DynamoDB's do; should a write still fail, only the
items it touched are put back.
"""

import copy
import threading

from moto.dynamodb.exceptions import (
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.models import DynamoDBBackend

_DYNAMODB_LOCK = threading.RLock()


def _holding_the_lock(method):
    def locked(self, *args, **kwargs):
        with _DYNAMODB_LOCK:
            return method(self, *args, **kwargs)

    return locked


# Every path that reads or writes items (batch calls and PartiQL go through get/put/delete_item).
for _name in ("put_item", "get_item", "update_item", "delete_item", "query", "scan", "describe_table"):
    setattr(DynamoDBBackend, _name, _holding_the_lock(getattr(DynamoDBBackend, _name)))


def _transact_write_items(self, transact_items):
    """All conditions against the items as they are, then all writes, under the lock."""
    with _DYNAMODB_LOCK:
        if len(transact_items) > 100:
            raise TooManyTransactionsException()
        planned, reasons, seen = [], [], set()
        for entry in transact_items:
            if len(entry) > 1:
                raise TransactWriteSingleOpException
            op_type, op = next(iter(entry.items()))
            table = self.get_table(op["TableName"])
            if op_type == "Put":
                key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = op["Item"][table.range_key_attr]
            else:
                key = op["Key"]
            identity = (op["TableName"], str(sorted(key.items())))
            if identity in seen:
                raise MultipleTransactionsException()
            seen.add(identity)
            current = self.get_item(op["TableName"], key)
            condition = op.get("ConditionExpression")
            passes = condition is None or get_filter_expression(
                condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            ).expr(current)
            if passes:
                reasons.append((None, None, None))
            else:
                old = current.to_json()["Attributes"] if current is not None else None
                wanted = op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
                reasons.append(("ConditionalCheckFailed", "The conditional request failed", old if wanted else None))
            planned.append((op_type, op, table, key, copy.deepcopy(current)))
        if any(code for code, _, _ in reasons):
            raise TransactionCanceledException(reasons)

        done = []
        try:
            for op_type, op, table, key, before in planned:
                done.append((table, key, before))
                names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                if op_type == "Put":
                    self.put_item(op["TableName"], op["Item"])
                elif op_type == "Delete":
                    self.delete_item(op["TableName"], key)
                elif op_type == "Update":
                    self.update_item(op["TableName"], key, op["UpdateExpression"], names, values)
        except Exception:
            for table, key, before in reversed(done):
                hash_value, range_value = self.get_keys_value(table, key)
                table.delete_item(hash_value, range_value)
                if before is not None:
                    if range_value is not None:
                        table.items[hash_value][range_value] = before
                    else:
                        table.items[hash_value] = before
            raise


DynamoDBBackend.transact_write_items = _transact_write_items
