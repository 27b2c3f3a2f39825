"""The story generator and the digest writer on Anthropic's Messages API
(``anthropic`` SDK, async; one client plays both roles).

The model answers through a forced tool call, so the passage comes back as
JSON (``{title?, sentences[], choices[]}``) instead of prose we would have to
parse. The tool's schema states the passage rules of ``outbound.roles``; the
SDK drops ``minItems``/``maxItems`` from tool schemas, so the answer is checked
against the same rules (``passage_problem``) here; an unusable answer is a
*transient* failure (the next attempt may well be fine). SDK retries are off:
the job queue owns retries.

Current models (Claude Haiku 5.5 migration guide,
https://platform.claude.com/docs/en/models/haiku-5-5/migration-guide): the
default is ``claude-haiku-5-5`` (settings); the request carries no
``temperature``/``top_p``/``top_k`` (Haiku 5.5 answers them with an error),
no assistant prefill and no ``thinking`` budget; content blocks are chosen by
``type`` (an answer may open with a thinking block). A ``refusal`` stop reason
(its safety classifiers declined; no server-side fallback) is *permanent*:
the same prompt would be declined again, so it is not retried. Not confirmed
by the pages we could read: whether Haiku 5.5's default adaptive thinking
combines with a forced ``tool_choice`` (older models refused thinking with a
forced tool); the end-to-end check against the real API is still to do.

The digest writer answers the same way, through
a forced ``write_digest`` call (``{title, sentences[], cited_items[]}``),
checked against ``digest_problem``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

import anthropic

from langlearn import languages
from outbound import tls
from outbound.errors import ProviderError, is_transient_status, retry_after
from outbound.roles import (
    MAX_CHOICES,
    MAX_DIGEST_SENTENCES,
    MIN_CHOICES,
    DigestRequest,
    GeneratedPassage,
    GenerationRequest,
    WrittenDigest,
    digest_problem,
    passage_problem,
)

if TYPE_CHECKING:
    from anthropic.types import ToolParam

logger = logging.getLogger(__name__)

PROVIDER = "anthropic"
TOOL_NAME = "write_passage"
DEFAULT_BASE_URL = "https://api.anthropic.com"

# What each CEFR level means for the text we write: vocabulary and grammar the
# learner can follow, and how long a sentence may be.
LEVEL_GUIDE = {
    "A1": "only very common everyday words, present tense, short simple sentences "
    "(at most 8 words), no subordinate clauses",
    "A2": "common everyday words, present and simple past tenses, short sentences "
    "(at most 12 words), simple connectors like 'and', 'but', 'because'",
    "B1": "familiar vocabulary with a few less common words, past and future tenses, "
    "sentences of up to 18 words with some subordinate clauses",
    "B2": "a broad vocabulary, all common tenses including the subjunctive where "
    "natural, sentences of up to 25 words",
    "C1": "rich and idiomatic vocabulary, complex sentences and varied structures",
    "C2": "literary vocabulary and style, nuance and idiom, any sentence structure",
}

SYSTEM_PROMPT = (
    "You write interactive stories for people learning a language. You write "
    "only in the target language, at the learner's CEFR level, in the second "
    "person ('you'). Each passage is 4 to 7 sentences long, continues the story "
    "coherently from what happened before, and, unless it is the final passage, "
    "ends at a moment where the learner must decide what to do next. You always "
    f"answer by calling the {TOOL_NAME} tool."
)


def review_words_instruction(words: list[str], level: str) -> str:
    """What the model is told about the learner's words to review (none: "")."""
    if not words:
        return ""
    listed = ", ".join(f'"{word}"' for word in words)
    return (
        f"The learner is reviewing these words: {listed}. Use each of them at least "
        "once, naturally, in whatever form the sentence needs (conjugated, plural, "
        f"…), keeping the whole passage at CEFR {level.upper()}; never list them or "
        "explain them."
    )


