"""Blocking service calls from the event loop, on the realtime layer's own worker threads.

A socket's requests (authenticate, select a conversation, history, catch-up) are short blocking
service calls. Through Starlette's ``run_in_threadpool`` each one costs the loop anyio's
bookkeeping (backend lookup, capacity limiter, cancel scope): py-spy put that at about a quarter
of the loop's time in a 10,000-client reconnect storm. ``run_in_executor`` on a plain pool of
the same width (anyio's default, 40 threads, started as needed) does the same work without it.

When the awaiting task is cancelled (its socket closed), the call still runs to its end on its
thread; only its result is dropped.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

WORKERS = 40
_POOL = ThreadPoolExecutor(WORKERS, thread_name_prefix="chinwag-realtime")


async def call(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` on a worker thread, awaited."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_POOL, functools.partial(fn, *args))
