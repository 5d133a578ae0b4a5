"""Fixtures for the emulator's own tests and the official-client fidelity tests.

Independent of any other conftest: no Postgres, no Redis. Two servers: plain HTTP, and HTTPS
with a throwaway CA (trustme) for clients that only speak https (fal-client, and
google-genai's file download, which only parses `https://` file URIs).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from emulator.config import EmulatorConfig, ModelSettings
from emulator.testing import EmulatorServer

API_KEY = "test-key-SECRET-77"
SETTINGS = ModelSettings(queue_s=0.2, generation_s=0.3, fps=4)


@pytest.fixture
def api_key() -> str:
    return API_KEY


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorConfig(defaults=SETTINGS, api_key=API_KEY, seed=2)) as server:
        yield server


@dataclass(frozen=True)
class TLSEmulator:
    server: EmulatorServer
    ca_file: Path  # PEM of the CA that signed the server's certificate

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="session")
def tls_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSEmulator]:
    directory = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_file, cert_file, key_file = (
        directory / "ca.pem",
        directory / "cert.pem",
        directory / "key.pem",
    )
    ca.cert_pem.write_to_path(str(ca_file))
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    config = EmulatorConfig(defaults=SETTINGS, api_key=API_KEY, seed=3)
    with EmulatorServer(config, certfile=cert_file, keyfile=key_file) as server:
        yield TLSEmulator(server, ca_file)


@pytest.fixture(autouse=True)
def _fresh_emulators(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    for name in ("emulator", "tls_emulator"):
        if name in request.fixturenames:
            value = request.getfixturevalue(name)
            server = value.server if isinstance(value, TLSEmulator) else value
            server.ctx.reset()