def passage_tool(
    *, first: bool, final: bool, review_words: list[str] | None = None, level: str = "A2"
) -> dict[str, Any]:
    """The tool the model must call. The final passage's schema has no choices;
    the sentences' description repeats the words the passage must use."""
    sentences = "The passage, one complete sentence per item, in order."
    if review_words:
        sentences += " " + review_words_instruction(review_words, level)
    properties: dict[str, Any] = {
        "sentences": {
            "type": "array",
            "description": sentences,
            "items": {"type": "string"},
            "minItems": 1,
        },
    }
    required = ["sentences"]
    if not final:
        properties["choices"] = {
            "type": "array",
            "description": (
                f"{MIN_CHOICES} to {MAX_CHOICES} short, distinct actions the learner "
                "can take next, each a sentence in the target language."
            ),
            "items": {"type": "string"},
            "minItems": MIN_CHOICES,
            "maxItems": MAX_CHOICES,
        }
        required.append("choices")
    if first:
        properties["title"] = {
            "type": "string",
            "description": "A short title for the whole story, in the target language.",
        }
        required.insert(0, "title")
    return {
        "name": TOOL_NAME,
        "description": "Deliver the next passage of the story.",
        "input_schema": {"type": "object", "properties": properties, "required": required},
    }


def off_level_instruction(request: GenerationRequest, level: str) -> str:
    """What asking once more says: the earlier draft's words and verb forms
    above the learner's level."""
    parts = [
        "Keep to the learner's level: an earlier draft of this passage was too hard for "
        f"CEFR {level}."
    ]
    if request.off_level_words:
        parts.append(
            f"It used words too rare for the level ({', '.join(request.off_level_words)}): "
            "do not use them; say it with common, everyday words instead."
        )
    if request.off_level_constructions:
        parts.append(
            "It used verb forms taught after the level "
            f"({', '.join(request.off_level_constructions)}): use simpler ones."
        )
    return " ".join(parts)


def build_prompt(request: GenerationRequest) -> str:
    language = languages.name(request.target_language)
    level = request.level.upper()
    lines = [
        f"Target language: {language} ({request.target_language}).",
        f"Learner's level: CEFR {level}. Use {LEVEL_GUIDE.get(level, LEVEL_GUIDE['A2'])}.",
        f"Theme: {request.theme or 'an adventure of your choosing'}.",
        "",
    ]
    if request.history:
        lines.append("The story so far:")
        for number, past in enumerate(request.history, start=1):
            lines.append(f"[Passage {number}] {past.text}")
            if past.chosen:
                lines.append(f"[The learner chose] {past.chosen}")
        lines.append("")
    if request.position == 1:
        lines.append("Write the opening passage of the story and give the story a title.")
    else:
        lines.append(
            f"Write passage {request.position}. It must open with what happens "
            "because of the learner's last choice."
        )
    if request.known_words and request.new_words:
        lines.append(
            f"The learner knows about the {request.known_words:,} most frequent words of "
            f"{language}. Use at most {request.new_words} content words beyond those (new "
            "words a reader can guess from the story), so that about 98 % of the running "
            "words are known."
        )
    if request.review_words:
        lines.append(review_words_instruction(request.review_words, level))
    if request.off_level_words or request.off_level_constructions:
        lines.append(off_level_instruction(request, level))
    if request.is_final:
        lines.append(
            "This is the final passage: bring the story to a satisfying conclusion. "
            "Offer no choices."
        )
    else:
        lines.append(
            f"End with {MIN_CHOICES} to {MAX_CHOICES} choices for what the learner does next."
        )
    return "\n".join(lines)


