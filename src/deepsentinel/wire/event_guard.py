"""EventGuard: guards one stream of server-sent events, whatever the API, however the text is chunked. Sans-IO.

Each streamed text (a key the codec names) gets its own ``StreamGuard``. An event leaves with only the text
proven safe so far; the held tail of a key is released, as an extra event shaped like the provider's own,
just before the event that ends that key. Events that repeat a whole text (Responses' ``*.done`` and
``response.completed``) are rewritten to what was released, so a snapshot never disagrees with the stream.
A block raises ``ComplianceViolationError``: the caller's shell cuts the stream there (the SDK transports raise
it to the caller; the gateway sends an error event in the provider's format).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from deepsentinel.errors import ComplianceViolationError
from deepsentinel.guard.blocking import block_error
from deepsentinel.guard.stream_guard import GuardResult, StreamGuard
from deepsentinel.policy.decision import Violation
from deepsentinel.wire.codec import Codec, Key
from deepsentinel.wire.event_rows import RowItem, parse_event, set_text, share_released, text_at
from deepsentinel.wire.event_shape import EventShape
from deepsentinel.wire.guard import RequestCheck, WireGuard
from deepsentinel.wire.json_io import dumps, loads
from deepsentinel.wire.logprob_carry import LogprobCarry
from deepsentinel.wire.rest_memo import RestMemo
from deepsentinel.wire.sse import Event
from deepsentinel.wire.texts import TextRef, string_refs


class EventGuard:
    """Feed upstream events in order; get the events to send on. ``finish()`` at a clean end."""

    def __init__(self, guard: WireGuard, request: RequestCheck, secrets: tuple[str, ...] = ()) -> None:
        self.codec: Codec = request.codec
        self._secrets = secrets  # the key sent: blanked if an error event echoes it
        self._wire = guard
        self.restore = request.restore  # what placeholders this call's answers may restore
        self._new: Callable[[], StreamGuard | None] = lambda: guard.stream_guard(request.restore)
        self._guards: dict[Key, StreamGuard | None] = {}
        self._templates: dict[Key, RowItem] = {}  # each key's last event, as sent (its payload parsed on demand)
        self._released: dict[Key, list[str]] = {}
        self._carried: dict[Key, LogprobCarry] = {}  # texts that came with token logprobs (logprob_carry.py)
        self._tokenless: set[Key] = set()  # texts that some text came to without its tokens
        self.violations: list[Violation] = []
        self.ended = False  # the provider's end marker arrived
        self.shown = False  # some text reached the caller
        self.sent = False  # some event reached the caller: a broken stream may no longer be reopened
        # The answer's opening events (``Codec.opens``), held until something else is sent: a stream reopened
        # before then shows the caller one attempt's opening, not both attempts' merged by its SDK.
        self._opening: list[Event] = []
        # The provider's error event when it says "try again" before anything was sent (an overload, a rate
        # limit, a server error after HTTP 200): held, with all after it, so the shell may reopen the stream
        # instead; ``release()`` gives it up when it does not.
        self.retry_event: list[Event] | None = None
        # Set by the shell while a stream that breaks before any of it was sent could be sent again: only then
        # is anything held for that. (A background response is a job the caller resumes by its id: never.)
        self.may_reopen = False
        payload = request.payload
        self._background = isinstance(payload, dict) and payload.get("background") is True
        self.errored = False  # an in-stream error event (the caller's SDK raises on it), or an end saying it failed
        self.usage: tuple[int | None, int | None] | None = None
        self.events = 0
        self._rest = RestMemo(self.codec.event_padding)
        self._shape: tuple[EventShape, Key, tuple[Any, ...]] | None = None
        self._shape_tries = 0  # shapes learned since one last matched

    def feed(self, event: Event) -> list[Event]:
        """The events to send for one upstream event. Raises ``ComplianceViolationError`` to cut the stream."""
        self.events += 1
        out: list[Event] = []
        self._send_event(event, parse_event(event), out)
        return out

    def feed_many(self, events: list[Event]) -> tuple[list[Event], Exception | None]:
        """The events to send for upstream events that arrived together, and the error that cuts the stream
        after them (``None``: not cut): a ``ComplianceViolationError``, or the guard's own failure (the stream
        is cut at the row it was guarding). The events before a cut are returned, never dropped.

        A row of events that carry nothing but text pieces goes through each key's guard once, not once per
        event: one scan for the whole row (the guard's result does not depend on how its text was split). The
        released text is given back to the events it came from, so the row keeps its events.
        """
        out: list[Event] = []
        row: list[RowItem] = []
        try:
            for event in events:
                self.events += 1
                item = self._shaped(event)
                if item is None:
                    payload = parse_event(event)
                    item = self._pieces_only(event, payload)
                    if item is None:
                        if row:
                            row, done = [], row
                            self._settle(done, out)
                        self._send_event(event, payload, out)
                        continue
                    found = len(self.violations)
                    try:
                        item.changed = self._check_rest(event, payload, {path for _, path, _ in item.pieces})
                    except ComplianceViolationError as exc:  # the row is cut before this event
                        self._settle(row, out, exc)
                    if not item.changed and len(self.violations) == found:  # its rest is clean
                        self._learn_shape(item)
                row.append(item)
            if row:
                self._settle(row, out)
        except Exception as exc:  # noqa: BLE001 - handed to the shell, which raises it after ``out``
            return out, exc
        return out, None

    def _send_event(self, event: Event, payload: Any, out: list[Event]) -> None:
        """Guard one event (not in a row), appending what to send to ``out``, or holding it if it opens the
        answer (as guarded: a tool call's first arguments held back leave the event that names it)."""
        sent = self._feed_event(event, payload)
        if not self.sent and self.retry_event is None and self.may_reopen and not self._background:
            if self.codec.opens(event, payload):
                self._opening += sent
                return
            if self.errored and self.codec.says_try_again(payload):
                self.retry_event = sent
                return
        self._send(sent, out)

    def _send(self, events: list[Event], out: list[Event]) -> None:
        """Append ``events`` to ``out``, after the opening events held so far."""
        if not events:
            return
        if self.retry_event is not None:  # the stream is reopened, or all of it given up at once
            self.retry_event += events
            return
        if self._opening:
            out += self._opening
            self._opening = []
        out += events
        self.sent = True

    def _shaped(self, event: Event) -> RowItem | None:
        """``event`` as a row's item without parsing it, when it has the shape of the last clean text event."""
        if self._shape is None:
            return None
        shape, key, path = self._shape
        text = shape.match(event)
        if text is None:
            return None
        self._shape_tries = 0
        return RowItem(event, None, [(key, path, text)])

    def _learn_shape(self, item: RowItem) -> None:
        """Keep the shape of a text event whose rest was just found clean (a few tries, then no more)."""
        if len(item.pieces) != 1 or self._shape_tries >= _SHAPE_TRIES:
            return
        self._shape_tries += 1
        key, path, _ = item.pieces[0]
        padding = [(k,) for k in self.codec.event_padding if isinstance(item.doc().get(k), str)]
        shape = EventShape.of(item.event, item.doc(), path, padding)
        self._shape = (shape, key, path) if shape is not None else None

    def _feed_event(self, event: Event, payload: Any) -> list[Event]:
        if payload is None:
            if self.codec.is_end(event, None):
                self.ended = True
                return [*self._close(list(self._guards)), event]
            # Not JSON (a malformed chunk): whatever parses it next must not echo a value in its error.
            clean = self._wire.redact(event.data, self._secrets)
            return [event if clean == event.data else event.with_data(clean)]
        if self.codec.is_error(event, payload):
            self.errored = True
            return [event.with_data(self._wire.redact_error(event.data.encode(), self._secrets).decode())]
        usage = self.codec.usage(payload)
        if usage is not None:
            self.usage = usage
        out: list[Event] = []
        changed = False
        fed: dict[Key, tuple[Any, ...]] = {}
        tokens: dict[Key, list[Any]] = {}  # the texts whose token logprobs are carried: those leaving with this event
        deltas = self.codec.deltas(event, payload)
        for key, path in deltas:
            text = text_at(payload, path)
            self._templates[key] = RowItem(event, payload, [])
            spelled = self.codec.logprob_tokens(payload, key, path)
            if spelled or key in self._carried:  # (an empty list is no tokens: the Responses API sends one)
                carry = self._carried.get(key)
                if carry is None:
                    carry = self._carried[key] = LogprobCarry()
                    if key in self._tokenless:  # its text began without tokens: they cannot be lined up with it
                        carry.stop()
                if not spelled and text:  # text without its tokens: none after it can be lined up either
                    carry.stop()
                # Held until their text leaves (an empty token at the head leaves now).
                tokens[key] = carry.take(spelled, "")
            elif text:
                self._tokenless.add(key)
            result = self._feed(key, text)
            if result.text != text:
                set_text(payload, path, result.text)
                changed = True
            fed[key] = path
        # Logprobs spell the tokens as generated, the held or rewritten ones included. Only carried tokens go back.
        if changed or tokens:
            dropped = self.codec.drop_logprobs(payload)
            changed = True
        else:
            dropped = self.codec.settle_logprobs(payload)
            changed = dropped
        closing = self.codec.closes(event, payload, self._guards.keys())
        if deltas and not closing and all(not text_at(payload, path) for _, path in deltas) and self.codec.only_deltas(payload):
            return []  # everything in it is held back for now: nothing to send yet
        for key in closing:
            tail = self._flush(key)
            if not tail:
                continue
            if key in fed:  # released in this very event, after its own piece
                set_text(payload, fed[key], text_at(payload, fed[key]) + tail)
                changed = True
            else:
                out.append(self._tail_event(key, tail))
        snapshots = self.codec.snapshots(event, payload)
        for key, path in snapshots:
            text = text_at(payload, path)
            pieces = self._released.get(key) if key is not None else None
            new = "".join(pieces) if pieces is not None else self.check_whole(text, "snapshot")
            if new != text:
                set_text(payload, path, new)
                self.codec.after_rewrite(payload, [path])  # its logprobs spell the text as generated
                changed = True
            elif self.codec.settle_snapshot_logprobs(payload, path, text):
                changed = True
        # An event whose logprobs were dropped before its rest was read is not remembered as clean: the memo keeps
        # the event as it came, and the next one like it would not be read.
        if self._check_rest(event, payload, {path for _, path in deltas} | {path for _, path in snapshots},
                            remember=not dropped):
            changed = True
        # Put back after the rest is read: a rewrite there empties the logprobs around it, and these tokens (built
        # only of released text, see logprob_carry.py) would be lost with no gap to show for it.
        for key, early in tokens.items():  # each token goes with the event that releases the last of its text
            carried = early + self._carried[key].take(None, text_at(payload, fed[key]))
            if carried:
                self.codec.put_logprob_tokens(payload, key, fed[key], carried)
        if self.codec.is_end(event, payload):
            self.ended = True
            self.errored = self.errored or self.codec.ends_in_failure(payload)
            out += self._close([k for k in self._guards if k not in closing])
        out.append(event.with_data(dumps(payload)) if changed else event)
        return out

    def _check_rest(self, event: Event, payload: Any, handled: set[tuple[Any, ...]], remember: bool = True) -> bool:
        """Check everything else that is text in the event (a block's opening text, audio transcripts,
        annotations, event kinds newer than this codec) as a whole: nothing reaches the caller unread. Whether
        anything was rewritten."""
        if self._rest.known(payload, handled):
            return False
        found = len(self.violations)
        changed = self._read_rest(payload, handled)
        if not changed and len(self.violations) == found and remember:
            self._rest.remember(parse_event(event), handled)
        return changed

    def _read_rest(self, payload: Any, handled: set[tuple[Any, ...]]) -> bool:
        rewritten = []
        for ref in string_refs(payload, skip=self.codec.response_skip):
            if ref.path in handled or (len(ref.path) == 1 and ref.path[0] in self.codec.event_padding):
                continue
            text = ref.get(payload)
            new = self.check_whole(text, ref)
            if new != text:
                ref.set(payload, new)
                rewritten.append(ref.path)
        if rewritten:  # after the walk: its fix-ups empty lists that later paths would still point into
            self.codec.after_rewrite(payload, rewritten)
        return bool(rewritten)

    def _pieces_only(self, event: Event, payload: Any) -> RowItem | None:
        """The event's text pieces when it carries nothing else a guard must order, else ``None``."""
        # ``only_deltas`` promises no end of a text, no snapshot, no usage and no error (see ``Codec``).
        pieces = self.codec.text_pieces(event, payload)
        return RowItem(event, payload, pieces) if pieces is not None else None

    def _settle(self, row: list[RowItem], out: list[Event], error: ComplianceViolationError | None = None) -> None:
        """Guard a row of text-only events (their rests already checked), appending the events to send to
        ``out``; raise after them to cut (``error``: the rest of the event after the row was blocked)."""
        by_key: dict[Key, list[tuple[RowItem, tuple[Any, ...], str]]] = {}
        for item in row:
            for key, path, text in item.pieces:
                by_key.setdefault(key, []).append((item, path, text))
        # A cut ends the row at the event it falls in: the other keys' events after it stay unsent, as when the
        # events are guarded one by one (n > 1 choices interleave in one row).
        last = len(row) - 1
        for key, pieces in by_key.items():
            self._templates[key] = pieces[-1][0]
            guard = self._guard(key)
            before = guard.held_text if guard is not None else ""
            joined = "".join(text for _, _, text in pieces)
            result = guard.feed(joined) if guard is not None else GuardResult(joined)
            self._released.setdefault(key, []).append(result.text)
            self.shown = self.shown or bool(result.text)
            if joined:  # text that came without its tokens (a row has no logprobs): none after it can be carried
                self._tokenless.add(key)
                if key in self._carried:
                    self._carried[key].stop()
            at = share_released(result.text, before, pieces)
            if result.violations:
                self.violations.extend(result.violations)
            if result.blocked:
                last = min(last, row.index(at))
                if error is None:
                    error = block_error(result.violations or self.violations, "response")
        sent: list[Event] = []
        for item in row[: last + 1]:
            if not item.shown:
                continue  # all of its text is held back for now: nothing to send yet
            if item.changed:
                payload = item.doc()
                self.codec.drop_logprobs(payload)
                sent.append(item.event.with_data(dumps(payload)))
            else:
                sent.append(item.event)
        self._send(sent, out)
        if error is not None:
            raise error

    def finish(self, delimited: bool = True) -> list[Event]:
        """Upstream's body ended: the opening events still held (a stream that ended before anything else), then,
        when the body was ``delimited`` (chunked, or of a declared length, so that its end is the provider's word
        that the answer ended, marker or not: some OpenAI-compatible servers send none), the held tails, checked
        whole, as at the provider's end marker. A body delimited only by the connection's close cannot tell an
        end from a break: without the end marker its held tails are dropped, never released (they may be half a
        value), as when a connection breaks. Raises ``ComplianceViolationError`` when a tail completes a value.
        (An error event held for a reopen stays held: the shell reopens the stream, or calls ``release()``.)"""
        if self.retry_event is not None:
            return []
        tails: list[Event] = []
        if not self.ended and delimited:
            tails = self._close(list(self._guards))
            self.ended = True
        return self.release() + tails

    def release(self) -> list[Event]:
        """Everything held: the opening events, then the error event held for a reopen that did not happen."""
        out, self._opening = self._opening, []
        out += self.retry_event or ()
        self.retry_event = None
        self.sent = self.sent or bool(out)
        return out

    def _feed(self, key: Key, text: str) -> GuardResult:
        guard = self._guard(key)
        if guard is None:
            result = GuardResult(text)
        else:
            result = guard.feed(text)
            self._note(result)
        self._released.setdefault(key, []).append(result.text)
        self.shown = self.shown or bool(result.text)
        return result

    def _flush(self, key: Key) -> str:
        guard = self._guards.pop(key, None)
        if guard is None:
            return ""
        result = guard.flush()
        self._note(result)
        self._released.setdefault(key, []).append(result.text)
        return result.text

    def _close(self, keys: list[Key]) -> list[Event]:
        out = []
        for key in keys:
            tail = self._flush(key)
            if tail and key in self._templates:
                out.append(self._tail_event(key, tail))
        return out

    def _tail_event(self, key: Key, tail: str) -> Event:
        # The template as it was sent: its text held back, its logprobs dropped when it was rewritten; the tokens
        # of the tail, when they were carried, with it.
        template = self._templates[key]
        event = self.codec.tail_event(template.event, template.doc(), key, tail)
        carry = self._carried.get(key)
        carried = carry.take(None, tail) if carry is not None else []
        if carry is None or not carried:
            return event
        payload = loads(event.data)
        path = next((path for k, path in self.codec.deltas(event, payload) if k == key), None)
        if path is None:  # a key that does not survive the round trip (an index of 1e400): no tokens, not a crash
            carry.stop()
            return event
        self.codec.put_logprob_tokens(payload, key, path, carried)
        return event.with_data(dumps(payload))

    def check_whole(self, text: str, location: str | TextRef) -> str:
        """``text`` checked whole (its findings kept with this stream's): rewritten, or raise on a block."""
        new, decision = self._wire.check_text(text, location, self.restore)
        self.violations.extend(decision.violations)
        if decision.blocked:
            raise block_error(decision.violations, "response")
        return new

    def _guard(self, key: Key) -> StreamGuard | None:
        if key not in self._guards:
            self._guards[key] = self._new()
        return self._guards[key]

    def _note(self, result: GuardResult) -> None:
        if result.violations:
            self.violations.extend(result.violations)
        if result.blocked:
            raise block_error(result.violations or self.violations, "response")


_SHAPE_TRIES = 4  # shapes learned in a row that never matched before a stream stops learning them


__all__ = ["EventGuard"]
