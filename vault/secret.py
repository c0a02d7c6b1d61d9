"""Secret values that cannot be shown by accident.

A `Secret` wraps a password, TOTP seed, token or key. Its repr, str, format and log rendering
show a fixed mask; it refuses to be pickled (a pickle lands in caches, queues and crash dumps);
`copy` and `deepcopy` hand back the same object rather than cloning the value. The only way to
the value is `reveal()`, which makes every use of plaintext easy to find in a review.

It is a pydantic field type too: validated from a string, dumped as the mask (so a model dump,
a settings dump or an OpenAPI example never carries the value).
"""

from __future__ import annotations

import hmac
from typing import Any, NoReturn

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

MASK = "**********"


class Secret:
    """A string that only `reveal()` shows."""

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str | Secret) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError("a Secret wraps a str")
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        """The plaintext. Keep the result in a local, pass it straight to its one use."""
        return self._value

    def reveal_bytes(self) -> bytes:
        return self._value.encode("utf-8")

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("a Secret is immutable")

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, format_spec: str) -> str:
        return MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        """Constant-time comparison, so equality checks do not leak the value through timing."""
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self.reveal_bytes(), other.reveal_bytes())

    def __hash__(self) -> int:
        # Hashing by value would let a dict probe reveal it; identity is enough for our uses.
        return id(self)

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")

    def __getstate__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def validate(value: Any) -> Secret:
            if isinstance(value, Secret):
                return value
            if isinstance(value, str):
                return cls(value)
            raise ValueError("must be a string")

        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda _value: MASK, when_used="always"
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "format": "password", "writeOnly": True}


class PendingSecret(Secret):
    """A secret not decrypted yet: it gets its value once, when it is needed (a password is
    decrypted only for a sign-in, not for every run that reuses a saved session). Revealing it
    before then is a programming error, said loudly rather than sending an empty password."""

    __slots__ = ()

    def __init__(self) -> None:  # no value yet
        pass

    def fill(self, value: Secret) -> None:
        if self.filled:
            raise TypeError("a PendingSecret gets its value once")
        object.__setattr__(self, "_value", value.reveal())

    @property
    def filled(self) -> bool:
        return hasattr(self, "_value")

    def reveal(self) -> str:
        if not self.filled:
            raise RuntimeError("the secret was used before it was decrypted (call prepare())")
        return self._value

    def reveal_bytes(self) -> bytes:
        return self.reveal().encode("utf-8")