class AnthropicGenerator:
    follows_level_hints = True

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str = "",
        timeout: float = 60.0,
        max_tokens: int = 4096,
    ) -> None:
        self.model = model
        self.max_tokens = max_tokens
        # api_key and base_url are passed explicitly, so neither the
        # environment (ANTHROPIC_BASE_URL) nor a profile on disk is consulted.
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=base_url or DEFAULT_BASE_URL,
            timeout=timeout,
            max_retries=0,
            # The SDK's own client and defaults, with the process's TLS context.
            http_client=anthropic.DefaultAsyncHttpxClient(verify=tls.context(), timeout=timeout),
        )

    async def generate(self, request: GenerationRequest) -> GeneratedPassage:
        first, final = request.position == 1, request.is_final
        message = await self._create(
            system=SYSTEM_PROMPT,
            prompt=build_prompt(request),
            tool=passage_tool(
                first=first, final=final, review_words=request.review_words, level=request.level
            ),
        )
        return parse_message(message, first=first, final=final)

    async def write_digest(self, request: DigestRequest) -> WrittenDigest:
        """The digest writer role (``outbound.roles.DigestWriter``): the same
        client, a forced ``write_digest`` tool call."""
        message = await self._create(
            system=DIGEST_SYSTEM_PROMPT, prompt=build_digest_prompt(request), tool=digest_tool()
        )
        return parse_digest_message(message, items=len(request.items))

    async def _create(self, *, system: str, prompt: str, tool: dict[str, Any]) -> Any:
        """One Messages API call forcing ``tool``; SDK errors become ProviderError."""
        try:
            return await self._client.messages.create(
                model=self.model,
                max_tokens=self.max_tokens,
                system=system,
                messages=[{"role": "user", "content": prompt}],
                tools=[cast("ToolParam", tool)],
                tool_choice={"type": "tool", "name": tool["name"]},
            )
        except anthropic.APIStatusError as exc:
            overloaded = exc.type in {"overloaded_error", "rate_limit_error", "api_error"}
            raise ProviderError(
                f"{exc.type or 'error'}: {exc.api_message or exc.message}",
                provider=PROVIDER,
                transient=overloaded or is_transient_status(exc.status_code),
                status=exc.status_code,
                retry_after=retry_after(exc.response),
            ) from exc
        except anthropic.APITimeoutError as exc:
            raise ProviderError("request timed out", provider=PROVIDER, transient=True) from exc
        except anthropic.APIConnectionError as exc:
            raise ProviderError(
                f"connection failed: {exc}", provider=PROVIDER, transient=True
            ) from exc
        except anthropic.AnthropicError as exc:
            # Anything else the SDK raises (an unreadable body, say) may pass.
            raise ProviderError(f"{exc}", provider=PROVIDER, transient=True) from exc


# --- The digest writer ------------------------------------------------------------

DIGEST_TOOL_NAME = "write_digest"

DIGEST_SYSTEM_PROMPT = (
    "You write a short daily news reading for people learning a language. You "
    "write only in the target language, at the learner's CEFR level, in plain "
    "neutral prose (not in the second person), from the news items you are given "
    "and nothing else: no invented facts, no opinions. Items may be in other "
    "languages; you always write in the target language. The reading is 5 to 10 "
    "sentences long and covers two to four of the items, the most interesting "
    f"first. You always answer by calling the {DIGEST_TOOL_NAME} tool, citing the "
    "numbers of the items you used."
)


def digest_tool() -> dict[str, Any]:
    return {
        "name": DIGEST_TOOL_NAME,
        "description": "Deliver the day's news reading and the items it used.",
        "input_schema": {
            "type": "object",
            "properties": {
                "title": {
                    "type": "string",
                    "description": "A short headline for the reading, in the target language.",
                },
                "sentences": {
                    "type": "array",
                    "description": "The reading, one complete sentence per item, in order.",
                    "items": {"type": "string"},
                    "minItems": 1,
                    "maxItems": MAX_DIGEST_SENTENCES,
                },
                "cited_items": {
                    "type": "array",
                    "description": "The numbers of the news items the reading used.",
                    "items": {"type": "integer"},
                    "minItems": 1,
                },
            },
            "required": ["title", "sentences", "cited_items"],
        },
    }


