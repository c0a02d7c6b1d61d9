"""A Secret never shows its value: repr, str, format, logging, pickling, tracebacks."""

from __future__ import annotations

import copy
import io
import json
import logging
import pickle
import sys
import traceback

import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from connector.logs import configure_logging
from vault import MASK, Secret

# Secrets of 12+ characters that are not themselves the mask or made of mask characters.
secret_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="*"),
    min_size=12,
    max_size=64,
).filter(lambda s: s.strip() == s and len(s.strip()) >= 12)


@given(secret_text)
def test_repr_str_format_never_show_the_value(value: str) -> None:
    secret = Secret(value)
    shown = [repr(secret), str(secret), f"{secret}", f"{secret!r}", f"{secret:>40}", "%s" % secret]  # noqa: UP031
    assert all(value not in text for text in shown)
    assert secret.reveal() == value


@given(secret_text)
@settings(max_examples=50)
def test_logging_never_shows_the_value(value: str) -> None:
    stream = io.StringIO()
    configure_logging(level="debug", fmt="json", stream=stream)
    secret = Secret(value)
    structlog.get_logger("t").info("login", password=secret, nested={"x": secret}, s=secret)
    logging.getLogger("stdlib").warning("value %s and %r", secret, secret)
    logging.getLogger("stdlib").warning("dict %s", {"password": secret})
    output = stream.getvalue()
    assert value not in output
    assert json.dumps(value)[1:-1] not in output
    assert output.count("\n") == 3


@given(secret_text)
@settings(max_examples=50)
def test_tracebacks_never_show_the_value(value: str) -> None:
    secret = Secret(value)
    stream = io.StringIO()
    configure_logging(level="debug", fmt="json", stream=stream)
    try:
        raise RuntimeError(f"login failed for {secret}")
    except RuntimeError:
        text = traceback.format_exc()
        structlog.get_logger("t").exception("failed")
        logging.getLogger("stdlib").exception("failed")
    assert value not in text
    assert value not in stream.getvalue()
    assert "RuntimeError" in stream.getvalue()


def test_console_tracebacks_have_no_local_variables() -> None:
    stream = io.StringIO()
    configure_logging(level="debug", fmt="console", stream=stream)
    plaintext = "console-plaintext-1234567"  # a revealed password in a local variable
    try:
        raise ValueError("boom")
    except ValueError:
        structlog.get_logger("t").exception("failed", local_hint=len(plaintext))
    output = stream.getvalue()
    assert "ValueError: boom" in output
    assert plaintext not in output


def test_pickle_is_refused() -> None:
    secret = Secret("a-long-enough-secret")
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(secret)
    with pytest.raises(TypeError):
        pickle.dumps({"nested": [secret]})


def test_copy_keeps_the_same_object_and_equality_is_by_value() -> None:
    secret = Secret("a-long-enough-secret")
    assert copy.copy(secret) is secret
    assert copy.deepcopy({"s": secret})["s"] is secret
    assert Secret("a-long-enough-secret") == secret
    assert Secret("another-long-secret!") != secret
    with pytest.raises(AttributeError):
        secret._value = "changed"


def test_pydantic_field_validates_and_dumps_the_mask() -> None:
    class Form(BaseModel):
        password: Secret

    form = Form(password="hunter2-but-longer")
    assert isinstance(form.password, Secret)
    assert form.password.reveal() == "hunter2-but-longer"
    assert "hunter2" not in repr(form)
    assert form.model_dump()["password"] == MASK
    assert "hunter2" not in form.model_dump_json()
    schema = Form.model_json_schema()["properties"]["password"]
    assert schema["writeOnly"] is True


def test_uncaught_exception_output_has_no_value(capsys: pytest.CaptureFixture[str]) -> None:
    secret = Secret("uncaught-secret-value-123")
    try:
        raise KeyError(str(secret))
    except KeyError:
        sys.excepthook(*sys.exc_info())
    assert "uncaught-secret-value-123" not in capsys.readouterr().err
