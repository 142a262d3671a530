"""CONFIRM_LISTEN: the owner's page on a listener of its own, without the API."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.app.server.test_shutdown import running
from tests.dns_server import FixtureDnsServer
from tests.support import ADMIN_TOKEN, TLS, free_port

TOKEN = "A" * 43


def test_the_page_has_its_own_listener_and_the_api_is_not_on_it(
    tmp_path: Path, dns_server: FixtureDnsServer
) -> None:
    port = free_port()
    with running(tmp_path, dns_server, "api", confirm_listen=f"127.0.0.1:{port}") as api:
        api.wait_until_listening(int(api.http_url.rpartition(":")[2]))
        api.wait_until_listening(port)
        auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with httpx.Client(verify=TLS, base_url=f"http://127.0.0.1:{port}", timeout=30) as public:
            page = public.get(f"/confirm/{TOKEN}")
            assert page.status_code == 404 and "Unknown link" in page.text
            assert "default-src 'none'" in page.headers["content-security-policy"]
            # Nothing of the API here, with the admin token or without.
            assert public.get("/v1/verdicts", headers=auth).status_code == 404
            assert public.get("/openapi.json").status_code == 404
        with httpx.Client(verify=TLS, base_url=api.http_url, timeout=30) as private:
            assert private.get("/v1/verdicts", headers=auth).status_code == 200
            # And the page is not on the API's listener.
            answer = private.get(f"/confirm/{TOKEN}")
            assert answer.status_code == 404 and "Unknown link" not in answer.text
        api.terminate()
        assert api.wait() == 0, api.stderr()
