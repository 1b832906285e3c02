"""Guards: check streamed text against policies, releasing only what is safe. Sans-IO.

``StreamGuard`` guards one text stream (feed/flush); ``block_error`` builds the error a block raises. The wire
guard (``deepsentinel.wire``) applies them to each API's bodies and events.
"""

from deepsentinel.guard.blocking import block_error
from deepsentinel.guard.stream_guard import GuardResult, StreamGuard

__all__ = ["GuardResult", "StreamGuard", "block_error"]