def build_digest_prompt(request: DigestRequest) -> str:
    level = request.level.upper()
    lines = [
        f"Target language: {languages.name(request.target_language)} ({request.target_language}).",
        f"Learner's level: CEFR {level}. Use {LEVEL_GUIDE.get(level, LEVEL_GUIDE['A2'])}.",
        f"The news of {request.date}:",
        "",
    ]
    for item in request.items:
        lines.append(f"[{item.number}] ({languages.name(item.language)}) {item.headline}")
        if item.summary:
            lines.append(f"    {item.summary}")
    lines += ["", "Write the day's reading and cite the numbers of the items you used."]
    return "\n".join(lines)


def parse_digest_message(message: Any, *, items: int) -> WrittenDigest:
    """Turn the model's ``write_digest`` call into a digest, or reject it (transient)."""
    data = _tool_input(message, DIGEST_TOOL_NAME)
    sentences = _strings(data.get("sentences"), "sentences")
    cited_raw = data.get("cited_items")
    if not isinstance(cited_raw, list) or not all(
        isinstance(number, int) and not isinstance(number, bool) for number in cited_raw
    ):
        raise _content_failure("cited_items must be a list of integers")
    cited = list(dict.fromkeys(cited_raw))
    problem = digest_problem(sentences, cited, items=items)
    if problem:
        raise _content_failure(problem)
    title = data.get("title")
    input_tokens, output_tokens = _usage(message)
    return WrittenDigest(
        sentences=sentences,
        cited=cited,
        title=title.strip() if isinstance(title, str) else "",
        input_tokens=input_tokens,
        output_tokens=output_tokens,
    )


def _tool_input(message: Any, name: str) -> dict[str, Any]:
    stop_reason = getattr(message, "stop_reason", None)
    if stop_reason == "refusal":
        raise ProviderError(
            "the model declined to write this passage (stop_reason 'refusal': its safety "
            "classifiers flagged the story so far or the theme); retrying the same prompt "
            "is declined again, so the learner needs a new story or another theme",
            provider=PROVIDER,
            transient=False,
        )
    if stop_reason == "max_tokens":
        raise _content_failure(f"stopped by {stop_reason}")
    blocks = getattr(message, "content", None) or []
    call = next(
        (
            block
            for block in blocks
            if getattr(block, "type", None) == "tool_use" and getattr(block, "name", None) == name
        ),
        None,
    )
    if call is None or not isinstance(getattr(call, "input", None), dict):
        raise _content_failure(f"no {name} call (stop_reason {stop_reason!r})")
    return call.input


def _usage(message: Any) -> tuple[int, int]:
    usage = getattr(message, "usage", None)
    input_tokens = sum(
        getattr(usage, field, None) or 0
        for field in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )
    return input_tokens, getattr(usage, "output_tokens", None) or 0


def _content_failure(problem: str) -> ProviderError:
    return ProviderError(f"unusable answer: {problem}", provider=PROVIDER, transient=True)


def parse_message(message: Any, *, first: bool, final: bool) -> GeneratedPassage:
    """Turn the model's tool call into a passage, or reject it (transient)."""
    data = _tool_input(message, TOOL_NAME)
    sentences = _strings(data.get("sentences"), "sentences")
    choices = [] if final else _strings(data.get("choices"), "choices")
    problem = passage_problem(sentences, choices, is_final=final)
    if problem:
        raise _content_failure(problem)
    title = data.get("title")
    title = title.strip() if first and isinstance(title, str) and title.strip() else None
    input_tokens, output_tokens = _usage(message)
    return GeneratedPassage(
        sentences=sentences,
        choices=choices,
        title=title,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
    )


def _strings(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _content_failure(f"{field} must be a list of strings")
    return [item.strip() for item in value if item.strip()]
