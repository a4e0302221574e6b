"""The words the console's management pages show from their scripts: All invitations, Groups,
Registration fields and Mail delivery (api.admin lists the pages; their templates are in
api/templates/admin/, their scripts in api/static/admin/)."""

from __future__ import annotations

LIST_WORDS = (
    "admin.lists.yes",
    "admin.lists.no",
    "admin.lists.saved",
    "admin.lists.title_needed",
)
STATUSES = ("pending", "accepted", "expired")
DELIVERY_STATES = ("not_sent", "queued", "sending", "sent", "failed", "bounced", "complained")
SKIP_REASONS = ("not_found", "accepted", "not_failed_or_expired", "suppressed")
DETAILS = (
    "col_email",
    "col_name",
    "language",
    "code",
    "col_status",
    "col_delivery",
    "sends",
    "reason",
    "grant_admin",
    "grant_projects",
    "grant_groups",
    "grant_fields",
    "message",
    "inviter",
    "from_import",
    "col_created",
    "sent",
    "reminded",
    "expires",
    "accepted",
    "accepted_by",
)
INVITATIONS_WORDS = (
    *LIST_WORDS,
    *(f"admin.invitations.status_{status}" for status in STATUSES),
    *(f"admin.invitations.delivery_{state}" for state in DELIVERY_STATES),
    *(f"admin.invitations.skipped_{reason}" for reason in SKIP_REASONS),
    *(f"admin.invitations.{key}" for key in DETAILS),
    *(
        f"admin.invitations.{key}"
        for key in (
            "all_matching_selected",
            "bulk_delete",
            "bulk_delete_text",
            "bulk_delete_title",
            "bulk_deleted",
            "bulk_resent",
            "code_only",
            "col_actions",
            "delete",
            "delete_of",
            "delete_text",
            "delete_text_grants",
            "delete_title",
            "deleted",
            "details_button",
            "details_of",
            "gone",
            "manages",
            "page",
            "pick",
            "resend",
            "resend_to",
            "resent",
            "role_admin",
            "select_all_matching",
            "select_page_only",
            "selected",
            "suppressed",
            "total",
        )
    ),
)
GROUPS_WORDS = (
    *LIST_WORDS,
    "admin.invitations.col_actions",
    *(
        f"admin.groups.{key}"
        for key in (
            "added",
            "created",
            "delete",
            "delete_members",
            "delete_of",
            "delete_pending",
            "delete_text",
            "delete_title",
            "deleted",
            "kind_manual",
            "kind_smart",
            "match_all",
            "match_any",
            "member_count",
            "member_email",
            "member_name",
            "members",
            "members_of",
            "remove_member",
            "remove_member_of",
            "rename",
            "rename_of",
            "type_emails",
        )
    ),
)
FIELDS_WORDS = (
    *LIST_WORDS,
    *(f"admin.fields.type_{kind}" for kind in ("text", "number", "select", "checkbox", "date")),
    *(
        f"admin.fields.{key}"
        for key in (
            "cleared",
            "created",
            "delete",
            "delete_of",
            "delete_text",
            "delete_title",
            "deleted",
            "edit",
            "edit_of",
            "invitations",
            "is_required",
            "key_needed",
            "options",
            "people",
        )
    ),
)
MAIL_WORDS = (
    *LIST_WORDS,
    *(
        f"admin.mail.{key}"
        for key in (
            "sending_domain",
            "from",
            "return_path",
            "message_id_domain",
            "smtp_host",
            "sending_ips",
            "dkim",
            "none",
            "record_type",
            "record_name",
            "record_value",
            "record_purpose",
            "lift_needed",
            "lifted",
            "not_suppressed",
        )
    ),
)
