"""The audit log: every request and response, values HMAC'd, entries chained, fail closed."""

from strongroom.audit.broker import AuditBroker
from strongroom.audit.chain import VerifyResult, verify_lines
from strongroom.audit.sinks import AuditSink, FileSink, StoreSink

__all__ = ["AuditBroker", "AuditSink", "FileSink", "StoreSink", "VerifyResult", "verify_lines"]
