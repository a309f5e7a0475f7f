"""``status``: each stack's state, the platform's URLs, and the data it keeps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dockyard.aws.retained import FileSystem, Repository
from dockyard.names import TAG_KEY, Out
from dockyard.stacks.platform import Platform
from dockyard.stacks.teardown import RetainedApi, TaggedStacks

# The outputs worth showing, by stack key prefix.
KEY_OUTPUTS = (Out.URL, Out.ADMIN_SECRET_ARN, Out.FILE_SYSTEM_ID, Out.CLUSTER_NAME, Out.DNS_NAME)


@dataclass(frozen=True)
class StackState:
    """One stack as it is now; ``status`` is empty when it is not deployed."""

    key: str
    name: str
    status: str
    updated: datetime | None
    outputs: dict[str, str]
    in_config: bool = True


@dataclass(frozen=True)
class PlatformStatus:
    """Everything ``status`` reports."""

    project: str
    region: str
    account: str
    stacks: list[StackState]
    file_systems: list[FileSystem]
    repositories: list[Repository]

    @property
    def endpoints(self) -> dict[str, str]:
        """Public URLs of the deployed stacks, by stack key."""
        return {s.key: s.outputs[Out.URL] for s in self.stacks if Out.URL in s.outputs}


def status(platform: Platform, tagged: TaggedStacks, retained: RetainedApi) -> PlatformStatus:
    """Read the state of every stack of the config, and of tagged ones it no longer names."""
    identity = platform.account.identity()
    project = platform.cfg.name
    states: list[StackState] = []
    for template in platform.stacks:
        live = platform.live(template)
        states.append(StackState(
            key=template.key, name=template.name, status=live.status if live else "",
            updated=(live.updated or live.created) if live else None,
            outputs={k: v for k, v in (live.outputs if live else {}).items() if k in KEY_OUTPUTS}))
    known = {s.name for s in states}
    for live in tagged.list_tagged(TAG_KEY, project):
        if live.name not in known:
            states.append(StackState(
                key=live.name.removeprefix(f"{project}-"), name=live.name, status=live.status,
                updated=live.updated or live.created,
                outputs={k: v for k, v in live.outputs.items() if k in KEY_OUTPUTS},
                in_config=False))
    return PlatformStatus(project=project, region=platform.cfg.region, account=identity.account,
                          stacks=states, file_systems=retained.file_systems(project),
                          repositories=retained.repositories(project))
