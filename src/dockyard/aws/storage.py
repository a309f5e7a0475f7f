"""S3, CloudWatch Logs and ECR calls of a build: contexts in, logs and digests out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from dockyard.aws.errors import NOT_CLIENT_ERRORS, AwsError, error_code, translate, translated

MANIFEST_TYPES = ["application/vnd.oci.image.manifest.v1+json",
                  "application/vnd.docker.distribution.manifest.v2+json"]


class Objects:
    """The build-context bucket."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def exists(self, bucket: str, key: str) -> bool:
        """Whether the object is there and readable (a context uploaded before).

        Without s3:ListBucket on the bucket, S3 answers a missing key with 403, not 404
        (S3 API Reference, HeadObject, "Permissions"); a Jenkins agent may not list the
        bucket, so 403 counts as "not there": the upload that follows is allowed or refused
        on its own, and a content-addressed key makes uploading it again harmless.
        """
        try:
            self._client.head_object(Bucket=bucket, Key=key)
        except ClientError as err:
            if error_code(err) in ("404", "NoSuchKey", "NotFound", "403", "AccessDenied",
                                   "Forbidden"):
                return False
            raise translate(err, f"check s3://{bucket}/{key}") from err
        return True

    def checksum(self, bucket: str, key: str) -> str | None:
        """The SHA-256 checksum S3 keeps of an object (``-N`` for a multipart one), or None when
        the object is not there or has none (HeadObject, ``ChecksumMode=ENABLED``)."""
        try:
            head = self._client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        except ClientError as err:
            # 403 for a missing key without s3:ListBucket (see exists)
            if error_code(err) in ("404", "NoSuchKey", "NotFound", "403", "AccessDenied",
                                   "Forbidden"):
                return None
            raise translate(err, f"check s3://{bucket}/{key}") from err
        value = head.get("ChecksumSHA256")
        return str(value) if value else None

    def upload(self, path: Path, bucket: str, key: str,
               on_bytes: Callable[[int], None] = lambda _: None) -> None:
        """Upload a file (multipart for large ones), reporting bytes sent, with a SHA-256
        checksum S3 verifies and keeps (in parts of UPLOAD_PART_BYTES, so the checksum is the
        one dockyard.builds.context.s3_checksum computes)."""
        from boto3.s3.transfer import TransferConfig

        from dockyard.names import UPLOAD_PART_BYTES

        config = TransferConfig(multipart_threshold=UPLOAD_PART_BYTES,
                                multipart_chunksize=UPLOAD_PART_BYTES)
        from boto3.exceptions import S3UploadFailedError

        action = f"upload the context to s3://{bucket}/{key}"
        try:
            with translated(action):
                self._client.upload_file(str(path), bucket, key, Callback=on_bytes,
                                         Config=config, ExtraArgs={"ChecksumAlgorithm": "SHA256"})
        except S3UploadFailedError as err:
            # s3transfer wraps the PutObject's ClientError in its own exception: unwrap it.
            cause = err.__cause__ or err.__context__
            if isinstance(cause, ClientError):
                raise translate(cause, action) from err
            raise AwsError(f"{action}: {err}") from err

    def presign_put(self, bucket: str, key: str, seconds: int) -> str:
        """A URL kaniko can PUT one object to, valid for ``seconds``."""
        with translated("sign the digest upload URL"):
            return str(self._client.generate_presigned_url(
                "put_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=seconds))

    def presign_get(self, bucket: str, key: str, seconds: int) -> str:
        """A URL kaniko can GET one object from, valid for ``seconds``."""
        with translated(f"sign a download URL for s3://{bucket}/{key}"):
            return str(self._client.generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=seconds))

    def write_text(self, bucket: str, key: str, text: str) -> None:
        """Write a small object (a build record), with a SHA-256 checksum S3 verifies."""
        with translated(f"write s3://{bucket}/{key}"):
            self._client.put_object(Bucket=bucket, Key=key, Body=text.encode(),
                                    ContentType="application/json", ChecksumAlgorithm="SHA256")

    def read_text(self, bucket: str, key: str) -> str | None:
        """A small object's text, or None when it is not there."""
        try:
            body = self._client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as err:
            # 403 for a missing key without s3:ListBucket (see exists)
            if error_code(err) in ("404", "NoSuchKey", "NotFound", "403", "AccessDenied"):
                return None
            raise translate(err, f"read s3://{bucket}/{key}") from err
        return bytes(body).decode("utf-8", errors="replace")


@dataclass(frozen=True)
class LogPage:
    """New log lines, and the token to ask for the ones after them."""

    lines: list[str]
    token: str | None


@dataclass(frozen=True)
class LogEvent:
    """One line an app wrote."""

    event_id: str
    timestamp_ms: int
    stream: str
    message: str

    @property
    def task_id(self) -> str:
        """The task that wrote it (streams are ``app/<container>/<task id>``)."""
        return self.stream.rsplit("/", 1)[-1]


class Logs:
    """Reading one log stream forward."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def read(self, group: str, stream: str, token: str | None) -> LogPage:
        """Lines after ``token`` (from the start without one). A stream that does not exist yet
        has no lines: the task has not written any."""
        kwargs: dict[str, Any] = {"logGroupName": group, "logStreamName": stream,
                                  "startFromHead": True}
        if token:
            kwargs["nextToken"] = token
        try:
            raw = self._client.get_log_events(**kwargs)
        except NOT_CLIENT_ERRORS as err:
            raise translate(err, f"read the log stream {stream}") from err
        except ClientError as err:
            if error_code(err) == "ResourceNotFoundException":
                return LogPage([], token)
            raise translate(err, f"read the log stream {stream}") from err
        return LogPage([str(e.get("message", "")).rstrip("\n") for e in raw.get("events", [])],
                       raw.get("nextForwardToken") or token)


    def events_since(self, group: str, start_ms: int) -> list[LogEvent]:
        """Every line of every stream of ``group`` written at or after ``start_ms`` (none when
        the group does not exist yet)."""
        events: list[LogEvent] = []
        try:
            for page in self._client.get_paginator("filter_log_events").paginate(
                    logGroupName=group, startTime=start_ms):
                events.extend(LogEvent(str(e.get("eventId", "")), int(e.get("timestamp", 0)),
                                       str(e.get("logStreamName", "")),
                                       str(e.get("message", "")).rstrip("\n"))
                              for e in page.get("events", []))
        except NOT_CLIENT_ERRORS as err:
            raise translate(err, f"read the log group {group}") from err
        except ClientError as err:
            if error_code(err) == "ResourceNotFoundException":
                return []
            raise translate(err, f"read the log group {group}") from err
        return events

    def last_lines(self, group: str, count: int = 20,
                   stream: str | None = None) -> tuple[str, list[str]]:
        """The last ``count`` lines of ``stream`` (or of the newest stream; '' when none)."""
        name, page = self.tail(group, count, stream)
        return name, page.lines

    def tail(self, group: str, count: int, stream: str | None = None) -> tuple[str, LogPage]:
        """The last ``count`` lines of ``stream``, and the token that reads on from them.

        Without ``stream``: the stream CloudWatch says was written last. That is a guess,
        since lastEventTimestamp "updates on an eventual consistency basis ... in less than an
        hour" (DescribeLogStreams): name the stream (``<prefix>/<container>/<task id>``) when
        the task is known.
        """
        if stream is not None:
            return stream, self._last_of(group, stream, count)
        try:
            streams = self._client.describe_log_streams(
                logGroupName=group, orderBy="LastEventTime", descending=True, limit=1)
        except ClientError as err:
            if error_code(err) == "ResourceNotFoundException":
                return "", LogPage([], None)
            raise translate(err, f"list the log streams of {group}") from err
        if not streams.get("logStreams"):
            return "", LogPage([], None)
        newest = str(streams["logStreams"][0]["logStreamName"])
        return newest, self._last_of(group, newest, count)

    def _last_of(self, group: str, stream: str, count: int) -> LogPage:
        try:
            raw = self._client.get_log_events(logGroupName=group, logStreamName=stream,
                                              startFromHead=False, limit=count)
        except ClientError as err:
            if error_code(err) == "ResourceNotFoundException":
                return LogPage([], None)
            raise translate(err, f"read the log stream {stream}") from err
        return LogPage([str(e.get("message", "")).rstrip("\n")
                        for e in raw.get("events", [])], raw.get("nextForwardToken"))


class Registry:
    """ECR: images by tag, manifests, and image indexes."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def repository_exists(self, repository: str) -> bool:
        """Whether ECR has the repository (DescribeImages, which the agents may call)."""
        try:
            self._client.describe_images(repositoryName=repository, maxResults=1)
        except ClientError as err:
            if error_code(err) == "RepositoryNotFoundException":
                return False
            raise translate(err, f"look up the repository {repository}") from err
        return True

    def digest_of(self, repository: str, tag: str) -> str | None:
        """The digest ECR has under ``tag``, or None."""
        details = self._details(repository, {"imageTag": tag}, f"{repository}:{tag}")
        return str(details[0]["imageDigest"]) if details else None

    def scan(self, repository: str, digest: str) -> tuple[str, dict[str, int]]:
        """ECR's scan of an image: its status (COMPLETE, IN_PROGRESS, FAILED, ..., or NONE
        when it was never scanned) and its findings counted by severity."""
        try:
            raw = self._client.describe_image_scan_findings(
                repositoryName=repository, imageId={"imageDigest": digest}, maxResults=1)
        except ClientError as err:
            if error_code(err) == "ScanNotFoundException":
                return "NONE", {}
            raise translate(err, f"read the scan findings of {repository}@{digest}") from err
        counts = raw.get("imageScanFindings", {}).get("findingSeverityCounts", {})
        return (str(raw.get("imageScanStatus", {}).get("status", "NONE")),
                {str(k): int(v) for k, v in counts.items()})

    def has_digest(self, repository: str, digest: str) -> bool:
        """Whether ECR holds the image ``digest`` in ``repository``."""
        return bool(self._details(repository, {"imageDigest": digest}, f"{repository}@{digest}"))

    def _details(self, repository: str, image_id: dict[str, str],
                 name: str) -> list[dict[str, Any]]:
        """DescribeImages for one image; nothing when the image or repository is not there."""
        try:
            raw = self._client.describe_images(repositoryName=repository, imageIds=[image_id])
        except ClientError as err:
            if error_code(err) in ("ImageNotFoundException", "RepositoryNotFoundException"):
                return []
            raise translate(err, f"look up {name}") from err
        return list(raw.get("imageDetails", []))

    def manifest(self, repository: str, digest: str) -> tuple[str, str]:
        """The exact manifest text of an image, and its media type."""
        with translated(f"read the manifest of {repository}@{digest}"):
            raw = self._client.batch_get_image(
                repositoryName=repository, imageIds=[{"imageDigest": digest}],
                acceptedMediaTypes=MANIFEST_TYPES)
        images = raw.get("images", [])
        if not images:
            raise AwsError(f"{repository}@{digest} is not in ECR")
        text = str(images[0]["imageManifest"])
        media_type = images[0].get("imageManifestMediaType") or \
            json.loads(text).get("mediaType", MANIFEST_TYPES[0])
        return text, str(media_type)

    def put_manifest(self, repository: str, manifest: str, media_type: str, tag: str) -> str:
        """Store a manifest (an image index) under ``tag``; returns its digest."""
        try:
            raw = self._client.put_image(repositoryName=repository, imageManifest=manifest,
                                         imageManifestMediaType=media_type, imageTag=tag)
        except ClientError as err:
            # The same manifest under the same tag (a retry whose first answer was lost):
            # ECR's digest is the SHA-256 of the manifest's bytes.
            if error_code(err) == "ImageAlreadyExistsException":
                return "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
            raise translate(err, f"push the image index to {repository}:{tag}") from err
        return str(raw["image"]["imageId"]["imageDigest"])

