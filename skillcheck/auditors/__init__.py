from skillcheck.auditors.base import Auditor, AuditRequest, AuditResponse, Availability
from skillcheck.auditors.registry import AuditorConfig, build_registry

__all__ = [
    "AuditRequest",
    "AuditResponse",
    "Auditor",
    "AuditorConfig",
    "Availability",
    "build_registry",
]
