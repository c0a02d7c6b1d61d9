"""A download turn in its own process, to be SIGKILLed in the middle (tests/files/test_kill.py).

`python -m tests.files.killed_download ARGS_JSON`: runs one turn for the account and prints
`receiving` once more than `after_bytes` arrived, then keeps going (slowly, the server is slow).
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from connector.files import fetch_account, files_services
from connector.runtime import open_runtime
from connector.settings import Settings
from connector.sync import SyncServices
from tests.files.support import FakeFilesAdapter


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
        adapter = FakeFilesAdapter("clearcorrect", args["server_url"])
        services = files_services(
            settings, SyncServices(rt.store, rt.vault, {"clearcorrect": adapter})
        )
        await fetch_account(services, args["account_id"], progress=progress)
    sys.stdout.write("finished\n")


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
