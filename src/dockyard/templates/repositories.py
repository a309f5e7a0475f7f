"""The platform's image repositories: Jenkins' two in the builder stack, each app's in its own
stack, every one with a kaniko cache beside it. They outlive ``dockyard down`` (Retain) and are
adopted, not created again, by the next ``up``.

Each app also has a quarantine repository, ``<name>/quarantine/<app>``: where its untrusted
builds' images go. No execution role pulls from it, so nothing there is ever deployed; its
images are disposable (a week, and deleted with the stack).
"""

from __future__ import annotations

import json
from typing import Any

from troposphere import Equals, Parameter, Ref, Template, ecr

from dockyard import trust
from dockyard.config.models import Config
from dockyard.templates.stack import Input, Retained, logical_id, suppress

JENKINS_IMAGES = ("jenkins-controller", "jenkins-agent")
CACHE_EXPIRY_DAYS = 14
UNTAGGED_EXPIRY_DAYS = 30
QUARANTINE_EXPIRY_DAYS = 7


def repository_names(cfg: Config) -> list[str]:
    """Every image repository the platform owns: Jenkins' two images and one per app."""
    return [f"{cfg.name}/{image}" for image in (
        *JENKINS_IMAGES, *(name for name, app in cfg.apps.items() if app.image_from is None))]


def add_repositories(t: Template, cfg: Config,
                     names: list[str]) -> tuple[list[ecr.Repository], dict[str, Input]]:
    """Each repository of ``names`` and its ``-cache``, each created unless a kept one is
    adopted; returns the repositories and the adoption parameters' inputs."""
    inputs: dict[str, Input] = {}
    repos = []
    for name in [*names, *(f"{n}-cache" for n in names)]:
        repo = _repository(cfg, name, cache=name.endswith("-cache"))
        # A repository kept by an earlier `dockyard down` is adopted, not created again.
        adopt = t.add_parameter(Parameter(
            f"Adopt{repo.title}", Type="String", AllowedValues=["no", "yes"], Default="no",
            Description=f"'yes' when {name} exists already (kept by dockyard down)"))
        inputs[adopt.title] = Retained("repository", name)
        t.add_condition(f"Create{repo.title}", Equals(Ref(adopt), "no"))
        repo.Condition = f"Create{repo.title}"
        repos.append(t.add_resource(repo))
    return repos, inputs


def quarantine_repository(cfg: Config, app: str) -> ecr.Repository:
    """Where untrusted builds of ``app`` push: images expire after a week, tags are immutable
    (each build has its own), and it goes with the stack (``EmptyOnDelete``)."""
    return suppress(ecr.Repository(
        "QuarantineRepository",
        RepositoryName=trust.quarantine_repository(cfg, app),
        ImageTagMutability="IMMUTABLE",
        ImageScanningConfiguration=ecr.ImageScanningConfiguration(ScanOnPush=True),
        LifecyclePolicy=ecr.LifecyclePolicy(LifecyclePolicyText=json.dumps({"rules": [
            _expire_rule(1, "Quarantined images live a week", "any", QUARANTINE_EXPIRY_DAYS)]},
            separators=(",", ":"))),
        EmptyOnDelete=True,
    ), ("CKV_AWS_136", "ECR encrypts images at rest with AES-256; a customer key adds cost "
                       "without narrowing who can pull"))


def _repository(cfg: Config, name: str, *, cache: bool) -> ecr.Repository:
    if cache:
        # kaniko's cache keys are content hashes it may push again; nothing deploys from here.
        rules = [_expire_rule(1, "Drop cache layers after 14 days", "any", CACHE_EXPIRY_DAYS)]
        mutability: dict[str, Any] = {"ImageTagMutability": "MUTABLE"}
    else:
        rules = [_expire_rule(1, "Drop untagged images after 30 days", "untagged",
                              UNTAGGED_EXPIRY_DAYS)]
        mutability = {
            "ImageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
            "ImageTagMutabilityExclusionFilters": [
                ecr.ImageTagMutabilityExclusionFilter(
                    ImageTagMutabilityExclusionFilterType="WILDCARD",
                    ImageTagMutabilityExclusionFilterValue=tag)
                for tag in cfg.builder.mutable_tags],
        } if cfg.builder.mutable_tags else {"ImageTagMutability": "IMMUTABLE"}
    repository = ecr.Repository(
        logical_id("repo", name.split("/", 1)[1]),
        RepositoryName=name,
        ImageScanningConfiguration=ecr.ImageScanningConfiguration(ScanOnPush=True),
        LifecyclePolicy=ecr.LifecyclePolicy(
            LifecyclePolicyText=json.dumps({"rules": rules}, separators=(",", ":"))),
        DeletionPolicy="Retain",
        UpdateReplacePolicy="Retain",
        **mutability,
    )
    checks = [("CKV_AWS_136", "ECR encrypts images at rest with AES-256; a customer key adds "
                              "cost without narrowing who can pull")]
    if not cache and cfg.builder.mutable_tags:
        checks.append(("CKV_AWS_51", "tags are immutable except those in builder.mutable_tags "
                                     "(IMMUTABLE_WITH_EXCLUSION); deploys pin digests anyway"))
    if cache:
        checks.append(("CKV_AWS_51", "cache tags are content hashes kaniko may push again; "
                                     "deploys never use this repository"))
    return suppress(repository, *checks)


def _expire_rule(priority: int, description: str, status: str, days: int) -> dict[str, Any]:
    return {"rulePriority": priority, "description": description,
            "selection": {"tagStatus": status, "countType": "sinceImagePushed",
                          "countUnit": "days", "countNumber": days},
            "action": {"type": "expire"}}
