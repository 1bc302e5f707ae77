"""What a workload will cost, before anything is sent: requests, tokens and a cost range at the batch prices.

Pure and offline: no tokenizer is downloaded, nothing is sent. Each request line is measured on its own, in
constant memory, so that millions of lines cost nothing but the time to read them:

>>> from siliconflow_batch.estimate import estimate
>>> from siliconflow_batch.pricing import PriceTable
>>> report = estimate(open("requests.jsonl", "rb"), PriceTable.load())
>>> report.cost_low, report.cost_high, report.covers(Decimal("50"))

How each number is made:

- **Input tokens** are *estimated* from the characters of the prompt (every message's text, plus the JSON of any
  ``tools``, ``functions`` or ``response_format``): ASCII characters and other characters (Chinese, for
  instance) each at their own tokens-per-character rate, rounded up, plus :data:`TOKENS_PER_MESSAGE` for each
  message's chat-template markers. The rates are DeepSeek's documented ones (:data:`DEFAULT_RATIO`: 0.3 token an
  English character, 0.6 a Chinese one); the vendor documents none for the other models, so they share them.
  With a :class:`Calibration` (the prompt tokens the vendor counted for lines already run), a model's estimate is
  scaled by the ratio of the tokens counted to the tokens estimated for those lines. The record states the rate
  used and the resulting characters per token. An estimate, not a bound: a line can count more.
- **Output tokens** are an *upper bound*: each line's ``max_tokens``, or, where it has none, the model's
  documented maximum response length (:data:`MODEL_LIMITS`), or :data:`DEFAULT_MAX_TOKENS` for a model not
  listed; plus, for a reasoning model, its documented maximum chain of thought (SiliconFlow's ``max_tokens``
  does not include it), or :data:`DEFAULT_MAX_REASONING` for a line asking another model to think
  (``enable_thinking``); times ``n`` when a line asks for several choices.
- **Cost** at the batch prices: ``low`` is a floor, :data:`LOW_INPUT_SHARE` of the estimated input and no
  output (text can take half the tokens the documented rates give, and a line can answer in one token);
  ``high`` is the estimated input plus the output bound. A model with no price has no cost (None, "unknown"),
  never zero, and then neither has the total.

The job engine checks a cap shard by shard with :func:`upper_bound` (one shard) or a :class:`Tally` it adds each
line to as it cuts (:meth:`Tally.add` gives that line's :class:`LineCost`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from attrs import define, evolve, field, frozen

from ._model import JSONModel
from ._model_names import entry_for
from .pricing import ModelPrice, PriceTable

__all__ = [
    "DEFAULT_MAX_REASONING",
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_RATIO",
    "LOW_INPUT_SHARE",
    "MODEL_LIMITS",
    "TOKENS_PER_MESSAGE",
    "Calibration",
    "CalibrationEntry",
    "Estimate",
    "LineCost",
    "ModelEstimate",
    "ModelLimits",
    "Tally",
    "TokenRatio",
    "estimate",
    "line_cost",
    "line_cost_from_size",
    "upper_bound",
]

_MILLION = Decimal(1_000_000)
_REASONING_GUIDE = "SiliconFlow's reasoning guide, https://docs.siliconflow.cn/cn/userguide/capabilities/reasoning"

TOKENS_PER_MESSAGE = 4
"""Tokens allowed for each message's chat-template markers (role tags); an allowance of this package."""

DEFAULT_MAX_TOKENS = 16384
"""The output bound of a line without ``max_tokens`` for a model :data:`MODEL_LIMITS` does not list: the 16K
maximum response length SiliconFlow's reasoning guide gives for ``max_tokens`` ("the maximum length is 16K")."""

LOW_INPUT_SHARE = Decimal("0.5")
"""The share of the estimated input tokens the low end of the cost range counts (and no output): a floor."""

DEFAULT_MAX_REASONING = 32768
"""The chain-of-thought bound of a line with ``enable_thinking`` for a model :data:`MODEL_LIMITS` gives none: the
longest maximum chain of thought in SiliconFlow's reasoning guide (DeepSeek-R1's)."""


