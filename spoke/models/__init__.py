"""All models, importable from one place."""

from spoke.models.campaigns import (
    CAMPAIGN_STATUSES,
    MESSAGE_STATUSES,
    Assignment,
    AssignmentEvent,
    Campaign,
    CampaignContact,
    CampaignTeam,
    new_token,
)
from spoke.models.messages import OPT_OUT_KEYWORDS, ContactImport, Message, OptOut
from spoke.models.people import (
    ADMIN_ROLES,
    ROLES,
    STAFF_ROLES,
    Membership,
    Organization,
    Team,
    TeamMember,
    User,
)
from spoke.models.reports import CampaignActivity, CampaignExport
from spoke.models.review import BulkAction

__all__ = [
    "ADMIN_ROLES",
    "CAMPAIGN_STATUSES",
    "MESSAGE_STATUSES",
    "OPT_OUT_KEYWORDS",
    "ROLES",
    "STAFF_ROLES",
    "Assignment",
    "AssignmentEvent",
    "BulkAction",
    "Campaign",
    "CampaignActivity",
    "CampaignContact",
    "CampaignExport",
    "CampaignTeam",
    "ContactImport",
    "Membership",
    "Message",
    "OptOut",
    "Organization",
    "Team",
    "TeamMember",
    "User",
    "new_token",
]
