from skillcheck.auditors.base import Auditor, AuditRequest, AuditResponse, Availability
from skillcheck.auditors.config import AuditorConfig
from skillcheck.auditors.registry import build_registry

__all__ = [
    "AuditRequest",
    "AuditResponse",
    "Auditor",
    "AuditorConfig",
    "Availability",
    "build_registry",
]
