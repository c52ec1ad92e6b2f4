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
from spoke.models.messages import ContactImport, Message, OptOut
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
from spoke.models.responses import CannedResponse, ContactAnswer, Question, QuestionAnswer
from spoke.models.review import BulkAction

__all__ = [
    "ADMIN_ROLES",
    "CAMPAIGN_STATUSES",
    "MESSAGE_STATUSES",
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
    "CannedResponse",
    "ContactAnswer",
    "ContactImport",
    "Membership",
    "Message",
    "OptOut",
    "Organization",
    "Question",
    "QuestionAnswer",
    "Team",
    "TeamMember",
    "User",
    "new_token",
]
