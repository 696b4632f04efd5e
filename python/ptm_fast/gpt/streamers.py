"""Text as it is generated: streamers for ``GPT.generate(..., streamer=...)``.

``generate`` calls ``streamer.put(ids)`` once with the prompt (batch, seq),
then with each step's new token (batch,), then ``streamer.end()``, as
transformers does, so transformers' streamers work here too and these work
there. Both stream one prompt (batch of one).

>>> model.generate(ids, max_new_tokens=30, streamer=TextStreamer(tok, skip_prompt=True))
...                                                                 # doctest: +SKIP
>>> streamer = TextIteratorStreamer(tok, skip_prompt=True)          # doctest: +SKIP
>>> Thread(target=model.generate, args=(ids,), kwargs=dict(max_new_tokens=30,
...        streamer=streamer)).start()                              # doctest: +SKIP
>>> for text in streamer: print(text, end="")                       # doctest: +SKIP
"""

from __future__ import annotations

import queue
import sys
from typing import Any


class BaseStreamer:
    """What ``generate`` feeds: ``put`` the prompt, then each new token, then ``end``."""

    def put(self, value) -> None:
        """Receive token ids: the prompt (batch, seq) first, then each step's (batch,)."""
        raise NotImplementedError

    def end(self) -> None:
        """Generation is over."""
        raise NotImplementedError


class TextStreamer(BaseStreamer):
    """Prints the decoded text as tokens arrive (holding back a character cut mid-way).

    Args:
        tokenizer: anything with ``decode(list_of_ids, **decode_kwargs)``.
        skip_prompt: do not print the prompt.
        decode_kwargs: passed to ``decode``, e.g. ``skip_special_tokens=True``.
    """

    def __init__(self, tokenizer, skip_prompt: bool = False, **decode_kwargs: Any):
        self.tokenizer = tokenizer
        self.skip_prompt = skip_prompt
        self.decode_kwargs = decode_kwargs
        self.tokens: list[int] = []
        self.shown = 0  # characters of decode(tokens) already handed on
        self.prompt_pending = True

    def put(self, value) -> None:
        """Take the prompt or the next token of the one row, and hand on the new text."""
        if value.dim() > 1 and value.shape[0] > 1:
            raise ValueError("TextStreamer streams one prompt: give a batch of one")
        ids = value.reshape(-1).tolist()
        if self.prompt_pending:
            self.prompt_pending = False
            if self.skip_prompt:
                return
        self.tokens.extend(ids)
        text = self.tokenizer.decode(self.tokens, **self.decode_kwargs)
        # A character split across tokens decodes to U+FFFD until its last byte comes.
        ready = text.rstrip("\ufffd")
        if len(ready) > self.shown:
            self.on_finalized_text(ready[self.shown :])
            self.shown = len(ready)

    def end(self) -> None:
        """Hand on what was held back, and end the stream."""
        text = self.tokenizer.decode(self.tokens, **self.decode_kwargs) if self.tokens else ""
        rest = text[self.shown :]
        self.tokens, self.shown, self.prompt_pending = [], 0, True
        self.on_finalized_text(rest, stream_end=True)

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        """Print ``text`` now (and a newline at the end); override to send it elsewhere."""
        print(text, flush=True, end="" if not stream_end else "\n", file=sys.stdout)


class TextIteratorStreamer(TextStreamer):
    """The same text as :class:`TextStreamer`, as an iterator for another thread to read.

    Run ``generate`` in a thread and iterate over the streamer; ``timeout``
    (seconds) makes a wait for the next piece raise ``queue.Empty``.
    """

    _END = object()

    def __init__(
        self, tokenizer, skip_prompt: bool = False, timeout: float | None = None, **decode_kwargs
    ):
        super().__init__(tokenizer, skip_prompt, **decode_kwargs)
        self.pieces: queue.Queue = queue.Queue()
        self.timeout = timeout

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        """Queue ``text`` for the reader (and the end marker at the end)."""
        if text:
            self.pieces.put(text)
        if stream_end:
            self.pieces.put(self._END)

    def __iter__(self):
        return self

    def __next__(self) -> str:
        piece = self.pieces.get(timeout=self.timeout)
        if piece is self._END:
            raise StopIteration
        return piece
