"""Guards: check streamed and whole responses against policies, releasing only what is safe. Sans-IO.

``StreamGuard`` guards one text stream (feed/flush); ``ChunkGuard`` applies it to OpenAI chunks (process/finish);
``guard_completion`` checks a whole ``ChatCompletion``; ``block_error`` builds the error a block raises.
"""

from deepsentinel.guard.blocking import block_error
from deepsentinel.guard.chunk_guard import ChunkGuard, GuardedChunks
from deepsentinel.guard.completion_guard import GuardedCompletion, guard_completion
from deepsentinel.guard.stream_guard import GuardResult, StreamGuard

__all__ = [
    "ChunkGuard", "GuardResult", "GuardedChunks", "GuardedCompletion", "StreamGuard", "block_error", "guard_completion",
]
