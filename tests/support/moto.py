"""A real S3 server (moto's) on loopback with one bucket, and a studio's settings for it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto.server import ThreadedMotoServer


@contextmanager
def moto_bucket(bucket: str) -> Iterator[tuple[dict[str, str], Any]]:
    """(the studio's S3 provider fields, a boto3 client) for a fresh bucket on a moto server."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    fields = {
        "access_key_id": "AKIATEST",
        "secret_access_key": "test-secret",
        "region": "eu-west-1",
        "endpoint_url": f"http://{host}:{port}",
    }
    s3 = boto3.client(
        "s3",
        endpoint_url=fields["endpoint_url"],
        region_name=fields["region"],
        aws_access_key_id=fields["access_key_id"],
        aws_secret_access_key=fields["secret_access_key"],
    )
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    try:
        yield fields, s3
    finally:
        server.stop()
