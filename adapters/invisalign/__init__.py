"""The Invisalign Doctor Site (IDS) adapter: a real browser for the hosted login and the pages a
person sees (the primary path), the JSON those pages might load as an optional fast path.
`site` knows the portal's hosts, URLs, selectors and words (each a register fact); `pages` and
`fastpath` read them; `status` maps the words to ours; `adapter` is the flow."""

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
