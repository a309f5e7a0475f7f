"""The app's own tests: standard library only, so the pipeline's Test stage needs no installs.

    python3 -m unittest discover -s tests -v
"""

from __future__ import annotations

import json
import os
import sys
import unittest
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import application  # noqa: E402


def get(path: str, method: str = "GET") -> tuple[str, dict[str, str], str]:
    seen: dict[str, Any] = {}

    def start(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(application({"PATH_INFO": path, "REQUEST_METHOD": method}, start))
    return seen["status"], seen["headers"], body.decode()


class AppTest(unittest.TestCase):
    def test_health_check_answers_200_for_the_load_balancer(self) -> None:
        status, headers, body = get("/healthz")
        self.assertEqual(status, "200 OK")
        self.assertEqual(body, "ok\n")
        self.assertEqual(headers["Content-Length"], "3")

    def test_front_page_greets_and_escapes_its_configuration(self) -> None:
        with mock.patch.dict(os.environ, {"GREETING": "<b>Hi</b>", "APP_VERSION": "1.2.0"}):
            status, headers, body = get("/")
        self.assertEqual(status, "200 OK")
        self.assertTrue(headers["Content-Type"].startswith("text/html"))
        self.assertIn("&lt;b&gt;Hi&lt;/b&gt;", body)
        self.assertNotIn("<b>", body)
        self.assertIn("version 1.2.0", body)

    def test_version_is_json(self) -> None:
        with mock.patch.dict(os.environ, {"APP_VERSION": "abc123"}):
            _, _, body = get("/version")
        self.assertEqual(json.loads(body), {"version": "abc123"})

    def test_unknown_paths_and_methods_are_refused(self) -> None:
        self.assertEqual(get("/admin")[0], "404 Not Found")
        self.assertEqual(get("/", method="POST")[0], "405 Method Not Allowed")


if __name__ == "__main__":
    unittest.main()
