"""The form's input handling as properties: return URLs, languages, typed logins, texts."""

from __future__ import annotations

import asyncio
import string
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.registry import vendor_names
from connector.errors import InputError
from connector.forms.guidance import guidance_for
from connector.forms.limits import FormLimits, SlidingWindow
from connector.forms.links import check_return_url, return_target
from connector.forms.pages import _check_fields
from connector.forms.texts import (
    CATALOG,
    LANGUAGES,
    Plural,
    Texts,
    negotiate,
    parse_accept_language,
)
from connector.forms.waiting import InFlight
from vault import Secret

ALLOW = [
    "https://tps.example.com/settings/",
    "https://app.tps.example.org",
    "http://127.0.0.1:8123/x",
]

segment = st.text(alphabet=string.ascii_letters + string.digits + "-_~", min_size=1, max_size=12)
query = st.dictionaries(segment, segment, max_size=3)


@given(st.text(max_size=300))
def test_any_string_is_accepted_unchanged_or_refused_cleanly(url: str) -> None:
    refusal: str | None = None
    accepted = None
    try:
        accepted = check_return_url(url, ALLOW)
    except InputError as error:
        refusal = str(error)
    if refusal is not None:
        assert len(url) < 16 or url not in refusal  # the message never repeats the input
        return
    assert accepted == url
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https") and parts.username is None
    assert (parts.hostname or "").lower().rstrip(".") in {
        "tps.example.com",
        "app.tps.example.org",
        "127.0.0.1",
    }


@given(st.lists(segment, max_size=4), query)
def test_urls_under_an_allowed_prefix_are_accepted(path: list[str], params: dict[str, str]) -> None:
    from urllib.parse import urlencode

    url = "https://tps.example.com/settings/" + "/".join(path)
    if params:
        url += "?" + urlencode(params)
    assert check_return_url(url, ALLOW) == url
    assert check_return_url("https://APP.tps.example.org:443/" + "/".join(path), ALLOW)


@given(
    st.sampled_from(
        [
            "https://tps.example.com.evil.example/settings/",
            "https://evil.example/https://tps.example.com/settings/",
            "https://tps.example.com/settingsX/",
            "https://tps.example.com/other/",
            "http://tps.example.com/settings/",
            "https://tps.example.com:8443/settings/",
            "https://tps.example.com@evil.example/settings/",
            "https://a@tps.example.com/settings/",
            "https://tps.example.com/settings/../admin",
            "https://tps.example.com/settings/%2E%2E/admin",
            "//tps.example.com/settings/",
            "javascript://tps.example.com/settings/%0aalert(1)",
            "https://tps.example.com\\@evil.example/settings/",
            "https://app.tps.example.org.evil.example/",
            "http://127.0.0.1:8123/xy",
        ]
    ),
    st.lists(segment, max_size=2),
)
def test_lookalike_urls_are_refused(base: str, more: list[str]) -> None:
    with pytest.raises(InputError):
        check_return_url(base + "/".join(more), ALLOW)


def test_no_allowlist_means_no_return_url() -> None:
    with pytest.raises(InputError):
        check_return_url("https://tps.example.com/settings/", [])


@given(query, st.one_of(st.none(), segment), st.sampled_from(["active", "cancelled"]))
def test_the_return_target_carries_account_and_status(
    params: dict[str, str], account_id: str | None, status: str
) -> None:
    from urllib.parse import urlencode

    params = {k: v for k, v in params.items() if k not in ("account_id", "status")}
    url = "https://tps.example.com/settings/x" + ("?" + urlencode(params) if params else "")
    target = return_target(url + "#frag", account_id, status)
    parts = urlsplit(target)
    got = parse_qs(parts.query)
    assert got.pop("status") == [status]
    assert got.pop("account_id", None) == ([account_id] if account_id else None)
    assert got == {k: [v] for k, v in params.items()}
    assert parts.fragment == "frag"
    # A status the TPS put there itself is replaced, not doubled.
    assert parse_qs(urlsplit(return_target(url + "?status=x", None, status)).query)["status"] == [
        status
    ]


@given(st.one_of(st.none(), st.text(max_size=40)), st.one_of(st.none(), st.text(max_size=200)))
def test_negotiation_always_names_a_supported_language(
    locale: str | None, header: str | None
) -> None:
    assert negotiate(locale, header) in LANGUAGES


@pytest.mark.parametrize(
    ("locale", "header", "expected"),
    [
        ("de", "pl", "de"),
        ("pl-PL", None, "pl"),
        ("fr", "pl;q=0.4, de-CH;q=0.9, en;q=0.8", "de"),
        (None, "*, en;q=0.1", "en"),
        (None, "de;q=0, pl", "pl"),
        (None, "xx, yy", "en"),
        (None, "DE-de", "de"),
    ],
)
def test_negotiation_examples(locale: str | None, header: str | None, expected: str) -> None:
    assert negotiate(locale, header) == expected


@given(st.text(max_size=300))
def test_accept_language_parsing_never_fails(header: str) -> None:
    assert set(parse_accept_language(header)) <= set(LANGUAGES)


