"""Settings: TOML plus environment (environment wins), clear one-line errors, secret files."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from connector.errors import ConfigError
from connector.settings import Settings, load_settings
from vault import Secret

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("CONNECTOR_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def _fields(model: type[BaseModel], prefix: str = "") -> set[str]:
    names = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= _fields(annotation, f"{prefix}{name}.")
        else:
            names.add(f"{prefix}{name}")
    return names


def _documented(doc: dict[str, object], prefix: str = "") -> set[str]:
    names = set()
    for key, value in doc.items():
        if isinstance(value, dict):
            names |= _documented(value, f"{prefix}{key}.")
        else:
            names.add(f"{prefix}{key}")
    return names


def test_example_config_documents_every_setting_and_loads() -> None:
    example = ROOT / "config.example.toml"
    doc = tomllib.loads(example.read_text())
    assert _documented(doc) == _fields(Settings)
    text = example.read_text()
    for name in _fields(Settings):
        key = name.rsplit(".", 1)[-1]
        # Every setting has a comment line right above it (or above its group).
        assert re.search(rf"#.*\n(?:[^\n]*\n)?{re.escape(key)} =", text), name
    settings = load_settings(example)
    # The data dir is the example's own folder's `.connector` (relative to the config file).
    assert settings == Settings(data_dir=(ROOT / ".connector").resolve())


def test_defaults_are_embedded_sqlite_and_key_file(tmp_path: Path) -> None:
    settings = load_settings()
    here = tmp_path.resolve()  # the current directory, made absolute at load time
    assert settings.database_url == f"sqlite+aiosqlite:///{here}/.connector/connector.db"
    assert settings.key_file == here / ".connector" / "keys.json"
    assert settings.embedded


def test_connector_toml_in_the_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / "connector.toml").write_text('data_dir = "state"\n[log]\nlevel = "debug"\n')
    settings = load_settings()
    assert settings.data_dir == (tmp_path / "state").resolve()
    assert settings.log.level == "debug"


def test_environment_wins_over_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[api]\nport = 9000\nhost = "0.0.0.0"\n')
    monkeypatch.setenv("CONNECTOR_API__PORT", "9100")
    settings = load_settings(path)
    assert settings.api.port == 9100
    assert settings.api.host == "0.0.0.0"


def test_secret_settings_from_env_and_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONNECTOR_API__TOKENS", "token-aaaaaaaaaaaaaaa1, token-bbbbbbbbbbbbbbb2")
    settings = load_settings()
    assert [t.reveal() for t in settings.api.tokens] == [
        "token-aaaaaaaaaaaaaaa1",
        "token-bbbbbbbbbbbbbbb2",
    ]
    assert "token-aaaa" not in repr(settings) and "token-aaaa" not in settings.model_dump_json()
    monkeypatch.delenv("CONNECTOR_API__TOKENS")
    keys_file = tmp_path / "kek.txt"
    keys_file.write_text("k1:" + "A" * 43 + "=\n")
    tokens_file = tmp_path / "tokens.txt"
    tokens_file.write_text("file-token-cccccccccc\n")
    monkeypatch.setenv("CONNECTOR_VAULT__PROVIDER", "env")
    monkeypatch.setenv("CONNECTOR_VAULT__KEYS_FILE", str(keys_file))
    monkeypatch.setenv("CONNECTOR_API__TOKENS_FILE", str(tokens_file))
    settings = load_settings()
    assert isinstance(settings.vault.keys, Secret)
    assert settings.vault.keys.reveal() == "k1:" + "A" * 43 + "="
    assert [t.reveal() for t in settings.api.tokens] == ["file-token-cccccccccc"]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"CONNECTOR_VAULT__PROVIDER": "kms"},
            "setting vault.provider (CONNECTOR_VAULT__PROVIDER): ",
        ),
        ({"CONNECTOR_API__PORT": "99999"}, "setting api.port (CONNECTOR_API__PORT): "),
        ({"CONNECTOR_VAULT__PROVIDER": "env"}, "settings [vault]: provider 'env' needs"),
        ({"CONNECTOR_API__TOKENS": "short-one"}, "settings [api]: every API token must be"),
        ({"CONNECTOR_DATABASE__URL": "mysql://x"}, "setting database.url"),
        (
            {"CONNECTOR_DATABASE__URL": "sqlite+aiosqlite:///:memory:"},
            "setting database.url (CONNECTOR_DATABASE__URL): SQLite needs a file",
        ),
        ({"CONNECTOR_LOG__LEVEL": "loud"}, "setting log.level"),
        ({"CONNECTOR_VAULT__KEYS_FILE": "/nonexistent/keys"}, "cannot read vault.keys_file"),
    ],
)
def test_invalid_settings_give_one_clear_line(
    env: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message
    for value in env.values():
        if len(value) > 5 and not value.startswith("/"):
            assert value not in message  # never echo the input


def test_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("data_dir = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml")
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[api]\nprot = 1\n")
    with pytest.raises(ConfigError, match=r"setting api\.prot .*Extra inputs"):
        load_settings(unknown)


@given(st.text(min_size=12, max_size=40).filter(lambda s: "\x00" not in s and "," not in s))
def test_a_rejected_secret_value_is_never_echoed(value: str) -> None:
    import os

    os.environ["CONNECTOR_API__TOKENS"] = value.strip() + ",x"
    try:
        with pytest.raises(ConfigError) as caught:
            load_settings()
        assert value.strip() not in str(caught.value) or len(value.strip()) < 2
    finally:
        del os.environ["CONNECTOR_API__TOKENS"]
