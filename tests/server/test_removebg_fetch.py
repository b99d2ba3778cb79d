"""The URL fetcher of the remove.bg endpoint: which addresses it refuses (SSRF), redirects
re-checked hop by hop, byte and time limits. A local server stands in for the internet; the
address policy is widened to loopback only where a test needs to reach it."""

from __future__ import annotations

import ipaddress

import pytest
from removebg_helpers import Route, local_site

from alphacut.interfaces.server.removebg_fetch import (
    FetchPolicy,
    FetchRefused,
    check_url,
    fetch,
    is_public_address,
)

NOT_PUBLIC = ["127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "172.31.255.254",
              "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
              "255.255.255.255", "192.0.2.1", "198.18.0.1", "240.0.0.1", "::1", "::",
              "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1",
              "::ffff:10.0.0.1", "::ffff:169.254.169.254", "64:ff9b::7f00:1",
              "64:ff9b::a9fe:a9fe", "2002:7f00:1::1", "2002:c0a8:101::1", "2001:0::1"]
PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "2a00:1450:4001::1",
          "64:ff9b::808:808", "2002:808:808::1"]


def loopback_too(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """The test policy: public addresses plus loopback (where the local site listens)."""
    return ip.is_loopback or is_public_address(ip)


@pytest.mark.parametrize("text", NOT_PUBLIC)
def test_non_public_addresses_are_refused(text: str) -> None:
    assert not is_public_address(ipaddress.ip_address(text))


@pytest.mark.parametrize("text", PUBLIC)
def test_public_addresses_are_allowed(text: str) -> None:
    assert is_public_address(ipaddress.ip_address(text))


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/x.png", "http://localhost:8000/x.png", "http://[::1]/x.png",
    "http://2130706433/x.png", "http://0x7f000001/x.png", "http://127.1/x.png",
    "http://10.0.0.1/x.png", "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:127.0.0.1]/x.png", "ftp://example.com/x.png", "file:///etc/passwd",
    "gopher://127.0.0.1/", "http://user:secret@example.com/x.png", "http:///x.png",
    "http://example.com:99999/x.png",
])
def test_urls_that_are_refused_before_any_connection(url: str) -> None:
    with pytest.raises(FetchRefused):
        check_url(url)


def test_fetch_reads_an_allowed_url() -> None:
    with local_site() as site:
        site.routes["/photo.jpg"] = Route(body=b"image bytes")
        assert fetch(f"{site.url}/photo.jpg", FetchPolicy(1000, allow=loopback_too)) == \
            b"image bytes"


def test_default_policy_never_connects_to_loopback() -> None:
    with local_site() as site:
        site.routes["/photo.jpg"] = Route(body=b"image bytes")
        with pytest.raises(FetchRefused, match="non-public"):
            fetch(f"{site.url}/photo.jpg", FetchPolicy(1000))
        assert site.hits == []


def test_a_redirect_to_a_private_address_is_refused() -> None:
    with local_site() as site:
        site.routes["/go"] = Route(302, headers={"Location": "http://169.254.169.254/meta"})
        with pytest.raises(FetchRefused, match="non-public"):
            fetch(f"{site.url}/go", FetchPolicy(1000, allow=loopback_too))
        assert site.hits == ["/go"]


def test_redirects_are_followed_and_counted() -> None:
    with local_site() as site:
        site.routes["/a"] = Route(301, headers={"Location": "/b"})
        site.routes["/b"] = Route(302, headers={"Location": f"{site.url}/c"})
        site.routes["/c"] = Route(body=b"done")
        assert fetch(f"{site.url}/a", FetchPolicy(100, redirects=2, allow=loopback_too)) == \
            b"done"
        with pytest.raises(FetchRefused, match="redirects"):
            fetch(f"{site.url}/a", FetchPolicy(100, redirects=1, allow=loopback_too))


def test_byte_limit_status_and_time_limit() -> None:
    with local_site() as site:
        site.routes["/big"] = Route(body=b"x" * 5000)
        site.routes["/slow"] = Route(body=b"x", delay=2.0)
        policy = FetchPolicy(1000, timeout=0.5, allow=loopback_too)
        with pytest.raises(FetchRefused, match="over the limit"):
            fetch(f"{site.url}/big", policy)
        with pytest.raises(FetchRefused, match="HTTP status 404"):
            fetch(f"{site.url}/missing", policy)
        with pytest.raises(FetchRefused, match="download failed"):
            fetch(f"{site.url}/slow", policy)


def test_serve_flag_turns_fetching_on() -> None:
    from alphacut.interfaces.cli import build_parser
    from alphacut.interfaces.server.run import settings_from_args

    assert not settings_from_args(build_parser().parse_args(["serve"])).allow_url_fetch
    args = build_parser().parse_args(["serve", "--allow-url-fetch"])
    assert settings_from_args(args).allow_url_fetch