@given(st.text(max_size=400), st.text(max_size=40), st.text(max_size=40))
def test_typed_fields_are_checked_and_never_echo_secrets(
    username: str, password: str, totp: str
) -> None:
    login, errors, shown = _check_fields(
        {"username": username, "password": password, "totp_secret": totp}
    )
    assert set(errors) <= {"username", "password", "totp_secret"}
    assert all(key in CATALOG["en"] for key in errors.values())
    if login is None:
        assert errors
    else:
        assert not errors
        assert login.username == username.strip()
        assert login.username.isprintable()
        assert login.password.reveal() == password
        assert len(password) < 8 or password in username or password not in repr(login)
    assert len(shown) <= 320


@settings(max_examples=50)
@given(st.text(alphabet=string.printable, min_size=1, max_size=40))
def test_usernames_with_control_characters_are_refused(name: str) -> None:
    _, errors, _ = _check_fields({"username": name + "\x07", "password": "x"})
    assert errors.get("username") == "username_invalid"


def test_every_text_exists_in_every_language_with_the_same_placeholders() -> None:
    import string as s

    def fields(text: str | Plural) -> set[str]:
        if isinstance(text, Plural):
            return {text.by}.union(*(fields(form) for form in text.forms.values()))
        return {name for _, name, _, _ in s.Formatter().parse(text) if name}

    for lang in LANGUAGES:
        assert set(CATALOG[lang]) == set(CATALOG["en"]), lang
        for key, text in CATALOG["en"].items():
            assert fields(CATALOG[lang][key]) == fields(text), (lang, key)
            if lang != "en" and key not in ("time_format",):
                assert CATALOG[lang][key] != text, (lang, key)


@pytest.mark.parametrize(
    ("lang", "minutes", "words"),
    [
        ("pl", 1, "Odczekaj 1 minutę"),
        ("pl", 3, "Odczekaj 3 minuty"),
        ("pl", 5, "Odczekaj 5 minut"),
        ("pl", 12, "Odczekaj 12 minut"),
        ("pl", 22, "Odczekaj 22 minuty"),
        ("de", 1, "Warten Sie 1 Minute "),
        ("de", 15, "Warten Sie 15 Minuten "),
        ("en", 1, "Wait 1 minute,"),
        ("en", 2, "Wait 2 minutes,"),
    ],
)
def test_numbers_take_the_plural_form_of_their_language(
    lang: str, minutes: int, words: str
) -> None:
    assert words in Texts.of(lang)("rate_limited_body", minutes=minutes)


def test_times_are_shown_in_the_dentists_time_zone() -> None:
    moment = datetime(2026, 12, 6, 20, 5, tzinfo=UTC)
    assert Texts.of("pl").moment(moment) == "6 grudnia 2026, godz. 21:05 (Europe/Warsaw)"
    assert Texts.of("de").moment(moment) == "6. Dezember 2026 um 21:05 (Europe/Berlin)"
    assert Texts.of("en").moment(moment) == "December 6, 2026 at 8:05\u202fPM (UTC)"
    assert (
        Texts.of("en", zone="America/New_York")
        .moment(moment)
        .endswith("3:05\u202fPM (America/New_York)")
    )
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert "14:00" in Texts.of("de").moment(summer)


@pytest.mark.parametrize("vendor", vendor_names())
def test_every_vendor_has_guidance_in_every_language(vendor: str) -> None:
    guide = guidance_for(vendor)
    for lang in LANGUAGES:
        assert guide.texts[lang].keys() == guide.texts["en"].keys()
        assert len(guide.steps[lang]) == len(guide.steps["en"])
        for sentence, translations in guide.access_texts.items():
            assert sentence and set(translations) == set(LANGUAGES) - {"en"}


def test_the_sliding_window() -> None:
    now = [0.0]
    window = SlidingWindow(2, 60, clock=lambda: now[0])
    assert window.retry_after("a") is None
    window.hit("a")
    window.hit("a")
    assert window.retry_after("a") == 60
    assert window.retry_after("b") is None
    now[0] = 30
    assert window.retry_after("a") == 30
    now[0] = 60.5
    assert window.retry_after("a") is None
    limits = FormLimits(per_token=5, per_address=1, window=10, clock=lambda: now[0])
    assert limits.attempt("s1", "10.0.0.1") is None
    assert limits.attempt("s2", "10.0.0.1") is not None
    assert limits.attempt("s2", "10.0.0.2") is None


async def test_a_waiting_sign_in_gets_its_code_or_gives_up() -> None:
    flight = InFlight("fs_1", "user@example.com", code_wait=5)

    async def sign_in() -> str | None:
        first = await flight.code_provider("email")
        second = await flight.code_provider("email")
        return f"{first.reveal() if first else None}/{second.reveal() if second else None}"

    task = asyncio.create_task(sign_in())
    flight.task = task  # type: ignore[assignment]
    await flight.settle(5)
    assert flight.awaiting_code and flight.channel == "email" and flight.asks == 1
    assert flight.hand_code(Secret("123456"))
    assert not flight.hand_code(Secret("654321"))  # the first is on its way
    await flight.settle(5)
    assert flight.awaiting_code and flight.asks == 2
    flight.withdraw()
    assert await task == "123456/None"

    quick = InFlight("fs_2", "user@example.com", code_wait=0.05)
    assert await quick.code_provider("totp") is None
    assert not quick.awaiting_code
