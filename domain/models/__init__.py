"""The tables, one module each. Importing this package registers every model with Tortoise."""

from domain.models.email_confirmation import EmailConfirmation
from domain.models.group import Group, GroupKind, Membership
from domain.models.invitation import (
    BounceKind,
    DeliveryState,
    ExportKind,
    Invitation,
    InvitationExport,
    InvitationGroup,
    InvitationProject,
    InvitationStatus,
    MailSuppression,
    SuppressionReason,
)
from domain.models.invitation_import import ImportStatus, InvitationImport
from domain.models.password_reset import PasswordReset
from domain.models.project import Project
from domain.models.registration import Registration
from domain.models.registration_field import FieldType, RegistrationField
from domain.models.replaced_registration import ReplacedRegistration
from domain.models.role import Role, RoleKind
from domain.models.session import Session
from domain.models.used_registration_code import UsedRegistrationCode
from domain.models.user import User
from domain.models.webhook import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryState,
    WebhookEventType,
    WebhookSubscription,
)

__all__ = [
    "BounceKind",
    "DeliveryState",
    "EmailConfirmation",
    "ExportKind",
    "FieldType",
    "Group",
    "GroupKind",
    "ImportStatus",
    "Invitation",
    "InvitationExport",
    "InvitationGroup",
    "InvitationImport",
    "InvitationProject",
    "InvitationStatus",
    "MailSuppression",
    "Membership",
    "PasswordReset",
    "Project",
    "Registration",
    "RegistrationField",
    "ReplacedRegistration",
    "Role",
    "RoleKind",
    "Session",
    "SuppressionReason",
    "UsedRegistrationCode",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookDeliveryState",
    "WebhookEventType",
    "WebhookSubscription",
]
