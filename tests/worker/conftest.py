from tests.support.emulator import crawl_queue, sqs_emulator  # noqa: F401
from tests.support.pages import page_server  # noqa: F401
