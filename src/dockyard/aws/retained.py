"""The data dockyard keeps when stacks go: EFS file systems (with their backups) and ECR
repositories, found by the ``dockyard:name`` tag; and the build-context bucket to empty."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from dockyard.aws.errors import AwsError, error_code, translate, translated
from dockyard.names import TAG_KEY


@dataclass(frozen=True)
class FileSystem:
    """A retained EFS file system."""

    file_system_id: str
    arn: str
    name: str
    size_bytes: int
    mount_targets: int


@dataclass(frozen=True)
class Repository:
    """A retained ECR repository."""

    name: str
    arn: str
    image_count: int


@dataclass(frozen=True)
class RecoveryPoint:
    """A backup of a file system in an AWS Backup vault."""

    arn: str
    vault: str


class RetainedData:
    """EFS, ECR, AWS Backup and S3 calls for ``status`` and ``down``."""

    def __init__(self, efs: Any, ecr: Any, backup: Any, s3: Any) -> None:
        self._efs = efs
        self._ecr = ecr
        self._backup = backup
        self._s3 = s3

    def file_systems(self, project: str) -> list[FileSystem]:
        """File systems tagged with this project's name."""
        found = []
        with translated("list EFS file systems"):
            for page in self._efs.get_paginator("describe_file_systems").paginate():
                for fs in page["FileSystems"]:
                    tags = {t["Key"]: t["Value"] for t in fs.get("Tags", [])}
                    if tags.get(TAG_KEY) == project:
                        found.append(FileSystem(
                            file_system_id=fs["FileSystemId"], arn=fs.get("FileSystemArn", ""),
                            name=tags.get("Name", ""),
                            size_bytes=int(fs.get("SizeInBytes", {}).get("Value", 0)),
                            mount_targets=int(fs.get("NumberOfMountTargets", 0))))
        return found

    def repositories(self, project: str) -> list[Repository]:
        """Repositories named ``<project>/...`` that carry this project's tag."""
        found = []
        with translated("list ECR repositories"):
            for page in self._ecr.get_paginator("describe_repositories").paginate():
                for repo in page["repositories"]:
                    name = repo["repositoryName"]
                    # A quarantine goes with its app's stack: it is not data that is kept.
                    if not name.startswith(f"{project}/") or \
                            name.startswith(f"{project}/quarantine/"):
                        continue
                    tags = self._ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])
                    if {"Key": TAG_KEY, "Value": project} not in tags.get("tags", []):
                        continue
                    found.append(Repository(name=name,
                                            arn=repo["repositoryArn"],
                                            image_count=self._image_count(repo["repositoryName"])))
        return found

    def _image_count(self, repository: str) -> int:
        # list_images returns one entry per tag; an image with two tags is still one image.
        digests: set[str] = set()
        for page in self._ecr.get_paginator("list_images").paginate(repositoryName=repository):
            digests.update(str(i.get("imageDigest", "")) for i in page.get("imageIds", []))
        return len(digests)

    def recovery_points(self, fs: FileSystem) -> list[RecoveryPoint]:
        """Backups of a file system."""
        with translated(f"list the backups of {fs.file_system_id}"):
            raw = self._backup.list_recovery_points_by_resource(ResourceArn=fs.arn)
        return [RecoveryPoint(arn=p["RecoveryPointArn"], vault=p["BackupVaultName"])
                for p in raw.get("RecoveryPoints", [])]

    def delete_recovery_point(self, point: RecoveryPoint) -> None:
        """Delete one backup."""
        with translated(f"delete backup {point.arn}", done_if=("ResourceNotFoundException",)):
            self._backup.delete_recovery_point(BackupVaultName=point.vault,
                                               RecoveryPointArn=point.arn)

    def delete_file_system(self, fs: FileSystem) -> None:
        """Delete a file system; its mount targets must be gone (the stack removes them)."""
        if fs.mount_targets:
            raise AwsError(f"{fs.file_system_id} still has {fs.mount_targets} mount target(s)")
        with translated(f"delete file system {fs.file_system_id}",
                        done_if=("FileSystemNotFound",)):
            self._efs.delete_file_system(FileSystemId=fs.file_system_id)

    def delete_repository(self, repo: Repository) -> None:
        """Delete a repository with every image in it."""
        with translated(f"delete repository {repo.name}",
                        done_if=("RepositoryNotFoundException",)):
            self._ecr.delete_repository(repositoryName=repo.name, force=True)

    def bucket_exists(self, bucket: str) -> bool:
        """Whether this account has the bucket (one another account owns answers 403: not
        ours to adopt)."""
        try:
            self._s3.head_bucket(Bucket=bucket)
        except ClientError as err:
            if error_code(err) in ("404", "NoSuchBucket", "NotFound", "403", "Forbidden"):
                return False
            raise translate(err, f"look up bucket {bucket}") from err
        return True

    def delete_bucket(self, bucket: str) -> None:
        """Delete an empty bucket; one that is gone already is no error."""
        with translated(f"delete bucket {bucket}", done_if=("NoSuchBucket",)):
            self._s3.delete_bucket(Bucket=bucket)

    def empty_bucket(self, bucket: str) -> int:
        """Delete every object (and version) in a bucket; returns how many were deleted."""
        deleted = 0
        with translated(f"empty bucket {bucket}"):
            for page in self._s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
                keys = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                        for v in (*page.get("Versions", []), *page.get("DeleteMarkers", []))]
                if keys:
                    self._s3.delete_objects(Bucket=bucket, Delete={"Objects": keys,
                                                                   "Quiet": True})
                    deleted += len(keys)
        return deleted
