"""`queue up|down|status`: the local SQS emulator and the crawl queue + DLQ.

`up` and `down` supervise the emulator (`devtools/emulator.py`, imported when they run); `status`
reads any SQS endpoint.
"""

from __future__ import annotations

import sys

from ingest_app.commands.output import print_json


def register(subparsers) -> None:
    parser = subparsers.add_parser("queue", help="the crawl queue (and the local SQS emulator)")
    sub = parser.add_subparsers(dest="queue_command", metavar="ACTION", required=True)
    up = sub.add_parser("up", help="start the emulator if SQS_ENDPOINT_URL is loopback and silent; create queue + DLQ")
    up.set_defaults(handler=_up)
    down = sub.add_parser("down", help="stop the emulator `queue up` started")
    down.set_defaults(handler=_down)
    status = sub.add_parser("status", help="message counts of the crawl queue and its DLQ")
    status.set_defaults(handler=_status)


def _up(args) -> int:
    from devtools.emulator import EmulatorError, queue_up
    from ingest_app.core.queue import QueueError

    try:
        result = queue_up()
    except (EmulatorError, QueueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    print_json(result)
    return 0


def _down(args) -> int:
    from devtools.emulator import queue_down

    print_json(queue_down())
    return 0


def _status(args) -> int:
    from ingest_app.core.queue import QueueError, queue_depths

    try:
        print_json(queue_depths())
    except QueueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    return 0
