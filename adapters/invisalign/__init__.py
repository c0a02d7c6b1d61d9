"""The Invisalign Doctor Site (IDS) adapter: a real browser for the hosted login, the site's own
JSON API for reading and posting. `site` knows the portal's pages and wire format; `status` maps
its words to ours; `adapter` is the flow."""

from adapters.invisalign.adapter import (
    VENDOR,
    InvisalignAdapter,
    InvisalignSession,
    ListingCursor,
)
from adapters.invisalign.status import STATUS_TABLE, access_of

__all__ = [
    "STATUS_TABLE",
    "VENDOR",
    "InvisalignAdapter",
    "InvisalignSession",
    "ListingCursor",
    "access_of",
]
