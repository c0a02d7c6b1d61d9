"""`absolute_url` is `urljoin`, whatever link a portal sends."""

from __future__ import annotations

from urllib.parse import urljoin

from hypothesis import example, given
from hypothesis import strategies as st

from adapters.http.parse import absolute_url

bases = st.sampled_from(
    [
        "https://portal.test",
        "https://portal.test/",
        "http://127.0.0.1:8080/x/y",
        "HTTPS://User@Portal.test:443/a?b#c",
        "file:///tmp/x",
        "portal.test/no-scheme",
    ]
)
# Links as portals write them, and the characters that make `urljoin` resolve, drop or keep.
links = st.one_of(
    st.text(alphabet="/.?#;%:@ ab-_~\t=&", max_size=12),
    st.text(max_size=8).map(lambda tail: "/Cases/7/" + tail),
    st.from_regex(
        r"/[A-Za-z0-9._~-]{1,6}(/[A-Za-z0-9._~-]{0,6}){0,3}(\?[ -~]{0,6})?", fullmatch=True
    ),
)


@given(bases, links)
@example("https://portal.test", "/Cases/CC-1/Setups/S-1/Viewer")
@example("https://portal.test/x/", "/a//b")
@example("https://portal.test/x/", "/a/./b/../c")
@example("https://portal.test/x/", "/a?")
@example("https://portal.test/x/", "/a;p?q")
def test_a_link_is_made_absolute_as_urljoin_makes_it(base: str, link: str) -> None:
    assert absolute_url(base, link) == urljoin(base, link)
