"""CloudFormation orchestration: change sets, event streams, and the platform's stacks in order."""
