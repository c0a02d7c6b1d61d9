"""A download turn in its own process, SIGKILLed in the middle (test_sandbox_kill.py).

`python -m tests.files.killed_download ARGS_JSON`: runs one turn for the account and prints
`receiving` once more than `after_bytes` arrived, then keeps going (slowly, the server is slow).
The turn uses the vendor's real adapter against `server_url` (a sandbox portal).
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from adapters.browser import BrowserPool
from adapters.registry import AdapterParts, build_adapter
from connector.files import fetch_account, files_services
from connector.runtime import open_runtime
from connector.settings import Settings
from connector.sync import SyncServices
from tests.sync.support import FAST


async def main(args: dict[str, Any]) -> None:
    settings = Settings(**args["settings"])
    received = 0

    def progress(file_id: str, delta: int, size: int | None) -> None:
        nonlocal received
        received += delta
        if received > args["after_bytes"]:
            sys.stdout.write("receiving\n")
            sys.stdout.flush()

    async with open_runtime(settings) as rt:
        vendor = args["vendor"]
        adapter = build_adapter(
            vendor, AdapterParts(base_url=args["server_url"], pool=BrowserPool(), policy=FAST)
        )
        services = files_services(settings, SyncServices(rt.store, rt.vault, {vendor: adapter}))
        await fetch_account(services, args["account_id"], progress=progress)
    sys.stdout.write("finished\n")


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
