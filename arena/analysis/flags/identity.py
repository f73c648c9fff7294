"""Identity leaks: an answer that says which model it is ("I'm SmolLM, trained by Hugging Face"), which
unblinds the judge; and a chat template whose own system prompt tells the model its name.

Only self-identification counts, never an ordinary use of the words: llamas in the Andes, a meta-analysis,
a gem, or a company named in an answer about it. A family name counts after a first-person lead-in ("I am",
"my name is", "an assistant named"); a vendor or family counts as a creator when the answer says it was
made by it ("I was trained by Meta", "As a model developed by OpenAI"), not when it says a product was.
Family names are matched with their capital letter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

FAMILIES = (
    r"SmolLM\d*(?:-\d+[MB])?",
    r"TinyLlama",
    r"Llama(?:[ -]?\d(?:\.\d)?)?",
    r"Gemma(?:[ -]?\d)?",
    r"Qwen\d*(?:\.\d)?",
    r"Mistral",
    r"Mixtral",
    r"Phi(?:-\d(?:\.\d)?)?",
    r"ChatGPT",
    r"GPT-?\d(?:\.\d)?o?",
    r"Claude",
    r"Gemini",
    r"DeepSeek",
    r"Falcon",
    r"OLMo",
    r"Vicuna",
    r"StableLM",
    r"Zephyr",
    r"Granite",
    r"Nemotron",
    r"InternLM",
    r"ChatGLM",
    r"Baichuan",
    r"PaLM",
    r"Bard",
)
VENDORS = (
    r"OpenAI",
    r"Hugging\s?Face",
    r"Meta(?: AI)?",
    r"Google(?: DeepMind)?",
    r"DeepMind",
    r"Anthropic",
    r"Microsoft",
    r"Mistral AI",
    r"Alibaba(?: Cloud)?",
    r"DeepSeek",
    r"Technology Innovation Institute",
    r"Allen Institute(?: for AI)?",
    r"AI2",
    r"Stability AI",
    r"IBM",
    r"Cohere",
    r"NVIDIA",
    r"Zhipu(?: AI)?",
    r"Baidu",
)
_FAMILY = "(?:" + "|".join(FAMILIES) + ")"
_VENDOR = "(?:" + "|".join(VENDORS) + ")"
_SELF_NAMED = re.compile(
    r"(?i:\b(?:I am|I'm|I’m|my name is|call me|I go by|you can call me)\s+"
    r"(?:(?:an?|the|your)\s+)?(?:(?:AI|helpful|friendly|language|large|chat|assistant|model|bot|chatbot)\s+){0,3}"
    r"(?:(?:called|named)\s+)?)"
    rf"({_FAMILY})\b"
)
_NAMED_ASSISTANT = re.compile(rf"(?i:\b(?:assistant|model|chatbot|AI|bot)\s+(?:named|called)\s+)({_FAMILY})\b")
_MADE = r"(?:developed|trained|created|made|built|designed|fine-tuned|pre-trained|released|programmed)"
_CREATED_BY = re.compile(
    r"(?i:\b(?:I am|I'm|I’m|I was|I've been|I have been)\s+(?:[\w-]+,?\s+){0,4}?"
    + _MADE
    + r"\s+by\s+(?:the\s+)?(?:team\s+at\s+|researchers\s+at\s+)?)"
    + rf"({_VENDOR}|{_FAMILY})\b"
)
_AS_A_MODEL_BY = re.compile(
    r"(?i:\bas an?\s+(?:[\w-]+\s+){0,2}?(?:AI|model|assistant|chatbot|bot)\s+(?:[\w-]+\s+){0,2}?"
    + _MADE
    + r"\s+by\s+(?:the\s+)?(?:team\s+at\s+|researchers\s+at\s+)?)"
    + rf"({_VENDOR}|{_FAMILY})\b"
)
_BELONGS_TO = re.compile(
    r"(?i:\b(?:(?:find|reach|contact|visit)\s+me\s+at|I\s+(?:work|am\s+employed)\s+(?:at|for)|"
    r"I(?:'m|’m|\s+am)\s+(?:a\s+)?(?:part|product)\s+of|my\s+(?:creators|developers|makers|team)\s+(?:at|from))"
    r"\s+(?:the\s+)?)"
    rf"({_VENDOR}|{_FAMILY})\b"
)
"""A first person tied to a maker mid-sentence: "you can find me at SmolLM's ...", "I work for OpenAI"."""
_POSSESSED_BY = re.compile(
    r"(?i:\b(?:I am|I'm|I’m)\s+(?:[\w-]+,\s+)?)"
    rf"({_VENDOR}|{_FAMILY})['’]s\s+(?i:assistant|AI|model|chatbot|bot|language model)\b"
)
""""I'm Kira, SmolLM's assistant": the answer gives itself a name but says whose it is."""
_ANY_NAME = re.compile(rf"\b({_FAMILY}|{_VENDOR})\b")


@dataclass(frozen=True)
class IdentityLeak:
    hit: bool
    evidence: list[str] = field(default_factory=list)


def detect_identity(text: str, own_label: str | None = None) -> IdentityLeak:
    """Where the answer names itself: a model family, its maker, or the contestant's own label."""
    found: list[str] = []
    for pattern in (_SELF_NAMED, _NAMED_ASSISTANT, _CREATED_BY, _AS_A_MODEL_BY, _BELONGS_TO, _POSSESSED_BY):
        found.extend(match.group(0).strip() for match in pattern.finditer(text))
    if own_label and len(own_label) >= 3:
        own = re.compile(rf"(?i:\b(?:I am|I'm|I’m|my name is)\s+){re.escape(own_label)}(?!\w)")
        found.extend(match.group(0) for match in own.finditer(text))
    unique = list(dict.fromkeys(found))
    return IdentityLeak(hit=bool(unique), evidence=unique[:5])


def names_in_prompt(rendered_prompt: str | None, message_texts: Sequence[str]) -> list[str]:
    """Model or vendor names the rendered prompt holds that none of the messages sent do: a chat template's
    default system prompt ("You are SmolLM, trained by Hugging Face") tells the model who it is."""
    if not rendered_prompt:
        return []
    sent = " ".join(message_texts)
    names = [match.group(1) for match in _ANY_NAME.finditer(rendered_prompt)]
    return list(dict.fromkeys(name for name in names if name not in sent))[:5]