@frozen
class TokenRatio(JSONModel):
    """How input tokens are estimated from characters: tokens per ASCII character, per other character, per message.

    ``source`` says where the rates were read.
    """

    tokens_per_ascii_char: Decimal
    tokens_per_other_char: Decimal
    tokens_per_message: int = TOKENS_PER_MESSAGE
    source: str = ""

    def tokens(self, ascii_chars: int, other_chars: int, messages: int) -> int:
        """The estimated tokens of a prompt of that many characters and messages, rounded up."""
        text = Fraction(self.tokens_per_ascii_char) * ascii_chars + Fraction(self.tokens_per_other_char) * other_chars
        return -(-text.numerator // text.denominator) + self.tokens_per_message * messages


DEFAULT_RATIO = TokenRatio(
    Decimal("0.3"),
    Decimal("0.6"),
    TOKENS_PER_MESSAGE,
    "DeepSeek's token guide, https://api-docs.deepseek.com/quick_start/token_usage (1 English character is about "
    "0.3 token, 1 Chinese character about 0.6); the message allowance is this package's",
)
"""The input rates of every model until calibrated: DeepSeek's documented ones (the vendor gives none)."""

_ASCII_RATE = Fraction(DEFAULT_RATIO.tokens_per_ascii_char)
_OTHER_RATE = Fraction(DEFAULT_RATIO.tokens_per_other_char)
_DENOMINATOR = _ASCII_RATE.denominator * _OTHER_RATE.denominator
_RATES = (
    _ASCII_RATE.numerator * _OTHER_RATE.denominator,
    _OTHER_RATE.numerator * _ASCII_RATE.denominator,
    _DENOMINATOR,
)


@frozen
class ModelLimits(JSONModel):
    """A model's documented output limits: its maximum response (``max_tokens``) and chain of thought, in tokens."""

    max_tokens: int
    max_reasoning: int = 0


MODEL_LIMITS: Mapping[str, ModelLimits] = {
    "deepseek-ai/DeepSeek-R1": ModelLimits(16384, 32768),
    "Qwen/QwQ-32B": ModelLimits(32768, 16384),
}
"""The output limits SiliconFlow's reasoning guide documents, by model (the others: :data:`DEFAULT_MAX_TOKENS`)."""


@frozen
class LineCost(JSONModel):
    """One request line measured: its model, characters and messages, estimated input and bounded output tokens.

    ``output_from`` says where the output bound came from: ``"max_tokens"`` (the line's), ``"model"`` (the
    model's documented maximum) or ``"default"`` (:data:`DEFAULT_MAX_TOKENS`); ``choices`` is the line's ``n``
    (the bound counts every choice).
    """

    model: str
    ascii_chars: int
    other_chars: int
    messages: int
    input_tokens: int
    output_tokens_max: int
    output_from: str
    choices: int = 1

    def cost_low(self, prices: PriceTable) -> Decimal | None:
        """The floor of the line's cost at ``prices`` (yuan; :data:`LOW_INPUT_SHARE` of its input, no output)."""
        price = prices.price_of(self.model)
        return None if price is None else price.cost(self.input_tokens, 0) * LOW_INPUT_SHARE

    def upper_bound(self, prices: PriceTable) -> Decimal | None:
        """The line's estimated input plus its output bound at ``prices`` (yuan); None when its model has no price."""
        price = prices.price_of(self.model)
        return None if price is None else price.cost(self.input_tokens, self.output_tokens_max)


@define
class CalibrationEntry(JSONModel):
    """What a :class:`Calibration` holds for one model."""

    lines: int = 0
    """How many lines that ran were added."""
    estimated: int = 0
    """Their input tokens as the default rates estimate them."""
    counted: int = 0
    """Their prompt tokens as the vendor counted them."""

    @property
    def factor(self) -> Fraction | None:
        """Counted over estimated tokens: what the default estimate is scaled by; None before any estimate."""
        return Fraction(self.counted, self.estimated) if self.estimated > 0 else None


@define
class Calibration(JSONModel):
    """The prompt tokens the vendor counted for lines already run, per model, against the default estimate.

    ``add`` each (request line, ``usage.prompt_tokens`` of its result); constant memory. A model's calibrated
    estimate is its default estimate times counted / estimated over the lines added.
    """

    by_model: dict[str, CalibrationEntry] = field(factory=dict)

    def add(
        self, line: bytes | str | Mapping[str, Any], prompt_tokens: int, *, replace_model: str | None = None
    ) -> None:
        """Count one line that ran and the prompt tokens its result reported (a line without usage: skip it)."""
        if isinstance(prompt_tokens, bool) or not isinstance(prompt_tokens, int) or prompt_tokens < 0:
            return
        measured = line_cost(line, replace_model=replace_model)
        entry = self.by_model.setdefault(measured.model, CalibrationEntry())
        entry.lines += 1
        entry.estimated += measured.input_tokens
        entry.counted += prompt_tokens

    def factor(self, model: str) -> Fraction | None:
        """Counted over estimated tokens for ``model``, or None when none of its lines were added."""
        entry = self.by_model.get(model)
        return entry.factor if entry is not None else None


@functools.lru_cache(maxsize=256)  # asked for every line, of the few models a workload names
def _limits(model: str) -> ModelLimits | None:
    return entry_for(MODEL_LIMITS, model)


def _count(text: str) -> tuple[int, int]:
    """(ASCII characters, other characters) of ``text``."""
    if text.isascii():
        return len(text), 0
    other = len(text) - len(text.encode("ascii", "ignore"))
    return len(text) - other, other


def _positive(value: object) -> int | None:
    if type(value) is int:  # the usual value, asked first
        return value if value > 0 else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _is_mapping(value: object) -> bool:
    # A JSON object is a dict: asked first, as the ABC's check costs more than the rest of a short line's work.
    return type(value) is dict or isinstance(value, Mapping)


def _as_body(line: bytes | str | Mapping[str, Any]) -> Mapping[str, Any] | None:
    data: Any = line
    if isinstance(line, bytes | str):
        try:
            data = json.loads(line)
        except (ValueError, RecursionError):
            return None
    if not _is_mapping(data):
        return None
    body = data.get("body")
    return body if _is_mapping(body) else None


def line_cost(
    line: bytes | str | Mapping[str, Any], *, replace_model: str | None = None, calibration: Calibration | None = None
) -> LineCost:
    """Measure one request line (raw JSONL or a dict): its model, estimated input tokens, bounded output tokens.

    ``replace_model`` is the model a batch's ``replace`` sets for every line. A line that cannot be read (not
    JSON, no ``body``) has no model (""), so no price: its cost is unknown, never zero. See the module's
    docstring for how each number is made.
    """
    return LineCost(*_measure(line, replace_model, calibration))


# A LineCost's fields, in order: what a Tally counts without making the object (its making is a third of the work).
_Measured = tuple[str, int, int, int, int, int, str, int]


def _measure(
    line: bytes | str | Mapping[str, Any], replace_model: str | None, calibration: Calibration | None
) -> _Measured:
    """:func:`line_cost`'s fields."""
    body = line.get("body") if type(line) is dict else None  # the usual line: a dict, parsed, whose body is one
    if type(body) is not dict:
        body = _as_body(line)
    if body is None:
        return replace_model or "", 0, 0, 0, 0, DEFAULT_MAX_TOKENS, "default", 1
    model = replace_model or body.get("model")
    model = model if isinstance(model, str) else ""
    ascii_chars = other_chars = messages = 0
    items = body.get("messages")
    for message in items if isinstance(items, list) else ():
        if type(message) is not dict and not _is_mapping(message):
            continue
        messages += 1
        content = message.get("content")
        if type(content) is str and content.isascii():  # the usual message: its length is its count
            ascii_chars += len(content)
            continue
        for part in content if isinstance(content, list) else (content,):
            if type(part) is not str:
                if _is_mapping(part) and isinstance(part.get("text"), str):
                    part = part["text"]
                if part is None:
                    continue
            a, o = _count(part if isinstance(part, str) else json.dumps(part, ensure_ascii=False))
            ascii_chars += a
            other_chars += o
    for extra in ("tools", "functions", "response_format"):
        if extra in body:
            a, o = _count(json.dumps(body[extra], ensure_ascii=False))
            ascii_chars += a
            other_chars += o
    ascii_rate, other_rate, denominator = _RATES
    text = -(-(ascii_chars * ascii_rate + other_chars * other_rate) // denominator)  # DEFAULT_RATIO.tokens, in ints
    input_tokens = text + DEFAULT_RATIO.tokens_per_message * messages
    observed = calibration.by_model.get(model) if calibration is not None else None
    if observed is not None and observed.estimated > 0:  # times counted / estimated, rounded up
        input_tokens = -(-input_tokens * observed.counted // observed.estimated)
    return _with_output(body, model, ascii_chars, other_chars, messages, input_tokens)


def _with_output(
    body: Mapping[str, Any], model: str, ascii_chars: int, other_chars: int, messages: int, input_tokens: int
) -> _Measured:
    """The line's cost with its output bound, read from ``max_tokens``, ``enable_thinking`` and ``n``."""
    limits = _limits(model)
    asked = _positive(body.get("max_tokens"))
    if asked is not None:
        output, output_from = asked, "max_tokens"
    elif limits is not None:
        output, output_from = limits.max_tokens, "model"
    else:
        output, output_from = DEFAULT_MAX_TOKENS, "default"
    if limits is not None and limits.max_reasoning:
        output += limits.max_reasoning
    elif body.get("enable_thinking") is True:
        output += DEFAULT_MAX_REASONING
    choices = _positive(body.get("n")) or 1
    return model, ascii_chars, other_chars, messages, input_tokens, output * choices, output_from, choices


def line_cost_from_size(
    body: Any, size: int, messages: int, *, replace_model: str | None = None, calibration: Calibration | None = None
) -> LineCost:
    """Measure a line too long to read whole (a job reads it in pieces) from its size in bytes.

    ``body`` holds what was kept of the line's ``body`` (``model``, ``max_tokens``, ``n``, ``enable_thinking``;
    None or no mapping: the line could not be read), ``messages`` how many messages it has. Every byte of the
    line is counted as an ASCII character: a character is at least one byte of UTF-8 (or more, escaped), and no
    character's rate is above two ASCII characters' (:data:`DEFAULT_RATIO`), so the text of the prompt is never
    estimated below what :func:`line_cost` would give it (the JSON of ``tools`` or ``response_format``, which
    :func:`line_cost` counts re-written with spaces, is counted as written). The output bound is
    :func:`line_cost`'s.
    """
    if not isinstance(body, Mapping):
        return LineCost(replace_model or "", 0, 0, 0, 0, DEFAULT_MAX_TOKENS, "default")
    model = replace_model or body.get("model")
    model = model if isinstance(model, str) else ""
    ascii_rate, _, denominator = _RATES
    input_tokens = -(-size * ascii_rate // denominator) + DEFAULT_RATIO.tokens_per_message * messages
    observed = calibration.by_model.get(model) if calibration is not None else None
    if observed is not None and observed.estimated > 0:
        input_tokens = -(-input_tokens * observed.counted // observed.estimated)
    return LineCost(*_with_output(body, model, size, 0, messages, input_tokens))


@frozen
class ModelEstimate(JSONModel):
    """One model's part of an :class:`Estimate`; the costs are None (unknown) when the model has no price.

    ``chars_per_token`` is the characters per estimated input token that resulted (0 when there were none);
    ``ratio`` says how the input tokens were estimated, ``output`` how the output bound was made.
    """

    model: str
    requests: int
    characters: int
    input_tokens: int
    output_tokens_max: int
    chars_per_token: Decimal
    ratio: str
    output: str
    price: ModelPrice | None
    cost_low: Decimal | None
    cost_high: Decimal | None


@frozen
class Estimate(JSONModel):
    """What a workload will cost: requests, input tokens (estimated), output tokens (bounded), a cost range.

    ``cost_low`` and ``cost_high`` are yuan at the batch prices (``prices_source``, ``prices_as_of``), None
    (unknown) when any model in ``unpriced`` has no price. ``balance`` and ``covered`` are set when a recharged
    balance was given: whether it covers ``cost_high`` (None while that is unknown).
    """

    requests: int
    input_tokens: int
    output_tokens_max: int
    cost_low: Decimal | None
    cost_high: Decimal | None
    by_model: Mapping[str, ModelEstimate]
    unpriced: tuple[str, ...]
    prices_source: str
    prices_as_of: str
    balance: Decimal | None = None
    covered: bool | None = None

    def covers(self, balance: Decimal) -> bool | None:
        """Whether ``balance`` (yuan) covers the upper bound; None when the upper bound is unknown."""
        return None if self.cost_high is None else balance >= self.cost_high


@define
class _Sum:
    requests: int = 0
    characters: int = 0
    input_tokens: int = 0
    output_tokens_max: int = 0
    output_from: set[str] = field(factory=set)


class Tally:
    """A running estimate: :meth:`add` lines one at a time (constant memory), read the sums at any point.

    The engine keeps one per shard as it cuts, to check a cap before each create: ``upper_bound`` is the sum of
    the lines' :meth:`LineCost.upper_bound`, exactly (Decimal), or None once a line's model has no price.
    """

    def __init__(
        self, prices: PriceTable, *, replace_model: str | None = None, calibration: Calibration | None = None
    ) -> None:
        """A tally at ``prices``; ``replace_model`` and ``calibration`` as for :func:`line_cost`."""
        self.prices = prices
        self.replace_model = replace_model
        self.calibration = calibration
        self._sums: dict[str, _Sum] = {}
        self._prices: dict[str, ModelPrice | None] = {}

    def price(self, model: str) -> ModelPrice | None:
        """The price of ``model`` in this tally's table (looked up once per model)."""
        if model not in self._prices:
            self._prices[model] = self.prices.price_of(model)
        return self._prices[model]

    def add(self, line: bytes | str | Mapping[str, Any]) -> LineCost:
        """Count one request line; return what it was measured at."""
        cost = line_cost(line, replace_model=self.replace_model, calibration=self.calibration)
        self.add_cost(cost)
        return cost

    def count(self, line: bytes | str | Mapping[str, Any]) -> str:
        """Count one request line as :meth:`add` does, without making its LineCost; return its model."""
        measured = _measure(line, self.replace_model, self.calibration)
        self._add(*measured)
        return measured[0]

    def add_cost(self, cost: LineCost) -> None:
        """Count a line already measured (by :func:`line_cost`)."""
        self._add(
            cost.model, cost.ascii_chars, cost.other_chars, cost.messages, cost.input_tokens, cost.output_tokens_max,
            cost.output_from, cost.choices,
        )  # fmt: skip

    def _add(
        self, model: str, ascii_chars: int, other_chars: int, messages: int, input_tokens: int, output_max: int,
        output_from: str, choices: int,
    ) -> None:  # fmt: skip
        entry = self._sums.get(model)
        if entry is None:
            entry = self._sums[model] = _Sum()
        entry.requests += 1
        entry.characters += ascii_chars + other_chars
        entry.input_tokens += input_tokens
        entry.output_tokens_max += output_max
        entry.output_from.add(output_from)
        if choices > 1:
            entry.output_from.add("n")

    def merge(self, other: Tally) -> None:
        """Count every line ``other`` counted (a tally at the same prices and settings): a cut's, of its shards'."""
        for model, theirs in other._sums.items():
            entry = self._sums.get(model)
            if entry is None:
                entry = self._sums[model] = _Sum()
            entry.requests += theirs.requests
            entry.characters += theirs.characters
            entry.input_tokens += theirs.input_tokens
            entry.output_tokens_max += theirs.output_tokens_max
            entry.output_from |= theirs.output_from

    @property
    def requests(self) -> int:
        """How many lines were added."""
        return sum(entry.requests for entry in self._sums.values())

    @property
    def upper_bound(self) -> Decimal | None:
        """The estimated input plus the output bound of every line added, in yuan; None if a model has no price."""
        return self.prices.total_cost(
            (model, entry.input_tokens, entry.output_tokens_max) for model, entry in self._sums.items()
        )

    def estimate(self, balance: Decimal | None = None) -> Estimate:
        """The :class:`Estimate` of the lines added, with whether ``balance`` (yuan) covers it when given."""
        by_model: dict[str, ModelEstimate] = {}
        low: Decimal | None = Decimal(0)
        high: Decimal | None = Decimal(0)
        for model in sorted(self._sums):
            entry = self._sums[model]
            price = self.price(model)
            model_low = model_high = None
            if price is not None:
                model_low = price.cost(entry.input_tokens, 0) * LOW_INPUT_SHARE
                model_high = price.cost(entry.input_tokens, entry.output_tokens_max)
            low = None if low is None or model_low is None else low + model_low
            high = None if high is None or model_high is None else high + model_high
            by_model[model] = ModelEstimate(
                model=model,
                requests=entry.requests,
                characters=entry.characters,
                input_tokens=entry.input_tokens,
                output_tokens_max=entry.output_tokens_max,
                chars_per_token=_per(entry.characters, entry.input_tokens),
                ratio=self._ratio(model),
                output=_output_rule(model, entry.output_from),
                price=price,
                cost_low=model_low,
                cost_high=model_high,
            )
        result = Estimate(
            requests=sum(entry.requests for entry in self._sums.values()),
            input_tokens=sum(entry.input_tokens for entry in self._sums.values()),
            output_tokens_max=sum(entry.output_tokens_max for entry in self._sums.values()),
            cost_low=low,
            cost_high=high,
            by_model=by_model,
            unpriced=tuple(model for model, item in by_model.items() if item.price is None),
            prices_source=self.prices.source,
            prices_as_of=self.prices.as_of,
        )
        return result if balance is None else evolve(result, balance=balance, covered=result.covers(balance))

    def _ratio(self, model: str) -> str:
        default = (
            f"{DEFAULT_RATIO.tokens_per_ascii_char} token an ASCII character, {DEFAULT_RATIO.tokens_per_other_char} "
            f"any other, plus {DEFAULT_RATIO.tokens_per_message} a message ({DEFAULT_RATIO.source})"
        )
        factor = self.calibration.factor(model) if self.calibration is not None else None
        if factor is None or self.calibration is None:
            return default
        observed = self.calibration.by_model[model]
        return (
            f"calibrated from {observed.lines} lines run: {observed.counted} tokens counted for "
            f"{observed.estimated} estimated, so x{float(factor):.3f} on {default}"
        )


def _per(characters: int, tokens: int) -> Decimal:
    return (Decimal(characters) / Decimal(tokens)).quantize(Decimal("0.01")) if tokens else Decimal(0)


def _output_rule(model: str, sources: set[str]) -> str:
    limits = _limits(model)
    rules = []
    if "max_tokens" in sources:
        rules.append("each line's max_tokens")
    if "model" in sources and limits is not None:
        rules.append(f"the model's documented maximum response, {limits.max_tokens} tokens ({_REASONING_GUIDE})")
    if "default" in sources:
        rules.append(f"{DEFAULT_MAX_TOKENS} tokens where a line has no max_tokens (the default, {_REASONING_GUIDE})")
    text = "; ".join(rules)
    if limits is not None and limits.max_reasoning:
        text += f"; plus its documented maximum chain of thought, {limits.max_reasoning} tokens"
    return text + ("; times n where a line asks for n choices" if "n" in sources else "")


def upper_bound(
    lines: Iterable[bytes | str | Mapping[str, Any]],
    prices: PriceTable,
    *,
    replace_model: str | None = None,
    calibration: Calibration | None = None,
) -> Decimal | None:
    """The upper-bound cost (yuan) of one set of lines, a shard: estimated input plus bounded output, per line.

    Blank lines are skipped. None when any line's model has no price. The same sum as
    :attr:`Tally.upper_bound` after adding them.
    """
    tally = Tally(prices, replace_model=replace_model, calibration=calibration)
    for line in _requests(lines):
        tally.add(line)
    return tally.upper_bound


def estimate(
    lines: Iterable[bytes | str | Mapping[str, Any]],
    prices: PriceTable,
    *,
    replace_model: str | None = None,
    calibration: Calibration | None = None,
    balance: Decimal | None = None,
) -> Estimate:
    """The :class:`Estimate` of a workload: ``lines`` are raw JSONL lines (a file opened ``"rb"`` will do) or dicts.

    Blank lines are skipped. ``balance`` (the recharged balance, yuan) sets ``covered``. Constant memory.
    """
    tally = Tally(prices, replace_model=replace_model, calibration=calibration)
    for line in _requests(lines):
        tally.add(line)
    return tally.estimate(balance)


def _requests(lines: Iterable[bytes | str | Mapping[str, Any]]) -> Iterator[bytes | str | Mapping[str, Any]]:
    """The lines that are requests: blank ones (a file's trailing newline) left out."""
    for line in lines:
        if not isinstance(line, bytes | str) or line.strip():
            yield line
