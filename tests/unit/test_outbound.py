"""The outbound-address rule as written: what a studio's endpoint URL may name."""

from __future__ import annotations

from ipaddress import ip_address
from uuid import uuid4

import pytest

from domains.errors import InvalidValue
from domains.outbound import PrivateAllowance, address_refusal, check_endpoint
from domains.provider import ProviderSettings

S3 = {"access_key_id": "AKIA", "secret_access_key": "secret", "region": "eu-west-1"}
TESTS = PrivateAllowance.parse(["127.0.0.1", "minio.lan", "10.9.0.0/16"])


@pytest.mark.parametrize(
    "url",
    [
        "http://s3.example.com",
        "ftp://s3.example.com",
        "s3.example.com",
        "https://",
        "https://127.0.0.1",
        "https://127.0.0.1:9000/",
        "https://127.1.2.3",
        "https://10.1.2.3",
        "https://172.16.0.1",
        "https://192.168.1.10",
        "https://100.64.0.1",
        "https://169.254.169.254",
        "https://169.254.169.254/latest/meta-data/",
        "https://0.0.0.0",
        "https://224.0.0.1",
        "https://240.0.0.1",
        "https://255.255.255.255",
        "https://[::1]",
        "https://[::]",
        "https://[fe80::1]",
        "https://[fc00::1]",
        "https://[fd12:3456::1]",
        "https://[ff02::1]",
        "https://[::ffff:127.0.0.1]",
        "https://[::ffff:169.254.169.254]",
        "https://[::ffff:a9fe:a9fe]",
        "https://[64:ff9b::a9fe:a9fe]",
        "https://[2002:7f00:1::]",
        "https://localhost",
        "https://LOCALHOST.",
        "https://s3.localhost",
        "https://2130706433",
        "https://127.1",
        "https://0x7f.1",
        "https://user:pass@s3.example.com",
        "https://s3.example.com:99999",
        "https://bad_host!.example.com",
    ],
)
def test_a_studio_endpoint_must_be_https_and_public(url: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        check_endpoint("endpoint_url", url)
    assert refused.value.field == "endpoint_url"


@pytest.mark.parametrize(
    "url",
    [
        "https://s3.eu-west-1.amazonaws.com",
        "https://minio.example.com:9000",
        "https://storage.example.com/s3/",
        "https://8.8.8.8",
        "https://[2606:4700:4700::1111]",
    ],
)
def test_public_https_endpoints_pass(url: str) -> None:
    endpoint = check_endpoint("endpoint_url", url)
    assert endpoint.scheme == "https"


def test_the_operator_may_allow_listed_hosts_and_networks_even_over_http() -> None:
    assert check_endpoint("endpoint_url", "http://127.0.0.1:5000", TESTS).port == 5000
    assert check_endpoint("endpoint_url", "https://127.0.0.1", TESTS).address is not None
    assert check_endpoint("endpoint_url", "http://minio.lan:9000", TESTS).host == "minio.lan"
    assert check_endpoint("endpoint_url", "http://10.9.3.4", TESTS).host == "10.9.3.4"
    for url in (
        "http://127.0.0.2",  # a loopback address the allowance does not list
        "https://10.1.2.3",
        "https://[::1]",
        "https://localhost",
        "http://s3.example.com",  # http only to an allowed host
    ):
        with pytest.raises(InvalidValue):
            check_endpoint("endpoint_url", url, TESTS)


def test_addresses_are_judged_with_what_they_stand_for() -> None:
    assert address_refusal(ip_address("93.184.216.34")) is None
    assert address_refusal(ip_address("2606:4700:4700::1111")) is None
    for text, shown in (
        ("127.0.0.1", "loopback address (127.0.0.1)"),
        ("::ffff:10.0.0.1", "private address (10.0.0.1"),
        ("64:ff9b::a9fe:a9fe", "link-local address (169.254.169.254"),
        ("fe80::1%eth0", "link-local address"),
        ("::", "unspecified address"),
        ("239.1.2.3", "multicast address"),
    ):
        refusal = address_refusal(ip_address(text))
        assert refusal is not None and shown in refusal, (text, refusal)
    assert address_refusal(ip_address("::ffff:127.0.0.1"), TESTS) is None
    assert address_refusal(ip_address("10.9.200.1"), TESTS) is None


def test_allowance_entries_parse_as_names_or_networks() -> None:
    allowance = PrivateAllowance.parse([" 127.0.0.1 ", "[::1]", "MinIO.Lan.", "", "10.0.0.0/8"])
    assert allowance.names == frozenset({"minio.lan"})
    assert {str(n) for n in allowance.networks} == {"127.0.0.1/32", "::1/128", "10.0.0.0/8"}
    assert allowance.allows_host("[::1]") and allowance.allows_host("minio.lan")
    assert not allowance.allows_host("127.0.0.2")


def test_provider_settings_refuse_a_private_endpoint_so_none_is_ever_recorded() -> None:
    with pytest.raises(InvalidValue) as refused:
        ProviderSettings.configure(
            uuid4(), "s3", {**S3, "endpoint_url": "https://169.254.169.254"}, uuid4()
        )
    assert refused.value.field == "endpoint_url"
    settings = ProviderSettings.configure(uuid4(), "s3", S3, uuid4())
    with pytest.raises(InvalidValue):
        settings.reconfigure({**S3, "endpoint_url": "http://s3.example.com"}, uuid4())
    settings.reconfigure({**S3, "endpoint_url": "http://127.0.0.1:9000"}, uuid4(), TESTS)
    assert settings.public["endpoint_url"] == "http://127.0.0.1:9000"
