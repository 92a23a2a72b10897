"""Invoice PDFs on S3 (LIFEOS_FILES_URL=s3://bucket/prefix): the real boto3 client
against moto's S3 server on a loopback port, through the API that writes and reads
them, and through a backup restored under another prefix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from agent.backup.archive import backup, restore
from agent.keys import file_store
from agent.services import Services
from agent.settings import Settings
from tests.agent.test_backup import PASSPHRASE, restore_target, source_settings
from tests.conftest import DatabaseFactory

BUCKET = "lifeos-files"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    client.create_bucket(Bucket=BUCKET)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
async def on_s3(services: Services, s3_endpoint: str, s3: object) -> Services:
    services.settings = services.settings.model_copy(
        update={"files_url": f"s3://{BUCKET}/invoices", "s3_endpoint_url": s3_endpoint}
    )
    services.files = file_store(services.settings)
    return services


async def make_invoice(client: httpx.AsyncClient, auth: dict) -> tuple[str, bytes]:
    await client.post("/v1/projects", headers=auth, json={"name": "Deck", "hourly_rate": "95"})
    framing = {"description": "Framing", "quantity": "3"}
    await client.post("/v1/projects/deck/billables", headers=auth, json=framing)
    made = await client.post("/v1/invoices", headers=auth, json={"project": "deck"})
    assert made.status_code == 201, made.text
    pdf = await client.get(f"/v1/invoices/{made.json()['id']}/pdf", headers=auth)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    return made.json()["id"], pdf.content


async def test_invoice_pdf_is_written_to_and_read_from_s3(
    client: httpx.AsyncClient, auth: dict, on_s3: Services, s3: object
) -> None:
    _, pdf = await make_invoice(client, auth)
    [stored] = s3.list_objects_v2(Bucket=BUCKET)["Contents"]  # type: ignore[attr-defined]
    assert stored["Key"].startswith("invoices/") and stored["Size"] == len(pdf)
    assert not on_s3.settings.files_dir.exists()  # nothing went to the local folder


async def test_backup_takes_the_files_from_s3_and_restores_them(
    client: httpx.AsyncClient,
    auth: dict,
    on_s3: Services,
    engine: AsyncEngine,
    backend: str,
    databases: DatabaseFactory,
    tmp_path: Path,
) -> None:
    _, pdf = await make_invoice(client, auth)
    made = await backup(source_settings(on_s3, engine), tmp_path / "b", PASSPHRASE)
    [key] = [name.removeprefix("files/") for name in made.manifest["members"] if "files/" in name]
    target = await restore_target(backend, databases, tmp_path / "new")
    elsewhere = f"s3://{BUCKET}/restored"
    target = target.model_copy(
        update={"files_url": elsewhere, "s3_endpoint_url": on_s3.settings.s3_endpoint_url}
    )
    await restore(made.path, PASSPHRASE, target)
    assert await file_store(target).get(key) == pdf


def test_files_url_must_be_s3() -> None:
    for bad in ("http://bucket/prefix", "s3://", "/var/files"):
        with pytest.raises(ValidationError, match="not an S3 address"):
            Settings(files_url=bad)
