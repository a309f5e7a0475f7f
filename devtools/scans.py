"""ECR's basic scanning, as the emulator plays it.

ECR User Guide, "Scan images for software vulnerabilities in Amazon ECR": a repository with
``scanOnPush`` scans each image when it is pushed, and DescribeImageScanFindings returns the
scan's status and its findings counted by severity (``findingSeverityCounts``); an image never
scanned answers ScanNotFoundException. moto scans only on StartImageScan and then reports the
same invented HIGH finding for every image.

Here a push into a scan-on-push repository scans the image, and the findings are what the image
says of itself: the fake images have no packages, so none, unless the build marked the image
with ``--build-arg FAKE_APP_CVE=1`` (one CRITICAL finding).
"""

from __future__ import annotations

import json
from typing import Any

CRITICAL_CVE = "dev.dockyard.fake/critical-cve"  # the image has a critical vulnerability


def findings_of(manifest: str) -> dict[str, int]:
    """The findings by severity of the image whose manifest is ``manifest``."""
    try:
        annotations = json.loads(manifest).get("annotations") or {}
    except (ValueError, AttributeError):
        return {}
    return {"CRITICAL": 1} if CRITICAL_CVE in annotations else {}


def install() -> None:
    """Patch moto's ECR: scan on push, findings from the image's marks."""
    from moto.core.utils import iso_8601_datetime_without_milliseconds, utcnow
    from moto.ecr import models

    if getattr(models.ECRBackend.put_image, "_dockyard_scans", False):
        return
    put_image = models.ECRBackend.put_image
    describe = models.ECRBackend.describe_image_scan_findings

    def put(self: Any, repository_name: str, *args: Any, **kwargs: Any) -> Any:
        image = put_image(self, repository_name, *args, **kwargs)
        repository = self.repositories.get(repository_name)
        # The API's key is scanOnPush; a template's (moto keeps it as given) ScanOnPush.
        scanning = repository.image_scanning_configuration if repository is not None else {}
        if str(scanning.get("scanOnPush", scanning.get("ScanOnPush"))).lower() == "true":
            image.last_scan = utcnow()
        return image

    def findings(self: Any, registry_id: str, repository_name: str,
                 image_id: dict[str, Any]) -> dict[str, Any]:
        answer = describe(self, registry_id, repository_name, image_id)
        repository = self._get_repository(repository_name, registry_id)
        image = repository._get_image(image_id.get("imageTag"), image_id.get("imageDigest"))
        counts = findings_of(image.image_manifest)
        answer["imageScanFindings"] = {
            "imageScanCompletedAt": iso_8601_datetime_without_milliseconds(image.last_scan),
            "findings": [{"name": "CVE-0000-0001", "severity": severity}
                         for severity, count in counts.items() for _ in range(count)],
            "findingSeverityCounts": counts}
        return answer

    put._dockyard_scans = True  # type: ignore[attr-defined]
    setattr(models.ECRBackend, "put_image", put)  # noqa: B010
    setattr(models.ECRBackend, "describe_image_scan_findings", findings)  # noqa: B010
