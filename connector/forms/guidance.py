"""The vendor's advice on the form, read from `adapters/<vendor>/guidance.py`.

A vendor's words (which login to create, what its fields are called, the least-privilege
sentences in every language) live with its adapter, so adding a vendor touches no form code.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import cache
from typing import cast

from connector.forms.texts import DEFAULT_LANGUAGE


@dataclass(frozen=True)
class VendorGuidance:
    vendor: str
    portal: str
    texts: Mapping[str, Mapping[str, str]]
    steps: Mapping[str, tuple[str, ...]]
    access_texts: Mapping[str, Mapping[str, str]]
    limited: Callable[[Collection[str]], str | None]

    def text(self, language: str, key: str) -> str:
        return self.texts.get(language, {}).get(key) or self.texts[DEFAULT_LANGUAGE][key]

    def steps_in(self, language: str) -> tuple[str, ...]:
        return self.steps.get(language) or self.steps[DEFAULT_LANGUAGE]

    def access_sentence(self, sentence: str | None, language: str) -> str | None:
        """An adapter's `Access` sentence (English) in `language`, when translated."""
        if sentence is None:
            return None
        return self.access_texts.get(sentence, {}).get(language, sentence)

    def limited_advice(self, capabilities: Collection[str], language: str) -> str | None:
        return self.access_sentence(self.limited(capabilities), language)


@cache
def guidance_for(vendor: str) -> VendorGuidance:
    module = importlib.import_module(f"adapters.{vendor}.guidance")
    return VendorGuidance(
        vendor=vendor,
        portal=cast(str, module.PORTAL),
        texts=cast(Mapping[str, Mapping[str, str]], module.TEXTS),
        steps=cast(Mapping[str, tuple[str, ...]], module.STEPS),
        access_texts=cast(Mapping[str, Mapping[str, str]], module.ACCESS_TEXTS),
        limited=cast(Callable[[Collection[str]], str | None], module.limited_access),
    )
