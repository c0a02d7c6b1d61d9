"""Signed webhooks for every event, delivered at least once, retried, replayable.

The public surface: `verify_signature` (the reference receiver check), `deliver_due` and
`DeliveryLoop` (sending), `replay_deliveries` and `delivery_status` (operations).
"""

from connector.store.deliveries import (
    DeliveryStatus,
    EndpointStatus,
    delivery_status,
    replay_deliveries,
)
from connector.webhooks.delivery import (
    DeliveryCounters,
    DeliveryLoop,
    deliver_due,
    event_body,
    new_client,
    retry_delay,
)
from connector.webhooks.signature import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    signature_header,
    verify_signature,
)

__all__ = [
    "EVENT_ID_HEADER",
    "SIGNATURE_HEADER",
    "DeliveryCounters",
    "DeliveryLoop",
    "DeliveryStatus",
    "EndpointStatus",
    "deliver_due",
    "delivery_status",
    "event_body",
    "new_client",
    "replay_deliveries",
    "retry_delay",
    "signature_header",
    "verify_signature",
]
